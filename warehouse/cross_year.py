"""Cross-year checks computed from the warehouse: a source's report against its previous year's.

``schemas.soft_checks.cross_year_checks`` holds the rules (carry-over continuity per column,
in-force continuity of v2021 table 二); this module feeds it the published facts of two
consecutive years of one source and turns the results into ``checks`` rows of scope
``cross_year``. Such a row belongs to the later year's document (its ``year`` partition,
``document_sha256`` and ``report_id``); ``other_year``, ``other_document_sha256`` and
``other_value`` name the earlier year's side, and ``detail`` spells out both years' values.

Only the facts the rules read are loaded (``CONTINUITY_ROWS``), and only for the sources asked
for, with the filter pushed down into the Parquet scan: a publish that touches a few sources reads
a few hundred rows, whatever the size of the warehouse.

One document per source/year: when a source/year has several documents (a page and its PDF
attachment), its primary copy is compared (``schemas.choice.copy_rank``: best status, most printed facts,
kind of file, lowest sha256; the one ``reports.is_primary`` marks), and ``detail`` says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from xxgk.schemas.checks import index_facts
from xxgk.schemas.choice import copy_rank
from xxgk.schemas.records import FAIL, CheckResult, Fact
from xxgk.schemas.soft_checks import cross_year_checks
from xxgk.schemas.values import OK
from xxgk.warehouse.parquet import SCOPE_CROSS_YEAR, compact_schema, isin

#: Every (table, row_key) that ``cross_year_checks`` reads; facts of other rows are never loaded.
#: tests/test_cross_year.py checks that the rules give the same results on these rows as on all facts.
CONTINUITY_ROWS: tuple[tuple[str, str], ...] = (
    ("requests", "carried_over"),
    ("requests", "carried_forward"),
    ("proactive", "rules"),
    ("proactive", "normative_docs"),
)

#: The earlier year's cell each check compares, as (row_key, column_key) from the check's own row/column.
_OTHER_CELL = {
    "requests.carry_continuity": lambda row, col: ("carried_forward", col),
    "proactive.in_force_continuity": lambda row, col: (row, "in_force"),
}

FACT_COLUMNS = (
    "source_id",
    "document_sha256",
    "table",
    "row_key",
    "column_key",
    "value",
    "unit",
    "raw_text",
    "value_status",
    "template_version",
    "fact_index",
)
REPORT_COLUMNS = (
    "report_id",
    "source_id",
    "document_sha256",
    "publisher",
    "status",
    "n_facts",
    "extractor_version",
    "format",
)


class Picked(NamedTuple):
    """The document of one source/year that cross-year checks compare, and how many it was chosen from."""

    report_id: str
    document_sha256: str
    publisher: str
    extractor_version: str
    status: str
    n_facts: int
    n_documents: int

    def note(self, year: int) -> str:
        if self.n_documents < 2:
            return ""
        return (
            f"{year} has {self.n_documents} documents; compared {self.document_sha256[:12]} "
            f"({self.status}, {self.n_facts} facts: the primary copy)"
        )


def _is_continuity_row(table: pa.Table) -> pa.ChunkedArray:
    mask = None
    for tbl, row in CONTINUITY_ROWS:
        one = pc.and_(isin(table.column("table"), [tbl]), isin(table.column("row_key"), [row]))
        mask = one if mask is None else pc.or_(mask, one)
    assert mask is not None
    return mask


def _continuity_expression(sources: Iterable[str]) -> ds.Expression:
    rows = None
    for tbl, row in CONTINUITY_ROWS:
        one = (ds.field("table") == tbl) & (ds.field("row_key") == row)
        rows = one if rows is None else rows | one
    assert rows is not None
    return (
        ds.field("source_id").isin(pa.array(sorted(set(sources)), pa.string()))
        & rows
        & (ds.field("is_derived") == False)  # noqa: E712 (an Arrow expression, not a Python comparison)
    )


def continuity_facts(facts: pa.Table, sources: Iterable[str] | None = None) -> pa.Table:
    """The printed facts the rules read (of ``sources``, or all) from an in-memory facts table, plain or compact."""
    mask = pc.and_(_is_continuity_row(facts), pc.invert(pc.fill_null(facts.column("is_derived"), False)))
    if sources is not None:
        mask = pc.and_(mask, isin(facts.column("source_id"), sources))
    return facts.filter(mask).select(list(FACT_COLUMNS))


#: String columns read as dictionaries when scanning a partition (compact, and the filter compares codes).
_DICTIONARY_COLUMNS = ("source_id", "document_sha256", "table", "row_key", "column_key", "unit", "value_status")


def _scan(path: Path, columns: Iterable[str], flt: ds.Expression) -> pa.Table:
    """Scan one partition file with ``flt`` pushed down (row groups skipped by their statistics).

    String columns are read as dictionaries and batches are not read far ahead, so scanning a large
    partition for a few rows stays small in memory.
    """
    fmt = ds.ParquetFileFormat(read_options={"dictionary_columns": list(_DICTIONARY_COLUMNS)})
    scanner = ds.dataset(path, format=fmt).scanner(
        columns=list(columns), filter=flt, batch_readahead=1, fragment_readahead=1
    )
    return scanner.to_table()


def read_continuity_facts(path: Path, sources: Iterable[str]) -> pa.Table:
    """``continuity_facts`` straight from a facts partition file, the filter pushed into the scan."""
    if not path.is_file():
        return pa.table({c: pa.array([], pa.string()) for c in FACT_COLUMNS})
    return _scan(path, FACT_COLUMNS, _continuity_expression(sources))


def read_reports(path: Path, sources: Iterable[str]) -> pa.Table:
    """The reports rows of ``sources`` from a reports partition file (only the columns picking needs)."""
    if not path.is_file():
        return pa.table({c: pa.array([], pa.string()) for c in REPORT_COLUMNS})
    return _scan(path, REPORT_COLUMNS, ds.field("source_id").isin(pa.array(sorted(set(sources)), pa.string())))


def pick_documents(reports: pa.Table, sources: Iterable[str]) -> dict[str, Picked]:
    """Per source: the document compared across years, its primary copy (``warehouse.copies`` rule)."""
    rows = reports.filter(isin(reports.column("source_id"), sources))
    by_source: dict[str, list[dict[str, Any]]] = {}
    for r in rows.select(list(REPORT_COLUMNS)).to_pylist():
        by_source.setdefault(r["source_id"], []).append(r)
    picked = {}
    for source, docs in by_source.items():
        best = min(docs, key=lambda d: copy_rank(d["status"], d["n_facts"], d["format"], d["document_sha256"]))
        picked[source] = Picked(
            best["report_id"] or "",
            best["document_sha256"],
            best["publisher"] or "",
            best["extractor_version"] or "",
            best["status"] or "",
            int(best["n_facts"] or 0),
            len(docs),
        )
    return picked


def _pylist(table: pa.Table, name: str) -> list[Any]:
    col = table.column(name)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return col.to_pylist()


def facts_by_document(facts: pa.Table) -> dict[tuple[str, str], list[Fact]]:
    """Fact records per (source_id, document_sha256), in print order (columns converted one by one: fast)."""
    cols = [_pylist(facts, c) for c in FACT_COLUMNS]
    out: dict[tuple[str, str], list[tuple[int, Fact]]] = {}
    for source, sha, table, row, col, value, unit, raw, status, template, index in zip(*cols, strict=True):
        fact = Fact(table, row, col, value, unit, raw or "", status, template or "")
        out.setdefault((source, sha), []).append((index or 0, fact))
    return {k: [f for _, f in sorted(v, key=lambda x: x[0])] for k, v in out.items()}


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6f}".rstrip("0").rstrip(".")


def _shown(fact: Fact | None) -> str:
    """A cell as a reader wants it in a sentence: the number, or what was printed instead."""
    if fact is None:
        return "not printed"
    if fact.value_status == OK and fact.value is not None:
        return _num(fact.value)
    return f"“{fact.raw_text}” ({fact.value_status})" if fact.raw_text else f"({fact.value_status})"


def _cell(facts: dict[tuple[str, str, str], Fact], table: str, row: str, col: str) -> Fact | None:
    return facts.get((table, row, col))


def _describe(
    check: CheckResult,
    current: dict[tuple[str, str, str], Fact],
    previous: dict[tuple[str, str, str], Fact],
    year: int,
    prev_year: int,
    notes: list[str],
) -> tuple[str, float | None]:
    """The check's rule with both years' values in words, and the earlier year's value."""
    mine = [c.split("/", 1) for c in (*check.total_cells, *check.part_cells)]
    this_year = ", ".join(f"{r}/{c} = {_shown(_cell(current, check.table, r, c))}" for r, c in mine)
    detail = f"{check.detail}: {year} {this_year}"
    other_fact = None
    if check.check_id in _OTHER_CELL:
        row, col = _OTHER_CELL[check.check_id](check.row_key, check.column_key)
        other_fact = _cell(previous, check.table, row, col)
        detail += f"; {prev_year} {row}/{col} = {_shown(other_fact)}"
    if check.status == FAIL and check.difference is not None:
        detail += f" (differs by {_num(check.difference)})"
    detail += "".join(f". {n}" for n in notes if n)
    value = other_fact.value if other_fact is not None and other_fact.value_status == OK else None
    return detail, value


