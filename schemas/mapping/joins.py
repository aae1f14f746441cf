"""Rows a conversion broke into several lines of partial cells, joined back when the counts fit.

A text or OCR conversion can print one table row as several lines: the 15 cells of a table-四
row as three lines of five, a table-三 row as four cells then three. Consecutive fragments
(the first may carry the row's label, the others carry none) whose cell counts add up to the
row's cell count belong together; the row's identities must not contradict the join (a join
the identities contradict is left alone and reported by the per-table mapper as before).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xxgk.schemas.mapping.rows import Row, TableRows
from xxgk.schemas.values import OK, clean_cell_text, parse_cell_value

#: An identity over a joined row's cells: True (holds), False (contradicted), None (not assessable).
RowIdentity = Callable[[Sequence[float | None]], bool | None]

JOIN_NOTE = "row printed over {n} lines, joined"


def cell_numbers(row: Row) -> list[float | None]:
    """The counts a row's value cells print (None where a cell is no plain number)."""
    out: list[float | None] = []
    for cell in row.values:
        parsed = parse_cell_value(cell.text, unit="")
        out.append(parsed.value if parsed.status == OK else None)
    return out


def totals_hold(groups: Sequence[tuple[int, Sequence[int]]]) -> RowIdentity:
    """An identity ``cells[total] == sum(cells[parts])`` for each (total, parts) group."""

    def check(values: Sequence[float | None]) -> bool | None:
        verdicts = []
        for total, parts in groups:
            members = [values[total], *(values[p] for p in parts)]
            if any(v is None for v in members):
                verdicts.append(None)
            else:
                verdicts.append(abs(values[total] - sum(values[p] for p in parts)) < 1e-9)  # type: ignore[operator,misc]
        if False in verdicts:
            return False
        return True if verdicts and all(verdicts) else None

    return check


def _is_fragment(row: Row) -> bool:
    return not row.labels and any(clean_cell_text(v.text) for v in row.values)


def join_split_rows(seg: TableRows, width: int, identity: RowIdentity) -> tuple[TableRows, list[str]]:
    """``seg`` with each run of fragments that makes exactly one ``width``-cell row joined into it.

    A run starts at a data row printing fewer than ``width`` cells (with or without a label) and
    takes the label-less data rows right after it, in the same grid, until the counts reach
    ``width``; it is joined only when they reach it exactly and ``identity`` does not say no.
    Returns the new rows and one note per join.
    """
    rows = seg.rows
    out: list[tuple[str, Row]] = []
    notes: list[str] = []
    i = 0
    while i < len(rows):
        kind, row = rows[i]
        n = len(row.values)
        if kind != "data" or n >= width or (n == 0 and not row.labels):
            out.append((kind, row))
            i += 1
            continue
        j, count = i + 1, n
        while j < len(rows) and count < width:
            k2, nxt = rows[j]
            if k2 != "data" or not _is_fragment(nxt) or nxt.grid is not row.grid:
                break
            count += len(nxt.values)
            j += 1
        if count != width or j == i + 1:
            out.append((kind, row))
            i += 1
            continue
        parts = [r for _, r in rows[i:j]]
        joined = Row(row.labels, [c for r in parts for c in r.values], row.grid, row.index)
        verdict = identity(cell_numbers(joined))
        if verdict is False:
            out.append((kind, row))
            i += 1
            continue
        joined.note = JOIN_NOTE.format(n=len(parts)) + ("" if verdict else " (no identity could confirm it)")
        out.append((kind, joined))
        notes.append(f"{seg.table}: {joined.raw_label or 'a row without label'}: {joined.note}")
        i = j
    return TableRows(seg.table, out), notes
