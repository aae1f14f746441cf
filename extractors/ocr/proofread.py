"""The identities proofread the OCR; they never fill it in.

The grids go through the shared mapper and the hard identities exactly as any document does.
Every printed cell of an identity that fails, and every cell the mapper could not parse, is
read a second time from a differently preprocessed crop. Readings that agree settle the cell:
the report prints what it prints, and the failed check stays a finding about the report.
Readings that disagree make the cell ``ambiguous`` with both readings in its note. No value is
ever computed from an identity into a printed cell.
"""

from __future__ import annotations

from typing import Any

from xxgk.extractors.ocr.settings import OcrSettings
from xxgk.schemas.checks import run_checks
from xxgk.schemas.mapping import map_grids
from xxgk.schemas.records import FAIL
from xxgk.schemas.values import AMBIGUOUS, UNPARSEABLE


def suspects(tables: list[Any]) -> dict[tuple[str, int, int], str]:
    """(locator, row, col) of the printed cells a failing identity names, or that do not parse."""
    grids = [t.grid for t in tables]
    mapped = map_grids(grids)
    by_key = {(f.table, f.row_key, f.column_key): f for f in mapped.facts}
    out: dict[tuple[str, int, int], str] = {}
    for f in mapped.facts:
        if f.value_status == UNPARSEABLE and f.grid_row is not None and f.grid_col is not None:
            out.setdefault((f.locator, f.grid_row, f.grid_col), f"read as {f.raw_text!r}, which does not parse")
    for check in run_checks(mapped.facts, mapped.requests_layout):
        if check.status != FAIL or check.severity != "error":
            continue
        for name in check.total_cells + check.part_cells:
            row_key, _, col_key = name.partition("/")
            fact = by_key.get((check.table, row_key, col_key))
            if fact is None or fact.grid_row is None or fact.grid_col is None:
                continue
            out.setdefault((fact.locator, fact.grid_row, fact.grid_col), f"identity {check.check_id} fails")
    return out


def proofread(tables: list[Any], settings: OcrSettings) -> list[str]:
    """Read suspect cells again and rebuild the grids; returns warnings saying what was done."""
    from xxgk.extractors.ocr.reading import SECOND, THIRD, second_reading, to_grid

    found = suspects(tables)
    if not found:
        return []
    by_locator = {t.grid.locator: t for t in tables}
    reread = 0
    touched: set[str] = set()
    for table in tables:
        todo: dict[int, str] = {}
        for (locator, row, col), reason in found.items():
            if locator != table.grid.locator:
                continue
            for i, cr in enumerate(table.readings):
                c = cr.cell
                if c.row <= row < c.row + c.rowspan and c.col <= col < c.col + c.colspan:
                    if cr.hint != AMBIGUOUS:
                        todo.setdefault(i, reason)
                    break
        if not todo:
            continue
        for reason in sorted(set(todo.values())):
            group = [table.readings[i] for i, r in todo.items() if r == reason]
            second_reading(table.reader, group, reason, (SECOND, THIRD), unanimous=True)
        reread += len(todo)
        touched.add(table.grid.locator)
    for locator in touched:
        t = by_locator[locator]
        t.grid = to_grid(
            t.frame,
            t.readings,
            t.reader.page,
            page_number=t.page_number,
            locator=locator,
            dpi=t.dpi,
            origin=t.origin,
        )
    ambiguous = sum(1 for t in tables for cr in t.readings if cr.hint == AMBIGUOUS)
    return [
        f"proofreading: {len(found)} cell(s) named by failing identities or unparseable; {reread} read again; "
        f"{ambiguous} cell(s) ambiguous in all"
    ]


__all__ = ["proofread", "suspects"]