def cross_year_rows(
    year: int,
    sources: Iterable[str],
    current_reports: pa.Table,
    current_facts: pa.Table,
    previous_reports: pa.Table,
    previous_facts: pa.Table,
) -> dict[str, list[Any]]:
    """``checks`` column lists of scope cross_year for ``sources`` between ``year - 1`` and ``year``.

    ``*_facts`` need only hold the continuity rows of these sources (``continuity_facts``).
    A source with no document in either year gets no rows (no neighbour, no check).
    """
    wanted = sorted(set(sources))
    cur_docs = pick_documents(current_reports, wanted)
    prev_docs = pick_documents(previous_reports, wanted)
    cur_facts = facts_by_document(current_facts)
    prev_facts = facts_by_document(previous_facts)
    cols: dict[str, list[Any]] = {f.name: [] for f in compact_schema("checks")}
    for source in wanted:
        cur, prev = cur_docs.get(source), prev_docs.get(source)
        if cur is None or prev is None:
            continue
        current = cur_facts.get((source, cur.document_sha256), [])
        previous = prev_facts.get((source, prev.document_sha256), [])
        notes = [cur.note(year), prev.note(year - 1)]
        cur_index, prev_index = index_facts(current), index_facts(previous)  # the last printed wins, as in the rules
        for i, check in enumerate(cross_year_checks(current, previous, year, year - 1)):
            detail, other_value = _describe(check, cur_index, prev_index, year, year - 1, notes)
            row = {
                "report_id": cur.report_id,
                "document_sha256": cur.document_sha256,
                "source_id": source,
                "publisher": cur.publisher,
                "check_id": check.check_id,
                "table": check.table,
                "row_key": check.row_key,
                "column_key": check.column_key,
                "expected": check.expected,
                "actual": check.actual,
                "difference": check.difference,
                "status": check.status,
                "severity": check.severity,
                "detail": detail,
                "blank_as_zero": check.blank_as_zero,
                "scope": SCOPE_CROSS_YEAR,
                "other_year": year - 1,
                "other_document_sha256": prev.document_sha256,
                "other_value": other_value,
                "check_index": i,
                "extractor_version": cur.extractor_version,
            }
            for k, v in row.items():
                cols[k].append(v)
    return cols
