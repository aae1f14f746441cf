"""Table 二 (主动公开政府信息情况): blocks under their captions, columns from their headers."""

from __future__ import annotations

from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Cell
from xxgk.schemas.labels import fold_label, match_block_caption, match_proactive_column, match_proactive_row
from xxgk.schemas.labels import header_unit as unit_in_header
from xxgk.schemas.mapping.cells import blank_cells, make_fact, split_joined_values
from xxgk.schemas.mapping.rows import TableRows, unmapped_row
from xxgk.schemas.model import PROACTIVE, PROACTIVE_CELLS, PROACTIVE_SPEC, V2019, V2021
from xxgk.schemas.records import Fact, Unmapped
from xxgk.schemas.values import clean_cell_text


def detect_proactive_version(seg: TableRows) -> str:
    """v2019 or v2021 from the labels of table 二 (majority of markers; cell counts break ties)."""
    v19 = v21 = 0
    for _, row in seg.rows:
        joined = "".join(row.label_texts)
        v21 += sum(1 for m in lx.PROACTIVE_V2021_MARKERS if m in joined)
        v19 += sum(1 for m in lx.PROACTIVE_V2019_MARKERS if m in joined)
    if v19 != v21:
        return V2021 if v21 > v19 else V2019
    counts = [len(r.values) for k, r in seg.rows if k == "data" and match_proactive_row("".join(r.label_texts))]
    return V2021 if counts and max(counts) <= 1 else V2019


def proactive_facts(seg: TableRows, version: str) -> tuple[list[Fact], list[Unmapped]]:
    facts: list[Fact] = []
    unmapped: list[Unmapped] = []
    header_cols: list[tuple[str, str]] = []  # (column_key, printed label) of the current block
    header_unit: str | None = None
    for kind, row in seg.rows:
        labels = row.label_texts
        if kind == "header":
            cols = []
            for cell in row.labels:
                norm = fold_label(cell.text)
                key = match_proactive_column(norm)
                if key and not cell.is_span_copy and (not cols or cols[-1][0] != key):
                    cols.append((key, clean_cell_text(cell.text)))
                    header_unit = unit_in_header(norm) or header_unit
            if cols:
                header_cols = cols
            elif match_block_caption("".join(labels)):
                header_cols, header_unit = [], None
            continue
        row_key = match_proactive_row(labels[-1]) if labels else None
        if row_key is None:
            if row.values and any(clean_cell_text(v.text) for v in row.values):
                unmapped.append(unmapped_row(PROACTIVE, row, "label matches no row"))
            continue
        block = PROACTIVE_SPEC.row(row_key).block or ""
        printed = row.values or blank_cells(row, len(header_cols) or len(PROACTIVE_CELLS[version].get(block, ())))
        values, columns = _proactive_row_cells(printed, block, header_cols, version)
        n = len(values)
        if columns is None:
            unmapped.append(unmapped_row(PROACTIVE, row, f"{n} cells do not fit the columns of {block}"))
            continue
        row_version = _version_of(block, columns)
        for (col_key, col_label), cell in zip(columns_with_labels(columns, header_cols), values, strict=True):
            facts.append(
                make_fact(PROACTIVE, row_key, col_key, cell, row_version, row, col_label, header_unit=header_unit)
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
    for columns in (from_header if set(from_header) <= allowed else (), preferred, other):
        split = split_joined_values(values, len(columns)) if columns else None
        if split is not None:
            return split, tuple(columns)
    return values, None


def _version_of(block: str, columns: tuple[str, ...]) -> str:
    """The template whose cells of ``block`` are exactly ``columns``."""
    return V2021 if PROACTIVE_CELLS[V2021].get(block) == columns else V2019


def columns_with_labels(columns: tuple[str, ...], header_cols: list[tuple[str, str]]) -> list[tuple[str, str]]:
    printed = dict(header_cols)
    return [(c, printed.get(c, "")) for c in columns]
