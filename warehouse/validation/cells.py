"""Where a check's cells were printed: operands matched to facts, facts located in the grids.

Also what the page needs to show a table as printed: which canonical key each printed row and
column carries (from the facts read off it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from xxgk.schemas.records import CheckResult, DocumentResult, Fact

_ALL = ("*", "")


def _row_matches(row_key: str, pattern: str) -> bool:
    return row_key == pattern or row_key.startswith(pattern + ".")


def check_operands(check: CheckResult) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(total cells, part cells) of a check as (row, column) pairs, as the check itself names them.

    A check that names no operands (counts.non_negative) marks the cell, row or column it names.
    """
    if check.total_cells or check.part_cells:
        split = [tuple(c.split("/", 1)) for c in (*check.total_cells, *check.part_cells)]
        n = len(check.total_cells)
        return split[:n], split[n:]  # type: ignore[return-value]
    row, col = check.row_key, check.column_key
    if row not in _ALL and col not in _ALL:
        return [(row, col)], []
    if row not in _ALL:
        return [], [(row, "*")]
    if col not in _ALL:
        return [], [("*", col)]
    return [], []


def _cell_matches(fact: Fact, pattern: tuple[str, str]) -> bool:
    row, col = pattern
    return (row == "*" or _row_matches(fact.row_key, row)) and (col == "*" or fact.column_key == col)


def grid_index(locators: Iterable[str]) -> dict[str, int]:
    """Grid number of each locator (the first grid of that name)."""
    index: dict[str, int] = {}
    for i, loc in enumerate(locators):
        index.setdefault(loc, i)
    return index


def locate(fact: Fact, tables: list[list[list[str]]], grids: dict[str, int]) -> tuple[int, int, int] | None:
    """(grid, row, col) of a fact in the printed tables, or None when it cannot be placed."""
    grid = grids.get(fact.locator)
    if grid is None or fact.grid_row is None or fact.grid_col is None or grid >= len(tables):
        return None
    if not (0 <= fact.grid_row < len(tables[grid]) and 0 <= fact.grid_col < len(tables[grid][fact.grid_row])):
        return None
    return grid, fact.grid_row, fact.grid_col


def fact_cell(fact: Fact, where: tuple[int, int, int] | None, role: str | None = None) -> dict[str, Any]:
    """The JSON entry of one printed cell: keys, text, value, where it was printed (grid and page box)."""
    cell: dict[str, Any] = {
        "row_key": fact.row_key,
        "column_key": fact.column_key,
        "raw_text": fact.raw_text,
        "value": fact.value,
        "value_status": fact.value_status,
        "locator": fact.locator,
        "page": fact.page,
        "grid": where[0] if where else None,
        "row": where[1] if where else None,
        "col": where[2] if where else None,
    }
    if role is not None:
        cell = {"role": role, **cell}
    bbox = getattr(fact, "bbox", None)
    if bbox is not None:
        cell["bbox"] = [float(v) for v in bbox]
        cell["box_unit"] = getattr(fact, "box_unit", None)
    if fact.note:
        cell["note"] = fact.note
    return cell


def cells_of(
    check: CheckResult, facts: Iterable[Fact], tables: list[list[list[str]]], grids: dict[str, int]
) -> list[dict[str, Any]]:
    """The printed cells a check names, among ``facts``, located in ``tables`` (grids as printed)."""
    totals, parts = check_operands(check)
    cells = []
    for fact in facts:
        if fact.table != check.table:
            continue
        if any(_cell_matches(fact, p) for p in totals):
            role = "total"
        elif any(_cell_matches(fact, p) for p in parts):
            role = "part"
        else:
            continue
        cells.append(fact_cell(fact, locate(fact, tables, grids), role))
    return cells


def table_keys(result: DocumentResult, grids: dict[str, int]) -> list[dict[str, Any]]:
    """Per grid: the canonical key of each printed row and column, as the facts read off them say.

    A row is the row_key most of its facts carry; a column likewise (a column of one grid can
    change meaning between the tables of a page: the most frequent key is shown).
    """
    rows: list[dict[int, Counter[str]]] = [{} for _ in result.grids]
    cols: list[dict[int, Counter[str]]] = [{} for _ in result.grids]
    for fact in result.facts:
        where = locate(fact, result.grids, grids)
        if where is None:
            continue
        g, r, c = where
        rows[g].setdefault(r, Counter())[f"{fact.table}.{fact.row_key}"] += 1
        cols[g].setdefault(c, Counter())[fact.column_key] += 1
    out = []
    for g, grid in enumerate(result.grids):
        n_cols = max((len(r) for r in grid), default=0)
        out.append(
            {
                "row_keys": [rows[g][r].most_common(1)[0][0] if r in rows[g] else None for r in range(len(grid))],
                "col_keys": [cols[g][c].most_common(1)[0][0] if c in cols[g] else None for c in range(n_cols)],
            }
        )
    return out


def ambiguous_cells(result: DocumentResult, grids: dict[str, int]) -> list[dict[str, Any]]:
    """Facts that could not be read with certainty (``ambiguous``), located, with their reason."""
    return [fact_cell(f, locate(f, result.grids, grids)) for f in result.facts if f.value_status == "ambiguous"]


def marks(doc: dict[str, Any]) -> dict[int, dict[tuple[int, int], dict[str, Any]]]:
    """Per grid, per (row, col): the failing checks a cell takes part in and its strongest role."""
    out: dict[int, dict[tuple[int, int], dict[str, Any]]] = {}
    n = doc["_n"]
    failing = [(f"d{n}-c{i}", c) for i, c in enumerate(doc["failed_checks"])]
    failing += [(f"d{n}-x{i}", c) for i, c in enumerate(doc.get("cross_year_checks", [])) if c["status"] == "fail"]
    for anchor, check in failing:
        for cell in check["cells"]:
            if cell["grid"] is None:
                continue
            mark = out.setdefault(cell["grid"], {}).setdefault(
                (cell["row"], cell["col"]),
                {"role": "part", "checks": [], "anchors": [], "severity": "warning", "ambiguous": ""},
            )
            if cell["role"] == "total":
                mark["role"] = "total"
            if check["severity"] == "error":
                mark["severity"] = "error"
            label = f"{check['check_id']} [{check['row_key']} / {check['column_key']}]"
            if anchor not in mark["anchors"]:
                mark["checks"].append(label)
                mark["anchors"].append(anchor)
    for cell in doc.get("ambiguous_cells", []):
        if cell["grid"] is None:
            continue
        mark = out.setdefault(cell["grid"], {}).setdefault(
            (cell["row"], cell["col"]),
            {"role": "part", "checks": [], "anchors": [], "severity": "ambiguous", "ambiguous": ""},
        )
        mark["ambiguous"] = cell.get("note") or "ambiguous"
    return out
