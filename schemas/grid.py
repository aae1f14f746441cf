"""The grid every extractor produces and the label mapper consumes.

A grid is one printed table (or a fragment of one) with merged cells already expanded: a cell
spanning two rows appears in both, marked by ``span_of`` so it is not read twice as a value.
Cells remember where they were printed, so every fact can be traced back to its cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BOX_POINTS = "pt"
BOX_PIXELS = "px"


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as printed.

    ``row``/``col`` are positions in the expanded grid of the source table; ``span_of`` is the
    (row, col) of the cell that spans into this position when this is a copy of a merged cell.
    ``hint`` lets an extractor pass on what it knows that the text alone cannot say
    (``ambiguous`` for a digit run that could be split more than one way); ``note`` says why.
    ``bbox`` is where the cell was printed on its page, (x0, top, x1, bottom) in the grid's
    ``box_unit``; ``confidence`` is the recognition confidence (0-1) of a cell read by OCR.
    """

    text: str
    row: int = 0
    col: int = 0
    page: int | None = None
    span_of: tuple[int, int] | None = None
    hint: str | None = None
    note: str = ""
    bbox: tuple[float, float, float, float] | None = None
    confidence: float | None = None

    @property
    def is_span_copy(self) -> bool:
        return self.span_of is not None and self.span_of != (self.row, self.col)


@dataclass(slots=True)
class Grid:
    """One table of a document: rows of cells, and where the table was found.

    ``locator`` names the table in its document (``html table 3``, ``pdf p.3 table 1``,
    ``text block 2``); it is stored with every fact. ``box_unit`` is the unit of its cells'
    ``bbox``: ``pt`` (PDF points from the page's top-left corner, also for OCR of a PDF page) or
    ``px`` (pixels of a standalone image).
    """

    rows: list[list[Cell]]
    locator: str
    page: int | None = None
    meta: dict[str, str] = field(default_factory=dict)
    box_unit: str = BOX_POINTS

    @classmethod
    def from_texts(cls, rows: list[list[str]], locator: str, page: int | None = None) -> Grid:
        """A grid from plain strings (no merged cells), as text extractors and tests build them."""
        return cls(
            rows=[[Cell(t, r, c, page) for c, t in enumerate(row)] for r, row in enumerate(rows)],
            locator=locator,
            page=page,
        )

    def texts(self) -> list[list[str]]:
        return [[c.text for c in row] for row in self.rows]

    def spans(self) -> list[list[int]]:
        """Merged cells as printed: ``[row, col, rowspan, colspan]`` per merged cell, in list positions.

        A merged cell is its origin and the span copies pointing at it; it is reported only when
        they fill a rectangle whose top-left is the origin (anything else is left as separate cells).
        """
        groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
        origins: dict[tuple[int, int], tuple[int, int]] = {}
        merged: set[tuple[int, int]] = set()
        for r, row in enumerate(self.rows):
            for c, cell in enumerate(row):
                key = cell.span_of or (cell.row, cell.col)
                groups.setdefault(key, []).append((r, c))
                if cell.is_span_copy:
                    merged.add(key)
                else:
                    origins.setdefault(key, (r, c))
        out: list[list[int]] = []
        for key in merged:
            places = groups[key]
            r0, c0 = origins.get(key, places[0])
            rows = {r for r, _ in places}
            cols = {c for _, c in places}
            height, width = max(rows) - r0 + 1, max(cols) - c0 + 1
            rectangle = {(r, c) for r in range(r0, r0 + height) for c in range(c0, c0 + width)}
            if min(rows) == r0 and min(cols) == c0 and rectangle == set(places):
                out.append([r0, c0, height, width])
        return sorted(out)
