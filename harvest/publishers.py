"""The sources registry as a directory of publishers: which source a publisher's name belongs to.

A report names its publisher in its title, not always as the registry does: ``洪泽区人民政府``
(without its city) is the registry's ``淮安市洪泽区人民政府``, and ``平潭综合实验区`` (without its
governing body) the registry's ``平潭综合实验区管委会``. ``PublisherDirectory.find`` matches a printed
name to one registry entry by these two rules only, and only when exactly one entry matches:

1. the same name (NFKC, whitespace removed);
2. one name is the other with higher divisions in front (the prefix ends like a division's name:
   省/市/县/区/州/盟/旗), or with a governing body's word after it (管委会, 管理委员会, 人民政府).

A name no entry matches keeps a source of its own (``publisher_source_id``): its normalised name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from xxgk.schemas import lexicon as lx

_MIN_SHARED = 4  # a shorter name must still say which body it is
_MIN_AREA = 2  # ... with an area's name of its own before its governing body's word


def normalise_publisher(name: str | None) -> str:
    """A publisher's name as compared: NFKC, no whitespace, no enclosing brackets."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or "")).strip("()")


def publisher_source_id(name: str) -> str:
    """The source id of a publisher the registry does not know: its normalised name (readable, stable)."""
    return normalise_publisher(name)


def same_publisher(a: str, b: str) -> bool:
    """True when two printed names are one publisher by the module's rules."""
    a, b = normalise_publisher(a), normalise_publisher(b)
    if not a or not b:
        return False
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    body = next((w for w in lx.GOVERNING_BODY_WORDS if short.endswith(w)), "")
    if len(short) < _MIN_SHARED or len(short) - len(body) < _MIN_AREA:
        return False  # 人民政府 alone names no body
    if long.endswith(short) and long[: -len(short)].endswith(lx.DIVISION_NAME_ENDINGS):
        return True
    return long.startswith(short) and long[len(short) :] in lx.GOVERNING_BODY_WORDS


@dataclass(frozen=True, slots=True)
class Publisher:
    """A registry entry as the warehouse needs it."""

    source_id: str
    publisher: str
    region_code: str | None = None
    level: str | None = None


class PublisherDirectory:
    """Registry entries looked up by a printed publisher name."""

    def __init__(self, entries: Iterable[Publisher] = ()) -> None:
        self.entries = tuple(entries)

    @classmethod
    def from_registry(cls, path: Path | str | None = None) -> PublisherDirectory:
        """The entries of a sources registry (default: the checkout's ``data/sources.yaml``; none if absent).

        Demo-portal entries count too: their publishers are what the sample set prints.
        """
        from xxgk.harvest.registry import DEFAULT_REGISTRY, load_sources

        p = Path(path) if path is not None else DEFAULT_REGISTRY
        if not p.is_file():
            return cls()
        return cls(Publisher(s.source_id, s.publisher, s.region_code, s.level) for s in load_sources(p))

    def find(self, name: str | None) -> Publisher | None:
        """The one entry this printed name belongs to, else None (no match, or more than one)."""
        if not normalise_publisher(name):
            return None
        exact = [e for e in self.entries if normalise_publisher(e.publisher) == normalise_publisher(name)]
        found = exact or [e for e in self.entries if same_publisher(e.publisher, name or "")]
        return found[0] if len(found) == 1 else None
