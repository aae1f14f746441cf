"""Wide views of the facts: one row per report and row_key, one column per column_key.

What an analyst would otherwise pivot by hand, with the labels beside the keys:

* identity: ``report_id``, ``document_sha256``, ``source_id``, ``publisher``, ``region_code``,
  ``year``, ``template_version``, ``row_key``, ``row_label_zh`` (the model's printed label),
  ``row_name_en``, ``row_label_printed`` (the label as this report printed it);
* one float column per column_key of the table, in print order (requests: the six requester
  columns, then ``total``); a blank cell stays null, never 0;
* ``total_computed`` (requests, review_litigation): where the printed ``total`` is blank, the sum
  of the row's printed parts (blank parts add nothing); null where a total is printed or no part
  is a number. Named as computed: it is not in the report;
* ``value_status``: the cells of the row that were not read as plain ``ok`` numbers,
  ``column=status; ...`` (blank, ambiguous, split_by_narrative, ...); null when all are ok.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from xxgk.schemas.model import APPLICANT_COLUMNS, PROACTIVE, REQUESTS, REVIEW_LITIGATION

WIDE_TABLES = (PROACTIVE, REQUESTS, REVIEW_LITIGATION)
#: Columns a printed total adds up, per table with a total column.
TOTAL_PARTS = {REQUESTS: APPLICANT_COLUMNS, REVIEW_LITIGATION: ("upheld", "corrected", "other", "pending")}
DOCUMENT_COLUMNS = ("report_id", "document_sha256", "source_id", "publisher", "region_code", "year")
_QUIET_STATUSES = ("ok", "derived")
_SEP = "\x1f"


@cache
def cross_version_keys() -> frozenset[str]:
    """``table␟row_key␟column_key`` of the cells one format prints and another derives (v2021 ``other``).

    The analyst API keeps their derived facts with the printed ones: the key then means the same
    thing in every year.
    """
    from xxgk.warehouse.keys import DERIVED, PRINTED, key_rows

    out = set()
    for k in key_rows():
        states = {k["in_v2019"], k["in_v2021"]}
        if PRINTED in states and DERIVED in states:
            out.add(_SEP.join((k["table"], k["row_key"], k["column_key"])))
    return frozenset(out)


def _first(frame: pd.DataFrame, by: list[str], column: str, where: pd.Series) -> pd.Series:
    """``column`` of the first row of each ``by`` group where ``where`` holds (indexed by ``by``)."""
    return frame.loc[where, [*by, column]].drop_duplicates(by).set_index(by)[column]


def wide_frame(table: str, facts: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """The wide view of ``table`` from its long facts (``Warehouse.facts`` output) and the keys table."""
    k = keys[keys["table"] == table].sort_values("key_index")
    column_order = list(dict.fromkeys(k["column_key"]))
    row_order = {r: i for i, r in enumerate(dict.fromkeys(k["row_key"]))}
    row_info = k.drop_duplicates("row_key").set_index("row_key")[["row_label_zh", "row_name_en"]]
    f = facts[facts["table"] == table]
    cell = ["source_id", "document_sha256", "row_key"]
    f = f.drop_duplicates([*cell, "column_key"])  # a key printed twice: the first print counts
    printed_columns = set(f["column_key"].unique())
    present = [c for c in column_order if c in printed_columns]
    if f.empty:
        columns = [*DOCUMENT_COLUMNS, "template_version", "row_key", "row_label_zh", "row_name_en", "row_label_printed"]
        extra = ["total_computed"] if table in TOTAL_PARTS else []
        return pd.DataFrame(columns=[*columns, *present, *extra, "value_status"])
    values = f.pivot(index=cell, columns="column_key", values="value").reindex(columns=present)
    values.columns.name = None
    # per row (in order of first appearance): its first template version and first non-empty printed
    # label; vectorised (first rows of filtered frames), a Python function per group is minutes at 10k reports
    rows = f.drop_duplicates(cell).set_index(cell)[[]]
    rows["template_version"] = _first(f, cell, "template_version", f["template_version"].notna())
    rows["row_label_printed"] = _first(f, cell, "row_label", f["row_label"].notna() & (f["row_label"] != ""))
    odd = f[~f["value_status"].isin(_QUIET_STATUSES)]
    notes = odd["column_key"] + "=" + odd["value_status"].fillna("None")
    status = notes.groupby([odd[c] for c in cell], sort=False).agg("; ".join)
    out = rows.join(values)
    out["value_status"] = status.reindex(out.index) if len(status) else None
    if table in TOTAL_PARTS and "total" in out.columns:
        parts = [c for c in TOTAL_PARTS[table] if c in out.columns]
        summed = out[parts].sum(axis=1, min_count=1)
        out.insert(out.columns.get_loc("total") + 1, "total_computed", summed.where(out["total"].isna()))
    out = out.reset_index()
    docs = f.drop_duplicates(["source_id", "document_sha256"])[list(DOCUMENT_COLUMNS)]
    out = docs.merge(out, on=["source_id", "document_sha256"], how="right")
    out = out.join(row_info, on="row_key")
    out["_row"] = out["row_key"].map(row_order).fillna(len(row_order))
    out = out.sort_values(["year", "source_id", "document_sha256", "_row"], kind="stable").drop(columns="_row")
    lead = [*DOCUMENT_COLUMNS, "template_version", "row_key", "row_label_zh", "row_name_en", "row_label_printed"]
    rest = [c for c in out.columns if c not in lead]
    return out[lead + rest].reset_index(drop=True)
