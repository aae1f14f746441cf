"""The analyst's warehouse: ``xxgk.open(data_dir)`` and the ``Warehouse`` it returns.

Reads the published Parquet tables with pandas (pyarrow), needs no Prefect, and removes the traps
of the raw tables by default:

* **one report per publisher and year**: ``primary_only=True`` keeps the primary copy of each
  report (``reports.is_primary``, rule in ``warehouse.copies``), so a page and its text export are
  not counted twice;
* **derived rows apart**: ``include_derived=False`` drops computed subtotals, except the keys a
  format prints and another derives (``other`` of table 三: printed in v2019, the sum of its three
  printed rows in v2021), which stay so a key means the same in every year;
* **integers as integers**: ``page``/``grid_row``/``grid_col``/counts are nullable ``Int32``,
  flags nullable ``boolean``; a blank cell stays null, never 0;
* the keys come with their printed Chinese labels and English names (``keys()``; ``wide()``).

DuckDB and Polars are optional (``pip install 'xxgk[analysis]'``): ``duckdb()`` and ``polars()``
import them on first use and say how to install them when missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from xxgk.warehouse.layout import published_root, warehouse_dir
from xxgk.warehouse.schema import REFERENCE_TABLES, TABLE_NAMES, dataset_schema, partitioning_schema
from xxgk.warehouse.wide import WIDE_TABLES, cross_version_keys, wide_frame

if TYPE_CHECKING:
    import duckdb as duckdb_module

_PANDAS_TYPES = {
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}

INSTALL_HINT = "pip install 'xxgk[analysis]' (or: pip install duckdb polars)"


class MissingDependency(ImportError):
    """An optional analysis library is not installed; the message says how to install it."""


def _optional(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependency(f"{module} is not installed: {INSTALL_HINT}") from err


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas with nullable integers and booleans (never float64 page numbers)."""
    return table.to_pandas(types_mapper=_PANDAS_TYPES.get)


def _as_list(value: Any) -> list | None:
    if value is None:
        return None
    if isinstance(value, (str, int)):
        return [value]
    return list(value)


