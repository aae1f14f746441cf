"""Rows of the four warehouse tables from staged documents, and deterministic Parquet bytes.

Writer settings follow the measurements in DESIGN.md: zstd + dictionary encoding, row groups of
128K rows (so DuckDB and Polars read a partition on several cores), statistics on. No timestamps or
other varying metadata are written: the same rows give byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from operator import attrgetter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from schemas.model import TABLES as MODEL_TABLES
from schemas.records import DocumentResult
from warehouse.documents import DocumentInfo, effective_format, effective_publisher, effective_year, report_id
from warehouse.schema import TABLE_NAMES, TABLES, arrow_schema, dataset_schema, partitioning_schema

ROW_GROUP_SIZE = 128 * 1024
COMPRESSION = "zstd"
PART_FILE = "part-0.parquet"

__all__ = [
    "PART_FILE",
    "TABLE_NAMES",
    "RowBuffer",
    "conform",
    "document_rows",
    "partition_path",
    "partitioning",
    "read_partition",
    "read_table",
    "sort_rows",
    "table_bytes",
    "warehouse_dir",
]


def warehouse_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "warehouse"


def partition_path(data_dir: Path | str, name: str, year: int) -> Path:
    """``data_dir/warehouse/<name>/year=<year>/part-0.parquet``."""
    return warehouse_dir(data_dir) / name / f"year={year}" / PART_FILE


def partitioning() -> ds.Partitioning:
    """Hive partitioning with ``year`` as int64; pass it to pyarrow/pandas so year is not a category."""
    return ds.partitioning(partitioning_schema(), flavor="hive")


_FACT_FIELDS = (
    "table",
    "row_key",
    "column_key",
    "value",
    "unit",
    "raw_text",
    "value_status",
    "template_version",
    "row_label",
    "column_label",
    "locator",
    "page",
    "grid_row",
    "grid_col",
    "note",
)
_CHECK_FIELDS = (
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
    "blank_as_zero",
)
_UNMAPPED_FIELDS = ("table", "label", "reason", "locator", "page", "grid_row")


def _transpose(out: dict[str, list], records: list[Any], fields: tuple[str, ...]) -> None:
    """Record attributes as columns (attrgetter + zip: the transposition runs in C)."""
    columns = list(zip(*map(attrgetter(*fields), records), strict=True)) if records else [()] * len(fields)
    for name, values in zip(fields, columns, strict=True):
        out[name] = list(values)


def document_rows(info: DocumentInfo, result: DocumentResult, extractor_version: str) -> dict[str, dict[str, list]]:
    """Column lists of the four tables for one document (without ``year``: that is the partition)."""
    year, year_source = effective_year(info, result)
    rid = report_id(info, year)
    common = {
        "report_id": rid,
        "document_sha256": info.document_sha256,
        "source_id": info.source_id,
        "publisher": effective_publisher(info, result),
        "extractor_version": extractor_version,
    }

    def const(n: int, **extra: Any) -> dict[str, list]:
        return {k: [v] * n for k, v in {**common, **extra}.items()}

    facts = [*result.facts, *result.derived]
    n = len(facts)
    fact_cols = const(n, region_code=info.region_code, source_url=info.source_url)
    _transpose(fact_cols, facts, _FACT_FIELDS)
    fact_cols["is_derived"] = [False] * len(result.facts) + [True] * len(result.derived)
    fact_cols["fact_index"] = list(range(n))

    checks = result.checks
    check_cols = const(len(checks))
    _transpose(check_cols, checks, _CHECK_FIELDS)
    check_cols["check_index"] = list(range(len(checks)))

    unmapped = result.unmapped
    unmapped_cols = const(len(unmapped))
    _transpose(unmapped_cols, unmapped, _UNMAPPED_FIELDS)
    unmapped_cols["values"] = [list(u.values) for u in unmapped]
    unmapped_cols["unmapped_index"] = list(range(len(unmapped)))

    versions = result.template_versions
    report = {
        **common,
        "region_code": info.region_code,
        "level": info.level,
        "year_source": year_source,
        "document_year": result.year,
        "document_publisher": result.publisher or None,
        "format": effective_format(info, result),
        "status": result.status,
        "reason": result.reason,
        "title": result.title,
        "source_url": info.source_url,
        "fetched_at": info.fetched_at,
        "http_status": info.http_status,
        "etag": info.etag,
        "last_modified": info.last_modified,
        "path": info.path,
        **{f"template_{t}": versions.get(t) for t in MODEL_TABLES},
        "template_versions": json.dumps(dict(sorted(versions.items())), ensure_ascii=False),
        "n_facts": len(result.facts),
        "n_derived": len(result.derived),
        "n_checks": len(result.checks),
        "n_failed_checks": result.failed_checks,
        "n_unmapped": len(result.unmapped),
        "n_warnings": len(result.warnings),
        "warnings": list(result.warnings),
    }
    return {
        "facts": fact_cols,
        "reports": {k: [v] for k, v in report.items()},
        "checks": check_cols,
        "unmapped": unmapped_cols,
    }


class RowBuffer:
    """Rows of one table, kept as compact Arrow chunks so a backfill of 10,000 documents fits in memory.

    Rows are collected as Python column lists and turned into an Arrow chunk every ``chunk_rows``
    rows; string columns are dictionary-encoded in the chunks (they repeat a lot: labels, keys,
    URLs, ids) and decoded again in ``table()``. ``_doc`` (an internal column, never written) tags
    each row with the ordinal of its document, so one year's documents can be taken out, and
    duplicate documents of a run dropped, after the fact.
    """

    def __init__(self, name: str, chunk_rows: int = 16384) -> None:
        self.name = name
        self.schema = arrow_schema(name).append(pa.field("_doc", pa.int64()))
        self.chunk_rows = chunk_rows
        self._encode = [f.name for f in self.schema if f.type == pa.string()]
        self._cols: dict[str, list[Any]] = {f.name: [] for f in self.schema}
        self._chunks: list[pa.Table] = []
        self._n = 0

    def add(self, columns: dict[str, list], doc: int) -> None:
        n = len(next(iter(columns.values()))) if columns else 0
        if n == 0:
            return
        for k, v in columns.items():
            self._cols[k].extend(v)
        self._cols["_doc"].extend([doc] * n)
        self._n += n
        if self._n >= self.chunk_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._n:
            return
        t = pa.Table.from_pydict(self._cols, schema=self.schema)
        for name in self._encode:
            i = t.schema.get_field_index(name)
            t = t.set_column(i, t.schema.field(i).with_type(_DICT), t.column(i).dictionary_encode())
        self._chunks.append(t)
        self._cols = {f.name: [] for f in self.schema}
        self._n = 0

    def table(self, keep_docs: set[int] | None = None) -> pa.Table:
        """All rows (optionally only those of ``keep_docs``), plain types, without ``_doc``."""
        self._flush()
        if not self._chunks:
            return arrow_schema(self.name).empty_table()
        t = pa.concat_tables(self._chunks)
        if keep_docs is not None:
            mask = pc.is_in(t.column("_doc"), value_set=pa.array(sorted(keep_docs), pa.int64()))
            t = t.filter(mask)
        return t.drop_columns(["_doc"]).cast(arrow_schema(self.name))


_DICT = pa.dictionary(pa.int32(), pa.string())


def conform(table: pa.Table, name: str) -> pa.Table:
    """A table with exactly the current file schema of ``name``: missing columns (older files) as nulls."""
    schema = arrow_schema(name)
    arrays = []
    for f in schema:
        if f.name in table.column_names:
            arrays.append(table.column(f.name).cast(f.type))
        else:
            arrays.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def sort_rows(table: pa.Table, name: str) -> pa.Table:
    """Rows in the table's documented order (a total order: the sort key ends with a per-document index)."""
    keys = [(k, "ascending") for k in TABLES[name].sort_key]
    return table.take(pc.sort_indices(table, sort_keys=keys))


