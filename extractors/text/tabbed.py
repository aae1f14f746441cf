"""The tabbed form (the seed ``yuelu_2020.txt``): a tab starts a cell, a blank line ends a row.

A tab-prefixed line starts a cell, a following line without a tab continues it (``本年新`` /
``制作数量``), a blank line ends a row, and an empty cell is a line holding only the tab.
"""

from __future__ import annotations

from xxgk.schemas.grid import Cell, Grid


def parse_tabbed(text: str) -> list[Grid]:
    """One grid per run of tab-structured lines; narrative lines between them end a grid.

    A line starting with a tab holds cells (one per tab); a following line without a tab
    continues the last cell (a wrapped label); a blank line ends the row. A line with tabs
    inside (``规章\\t0\\t0``) is a row of its own (tab-separated values).
    """
    grids: list[Grid] = []
    rows: list[list[Cell]] = []
    row: list[Cell] = []
    prev = "blank"

    def end_row() -> None:
        nonlocal row
        if row:
            rows.append(row)
        row = []

    def end_grid() -> None:
        nonlocal rows
        end_row()
        if rows:
            grids.append(Grid(rows, f"text block {len(grids) + 1}"))
        rows = []

    for number, line in enumerate(text.split("\n"), 1):
        if line.startswith("\t"):
            offset = 0
            for part in line.split("\t")[1:]:
                offset += 1
                row.append(Cell(part.strip(), number, offset))
                offset += len(part)
            prev = "cell"
        elif not line.strip():
            end_row()
            prev = "blank"
        elif "\t" in line.strip():
            end_row()
            offset = 0
            cells = []
            for part in line.split("\t"):
                cells.append(Cell(part.strip(), number, offset))
                offset += len(part) + 1
            rows.append(cells)
            prev = "tsv"
        elif prev == "cell" and row:
            last = row[-1]
            row[-1] = Cell(f"{last.text}\n{line.strip()}".strip(), last.row, last.col)
        else:
            end_grid()
            prev = "text"
    end_grid()
    return grids
