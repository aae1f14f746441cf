"""Table 四 (行政复议、行政诉讼情况): one row of 15 cells, or three rows of five."""

from __future__ import annotations

from xxgk.schemas.labels import match_review_row
from xxgk.schemas.mapping.cells import make_fact, select_values
from xxgk.schemas.mapping.joins import join_split_rows, totals_hold
from xxgk.schemas.mapping.rows import TableRows, unmapped_row
from xxgk.schemas.model import REVIEW_CELL_ORDER, REVIEW_LITIGATION, REVIEW_SPEC, V2019
from xxgk.schemas.records import Fact, Unmapped
from xxgk.schemas.values import clean_cell_text

#: Table 四's identities over its fifteen cells: each group's 总计 == its four outcomes.
_GROUP_TOTALS = totals_hold([(4, (0, 1, 2, 3)), (9, (5, 6, 7, 8)), (14, (10, 11, 12, 13))])


def review_facts(seg: TableRows, version: str) -> tuple[list[Fact], list[Unmapped], list[str]]:
    seg, notes = join_split_rows(seg, len(REVIEW_CELL_ORDER), _GROUP_TOTALS)
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
                facts.append(make_fact(REVIEW_LITIGATION, row_key, col_key, cell, version, row, label))
            continue
        group = match_review_row("".join(row.label_texts)) if row.labels else None
        values = select_values(row, 5, None)
        if len(values) == 5 and group:
            for col_key, cell in zip(cols, values, strict=True):
                label = REVIEW_SPEC.column(col_key).labels[V2019]
                facts.append(make_fact(REVIEW_LITIGATION, group, col_key, cell, version, row, label))
            continue
        if n and any(clean_cell_text(v.text) for v in row.values):
            unmapped.append(unmapped_row(REVIEW_LITIGATION, row, f"expected 15 cells in one row, found {n}"))
    return facts, unmapped, notes
