"""Rows of the four warehouse tables from staged documents, and deterministic Parquet bytes.

Writer settings follow the measurements in DESIGN.md: zstd + dictionary encoding, row groups of
128K rows (so DuckDB and Polars read a partition on several cores), statistics on. No timestamps or
other varying metadata are written: the same rows give byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from xxgk.schemas.model import TABLES as MODEL_TABLES
from xxgk.schemas.records import FAIL, DocumentResult
from xxgk.warehouse.documents import DocumentInfo, effective_format, effective_publisher, effective_year, report_id
from xxgk.warehouse.layout import warehouse_dir
from xxgk.warehouse.schema import TABLE_NAMES, TABLES, arrow_schema, dataset_schema, partitioning_schema

ROW_GROUP_SIZE = 128 * 1024
COMPRESSION = "zstd"
PART_FILE = "part-0.parquet"
#: Values of checks.scope: checks of one document, and continuity checks between two years' reports.
SCOPE_DOCUMENT = "document"
SCOPE_CROSS_YEAR = "cross_year"

__all__ = [
    "PART_FILE",
    "RECORD_FIELDS",
    "SCOPE_CROSS_YEAR",
    "SCOPE_DOCUMENT",
    "TABLE_NAMES",
    "Rows",
    "Spool",
    "compact_schema",
    "conform",
    "document_parts",
    "document_rows",
    "isin",
    "partition_path",
    "partitioning",
    "read_partition",
    "read_table",
    "record_columns",
    "sort_indices",
    "sort_rows",
    "table_bytes",
    "warehouse_dir",
]


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
    "bbox",
    "box_unit",
    "confidence",
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


def _transpose(records: list[Any], fields: tuple[str, ...]) -> dict[str, list]:
    """Record attributes as columns (attrgetter + zip: the transposition runs in C)."""
    if not records:
        return {name: [] for name in fields}
    getter = attrgetter(*fields)
    columns = zip(*map(getter, records), strict=True) if len(fields) > 1 else [[getter(r) for r in records]]
    return {name: list(values) for name, values in zip(fields, columns, strict=True)}


#: Record types of a DocumentResult and the fields each contributes to the warehouse.
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "facts": _FACT_FIELDS,
    "derived": _FACT_FIELDS,
    "checks": (*_CHECK_FIELDS,),
    "unmapped": (*_UNMAPPED_FIELDS, "values"),
}


def record_columns(result: DocumentResult) -> dict[str, dict[str, list]]:
    """The result's facts, derived facts, checks and unmapped rows as column lists (``RECORD_FIELDS``)."""
    return {kind: _transpose(getattr(result, kind), fields) for kind, fields in RECORD_FIELDS.items()}


class Rows(NamedTuple):
    """One document's rows of one table: ``n`` rows, columns constant over them, and per-row columns."""

    n: int
    const: dict[str, Any]
    cols: dict[str, list]

    def expanded(self) -> dict[str, list]:
        return {**{k: [v] * self.n for k, v in self.const.items()}, **self.cols}


