"""Turn the grids of one document into canonical facts.

Works the same for every format: rows of all grids are read in document order, each row is
split into label cells and value cells, a small state machine follows which table and which
group (（三）不予公开 …) a row belongs to, and labels are matched by keyword cores. Tables split
over several grids (page breaks, split ``<table>`` elements) continue where the previous grid
stopped. The template version is detected per table from its labels, never from the year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.labels import (
    PROACTIVE_V2019_MARKERS,
    PROACTIVE_V2021_MARKERS,
    is_requests_header,
    is_review_header,
    match_block_caption,
    match_proactive_column,
    match_proactive_row,
    match_requests_group,
    match_requests_leaf,
    match_review_row,
    normalize_label,
)
from xxgk.schemas.model import (
    PROACTIVE,
    PROACTIVE_CELLS,
    PROACTIVE_SPEC,
    REQUESTS,
    REQUESTS_ROWS_V2019,
    REQUESTS_ROWS_V2021,
    REQUESTS_SPEC,
    REVIEW_CELL_ORDER,
    REVIEW_LITIGATION,
    REVIEW_SPEC,
    SPECS,
    V2019,
    V2021,
    expected_cells,
)
from xxgk.schemas.records import Fact, Unmapped
from xxgk.schemas.values import AMBIGUOUS, OK, clean_cell_text, looks_like_value, parse_cell_value


@dataclass(slots=True)
class Row:
    """One printed row: label cells (merged copies included, for context) and value cells."""

    labels: list[Cell]
    values: list[Cell]
    grid: Grid
    index: int

    @property
    def label_texts(self) -> list[str]:
        out: list[str] = []
        for c in self.labels:
            n = normalize_label(c.text)
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


@dataclass(slots=True)
class MappedTables:
    """What the mapper found: facts, unmapped rows, versions, and what it could not find."""

    facts: list[Fact]
    unmapped: list[Unmapped]
    versions: dict[str, str]
    requests_layout: str | None
    missing: dict[str, list[tuple[str, str]]]
    warnings: list[str]


def split_row(cells: list[Cell]) -> tuple[list[Cell], list[Cell]]:
    """Label cells are those up to the last cell that reads as a label; the rest are values.

    Copies of a merged cell count once among the values (a value cell spanning two grid
    columns is still one printed value), but stay among the labels, where they carry the
    group context (三、本年度办理结果 spanning 20 rows).
    """
    last_label = -1
    for i, c in enumerate(cells):
        if not looks_like_value(c.text):
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
    if "第二十条" in joined or "信息内容" in joined:
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
    if "第二十条" in joined or "信息内容" in joined:
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
            if not signals and not labels and not any(clean_cell_text(v.text) for v in values):
                continue  # an empty row
            if current is not None and current.table in signals:
                target = current.table
            elif signals:
                target = _pick_table(signals, row, current)
            elif current is not None and (in_grid or _continues(current, row)):
                target = current.table
            else:
                if any(clean_cell_text(v.text) for v in values) and labels:
                    stray.append(_unmapped("", row, "row outside any statistical table"))
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


def _unmapped(table: str, row: Row, reason: str) -> Unmapped:
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


def _make_fact(
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
    if col.money and header_unit == "元" and value is not None and parsed.raw_text.rstrip("0123456789.,") == "":
        value = value / 10000  # the header says 元 and the cell prints no unit
        note = "unit 元 from header"
    if cell.hint == AMBIGUOUS:
        status = AMBIGUOUS
        note = cell.note or "ambiguous"
    elif cell.note:
        note = f"{note}; {cell.note}" if note else cell.note
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


# --- table 三 ------------------------------------------------------------------------------


def _map_requests(seg: TableRows) -> tuple[list[tuple[str | None, Row]], list[Unmapped]]:
    """(row_key, row) pairs of table 三 in document order; rows printed without a label get None."""
    mapped: list[tuple[str | None, Row]] = []
    unmapped: list[Unmapped] = []
    parent: str | None = None
    pending_other: Row | None = None
    for kind, row in seg.rows:
        labels = row.label_texts
        has_values = any(clean_cell_text(v.text) for v in row.values)
        if kind == "header":
            if has_values:
                unmapped.append(_unmapped(REQUESTS, row, "numbers printed in a header row (ignored)"))
            continue
        for lab in labels:
            group = match_requests_group(lab)
            if group and not match_requests_leaf(lab, None):
                parent = group if group != "results" else parent
        leaf = match_requests_leaf(labels[-1], parent) if labels else None
        if leaf is None and labels:
            leaf = match_requests_leaf("".join(labels), parent)
        if leaf is None and labels and match_requests_group(labels[-1]) == "other":
            # （六）其他处理: a leaf in the v2019 layout, a group label in v2021
            if row.values:
                pending_other = row
                mapped.append(("other", row))
            continue
        if leaf is None:
            if not labels and has_values:
                mapped.append((None, row))  # a value row whose label was lost (PDF/Markdown conversions)
            elif has_values:
                group = match_requests_group("".join(labels))
                reason = "values on a group label row (printed subtotal)" if group else "label matches no row"
                unmapped.append(_unmapped(REQUESTS, row, reason))
            continue
        if leaf.startswith("other.") and pending_other is not None:
            # the （六） row had values but sub-rows follow: keep it as a printed subtotal
            mapped.remove(("other", pending_other))
            unmapped.append(_unmapped(REQUESTS, pending_other, "values on a group label row (printed subtotal)"))
            pending_other = None
        if "." in leaf:
            parent = leaf.split(".")[0]
        mapped.append((leaf, row))
    return mapped, unmapped


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


def _value_columns(rows: list[Row], n: int) -> dict[int, tuple[int, ...]]:
    """Per grid, the grid columns that hold the n values in rows printing exactly n cells."""
    seen: dict[int, dict[tuple[int, ...], int]] = {}
    for row in rows:
        if len(row.values) == n and row.labels:
            cols = tuple(c.col for c in row.values)
            counts = seen.setdefault(id(row.grid), {})
            counts[cols] = counts.get(cols, 0) + 1
    return {g: max(counts, key=counts.__getitem__) for g, counts in seen.items()}


def _requests_facts(seg: TableRows) -> tuple[list[Fact], list[Unmapped], str]:
    mapped, unmapped = _map_requests(seg)
    layout = V2021 if any(k and k.startswith("other.") for k, _ in mapped) else V2019
    order = REQUESTS_ROWS_V2021 if layout == V2021 else REQUESTS_ROWS_V2019
    placed, left_over = assign_by_print_order(mapped, order)
    unmapped += [_unmapped(REQUESTS, r, "row without a label that no template position fits") for r in left_over]
    facts: list[Fact] = []
    cols = REQUESTS_SPEC.column_keys
    grid_columns = _value_columns([r for _, r, _ in placed], len(cols))
    for key, row, how in placed:
        values = select_values(row, len(cols), grid_columns.get(id(row.grid)))
        if len(values) == len(cols):
            cells = list(zip(cols, values, strict=True))
        elif len(values) == len(cols) - 1:
            # one cell lost (a conversion dropped it): the printed six keep their places, the
            # total is reported ambiguous, with what the row identity implies as a best guess
            cells = list(zip(cols[:-1], values, strict=True))
        else:
            unmapped.append(_unmapped(REQUESTS, row, f"expected {len(cols)} cells, found {len(values)}"))
            continue
        for col_key, cell in cells:
            label = REQUESTS_SPEC.column(col_key).labels[V2019]
            fact = _make_fact(REQUESTS, key, col_key, cell, layout, row, label)
            if how:
                fact.note = f"{fact.note}; {how}" if fact.note else how
            facts.append(fact)
        if len(cells) == len(cols) - 1:
            facts.append(_missing_total(key, row, layout, facts[-len(cells) :]))
    return facts, unmapped, layout


def _missing_total(row_key: str, row: Row, layout: str, parts: list[Fact]) -> Fact:
    known = [f.value for f in parts if f.value_status == OK]
    guess = sum(known) if len(known) == len(parts) else None  # type: ignore[arg-type]
    last = row.values[-1]
    return Fact(
        table=REQUESTS,
        row_key=row_key,
        column_key="total",
        value=guess,
        unit="件",
        raw_text="",
        value_status=AMBIGUOUS,
        template_version=layout,
        row_label=row.raw_label,
        column_label="总计",
        locator=row.grid.locator,
        page=last.page if last.page is not None else row.grid.page,
        grid_row=last.row,
        grid_col=None,
        note="cell missing: the row prints 6 of 7 cells; value is the sum of the six (row identity), not printed",
    )


# --- table 四 ------------------------------------------------------------------------------


def _review_facts(seg: TableRows, version: str) -> tuple[list[Fact], list[Unmapped]]:
    facts: list[Fact] = []
    unmapped: list[Unmapped] = []
    cols = REVIEW_SPEC.column_keys
    for kind, row in seg.rows:
        if kind == "header" and len(row.values) < 5:
            continue
        values = select_values(row, 15, None)
        n = len(values)
        if n == 15:
            for (row_key, col_key), cell in zip(REVIEW_CELL_ORDER, values, strict=True):
                label = REVIEW_SPEC.row(row_key).labels[V2019] + "/" + REVIEW_SPEC.column(col_key).labels[V2019]
                facts.append(_make_fact(REVIEW_LITIGATION, row_key, col_key, cell, version, row, label))
            continue
        group = match_review_row("".join(row.label_texts)) if row.labels else None
        values = select_values(row, 5, None)
        if len(values) == 5 and group:
            for col_key, cell in zip(cols, values, strict=True):
                label = REVIEW_SPEC.column(col_key).labels[V2019]
                facts.append(_make_fact(REVIEW_LITIGATION, group, col_key, cell, version, row, label))
            continue
        if n and any(clean_cell_text(v.text) for v in row.values):
            unmapped.append(_unmapped(REVIEW_LITIGATION, row, f"expected 15 cells in one row, found {n}"))
    return facts, unmapped


# --- table 二 ------------------------------------------------------------------------------


def detect_proactive_version(seg: TableRows) -> str:
    """v2019 or v2021 from the labels of table 二 (majority of markers; cell counts break ties)."""
    v19 = v21 = 0
    for _, row in seg.rows:
        joined = "".join(row.label_texts)
        v21 += sum(1 for m in PROACTIVE_V2021_MARKERS if m in joined)
        v19 += sum(1 for m in PROACTIVE_V2019_MARKERS if m in joined)
    if v19 != v21:
        return V2021 if v21 > v19 else V2019
    counts = [len(r.values) for k, r in seg.rows if k == "data" and match_proactive_row("".join(r.label_texts))]
    return V2021 if counts and max(counts) <= 1 else V2019


def _proactive_facts(seg: TableRows, version: str) -> tuple[list[Fact], list[Unmapped]]:
    facts: list[Fact] = []
    unmapped: list[Unmapped] = []
    header_cols: list[tuple[str, str]] = []  # (column_key, printed label) of the current block
    header_unit: str | None = None
    for kind, row in seg.rows:
        labels = row.label_texts
        if kind == "header":
            cols = []
            for cell in row.labels:
                norm = normalize_label(cell.text)
                key = match_proactive_column(norm)
                if key and not cell.is_span_copy and (not cols or cols[-1][0] != key):
                    cols.append((key, clean_cell_text(cell.text)))
                    if "万元" in norm:
                        header_unit = "万元"
                    elif "单位:元" in norm or "(元)" in norm:
                        header_unit = "元"
            if cols:
                header_cols = cols
            elif match_block_caption("".join(labels)):
                header_cols, header_unit = [], None
            continue
        row_key = match_proactive_row(labels[-1]) if labels else None
        if row_key is None:
            if row.values and any(clean_cell_text(v.text) for v in row.values):
                unmapped.append(_unmapped(PROACTIVE, row, "label matches no row"))
            continue
        block = PROACTIVE_SPEC.row(row_key).block or ""
        values, columns = _proactive_row_cells(row.values, block, header_cols, version)
        n = len(values)
        if columns is None:
            unmapped.append(_unmapped(PROACTIVE, row, f"{n} cells do not fit the columns of {block}"))
            continue
        row_version = _version_of(block, columns)
        for (col_key, col_label), cell in zip(columns_with_labels(columns, header_cols), values, strict=True):
            facts.append(
                _make_fact(PROACTIVE, row_key, col_key, cell, row_version, row, col_label, header_unit=header_unit)
            )
    return facts, unmapped


def _proactive_row_cells(
    values: list[Cell], block: str, header_cols: list[tuple[str, str]], version: str
) -> tuple[list[Cell], tuple[str, ...] | None]:
    """The value cells of a table-二 row and their columns.

    The block's printed header decides when it fits; then the table's own version. Empty cells
    at the end may be the rest of a value cell merged over several columns (a conversion
    repeats it as empty cells), so they are dropped before the other version is considered.
    """
    allowed = {c for v in PROACTIVE_CELLS.values() for c in v.get(block, ())}
    from_header = tuple(k for k, _ in header_cols)
    preferred = PROACTIVE_CELLS[version].get(block)
    trimmed = values
    while True:
        n = len(trimmed)
        if from_header and len(from_header) == n and set(from_header) <= allowed:
            return trimmed, from_header
        if preferred and len(preferred) == n:
            return trimmed, preferred
        if not trimmed or clean_cell_text(trimmed[-1].text):
            break
        trimmed = trimmed[:-1]
    other = PROACTIVE_CELLS[V2019 if version == V2021 else V2021].get(block)
    if other and len(other) == len(values):
        return values, other
    return values, None


def _version_of(block: str, columns: tuple[str, ...]) -> str:
    """The template whose cells of ``block`` are exactly ``columns``."""
    return V2021 if PROACTIVE_CELLS[V2021].get(block) == columns else V2019


def columns_with_labels(columns: tuple[str, ...], header_cols: list[tuple[str, str]]) -> list[tuple[str, str]]:
    printed = dict(header_cols)
    return [(c, printed.get(c, "")) for c in columns]


# --- the document --------------------------------------------------------------------------


def map_grids(grids: list[Grid]) -> MappedTables:
    """Facts of all three tables from a document's grids."""
    segments, stray = segment_tables(grids)
    by_table = {s.table: s for s in segments}
    facts: list[Fact] = []
    unmapped: list[Unmapped] = list(stray)
    versions: dict[str, str] = {}
    warnings: list[str] = []
    layout: str | None = None

    if PROACTIVE in by_table:
        versions[PROACTIVE] = detect_proactive_version(by_table[PROACTIVE])
        f, u = _proactive_facts(by_table[PROACTIVE], versions[PROACTIVE])
        facts += f
        unmapped += u
    if REQUESTS in by_table:
        f, u, layout = _requests_facts(by_table[REQUESTS])
        versions[REQUESTS] = layout
        facts += f
        unmapped += u
    if REVIEW_LITIGATION in by_table:
        # table 四 is the same in both versions: it inherits the version of the report's other tables
        versions[REVIEW_LITIGATION] = versions.get(PROACTIVE) or versions.get(REQUESTS) or V2021
        f, u = _review_facts(by_table[REVIEW_LITIGATION], versions[REVIEW_LITIGATION])
        facts += f
        unmapped += u

    facts, dup_warnings = _drop_duplicates(facts)
    warnings += dup_warnings
    facts = [f for f in facts if f.table in versions]
    missing: dict[str, list[tuple[str, str]]] = {}
    for table, version in versions.items():
        want = expected_cells(table, version, layout if table == REQUESTS else None)
        if table == PROACTIVE:
            want = _proactive_expected(facts, version)
        have = {(f.row_key, f.column_key) for f in facts if f.table == table}
        gaps = [c for c in want if c not in have]
        if gaps:
            missing[table] = gaps
    return MappedTables(facts, unmapped, versions, layout, missing, warnings)