def table_bytes(table: pa.Table, name: str) -> bytes:
    """Deterministic Parquet bytes of a conformed, sorted table."""
    sink = pa.BufferOutputStream()
    pq.write_table(
        table.replace_schema_metadata(arrow_schema(name).metadata),
        sink,
        row_group_size=ROW_GROUP_SIZE,
        compression=COMPRESSION,
        use_dictionary=True,
        write_statistics=True,
    )
    return sink.getvalue().to_pybytes()


def read_partition(path: Path, name: str, columns: Iterable[str] | None = None) -> pa.Table:
    """One partition file read back with the current schema (only ``columns`` if given)."""
    table = pq.ParquetFile(path).read()
    table = conform(table, name)
    return table.select(list(columns)) if columns is not None else table


def read_table(data_dir: Path | str, name: str, *, years: Iterable[int] | None = None) -> pa.Table:
    """A warehouse table as one Arrow table with ``year`` as int64 (optionally only some years)."""
    if name not in TABLES:
        raise ValueError(f"unknown warehouse table {name!r}; expected one of {TABLE_NAMES}")
    root = warehouse_dir(data_dir) / name
    if not root.is_dir():
        raise FileNotFoundError(f"no published {name} table under {root}")
    dataset = ds.dataset(root, format="parquet", partitioning=partitioning(), schema=dataset_schema(name))
    flt = None
    if years is not None:
        flt = ds.field("year").isin(pa.array(sorted(set(years)), pa.int64()))
    return dataset.to_table(filter=flt)
