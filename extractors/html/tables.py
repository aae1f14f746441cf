"""One ``<table>`` → one Grid: rows and cells as browsers find them, merged cells expanded.

Spans are read the way browsers read them and every position is paid for from a per-page
``CellBudget`` before it is allocated, so a few KB of markup cannot expand into GBs.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from xxgk.extractors.base import MAX_GRID_CELLS, ExtractionError, grid_from_owners, grid_size_reason
from xxgk.extractors.html.markup import SKIP_TAGS, WS_RE, clean_lines, walk_text
from xxgk.schemas.grid import Grid

_ZERO_HEIGHT_RE = re.compile(r"(?:^|;)\s*height\s*:\s*0(?:\.0+)?\s*(?:pt|px|cm|mm|in)?\s*(?:;|$)", re.I)
_SPAN_RE = re.compile(r"\s*(\d+)")
_MAX_COLSPAN = 1000
_MAX_ROWSPAN = 65534


def _span(value: str | None, limit: int, zero: int) -> int:
    """A rowspan/colspan the way browsers read it: leading digits, junk → 1, 0 → ``zero``."""
    if value is None:
        return 1
    m = _SPAN_RE.match(value)
    if not m:
        return 1
    n = int(m.group(1))
    if n == 0:
        return zero
    return min(n, limit)


def cell_text(td: HtmlElement) -> str:
    """The text a cell shows: Word runs joined, ``<br>``/``<p>`` as line breaks, hidden text dropped."""
    if len(td) == 0:  # no markup inside: the common case outside Word pastes
        return WS_RE.sub(" ", td.text).strip() if td.text else ""
    parts: list[str] = []
    walk_text(td, parts, in_cell=True)
    return clean_lines(parts)


def own_rows(container: HtmlElement) -> list[tuple[HtmlElement, list[HtmlElement]]]:
    """The rows of a table as (row element, cells), not those of nested tables.

    Rows sit directly under the table or under thead/tbody/tfoot (or a stray wrapper such as
    ``<form>``); a run of ``<td>`` with no ``<tr>`` is one implied row, as browsers read it.
    """
    rows: list[tuple[HtmlElement, list[HtmlElement]]] = []
    loose: list[HtmlElement] = []
    for child in container:
        tag = child.tag
        if not isinstance(tag, str) or tag in SKIP_TAGS:
            continue
        if tag in ("td", "th"):
            loose.append(child)
            continue
        if loose:
            rows.append((container, loose))
            loose = []
        if tag == "tr":
            rows.append((child, _own_cells(child)))
        elif tag not in ("table", "caption", "colgroup", "col"):
            rows.extend(own_rows(child))
    if loose:
        rows.append((container, loose))
    return rows


def _own_cells(tr: HtmlElement) -> list[HtmlElement]:
    """The cells of a row, looking through stray wrappers (``<tr><div><td>``) but not into cells."""
    cells: list[HtmlElement] = []
    for child in tr:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag in ("td", "th"):
            cells.append(child)
        elif tag not in ("table", "tr") and tag not in SKIP_TAGS:
            cells.extend(_own_cells(child))
    return cells


def _is_spacer_row(tr: HtmlElement, cells: list[HtmlElement]) -> bool:
    """Word's zero-height row (``supportMisalignedColumns``) that only fixes column widths."""
    height = tr.get("height")
    style = tr.get("style")
    zero = (height is not None and height.strip() in ("0", "0px")) or (
        style is not None and bool(_ZERO_HEIGHT_RE.search(style))
    )
    return zero and all(not cell_text(c) for c in cells)


class CellBudget:
    """How many grid positions a page may still expand into (``MAX_GRID_CELLS`` for all its tables)."""

    def __init__(self, limit: int = MAX_GRID_CELLS) -> None:
        self.limit = limit
        self.left = limit

    def take(self, n: int, locator: str) -> None:
        """Spend ``n`` positions before they are allocated; ExtractionError(failed) past the bound."""
        self.left -= n
        if self.left < 0:
            raise ExtractionError("failed", grid_size_reason(f"{locator} (rowspan/colspan)", self.limit))


def table_to_grid(
    table: HtmlElement, locator: str, warnings: list[str] | None = None, budget: CellBudget | None = None
) -> Grid:
    """Expand one ``<table>`` into a grid: every merged cell copied into each position it covers.

    Copies carry ``span_of`` = the anchor (row, col). Rowspans running past the last row are
    clipped (browsers do the same); rows with no cell at all are dropped and the rest renumbered;
    a position no cell covers (ragged markup) gets an empty cell with a note, never a value.
    Every position a cell asks for (overlapping ones too) is taken from ``budget`` before it is
    expanded, so a few KB of spans cannot expand into GBs (the page fails naming the bound).
    """
    notes: list[str] = [] if warnings is None else warnings
    budget = budget or CellBudget()
    trs = [cells for tr, cells in own_rows(table) if not (cells and _is_spacer_row(tr, cells))]
    nrows = len(trs)
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    texts: dict[tuple[int, int], str] = {}
    for r, cells in enumerate(trs):
        c = 0
        for td in cells:
            while (r, c) in owner:
                c += 1
            rowspan = _span(td.get("rowspan"), _MAX_ROWSPAN, nrows - r)
            colspan = _span(td.get("colspan"), _MAX_COLSPAN, 1)
            if r + rowspan > nrows:
                notes.append(f"{locator}: rowspan {rowspan} at row {r} col {c} runs past the table end; clipped")
                rowspan = nrows - r
            budget.take(rowspan * colspan, locator)
            texts[(r, c)] = cell_text(td)
            for dr in range(rowspan):
                for dc in range(colspan):
                    pos = (r + dr, c + dc)
                    if pos in owner:
                        notes.append(f"{locator}: cells overlap at row {pos[0]} col {pos[1]}; kept the first")
                        continue
                    owner[pos] = (r, c)
            c += colspan

    return grid_from_owners(owner, texts, locator)