class Warehouse:
    """The published tables of one data directory (``xxgk.open``).

    Filters shared by the readers: ``years`` (ints), ``publishers`` (names as in ``reports.publisher``),
    ``sources`` (``source_id``s), ``primary_only`` (default True: the primary copy of each report).

    Every read comes from the snapshot that was current when the warehouse was opened (``root``),
    so a publish meanwhile never mixes two states in one analysis; open again to see a newer one.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.root = warehouse_dir(published_root(self.data_dir))
        if not (self.root / "reports").is_dir():
            raise FileNotFoundError(
                f"no published warehouse under {self.root}: run `xxgk run` or `xxgk extract FILES --out {self.data_dir}`"
            )

    def __repr__(self) -> str:
        return f"xxgk.Warehouse({str(self.data_dir)!r})"

    # --- raw reads -----------------------------------------------------------------------------

    def dataset(self, name: str) -> ds.Dataset:
        """The pyarrow dataset of a partitioned table (``year`` as int64)."""
        if name not in TABLE_NAMES:
            raise ValueError(f"unknown table {name!r}; expected one of {TABLE_NAMES}")
        root = self.root / name
        if not root.is_dir():
            return ds.dataset(pa.Table.from_batches([], schema=dataset_schema(name)))
        part = ds.partitioning(partitioning_schema(), flavor="hive")
        return ds.dataset(root, format="parquet", partitioning=part, schema=dataset_schema(name))

    def arrow(
        self,
        name: str,
        *,
        years: Iterable[int] | int | None = None,
        publishers: Iterable[str] | str | None = None,
        sources: Iterable[str] | str | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """A table as published (all copies, all rows), filtered in the scan."""
        if name in REFERENCE_TABLES:
            return self._keys_arrow()
        flt = None
        for column, values in (("year", _as_list(years)), ("publisher", _as_list(publishers))):
            if values is not None:
                cond = ds.field(column).isin(values)
                flt = cond if flt is None else flt & cond
        if sources is not None:
            cond = ds.field("source_id").isin(_as_list(sources))
            flt = cond if flt is None else flt & cond
        return self.dataset(name).to_table(filter=flt, columns=columns)

    def _keys_arrow(self) -> pa.Table:
        path = self.root / "keys" / "part-0.parquet"
        if path.is_file():
            import pyarrow.parquet as pq

            return pq.read_table(path)
        from xxgk.warehouse.keys import keys_table  # a warehouse published before the keys table existed

        return keys_table()

    @cached_property
    def _primary_docs(self) -> pa.Table:
        """(source_id, document_sha256) of every primary copy."""
        reports = self.arrow("reports", columns=["source_id", "document_sha256", "is_primary"])
        return reports.filter(pa.compute.fill_null(reports.column("is_primary"), False)).select(
            ["source_id", "document_sha256"]
        )

    def _only_primary(self, table: pa.Table) -> pa.Table:
        keys = self._primary_docs
        joined = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
        hit = joined.select(["source_id", "document_sha256", "_row"]).join(
            keys, ["source_id", "document_sha256"], join_type="inner"
        )
        rows = pa.compute.sort_indices(hit.column("_row"))
        return table.take(pa.compute.take(hit.column("_row"), rows))

    # --- the tables ----------------------------------------------------------------------------

    def reports(
        self,
        *,
        years: Iterable[int] | int | None = None,
        publishers: Iterable[str] | str | None = None,
        sources: Iterable[str] | str | None = None,
        primary_only: bool = True,
    ) -> pd.DataFrame:
        """One row per document (``primary_only``: per report), with status, consistency and copies."""
        table = self.arrow("reports", years=years, publishers=publishers, sources=sources)
        if primary_only:
            table = table.filter(pa.compute.fill_null(table.column("is_primary"), False))
        return to_pandas(table)

    def facts(
        self,
        *,
        years: Iterable[int] | int | None = None,
        publishers: Iterable[str] | str | None = None,
        sources: Iterable[str] | str | None = None,
        tables: Iterable[str] | str | None = None,
        primary_only: bool = True,
        include_derived: bool = False,
    ) -> pd.DataFrame:
        """One row per printed cell (and, ``include_derived``, per computed subtotal)."""
        return to_pandas(self._facts_arrow(years, publishers, sources, tables, primary_only, include_derived))

    def _facts_arrow(
        self,
        years: Any,
        publishers: Any,
        sources: Any,
        tables: Any,
        primary_only: bool,
        include_derived: bool,
    ) -> pa.Table:
        table = self.arrow("facts", years=years, publishers=publishers, sources=sources)
        pc = pa.compute
        if tables is not None:
            table = table.filter(pc.is_in(table.column("table"), pa.array(_as_list(tables), pa.string())))
        if not include_derived:
            keep = pc.invert(pc.fill_null(table.column("is_derived"), False))
            cross = cross_version_keys()
            if cross:
                key = pc.binary_join_element_wise(
                    table.column("table"), table.column("row_key"), table.column("column_key"), "\x1f"
                )
                keep = pc.or_(keep, pc.is_in(key, pa.array(sorted(cross), pa.string())))
            table = table.filter(keep)
        if primary_only:
            table = self._only_primary(table)
        return table

    def checks(
        self,
        *,
        years: Iterable[int] | int | None = None,
        publishers: Iterable[str] | str | None = None,
        sources: Iterable[str] | str | None = None,
        primary_only: bool = True,
        failed_only: bool = False,
    ) -> pd.DataFrame:
        """One row per check evaluated (identities, soft checks, cross-year continuity)."""
        table = self.arrow("checks", years=years, publishers=publishers, sources=sources)
        if failed_only:
            table = table.filter(pa.compute.equal(table.column("status"), "fail"))
        if primary_only:
            table = self._only_primary(table)
        return to_pandas(table)

    def unmapped(
        self,
        *,
        years: Iterable[int] | int | None = None,
        publishers: Iterable[str] | str | None = None,
        sources: Iterable[str] | str | None = None,
        primary_only: bool = True,
    ) -> pd.DataFrame:
        """Printed rows whose labels matched no key."""
        table = self.arrow("unmapped", years=years, publishers=publishers, sources=sources)
        if primary_only:
            table = self._only_primary(table)
        return to_pandas(table)

    def keys(self) -> pd.DataFrame:
        """Every canonical cell: printed labels per format version (Chinese), English name, unit, identities."""
        return to_pandas(self._keys_arrow())

    def wide(
        self,
        table: str,
        *,
        years: Iterable[int] | int | None = None,
        publishers: Iterable[str] | str | None = None,
        sources: Iterable[str] | str | None = None,
        primary_only: bool = True,
        include_derived: bool = False,
    ) -> pd.DataFrame:
        """One row per report and row_key of ``table``, one column per column_key (``warehouse.wide``)."""
        if table not in WIDE_TABLES:
            raise ValueError(f"unknown statistical table {table!r}; expected one of {WIDE_TABLES}")
        facts = self._facts_arrow(years, publishers, sources, [table], primary_only, include_derived)
        return wide_frame(table, to_pandas(facts), self.keys())

    # --- other engines -------------------------------------------------------------------------

    def duckdb(self, connection: duckdb_module.DuckDBPyConnection | None = None) -> duckdb_module.DuckDBPyConnection:
        """A DuckDB connection with every table as a view (all rows, as published) and the analyst views.

        Views: ``facts``, ``reports``, ``checks``, ``unmapped``, ``keys`` (as published: all copies,
        derived rows included); ``primary_reports``, ``primary_facts`` (the defaults of ``facts()``);
        ``wide_proactive``, ``wide_requests``, ``wide_review_litigation`` (as ``wide()``).
        """
        duckdb = _optional("duckdb")
        con = connection or duckdb.connect()
        for name in TABLE_NAMES:
            root = self.root / name
            if any(root.glob("year=*/part-0.parquet")):
                glob = (root / "year=*" / "part-0.parquet").as_posix().replace("'", "''")
                con.execute(
                    f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{glob}', hive_partitioning=true, "
                    "union_by_name=true)"
                )
            else:
                con.register(f"_{name}_empty", pa.Table.from_batches([], schema=dataset_schema(name)))
                con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _{name}_empty")
        con.register("_keys_table", self._keys_arrow())
        con.execute("CREATE OR REPLACE VIEW keys AS SELECT * FROM _keys_table")
        con.execute("CREATE OR REPLACE VIEW primary_reports AS SELECT * FROM reports WHERE coalesce(is_primary, false)")
        cross = ", ".join(f"'{k}'" for k in sorted(cross_version_keys())) or "''"
        con.execute(
            "CREATE OR REPLACE VIEW primary_facts AS SELECT f.* FROM facts f "
            "JOIN primary_reports r USING (source_id, document_sha256) "
            "WHERE NOT coalesce(f.is_derived, false) "
            f'OR concat_ws(chr(31), f."table", f.row_key, f.column_key) IN ({cross})'
        )
        for table in WIDE_TABLES:
            con.register(f"_wide_{table}", self.wide(table))
            con.execute(f"CREATE OR REPLACE VIEW wide_{table} AS SELECT * FROM _wide_{table}")
        return con

    def polars(self) -> dict[str, Any]:
        """Polars LazyFrames: the tables as published (scanned lazily) and the analyst views.

        Keys as in ``duckdb()``: ``facts``, ``reports``, ``checks``, ``unmapped``, ``keys``,
        ``primary_reports``, ``primary_facts``, ``wide_<table>`` (the wide views are computed with
        pandas, then handed to Polars).
        """
        pl = _optional("polars")
        frames: dict[str, Any] = {}
        for name in TABLE_NAMES:
            root = self.root / name
            if any(root.glob("year=*/part-0.parquet")):
                frames[name] = pl.scan_parquet(root / "year=*" / "part-0.parquet", hive_partitioning=True)
            else:
                frames[name] = pl.from_arrow(pa.Table.from_batches([], schema=dataset_schema(name))).lazy()
        frames["keys"] = pl.from_arrow(self._keys_arrow()).lazy()
        frames["primary_reports"] = frames["reports"].filter(pl.col("is_primary").fill_null(False))
        frames["primary_facts"] = pl.from_arrow(
            self._facts_arrow(None, None, None, None, primary_only=True, include_derived=False)
        ).lazy()
        for table in WIDE_TABLES:
            frames[f"wide_{table}"] = pl.from_pandas(self.wide(table)).lazy()
        return frames


def open_warehouse(data_dir: Path | str = "data") -> Warehouse:
    """The warehouse published under ``data_dir`` (``xxgk.open``)."""
    return Warehouse(data_dir)


__all__ = ["INSTALL_HINT", "MissingDependency", "Warehouse", "open_warehouse", "to_pandas"]
