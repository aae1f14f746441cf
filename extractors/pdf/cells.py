"""Cells of a ruled table into a Grid: merged cells expanded into span copies, text per cell."""

from __future__ import annotations

import bisect

from xxgk.extractors.pdf.chars import cell_text
from xxgk.extractors.pdf.content import Char
from xxgk.extractors.pdf.rules import BBox
from xxgk.extractors.pdf.settings import DEFAULT_SETTINGS, PdfSettings
from xxgk.schemas.grid import Cell, Grid


def grid_from_cells(
    cells: list[BBox],
    chars: list[Char],
    page_no: int,
    locator: str,
    settings: PdfSettings = DEFAULT_SETTINGS,
) -> Grid:
    """Expand one table's cell boxes into a full grid: span copies for merged cells, text per cell."""
    xs = sorted({c[0] for c in cells} | {c[2] for c in cells})
    ys = sorted({c[1] for c in cells} | {c[3] for c in cells})
    col_of = {x: i for i, x in enumerate(xs)}
    row_of = {y: i for i, y in enumerate(ys)}
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    owner: list[list[int]] = [[-1] * n_cols for _ in range(n_rows)]
    spans: list[tuple[int, int, int, int]] = []
    for idx, (x0, top, x1, bottom) in enumerate(cells):
        r0, r1, c0, c1 = row_of[top], row_of[bottom], col_of[x0], col_of[x1]
        spans.append((r0, r1, c0, c1))
        for r in range(r0, r1):
            for c in range(c0, c1):
                if owner[r][c] < 0:
                    owner[r][c] = idx
    buckets: list[list[Char]] = [[] for _ in cells]
    tx0, ttop, tx1, tbottom = xs[0], ys[0], xs[-1], ys[-1]
    for ch in chars:
        hx = (ch["x0"] + ch["x1"]) / 2
        vy = (ch["top"] + ch["bottom"]) / 2
        if not (tx0 <= hx < tx1 and ttop <= vy < tbottom):
            continue
        c = bisect.bisect_right(xs, hx) - 1
        r = bisect.bisect_right(ys, vy) - 1
        if 0 <= r < n_rows and 0 <= c < n_cols and owner[r][c] >= 0:
            buckets[owner[r][c]].append(ch)
    texts = [cell_text(b, settings) for b in buckets]
    rows: list[list[Cell]] = []
    for r in range(n_rows):
        row: list[Cell] = []
        for c in range(n_cols):
            idx = owner[r][c]
            if idx < 0:
                row.append(Cell("", r, c, page_no, note="no cell drawn here"))
                continue
            r0, _, c0, _ = spans[idx]
            if (r0, c0) == (r, c):
                row.append(Cell(texts[idx], r, c, page_no))
            else:
                row.append(Cell(texts[idx], r, c, page_no, span_of=(r0, c0)))
        rows.append(row)
    return Grid(rows=rows, locator=locator, page=page_no)


def is_data_table(grid: Grid) -> bool:
    """A table has a row of two or more cells and some text; ruled prose boxes are one cell wide.

    A fragment cut off by a page break may be a single row whose values are all blank
    (行政事业性收费 with nothing printed), so empty cells count as cells.
    """
    if not grid.rows or len(grid.rows[0]) < 2 or not any(c.text for row in grid.rows for c in row):
        return False
    return any(len({c.span_of or (c.row, c.col) for c in row}) >= 2 for row in grid.rows)