def _proactive_expected(facts: list[Fact], version: str) -> list[tuple[str, str]]:
    """Cells table 二 should print: per block, the version its printed rows use."""
    block_versions: dict[str, str] = {}
    for f in facts:
        if f.table == PROACTIVE:
            block_versions.setdefault(PROACTIVE_SPEC.row(f.row_key).block or "", f.template_version)
    cells: list[tuple[str, str]] = []
    for row in PROACTIVE_SPEC.rows:
        block = row.block or ""
        v = block_versions.get(block, version)
        if v not in row.labels:
            continue
        cells += [(row.key, c) for c in PROACTIVE_CELLS[v].get(block, ())]
    return cells


def _drop_duplicates(facts: list[Fact]) -> tuple[list[Fact], list[str]]:
    """A cell printed twice (a table repeated on the page) is kept once; disagreement is reported."""
    seen: dict[tuple[str, str, str], Fact] = {}
    out: list[Fact] = []
    warnings: list[str] = []
    for f in facts:
        key = (f.table, f.row_key, f.column_key)
        if key in seen:
            first = seen[key]
            if first.raw_text != f.raw_text:
                warnings.append(
                    f"{f.table}.{f.row_key}.{f.column_key} printed twice with different values: "
                    f"{first.raw_text!r} ({first.locator}) and {f.raw_text!r} ({f.locator}); the first is kept"
                )
            continue
        seen[key] = f
        out.append(f)
    return out, warnings


__all__ = ["OK", "MappedTables", "map_grids", "segment_tables", "split_row"]