def document_parts(
    info: DocumentInfo,
    result: DocumentResult,
    extractor_version: str,
    records: dict[str, dict[str, list]] | None = None,
) -> dict[str, Rows]:
    """The rows of the four tables for one document (without ``year``: that is the partition).

    ``records``: the result's records already as columns (``record_columns``, or straight from a
    staged file); by default they are read from ``result``. Columns constant over a document
    (ids, publisher, URL, version) are kept once, so the spool can store them without repeating
    them per row.
    """
    rec = record_columns(result) if records is None else records
    year, year_source = effective_year(info, result)
    common = {
        "report_id": report_id(info, year),
        "document_sha256": info.document_sha256,
        "source_id": info.source_id,
        "publisher": effective_publisher(info, result),
        "extractor_version": extractor_version,
    }
    printed, derived = rec["facts"], rec["derived"]
    n_printed, n_derived = len(printed["table"]), len(derived["table"])
    n = n_printed + n_derived
    fact_cols = {k: printed[k] + derived[k] for k in _FACT_FIELDS}
    fact_cols["is_derived"] = [False] * n_printed + [True] * n_derived
    fact_cols["fact_index"] = list(range(n))
    facts = Rows(n, {**common, "region_code": info.region_code, "source_url": info.source_url}, fact_cols)

    check_cols = {k: list(rec["checks"][k]) for k in _CHECK_FIELDS}
    n_checks = len(check_cols["check_id"])
    check_cols["check_index"] = list(range(n_checks))
    checks = Rows(n_checks, {**common, "scope": SCOPE_DOCUMENT}, check_cols)
    n_failed = sum(
        1 for st, sev in zip(check_cols["status"], check_cols["severity"], strict=True) if st == FAIL and sev == "error"
    )

    unmapped_cols = {k: list(rec["unmapped"][k]) for k in _UNMAPPED_FIELDS}
    n_unmapped = len(unmapped_cols["table"])
    unmapped_cols["values"] = [list(v) for v in rec["unmapped"]["values"]]
    unmapped_cols["unmapped_index"] = list(range(n_unmapped))
    unmapped = Rows(n_unmapped, common, unmapped_cols)

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
        "chosen_because": info.chosen_because,
        "alternatives": info.alternatives,
        **{f"template_{t}": versions.get(t) for t in MODEL_TABLES},
        "template_versions": json.dumps(dict(sorted(versions.items())), ensure_ascii=False),
        "n_facts": n_printed,
        "n_derived": n_derived,
        "n_checks": n_checks,
        "n_failed_checks": n_failed,
        "n_unmapped": n_unmapped,
        "n_warnings": len(result.warnings),
        "warnings": list(result.warnings),
    }
    return {
        "facts": facts,
        "reports": Rows(1, {}, {k: [v] for k, v in report.items()}),
        "checks": checks,
        "unmapped": unmapped,
    }


def document_rows(info: DocumentInfo, result: DocumentResult, extractor_version: str) -> dict[str, dict[str, list]]:
    """Column lists of the four tables for one document (without ``year``: that is the partition)."""
    return {name: rows.expanded() for name, rows in document_parts(info, result, extractor_version).items()}


_DICT = pa.dictionary(pa.int32(), pa.string())
#: Values of columns added after files were first written, for rows of older files.
_MISSING_DEFAULTS: dict[tuple[str, str], Any] = {("checks", "scope"): SCOPE_DOCUMENT}


@cache
def compact_schema(name: str) -> pa.Schema:
    """The file schema with string columns dictionary-encoded: how publish holds rows in memory.

    Keys, labels, ids and URLs repeat a lot, so a year of facts takes a fraction of its plain size;
    rows are decoded to plain strings one row group at a time, only when written (``table_bytes``).
    """
    schema = arrow_schema(name)
    return pa.schema([f.with_type(_DICT) if f.type == pa.string() else f for f in schema], metadata=schema.metadata)


class _Pending:
    """Rows of one (table, year) not yet in the spool file: per-row column lists, and per-document runs."""

    __slots__ = ("cols", "consts", "docs", "lengths", "n")

    def __init__(self, names: Iterable[str]) -> None:
        self.cols: dict[str, list[Any]] = {k: [] for k in names}
        self.docs: list[int] = []
        self.consts: list[dict[str, Any]] = []
        self.lengths: list[int] = []
        self.n = 0


def _run_array(values: list[Any], lengths: np.ndarray, typ: pa.DataType) -> pa.Array:
    """One value per document repeated over its rows; as a dictionary array when ``typ`` is one (no per-row work)."""
    if not pa.types.is_dictionary(typ):
        return pa.array(values, typ).take(pa.array(np.repeat(np.arange(len(values)), lengths)))
    codes: dict[Any, int] = {}
    per_doc = np.array([-1 if v is None else codes.setdefault(v, len(codes)) for v in values], dtype=np.int32)
    indices = np.repeat(per_doc, lengths)
    return pa.DictionaryArray.from_arrays(
        pa.array(indices, pa.int32(), mask=indices < 0), pa.array(list(codes), typ.value_type)
    )


