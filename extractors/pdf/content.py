"""What a page's reader hands on to the table finder: characters and painted paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: One character: ``text``, ``x0``, ``x1``, ``top``, ``bottom`` (display space, points, origin top-left), ``size``.
Char = dict[str, Any]


@dataclass(slots=True)
class PaintedPath:
    """One painted path in display coordinates (origin top-left): its subpaths as point lists."""

    subpaths: list[list[tuple[float, float]]]
    stroked: bool
    filled: bool
    invisible: bool = False


@dataclass(slots=True)
class PageContent:
    """The characters and paths of one page, whichever library read them."""

    number: int
    chars: list[Char]
    paths: list[PaintedPath]
    lost_glyphs: int = 0


class PageLimitError(ValueError):
    """A page too big to read (drawing objects beyond ``max_page_objects``): skipped with a warning."""
