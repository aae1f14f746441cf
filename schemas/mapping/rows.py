"""Rows of a document's grids, split into labels and values and assigned to the three tables.

Rows of all grids are read in document order; each row is split into label cells and value
cells; a small state machine follows which table a row belongs to. Tables split over several
grids (page breaks, split ``<table>`` elements) continue where the previous grid stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.labels import (
    fold_label,
    is_requests_header,
    is_review_header,
    match_proactive_column,
    match_proactive_row,
    match_requests_group,
    match_requests_leaf,
)
from xxgk.schemas.model import PROACTIVE, REQUESTS, REVIEW_LITIGATION
from xxgk.schemas.records import Unmapped
from xxgk.schemas.values import clean_cell_text, prints_only_values


@dataclass(slots=True)
class Row:
    """One printed row: label cells (merged copies included, for context) and value cells."""

    labels: list[Cell]
    values: list[Cell]
    grid: Grid
    index: int
    note: str = ""

    @property
    def label_texts(self) -> list[str]:
        out: list[str] = []
        for c in self.labels:
            n = fold_label(c.text)
            if n and (not out or out[-1] != n):
                out.append(n)
        return out

    @property
    def raw_label(self) -> str:
        seen: list[str] = []
        for c in self.labels:
            t = clean_cell_text(c.text)
            if t and t not in seen:
                seen.append(t)
        return " / ".join(seen)


@dataclass(slots=True)
class TableRows:
    """The rows that belong to one canonical table, in document order."""

    table: str
    rows: list[tuple[str, Row]] = field(default_factory=list)  # (kind, row): header/caption/data


def split_row(cells: list[Cell]) -> tuple[list[Cell], list[Cell]]:
    """Label cells are those up to the last cell that reads as a label; the rest are values.

    Copies of a merged cell count once among the values (a value cell spanning two grid
    columns is still one printed value), but stay among the labels, where they carry the
    group context (三、本年度办理结果 spanning 20 rows).
    """
    last_label = -1
    for i, c in enumerate(cells):
        if not prints_only_values(c.text):
            last_label = i
    labels = cells[: last_label + 1]
    values = [c for c in cells[last_label + 1 :] if not c.is_span_copy]
    return labels, values


def _row_signals(row: Row) -> set[str]:
    """Which tables a row's labels point to."""
    labels = row.label_texts
    joined = "".join(labels)
    tables: set[str] = set()
    if not joined:
        return tables
    if is_review_header(labels):
        tables.add(REVIEW_LITIGATION)
    if is_requests_header(labels):
        tables.add(REQUESTS)
    if lx.BLOCK_CAPTION_WORD in joined or lx.PROACTIVE_HEADER_WORDS[0] in joined:
        tables.add(PROACTIVE)
    last = labels[-1]
    if match_proactive_row(last) and len(last) <= 16:
        tables.add(PROACTIVE)
    if match_requests_leaf(joined) or match_requests_group(joined):
        tables.add(REQUESTS)
    return tables


def _is_header_row(table: str, row: Row) -> bool:
    labels = row.label_texts
    joined = "".join(labels)
    if table == REQUESTS:
        return is_requests_header(labels)
    if table == REVIEW_LITIGATION:
        return is_review_header(labels)
    if lx.BLOCK_CAPTION_WORD in joined or lx.PROACTIVE_HEADER_WORDS[0] in joined:
        return True
    hits = sum(1 for lab in labels if match_proactive_column(lab))
    return hits >= 1 and not any(match_proactive_row(lab) for lab in labels)


def segment_tables(grids: list[Grid]) -> tuple[list[TableRows], list[Unmapped]]:
    """Assign every row of every grid to a table (or to none), in document order."""
    segments: list[TableRows] = []
    stray: list[Unmapped] = []
    current: TableRows | None = None
    for grid in grids:
        in_grid = False  # has the current table been confirmed inside this grid?
        for index, cells in enumerate(grid.rows):
            labels, values = split_row(cells)
            row = Row(labels, values, grid, index)
            signals = _row_signals(row)
            empty = not signals and not labels and not any(clean_cell_text(v.text) for v in values)
            if empty and not (current is not None and in_grid and _continues(current, row)):
                continue  # an empty row (one with exactly a table row's cells is that row, printed blank)
            if current is not None and current.table in signals:
                target = current.table
            elif signals:
                target = _pick_table(signals, row, current)
            elif current is not None and (in_grid or _continues(current, row)):
                target = current.table
            else:
                if any(clean_cell_text(v.text) for v in values):
                    stray.append(unmapped_row("", row, "row outside any statistical table"))
                continue
            if current is None or current.table != target:
                current = next((s for s in segments if s.table == target), None)
                if current is None:
                    current = TableRows(target)
                    segments.append(current)
            in_grid = True
            kind = "header" if _is_header_row(target, row) else "data"
            current.rows.append((kind, row))
        # a new grid must show it continues the table (a matching label or a fitting row)
    return segments, stray


def _pick_table(signals: set[str], row: Row, current: TableRows | None) -> str:
    if len(signals) == 1:
        return next(iter(signals))
    for table in (REVIEW_LITIGATION, REQUESTS, PROACTIVE):
        if table in signals and _is_header_row(table, row):
            return table
    return sorted(signals)[0]


def _continues(current: TableRows, row: Row) -> bool:
    """Whether an unlabelled row at the top of a new grid continues the previous table."""
    n = len(row.values)
    if current.table == REVIEW_LITIGATION:
        return n in (5, 15)
    if current.table == REQUESTS:
        return n == 7
    return False


def unmapped_row(table: str, row: Row, reason: str) -> Unmapped:
    first = row.values[0] if row.values else (row.labels[0] if row.labels else None)
    return Unmapped(
        table=table,
        label=row.raw_label,
        values=[clean_cell_text(v.text) for v in row.values],
        reason=reason,
        locator=row.grid.locator,
        page=(first.page if first and first.page is not None else row.grid.page),
        grid_row=first.row if first else row.index,
    )
