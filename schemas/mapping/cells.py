"""From a printed cell to a fact, and the value cells of a row: shared by the three tables."""

from __future__ import annotations

from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Cell
from xxgk.schemas.mapping.rows import Row
from xxgk.schemas.model import SPECS
from xxgk.schemas.records import Fact
from xxgk.schemas.values import (
    AMBIGUOUS,
    OK,
    SPLIT_BY_NARRATIVE,
    SPLIT_BY_OTHER_COPY,
    clean_cell_text,
    parse_cell_value,
    value_tokens,
)


def make_fact(
    table: str,
    row_key: str,
    col_key: str,
    cell: Cell,
    version: str,
    row: Row,
    column_label: str = "",
    header_unit: str | None = None,
) -> Fact:
    col = SPECS[table].column(col_key)
    unit_in_header = col.unit_in_header or bool(header_unit)
    parsed = parse_cell_value(
        cell.text, unit=col.unit, signed=col.signed, money=col.money, unit_printed_in_header=unit_in_header
    )
    value, unit, status, note = parsed.value, parsed.unit, parsed.status, parsed.note
    if col.money and header_unit == lx.YUAN and value is not None and parsed.raw_text.rstrip("0123456789.,") == "":
        value = value / 10000  # the header says 元 and the cell prints no unit: to 万元
        note = f"unit {lx.YUAN} from header"
    if cell.hint == AMBIGUOUS:
        status = AMBIGUOUS
        note = cell.note or "ambiguous"
    elif cell.hint in (SPLIT_BY_NARRATIVE, SPLIT_BY_OTHER_COPY) and status == OK:
        status = cell.hint
        note = f"{note}; {cell.note}" if note else cell.note
    elif cell.note:
        note = f"{note}; {cell.note}" if note else cell.note
    if row.note:
        note = f"{note}; {row.note}" if note else row.note
    return Fact(
        table=table,
        row_key=row_key,
        column_key=col_key,
        value=value,
        unit=unit,
        raw_text=parsed.raw_text,
        value_status=status,
        template_version=version,
        row_label=row.raw_label,
        column_label=column_label,
        locator=row.grid.locator,
        page=cell.page if cell.page is not None else row.grid.page,
        grid_row=cell.row,
        grid_col=cell.col,
        note=note,
        bbox=cell.bbox,
        box_unit=row.grid.box_unit if cell.bbox is not None else None,
        confidence=cell.confidence,
    )


EMPTY_ROW_NOTE = "the row prints its label and no value cell: read as blank"


def split_joined_values(values: list[Cell], n: int) -> list[Cell] | None:
    """The row's cells with every cell that prints several values (``3笔 125000元``) split, if that makes ``n``.

    A conversion (or the publisher) can print two cells' values in one cell; the row is then
    short by exactly the extra values. Each part keeps its cell's position and says where it
    was printed. None when no cell prints several values or the count still does not fit.
    """
    out: list[Cell] = []
    joined = False
    for cell in values:
        tokens = value_tokens(cell.text)
        if len(tokens) < 2:
            out.append(cell)
            continue
        joined = True
        note = f"printed in one cell with {' '.join(tokens)!r}"
        out += [
            Cell(t, cell.row, cell.col, cell.page, cell.span_of, cell.hint, note, cell.bbox, cell.confidence)
            for t in tokens
        ]
    return out if joined and len(out) == n else None


def blank_cells(row: Row, n: int) -> list[Cell]:
    """``n`` empty cells for a row printed with its label and no value cell at all.

    Such a row printed nothing in any of its cells: its facts are blank (value null), like a row
    of empty cells, not a row lost. They sit right of the label in the grid's coordinates.
    """
    label = row.labels[-1]
    return [Cell("", label.row, label.col + 1 + i, label.page, note=EMPTY_ROW_NOTE) for i in range(n)]


def assign_by_print_order(
    mapped: list[tuple[str | None, Row]], order: tuple[str, ...]
) -> tuple[list[tuple[str, Row, str]], list[Row]]:
    """Give unlabelled rows the keys printed between their labelled neighbours.

    Only when the count fits exactly: n unlabelled rows between the rows of keys A and B take
    the n keys that the template prints between A and B and that no other row has. Anything
    else stays unassigned, never guessed.
    """
    taken = {k for k, _ in mapped if k is not None}
    out: list[tuple[str, Row, str]] = []
    left_over: list[Row] = []
    i = 0
    prev_key: str | None = None
    while i < len(mapped):
        key, row = mapped[i]
        if key is not None:
            out.append((key, row, ""))
            prev_key = key
            i += 1
            continue
        j = i
        while j < len(mapped) and mapped[j][0] is None:
            j += 1
        next_key = mapped[j][0] if j < len(mapped) else None
        lo = order.index(prev_key) + 1 if prev_key in order else 0
        hi = order.index(next_key) if next_key in order else len(order)
        free = [k for k in order[lo:hi] if k not in taken]
        run = [r for _, r in mapped[i:j]]
        if lo <= hi and len(free) == len(run):
            where = f"between {prev_key or 'the start'} and {next_key or 'the end'}"
            for k, r in zip(free, run, strict=True):
                out.append((k, r, f"label not printed; row placed by template order {where}"))
                taken.add(k)
        else:
            left_over += run
        i = j
    return out, left_over


def select_values(row: Row, n: int, columns: tuple[int, ...] | None) -> list[Cell]:
    """The n value cells of a row that shows more: empty label slots or an empty added column.

    Where other rows of the same grid show which grid columns hold the n values, those columns
    decide; otherwise empty cells are dropped from the front (label columns come first in every
    layout), then from the end.
    """
    values = row.values
    if len(values) <= n:
        return values
    if columns is not None:
        by_col = {c.col: c for c in values}
        if all(col in by_col for col in columns):
            rest = [c for c in values if c.col not in columns]
            if not any(clean_cell_text(c.text) for c in rest):
                return [by_col[col] for col in columns]
    while len(values) > n and not clean_cell_text(values[0].text):
        values = values[1:]
    while len(values) > n and not clean_cell_text(values[-1].text):
        values = values[:-1]
    return values


def value_columns(rows: list[Row], n: int) -> dict[int, tuple[int, ...]]:
    """Per grid, the grid columns that hold the n values in rows printing exactly n cells."""
    seen: dict[int, dict[tuple[int, ...], int]] = {}
    for row in rows:
        if len(row.values) == n and row.labels:
            cols = tuple(c.col for c in row.values)
            counts = seen.setdefault(id(row.grid), {})
            counts[cols] = counts.get(cols, 0) + 1
    return {g: max(counts, key=counts.__getitem__) for g, counts in seen.items()}
