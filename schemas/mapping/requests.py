"""Table 三 (收到和处理政府信息公开申请情况): rows by label and group, then by print order."""

from __future__ import annotations

from xxgk.schemas.labels import match_requests_group, match_requests_leaf
from xxgk.schemas.mapping.cells import (
    assign_by_print_order,
    blank_cells,
    make_fact,
    select_values,
    split_joined_values,
    value_columns,
)
from xxgk.schemas.mapping.joins import join_split_rows, totals_hold
from xxgk.schemas.mapping.placement import ShortRow, place_short_row
from xxgk.schemas.mapping.rows import Row, TableRows, unmapped_row
from xxgk.schemas.model import REQUESTS, REQUESTS_ROWS_V2019, REQUESTS_ROWS_V2021, REQUESTS_SPEC, V2019, V2021
from xxgk.schemas.records import Fact, Unmapped
from xxgk.schemas.values import clean_cell_text

_TOTAL = REQUESTS_SPEC.column("total")


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
                unmapped.append(unmapped_row(REQUESTS, row, "numbers printed in a header row (ignored)"))
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
                unmapped.append(unmapped_row(REQUESTS, row, reason))
            continue
        if leaf.startswith("other.") and pending_other is not None:
            # the （六） row had values but sub-rows follow: keep it as a printed subtotal
            mapped.remove(("other", pending_other))
            unmapped.append(unmapped_row(REQUESTS, pending_other, "values on a group label row (printed subtotal)"))
            pending_other = None
        if "." in leaf:
            parent = leaf.split(".")[0]
        mapped.append((leaf, row))
    return mapped, unmapped


#: Table 三's row identity over its seven cells: 总计 == the six applicant columns.
_ROW_IDENTITY = totals_hold([(6, (0, 1, 2, 3, 4, 5))])


def requests_facts(seg: TableRows) -> tuple[list[Fact], list[Unmapped], str, list[str]]:
    seg, notes = join_split_rows(seg, len(REQUESTS_SPEC.column_keys), _ROW_IDENTITY)
    mapped, unmapped = _map_requests(seg)
    layout = V2021 if any(k and k.startswith("other.") for k, _ in mapped) else V2019
    order = REQUESTS_ROWS_V2021 if layout == V2021 else REQUESTS_ROWS_V2019
    placed, left_over = assign_by_print_order(mapped, order)
    unmapped += [unmapped_row(REQUESTS, r, "row without a label that no template position fits") for r in left_over]
    facts: list[Fact] = []
    short: list[ShortRow] = []
    cols = REQUESTS_SPEC.column_keys
    grid_columns = value_columns([r for _, r, _ in placed], len(cols))
    for key, row, how in placed:
        values = select_values(row, len(cols), grid_columns.get(id(row.grid)))
        if not values and row.labels:
            values = blank_cells(row, len(cols))
        elif len(values) < len(cols):
            values = split_joined_values(values, len(cols)) or values
        if len(values) == len(cols):
            cells = list(zip(cols, values, strict=True))
        elif len(cols) - 2 <= len(values) < len(cols):
            short.append(ShortRow(key, row, values, how))  # placed once every full row is read
            continue
        else:
            unmapped.append(unmapped_row(REQUESTS, row, f"expected {len(cols)} cells, found {len(values)}"))
            continue
        for col_key, cell in cells:
            label = REQUESTS_SPEC.column(col_key).labels[V2019]
            fact = make_fact(REQUESTS, key, col_key, cell, layout, row, label)
            if how:
                fact.note = f"{fact.note}; {how}" if fact.note else how
            facts.append(fact)
    for item in short:
        facts += place_short_row(item, facts, layout)
    return facts, unmapped, layout, notes