class Spool:
    """The rows of one publish run, per table and year, spilled to disk as they come.

    Rows are collected per (table, year): per-row columns as Python lists, and the columns constant
    over a document (ids, publisher, URL, version) once per document. Every ``chunk_rows`` rows
    they become one dictionary-encoded record batch appended to an Arrow IPC stream file in
    ``directory``. Memory so holds at most one small chunk per (table, year) however many documents
    the run has, and ``table(name, year)`` reads back one year at a time. ``_doc`` (an internal
    column, never written) tags each row with the ordinal of its document, so duplicate documents
    of a run can be dropped after the fact.
    """

    def __init__(self, directory: Path, chunk_rows: int = 4096) -> None:
        self.directory = directory
        self.chunk_rows = chunk_rows
        self._pending: dict[tuple[str, int], _Pending] = {}
        self._writers: dict[tuple[str, int], pa.ipc.RecordBatchStreamWriter] = {}
        self._docs: dict[tuple[str, int], set[int]] = {}
        self._schemas = {name: compact_schema(name).append(pa.field("_doc", pa.int32())) for name in TABLE_NAMES}

    def add(self, year: int, parts: dict[str, Rows], doc: int) -> None:
        """Add one document's rows (``document_parts`` output) under ``year``."""
        for name, rows in parts.items():
            if rows.n == 0:
                continue
            key = (name, year)
            self._docs.setdefault(key, set()).add(doc)
            pending = self._pending.get(key)
            if pending is None:
                pending = self._pending[key] = _Pending(rows.cols)
            for k, values in rows.cols.items():
                pending.cols[k].extend(values)
            pending.docs.append(doc)
            pending.consts.append(rows.const)
            pending.lengths.append(rows.n)
            pending.n += rows.n
            if pending.n >= self.chunk_rows:
                self._flush(key)

    def _path(self, name: str, year: int) -> Path:
        return self.directory / f"{name}.{year}.arrows"

    def _flush(self, key: tuple[str, int]) -> None:
        pending = self._pending.pop(key, None)
        if pending is None or pending.n == 0:
            return
        name, year = key
        schema = self._schemas[name]
        lengths = np.array(pending.lengths, dtype=np.int64)
        arrays = []
        for f in schema:
            if f.name == "_doc":
                arrays.append(pa.array(np.repeat(np.array(pending.docs, dtype=np.int32), lengths)))
            elif f.name in pending.cols and pa.types.is_dictionary(f.type):
                # plain first, then encode: ~20x faster than building a dictionary array from Python
                arrays.append(pa.array(pending.cols[f.name], f.type.value_type).dictionary_encode())
            elif f.name in pending.cols:
                arrays.append(pa.array(pending.cols[f.name], f.type))
            elif f.name in pending.consts[0]:
                arrays.append(_run_array([c[f.name] for c in pending.consts], lengths, f.type))
            else:
                arrays.append(pa.nulls(pending.n, f.type))
        writer = self._writers.get(key)
        if writer is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            # lz4: ~15x smaller on disk for ~5% more CPU; the spool of 10,000 documents stays a few tens of MB
            options = pa.ipc.IpcWriteOptions(compression="lz4")
            writer = self._writers[key] = pa.ipc.new_stream(str(self._path(name, year)), schema, options=options)
        writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))

    def close(self) -> None:
        """Flush every pending chunk and close the stream files (call once, after the last ``add``)."""
        for key in list(self._pending):
            self._flush(key)
        for writer in self._writers.values():
            writer.close()

    def table(self, name: str, year: int, keep_docs: set[int] | None = None) -> pa.Table:
        """The spilled rows of ``name`` for ``year`` (only those of ``keep_docs`` if given), compact schema."""
        if (name, year) not in self._writers:
            return compact_schema(name).empty_table()
        with pa.OSFile(str(self._path(name, year))) as fh:
            t = pa.ipc.open_stream(fh).read_all()
        if keep_docs is not None and not self._docs[(name, year)] <= keep_docs:
            t = t.filter(pc.is_in(t.column("_doc"), value_set=pa.array(sorted(keep_docs), pa.int32())))
        return t.drop_columns(["_doc"])


