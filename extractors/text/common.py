"""What every text form shares: NFKC, the folded form labels are matched in, line positions."""

from __future__ import annotations

import bisect
import re
import unicodedata

from xxgk.schemas.labels import fold_label
from xxgk.schemas.values import is_value_token


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def compact(text: str) -> str:
    """The form labels are matched in (``schemas.labels.fold_label``)."""
    return fold_label(text)


def is_value(text: str) -> bool:
    """A cell or chunk that is exactly one printed value token (``schemas.values`` grammar)."""
    return bool(text) and is_value_token(text)


class Lines:
    """Offsets → (1-based line, column) for cell positions."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i]
