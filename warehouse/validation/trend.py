"""The trend over years of a source's key numbers, read from the warehouse once per run.

A handful of printed cells (``KEY_NUMBERS``) of every published document, per source and year:
the source page of any year shows them all, so republishing year N changes the page of N+1 too
(the writer refreshes a source's other reports from here, like the cross-year checks). Values
are the published facts as printed, never repaired; a year without the cell (no report that
year, the cell not printed, blank, a dash, ambiguous: a best guess is never drawn) has no value, and the chart shows a gap.
When a year has several documents, the one the cross-year checks compare is shown (ok first,
most facts, lowest sha256), and the trend says how many the year has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from xxgk.schemas.model import REQUESTS, REVIEW_LITIGATION, SPECS, V2019, V2021
from xxgk.schemas.values import OK, SPLIT_BY_NARRATIVE, SPLIT_BY_OTHER_COPY
from xxgk.warehouse.cross_year import REPORT_COLUMNS, pick_documents
from xxgk.warehouse.parquet import PART_FILE, warehouse_dir

#: The status of a year whose source published no report, and of a cell its report did not print.
NO_REPORT = "no_report"
NOT_PRINTED = "not_printed"
#: Value statuses whose value is the printed number (an ambiguous cell's best guess is never drawn).
_AS_PRINTED = (OK, SPLIT_BY_NARRATIVE, SPLIT_BY_OTHER_COPY)


@dataclass(frozen=True)
class KeyNumber:
    """One printed cell followed over the years: its canonical keys and what a reader calls it."""

    table: str
    row_key: str
    column_key: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.table}.{self.row_key}.{self.column_key}"

    @property
    def label(self) -> str:
        """The printed labels of its row and column (keys.yaml, via the model), the latest format's first."""
        spec = SPECS[self.table]
        row, column = spec.row(self.row_key).labels, spec.column(self.column_key).labels
        return f"{row.get(V2021) or row[V2019]} / {column.get(V2021) or column[V2019]}"

    @property
    def unit(self) -> str:
        return SPECS[self.table].column(self.column_key).unit


#: The key numbers of every source page, in the order they are drawn (all printed cells, no sums).
KEY_NUMBERS: tuple[KeyNumber, ...] = (
    KeyNumber(REQUESTS, "new_requests", "total", "new requests received"),
    KeyNumber(REQUESTS, "total_processed", "total", "requests processed"),
    KeyNumber(REQUESTS, "carried_forward", "total", "carried forward to next year"),
    KeyNumber(REVIEW_LITIGATION, "admin_review", "total", "administrative reviews"),
    KeyNumber(REVIEW_LITIGATION, "litigation_direct", "total", "lawsuits without prior review"),
    KeyNumber(REVIEW_LITIGATION, "litigation_after_review", "total", "lawsuits after review"),
)

_FACT_COLUMNS = ("source_id", "document_sha256", "table", "row_key", "column_key", "value", "raw_text")
_FACT_COLUMNS += ("value_status", "fact_index")
_DICTIONARY_COLUMNS = ("source_id", "document_sha256", "table", "row_key", "column_key", "value_status")


def _key_cells() -> ds.Expression:
    cells = None
    for k in KEY_NUMBERS:
        one = (ds.field("table") == k.table) & (ds.field("row_key") == k.row_key) & (ds.field("column_key") == k.column_key)
        cells = one if cells is None else cells | one
    assert cells is not None
    return cells & (ds.field("is_derived") == False)  # noqa: E712 (an Arrow expression)


def _scan(path: Path, columns: tuple[str, ...], flt: ds.Expression | None = None) -> pa.Table:
    fmt = ds.ParquetFileFormat(read_options={"dictionary_columns": list(_DICTIONARY_COLUMNS)})
    table = ds.dataset(path, format=fmt).scanner(columns=list(columns), filter=flt, batch_readahead=1).to_table()
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, pc.cast(table.column(i), field.type.value_type))
    return table


def _years(data_dir: Path, name: str) -> list[int]:
    root = warehouse_dir(data_dir) / name
    years = []
    for path in root.glob(f"year=*/{PART_FILE}"):
        try:
            years.append(int(path.parent.name.removeprefix("year=")))
        except ValueError:
            continue
    return sorted(y for y in years if y >= 0)


class Trends:
    """The key numbers of every source and year, read on first use (only the key cells are loaded).

    One scan per year partition of ``reports`` (to pick each source/year's document) and of
    ``facts`` with the key cells' filter pushed down: a few rows per document, whatever the size
    of the warehouse.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self._by_source: dict[str, dict[int, dict[str, Any]]] | None = None

    def _load(self) -> dict[str, dict[int, dict[str, Any]]]:
        if self._by_source is not None:
            return self._by_source
        by_source: dict[str, dict[int, dict[str, Any]]] = {}
        facts_years = set(_years(self.data_dir, "facts"))
        for year in _years(self.data_dir, "reports"):
            reports = _scan(warehouse_dir(self.data_dir) / "reports" / f"year={year}" / PART_FILE, REPORT_COLUMNS)
            picked = pick_documents(reports, sorted(set(reports.column("source_id").to_pylist())))
            cells: dict[tuple[str, str], dict[str, tuple[int, float | None, str, str]]] = {}
            if year in facts_years:
                path = warehouse_dir(self.data_dir) / "facts" / f"year={year}" / PART_FILE
                for r in _scan(path, _FACT_COLUMNS, _key_cells()).to_pylist():
                    key = f"{r['table']}.{r['row_key']}.{r['column_key']}"
                    shown = cells.setdefault((r["source_id"], r["document_sha256"]), {})
                    index = r["fact_index"] or 0
                    if key not in shown or shown[key][0] <= index:  # the last printed wins, as in the checks
                        value = r["value"] if r["value_status"] in _AS_PRINTED else None
                        shown[key] = (index, value, r["raw_text"] or "", r["value_status"] or "")
            for source, doc in picked.items():
                by_source.setdefault(source, {})[year] = {
                    "document_sha256": doc.document_sha256,
                    "n_documents": doc.n_documents,
                    "cells": {k: v[1:] for k, v in cells.get((source, doc.document_sha256), {}).items()},
                }
        self._by_source = by_source
        return by_source

    def for_source(self, source_id: str) -> dict[str, Any]:
        """The trend of one source: every year from its first to its last report, each key number per year."""
        years_of = self._load().get(source_id, {})
        if not years_of:
            return {"years": [], "documents": [], "numbers": []}
        years = list(range(min(years_of), max(years_of) + 1))
        numbers = []
        for k in KEY_NUMBERS:
            values = []
            for year in years:
                entry = years_of.get(year)
                if entry is None:
                    values.append({"year": year, "value": None, "printed": None, "value_status": NO_REPORT})
                    continue
                value, printed, status = entry["cells"].get(k.key, (None, None, NOT_PRINTED))
                values.append({"year": year, "value": value, "printed": printed, "value_status": status})
            numbers.append(
                {
                    "key": k.key,
                    "name": k.name,
                    "label": k.label,
                    "unit": k.unit,
                    "values": values,
                }
            )
        documents = [
            {"year": y, "document_sha256": e["document_sha256"], "n_documents": e["n_documents"]}
            for y, e in sorted(years_of.items())
        ]
        return {"years": years, "documents": documents, "numbers": numbers}