def conform(table: pa.Table, name: str, *, compact: bool = False) -> pa.Table:
    """A table with exactly the current file schema of ``name`` (``compact_schema`` if ``compact``).

    Columns missing from older files are null (or their documented default, e.g. checks.scope).
    """
    schema = compact_schema(name) if compact else arrow_schema(name)
    arrays = []
    for f in schema:
        if f.name in table.column_names:
            col = table.column(f.name)
            arrays.append(col if col.type == f.type else col.cast(f.type))
        elif (name, f.name) in _MISSING_DEFAULTS:
            arrays.append(pa.repeat(pa.scalar(_MISSING_DEFAULTS[(name, f.name)]), table.num_rows).cast(f.type))
        else:
            arrays.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def isin(column: pa.ChunkedArray | pa.Array, values: Iterable[str] | pa.Array) -> pa.ChunkedArray:
    """Which rows of ``column`` hold one of ``values``: a boolean mask, never null.

    A dictionary column is tested on its (small) dictionary and the answer taken through its
    indices: Arrow's own kernels would decode the whole column to plain strings first.
    """
    value_set = values if isinstance(values, pa.Array) else pa.array(sorted(set(values)), pa.string())
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    masks = []
    for chunk in chunks:
        if pa.types.is_dictionary(chunk.type):
            mask = pc.take(pc.is_in(chunk.dictionary, value_set=value_set), chunk.indices)
        else:
            mask = pc.is_in(chunk, value_set=value_set)
        masks.append(pc.fill_null(mask, False))
    return pa.chunked_array(masks, pa.bool_())


def _ranks(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Each dictionary value's rank among the column's distinct values: sorts like the strings themselves."""
    if column.num_chunks == 0:
        return pa.chunked_array([], pa.uint64())
    if len({id(c.dictionary) for c in column.chunks}) > 1 and not all(
        c.dictionary.equals(column.chunk(0).dictionary) for c in column.chunks
    ):
        column = pa.table({"c": column}).unify_dictionaries().column("c")
    # dense: equal strings get equal ranks even if a dictionary holds a value twice
    ranks = pc.rank(column.chunk(0).dictionary, sort_keys="ascending", tiebreaker="dense")
    return pa.chunked_array([pc.take(ranks, chunk.indices) for chunk in column.chunks], pa.uint64())


def sort_indices(table: pa.Table, name: str) -> pa.Array:
    """Row order of the table's documented sort key; dictionary columns are sorted by value, not index."""
    keys = TABLES[name].sort_key
    columns = [
        _ranks(table.column(k)) if pa.types.is_dictionary(table.schema.field(k).type) else table.column(k) for k in keys
    ]
    return pc.sort_indices(pa.table(columns, names=list(keys)), sort_keys=[(k, "ascending") for k in keys])


def sort_rows(table: pa.Table, name: str) -> pa.Table:
    """Rows in the table's documented order (a total order: the sort key ends with a per-document index)."""
    return table.take(sort_indices(table, name))


def table_bytes(table: pa.Table, name: str, order: pa.Array | None = None) -> bytes:
    """Deterministic Parquet bytes of a conformed table (plain or ``compact_schema``), sorted or in ``order``.

    Written one row group at a time: each group's rows are taken (in ``order`` when given, e.g.
    ``sort_indices``) and decoded to the plain file schema just before they are written, so a
    compact table is never decoded, nor copied in sorted order, as a whole.
    """
    schema = arrow_schema(name)
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, schema, compression=COMPRESSION, use_dictionary=True, write_statistics=True) as writer:
        if table.num_rows == 0:
            writer.write_table(schema.empty_table())
        for offset in range(0, table.num_rows, ROW_GROUP_SIZE):
            part = (
                table.take(order[offset : offset + ROW_GROUP_SIZE])
                if order is not None
                else table.slice(offset, ROW_GROUP_SIZE)
            )
            writer.write_table(conform(part, name), row_group_size=ROW_GROUP_SIZE)
    return sink.getvalue().to_pybytes()


def read_partition(path: Path, name: str, columns: Iterable[str] | None = None, *, compact: bool = False) -> pa.Table:
    """One partition file read back with the current schema (only ``columns`` if given).

    ``compact`` reads string columns straight into dictionary arrays (``compact_schema``), never
    materialising them as plain strings.
    """
    pf = pq.ParquetFile(path)
    present = set(pf.schema_arrow.names)
    wanted = list(columns) if columns is not None else [f.name for f in arrow_schema(name)]
    if compact:
        strings = [f.name for f in pf.schema_arrow if f.type == pa.string() and f.name in wanted]
        pf = pq.ParquetFile(path, read_dictionary=strings)
    table = pf.read(columns=[c for c in wanted if c in present])
    table = conform(table, name, compact=compact)
    return table.select(wanted) if columns is not None else table


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
