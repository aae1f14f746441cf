"""What every format extractor returns before label mapping.

An extractor turns bytes into grids (tables as printed, merged cells expanded) and the
document's plain text (for the title, year, narrative and legacy detection). It does not know
the canonical keys: ``schemas.mapping`` does that, the same way for every format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from xxgk.schemas.grid import Cell, Grid

#: The most cells the grids of one document may hold, merged cells counted in every position they
#: cover. The three tables of a report hold about a thousand; a page of 100,000 is not a report a
#: person reads, and 10x more would cost hundreds of MB to expand and map.
MAX_GRID_CELLS = 100_000


class ExtractionError(Exception):
    """A document that cannot be read; ``status`` is the report status it gets (failed, needs_ocr...)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class RawDocument:
    """Grids and text read from one document, with the format and any extractor warnings.

    ``pictures``: for a PDF, the pictures of every page as the reader's pass over the pages saw
    them, so finding tables printed as pictures (``extractors.ocr.pdf_regions``) does not open and
    load every page again; None when the reader did not look.
    """

    format: str
    grids: list[Grid]
    text: str
    title: str = ""
    warnings: list[str] = field(default_factory=list)
    pictures: tuple[PagePictures, ...] | None = None


@dataclass(frozen=True, slots=True)
class PagePictures:
    """One PDF page's size in points, its count of text-layer characters and its pictures' boxes
    (points, top-left origin, clipped to the page)."""

    page: int
    size: tuple[float, float]
    chars: int
    boxes: tuple[tuple[float, float, float, float], ...]


def grid_size_reason(where: str, limit: int = MAX_GRID_CELLS) -> str:
    """The reason a document fails when its tables expand past the bound (names the bound)."""
    return (
        f"{where}: tables expand to more than {limit:,} cells (bound MAX_GRID_CELLS in xxgk.extractors.base); not read"
    )


def check_grid_size(grids: Iterable[Grid], limit: int = MAX_GRID_CELLS) -> None:
    """Raise ``ExtractionError(failed)`` when ``grids`` hold more than ``limit`` cells in all.

    Every reader's grids pass here (``extractors.read_document``), so no format can hand the
    mapper an unbounded table; readers that expand merged cells also bound the expansion where
    the memory is allocated (``extractors.html.table_to_grid``).
    """
    total = 0
    for grid in grids:
        total += sum(len(row) for row in grid.rows)
        if total > limit:
            raise ExtractionError("failed", grid_size_reason(f"{grid.locator} and before", limit))


def grid_from_owners(
    owner: Mapping[tuple[int, int], tuple[int, int]], texts: Mapping[tuple[int, int], str], locator: str
) -> Grid:
    """The grid of a table read as "position → the anchor of the cell covering it" (HTML, Word).

    Each position holds a copy of its anchor's text, ``span_of`` the anchor when it is a copy.
    Rows no cell covers are dropped and the rest renumbered; a position no cell covers (ragged
    markup) is an empty cell with a note, never a value.
    """
    widths: dict[int, int] = {}
    for r, c in owner:
        widths[r] = max(widths.get(r, 0), c + 1)
    kept = sorted(widths)
    renumber = {old: new for new, old in enumerate(kept)}
    rows: list[list[Cell]] = []
    for old_r in kept:
        new_r = renumber[old_r]
        row: list[Cell] = []
        for c in range(widths[old_r]):
            anchor = owner.get((old_r, c))
            if anchor is None:
                row.append(Cell("", new_r, c, note="no cell at this position in the source table"))
                continue
            span_of = None if anchor == (old_r, c) else (renumber[anchor[0]], anchor[1])
            row.append(Cell(texts[anchor], new_r, c, span_of=span_of))
        rows.append(row)
    return Grid(rows=rows, locator=locator)


class DisjointSets:
    """Items ``0..n-1`` joined into groups (union-find): ruling lines that touch, base cells that
    merge, sources that share a host."""

    def __init__(self, n: int) -> None:
        self._parent = list(range(n))

    def find(self, i: int) -> int:
        """The representative of ``i``'s group."""
        parent = self._parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        """Join the groups of ``a`` and ``b``."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        """Every group's members in order, the groups in the order of their first member."""
        out: dict[int, list[int]] = {}
        for i in range(len(self._parent)):
            out.setdefault(self.find(i), []).append(i)
        return list(out.values())
