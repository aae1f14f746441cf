"""Cross-year checks in the reports: read from the warehouse's ``checks`` table (scope cross_year).

Republishing year N changes the checks of N+1, so the writer refreshes the cross-year section of
a source's other reports from here too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from xxgk.schemas.records import FAIL, CheckResult, Fact
from xxgk.warehouse.parquet import SCOPE_CROSS_YEAR, partition_path, partitioning, warehouse_dir
from xxgk.warehouse.schema import dataset_schema
from xxgk.warehouse.validation.cells import cells_of

_CROSS_COLUMNS = (
    "source_id",
    "year",
    "document_sha256",
    "check_index",
    "check_id",
    "table",
    "row_key",
    "column_key",
    "expected",
    "actual",
    "difference",
    "status",
    "severity",
    "detail",
    "other_year",
    "other_document_sha256",
    "other_value",
)


class CrossYearChecks:
    """The warehouse's cross-year check rows, per document, read once (only scope cross_year rows).

    A few rows per document (at most nine), so one scan of the ``checks`` table's ``scope`` column
    serves a whole run; rows are handed out per source from an index, never all as Python objects.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self._table: pa.Table | None = None
        self._spans: dict[str, tuple[int, int]] = {}

    def _load(self) -> pa.Table:
        if self._table is not None:
            return self._table
        root = warehouse_dir(self.data_dir) / "checks"
        table = pa.table({c: pa.array([], pa.string()) for c in _CROSS_COLUMNS})
        if root.is_dir() and any(root.glob("year=*/*.parquet")):
            dataset = ds.dataset(root, format="parquet", partitioning=partitioning(), schema=dataset_schema("checks"))
            table = dataset.to_table(columns=list(_CROSS_COLUMNS), filter=ds.field("scope") == SCOPE_CROSS_YEAR)
            keys = [(k, "ascending") for k in ("source_id", "year", "document_sha256", "check_index")]
            table = table.take(pc.sort_indices(table, sort_keys=keys))
        start = 0
        for source, group in itertools.groupby(table.column("source_id").to_pylist()):
            n = sum(1 for _ in group)
            self._spans[source] = (start, start + n)
            start += n
        self._table = table
        return table

    def for_source(self, source_id: str) -> dict[tuple[int, str], list[dict[str, Any]]]:
        """Cross-year rows of one source per (year, document_sha256), in check order."""
        table = self._load()
        span = self._spans.get(source_id)
        if span is None:
            return {}
        out: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for row in table.slice(span[0], span[1] - span[0]).to_pylist():
            out.setdefault((row["year"], row["document_sha256"]), []).append(row)
        return out


def cross_entries(
    rows: list[dict[str, Any]], facts: Iterable[Fact] | None, tables: list[list[list[str]]], grids: dict[str, int]
) -> list[dict[str, Any]]:
    """The JSON entries of a document's cross-year checks; failed ones get the cell they are about located."""
    facts = list(facts) if facts is not None else []
    entries = []
    for r in rows:
        entry = {k: r[k] for k in _CROSS_COLUMNS if k not in ("source_id", "document_sha256", "check_index")}
        cells: list[dict[str, Any]] = []
        if r["status"] == FAIL:
            bare = CheckResult(r["check_id"], r["table"], r["row_key"], r["column_key"], None, None, None, FAIL)
            cells = cells_of(bare, facts, tables, grids)
        entry["cells"] = cells
        entries.append(entry)
    return entries


def cross_counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "cross_year_checks": len(entries),
        "cross_year_failed": sum(1 for e in entries if e["status"] == FAIL),
    }


def without_cells(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "cells"} for e in entries]


def published_facts(data_dir: Path, source_id: str, year: int, sha: str, rows: list[dict[str, Any]]) -> list[Fact]:
    """The published facts of one document on the rows the failed ``rows`` are about (to locate their cells)."""
    row_keys = sorted({r["row_key"] for r in rows if r["status"] == FAIL})
    path = partition_path(data_dir, "facts", year)
    if not row_keys or not path.is_file():
        return []
    flt = (
        (ds.field("source_id") == source_id)
        & (ds.field("document_sha256") == sha)
        & ds.field("row_key").isin(pa.array(row_keys, pa.string()))
    )
    names = ["table", "row_key", "column_key", "value", "unit", "raw_text", "value_status", "template_version"]
    names += ["row_label", "column_label", "locator", "page", "grid_row", "grid_col", "note"]
    table = ds.dataset(path, format="parquet").to_table(columns=[*names, "fact_index"], filter=flt)
    table = table.take(pc.sort_indices(table, sort_keys=[("fact_index", "ascending")]))
    return [Fact(**{k: r[k] for k in names}) for r in table.to_pylist()]
