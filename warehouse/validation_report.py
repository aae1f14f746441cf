"""Validation reports a person reads: one per source and year, plus an index over all sources.

``validation/<source_id>/<year>.json`` and ``.html`` show each document of that source/year: status
and reason, warnings, every failed identity spelled out (id, row/column, expected, actual,
difference), the tables as printed with the cells taking part in a failed identity marked, and the
unmapped rows. A "Warnings" section lists the failed soft checks: numbers quoted in the text that
disagree with the tables (with the sentence), and cross-year checks against the previous year's
report (with both years' values). Cross-year checks are read from the warehouse's ``checks`` table
(scope ``cross_year``), so write the reports after ``publish``; and since republishing year N
changes the checks of N+1, every call also refreshes the cross-year section of the other years of
the sources it writes, when the warehouse says they changed. A source/year file is replaced whole by the next run that publishes that source/year
(the same rule as the warehouse). ``validation/index.html`` (and ``index.json``) is rebuilt from the
JSON files on disk after every write, so runs over different sources accumulate. No timestamps are
written: the same input gives the same bytes.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from xxgk.schemas.records import FAIL, NOT_ASSESSABLE, PASS, CheckResult, DocumentResult, Fact
from xxgk.storage.files import file_lock, safe_name, write_if_changed
from xxgk.warehouse.documents import (
    UNKNOWN_YEAR,
    DocumentInfo,
    effective_format,
    effective_publisher,
    effective_year,
    report_id,
)
from xxgk.warehouse.layout import validation_dir
from xxgk.warehouse.parquet import SCOPE_CROSS_YEAR, partition_path, partitioning, warehouse_dir
from xxgk.warehouse.publish import PublishItem, resolve_item
from xxgk.warehouse.schema import dataset_schema

VALIDATION_FORMAT = 1
_ALL = ("*", "")
#: Worst first: the status an index row shows when a source/year has several documents.
_STATUS_RANK = ("failed", "needs_ocr", "not_a_report", "legacy", "partial", "ok")

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def source_dir_name(source_id: str) -> str:
    """A directory name for a source id (``warehouse.files.safe_name``: quoted, bounded, never hidden)."""
    return safe_name(source_id)


def year_file_stem(year: int) -> str:
    return "unknown" if year == UNKNOWN_YEAR else str(year)


def _fmt(value: float | None) -> str:
    """Numbers as a person writes them: 12 not 12.0, money keeps its decimals."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


_ENV.filters["num"] = _fmt


def _row_matches(row_key: str, pattern: str) -> bool:
    return row_key == pattern or row_key.startswith(pattern + ".")


def check_operands(check: CheckResult) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(total cells, part cells) of a check as (row, column) pairs, as the check itself names them.

    A check that names no operands (counts.non_negative) marks the cell, row or column it names.
    """
    if check.total_cells or check.part_cells:
        split = [tuple(c.split("/", 1)) for c in (*check.total_cells, *check.part_cells)]
        n = len(check.total_cells)
        return split[:n], split[n:]  # type: ignore[return-value]
    row, col = check.row_key, check.column_key
    if row not in _ALL and col not in _ALL:
        return [(row, col)], []
    if row not in _ALL:
        return [], [(row, "*")]
    if col not in _ALL:
        return [], [("*", col)]
    return [], []


def _cell_matches(fact: Fact, pattern: tuple[str, str]) -> bool:
    row, col = pattern
    return (row == "*" or _row_matches(fact.row_key, row)) and (col == "*" or fact.column_key == col)


def _grid_index(result: DocumentResult) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, loc in enumerate(result.grid_locators):
        index.setdefault(loc, i)
    return index


def _check_cells(check: CheckResult, result: DocumentResult, grids: dict[str, int]) -> list[dict[str, Any]]:
    """The printed cells of one identity, located in ``result.grids`` where the fact says."""
    return _cells_of(check, result.facts, result.grids, grids)


def _cells_of(
    check: CheckResult, facts: Iterable[Fact], tables: list[list[list[str]]], grids: dict[str, int]
) -> list[dict[str, Any]]:
    """The printed cells a check names, among ``facts``, located in ``tables`` (grids as printed)."""
    totals, parts = check_operands(check)
    cells = []
    for fact in facts:
        if fact.table != check.table:
            continue
        role = (
            "total"
            if any(_cell_matches(fact, p) for p in totals)
            else "part"
            if any(_cell_matches(fact, p) for p in parts)
            else None
        )
        if role is None:
            continue
        grid = grids.get(fact.locator)
        located = (
            grid is not None
            and fact.grid_row is not None
            and fact.grid_col is not None
            and 0 <= fact.grid_row < len(tables[grid])
            and 0 <= fact.grid_col < len(tables[grid][fact.grid_row])
        )
        cells.append(
            {
                "role": role,
                "row_key": fact.row_key,
                "column_key": fact.column_key,
                "raw_text": fact.raw_text,
                "value": fact.value,
                "value_status": fact.value_status,
                "locator": fact.locator,
                "page": fact.page,
                "grid": grid if located else None,
                "row": fact.grid_row if located else None,
                "col": fact.grid_col if located else None,
            }
        )
    return cells


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


def _cross_entries(
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
            cells = _cells_of(bare, facts, tables, grids)
        entry["cells"] = cells
        entries.append(entry)
    return entries


def _cross_counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "cross_year_checks": len(entries),
        "cross_year_failed": sum(1 for e in entries if e["status"] == FAIL),
    }


def document_report(
    info: DocumentInfo,
    result: DocumentResult,
    extractor_version: str,
    cross_year: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The JSON-ready validation content of one document.

    ``cross_year``: the document's cross-year check rows as the warehouse holds them
    (``CrossYearChecks.for_source``); none when not given.
    """
    year, year_source = effective_year(info, result)
    grids = _grid_index(result)
    cross = _cross_entries(cross_year or [], result.facts, result.grids, grids)
    failed = []
    for i, check in enumerate(result.checks):
        if check.status != FAIL:
            continue
        failed.append(
            {
                "index": i,
                "check_id": check.check_id,
                "table": check.table,
                "row_key": check.row_key,
                "column_key": check.column_key,
                "expected": check.expected,
                "actual": check.actual,
                "difference": check.difference,
                "severity": check.severity,
                "detail": check.detail,
                "blank_as_zero": check.blank_as_zero,
                "cells": _check_cells(check, result, grids),
            }
        )
    return {
        "report_id": report_id(info, year),
        "document_sha256": info.document_sha256,
        "source_id": info.source_id,
        "year": year,
        "year_source": year_source,
        "publisher": effective_publisher(info, result),
        "title": result.title,
        "format": effective_format(info, result),
        "status": result.status,
        "reason": result.reason,
        "source_url": info.source_url,
        "fetched_at": info.fetched_at.isoformat() if info.fetched_at else None,
        "path": info.path,
        "extractor_version": extractor_version,
        "template_versions": dict(sorted(result.template_versions.items())),
        "warnings": list(result.warnings),
        "counts": {
            "facts": len(result.facts),
            "derived": len(result.derived),
            "checks": len(result.checks),
            "passed": sum(1 for c in result.checks if c.status == PASS),
            "failed": result.failed_checks,
            "failed_warnings": sum(1 for c in result.checks if c.status == FAIL and c.severity != "error"),
            "not_assessable": sum(1 for c in result.checks if c.status == NOT_ASSESSABLE),
            "unmapped": len(result.unmapped),
            **_cross_counts(cross),
        },
        "failed_checks": failed,
        "cross_year_checks": cross,
        "unmapped": [
            {
                "table": u.table,
                "label": u.label,
                "values": list(u.values),
                "reason": u.reason,
                "locator": u.locator,
                "page": u.page,
                "grid_row": u.grid_row,
            }
            for u in result.unmapped
        ],
        "tables": [
            {"locator": result.grid_locators[i] if i < len(result.grid_locators) else f"table {i + 1}", "rows": g}
            for i, g in enumerate(result.grids)
        ],
    }


def _worst_status(statuses: Iterable[str]) -> str:
    ranked = sorted(statuses, key=lambda s: _STATUS_RANK.index(s) if s in _STATUS_RANK else -1)
    return ranked[0] if ranked else ""


def _marks(doc: dict[str, Any]) -> dict[int, dict[tuple[int, int], dict[str, Any]]]:
    """Per grid, per (row, col): the failing checks a cell takes part in and its strongest role."""
    marks: dict[int, dict[tuple[int, int], dict[str, Any]]] = {}
    failing = [(f"d{doc['_n']}-c{n}", c) for n, c in enumerate(doc["failed_checks"])]
    failing += [
        (f"d{doc['_n']}-x{n}", c) for n, c in enumerate(doc.get("cross_year_checks", [])) if c["status"] == FAIL
    ]
    for anchor, check in failing:
        for cell in check["cells"]:
            if cell["grid"] is None:
                continue
            mark = marks.setdefault(cell["grid"], {}).setdefault(
                (cell["row"], cell["col"]), {"role": "part", "checks": [], "anchors": [], "severity": "warning"}
            )
            if cell["role"] == "total":
                mark["role"] = "total"
            if check["severity"] == "error":
                mark["severity"] = "error"
            label = f"{check['check_id']} [{check['row_key']} / {check['column_key']}]"
            if label not in mark["checks"]:
                mark["checks"].append(label)
                mark["anchors"].append(anchor)
    return marks


def render_source_html(report: dict[str, Any]) -> str:
    """The HTML page of one source/year report (self-contained, inline CSS, autoescaped).

    Failed identities (severity error) and failed soft checks (the "Warnings" section: narrative
    numbers with their sentence, cross-year continuity with both years' values) are listed apart.
    """
    docs = []
    for n, doc in enumerate(report["documents"]):
        doc = {**doc, "_n": n}
        marks = _marks(doc)
        tables = []
        for i, t in enumerate(doc["tables"]):
            grid_marks = marks.get(i, {})
            rows = [
                [{"text": text, "mark": grid_marks.get((r, c))} for c, text in enumerate(row)]
                for r, row in enumerate(t["rows"])
            ]
            tables.append({"locator": t["locator"], "rows": rows, "n_marked": len(grid_marks)})
        unlocated = sum(
            1 for c in doc["failed_checks"] if c["severity"] == "error" for cell in c["cells"] if cell["grid"] is None
        )
        indexed = list(enumerate(doc["failed_checks"]))
        cross = doc.get("cross_year_checks", [])
        docs.append(
            {
                **doc,
                "rendered_tables": tables,
                "unlocated_cells": unlocated,
                "error_checks": [(i, c) for i, c in indexed if c["severity"] == "error"],
                "warning_checks": [(i, c) for i, c in indexed if c["severity"] != "error"],
                "cross_failed": [(i, c) for i, c in enumerate(cross) if c["status"] == FAIL],
                "cross_summary": {
                    "checks": len(cross),
                    "passed": sum(1 for c in cross if c["status"] == PASS),
                    "failed": sum(1 for c in cross if c["status"] == FAIL),
                    "not_assessable": sum(1 for c in cross if c["status"] == NOT_ASSESSABLE),
                    "other_years": sorted({c["other_year"] for c in cross if c["other_year"] is not None}),
                },
            }
        )
    return _ENV.get_template("source_report.html.j2").render(report=report, documents=docs)


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1, allow_nan=True) + "\n").encode("utf-8")


def write_validation_reports(data_dir: Path | str, items: Iterable[PublishItem]) -> list[Path]:
    """Write ``validation/<source_id>/<year>.json`` and ``.html`` per source/year, then the index.

    ``items`` are what ``publish`` takes (staged paths or ``(info, result, extractor_version)``).
    Items are streamed: a source's reports are written when the next source starts, so memory stays
    bounded for any run size (a source/year met again later in the same call is merged, not lost).
    Cross-year checks come from the warehouse (call after ``publish``); the reports of other years
    of the sources written are then refreshed where their cross-year checks changed.
    Returns the paths of the files written or confirmed (json, html per source/year, then the index).
    """
    vdir = validation_dir(data_dir)
    cross = CrossYearChecks(data_dir)
    written: dict[tuple[str, int], tuple[Path, Path]] = {}
    pending: dict[tuple[str, int], list[dict[str, Any]]] = {}
    seen: set[tuple[str, str]] = set()
    current: str | None = None
    current_rows: dict[tuple[int, str], list[dict[str, Any]]] = {}
    with file_lock(vdir / ".lock"):
        for item in items:
            info, result, version = resolve_item(item)
            if (info.source_id, info.document_sha256) in seen:
                continue
            seen.add((info.source_id, info.document_sha256))
            if info.source_id != current:
                if current is not None:
                    _flush(vdir, pending, written)
                current = info.source_id
                current_rows = cross.for_source(current)
            year, _ = effective_year(info, result)
            rows = current_rows.get((year, info.document_sha256), [])
            doc = document_report(info, result, version, rows)
            pending.setdefault((info.source_id, doc["year"]), []).append(doc)
        _flush(vdir, pending, written)
        paths = [p for key in sorted(written) for p in written[key]]
        for source in sorted({s for s, _ in written}):
            _refresh_source(Path(data_dir), vdir, source, {y for s, y in written if s == source}, cross)
        paths.append(_write_index_locked(vdir))
    return paths


def _source_report(source_id: str, year: int, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The report of one source/year around its documents' entries (sorted by sha256)."""
    docs.sort(key=lambda d: d["document_sha256"])
    return {
        "validation_format": VALIDATION_FORMAT,
        "source_id": source_id,
        "year": year,
        "status": _worst_status(d["status"] for d in docs),
        "failed_checks": sum(d["counts"]["failed"] for d in docs),
        "warnings": sum(_doc_warnings(d) for d in docs),
        "documents": docs,
    }


def _doc_warnings(doc: dict[str, Any]) -> int:
    """Failed soft checks of a document: its own (narrative ...) and cross-year ones."""
    counts = doc["counts"]
    return int(counts.get("failed_warnings", 0)) + int(counts.get("cross_year_failed", 0))


def _write_report(vdir: Path, report: dict[str, Any]) -> tuple[Path, Path]:
    base = vdir / source_dir_name(report["source_id"]) / year_file_stem(report["year"])
    json_path, html_path = base.with_suffix(".json"), base.with_suffix(".html")
    write_if_changed(json_path, _dumps(report))
    write_if_changed(html_path, render_source_html(report).encode("utf-8"))
    return json_path, html_path


def _flush(
    vdir: Path,
    pending: dict[tuple[str, int], list[dict[str, Any]]],
    written: dict[tuple[str, int], tuple[Path, Path]],
) -> None:
    """Write the pending source/year reports (merging with one this call already wrote)."""
    for (source_id, year), docs in sorted(pending.items()):
        if (source_id, year) in written:
            earlier = json.loads(written[(source_id, year)][0].read_text(encoding="utf-8"))["documents"]
            have = {d["document_sha256"] for d in docs}
            docs = docs + [d for d in earlier if d["document_sha256"] not in have]
        written[(source_id, year)] = _write_report(vdir, _source_report(source_id, year, docs))
    pending.clear()


def _without_cells(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "cells"} for e in entries]


def _refresh_source(
    data_dir: Path, vdir: Path, source_id: str, written_years: set[int], cross: CrossYearChecks
) -> None:
    """Bring the cross-year section of a source's other reports on disk up to date with the warehouse.

    Republishing year N changes the cross-year checks of N+1 (whose report this call did not
    write); a report is rewritten only when its cross-year checks differ from the warehouse's.
    """
    directory = vdir / source_dir_name(source_id)
    if not directory.is_dir():
        return
    rows = cross.for_source(source_id)
    for path in sorted(directory.glob("*.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        if report.get("validation_format") != VALIDATION_FORMAT or report["year"] in written_years:
            continue
        year = report["year"]
        changed = False
        for doc in report["documents"]:
            wanted = rows.get((year, doc["document_sha256"]), [])
            if _without_cells(_cross_entries(wanted, None, [], {})) == _without_cells(doc.get("cross_year_checks", [])):
                continue
            tables = [t["rows"] for t in doc["tables"]]
            grids: dict[str, int] = {}
            for i, t in enumerate(doc["tables"]):
                grids.setdefault(t["locator"], i)
            facts = _published_facts(data_dir, source_id, year, doc["document_sha256"], wanted)
            doc["cross_year_checks"] = _cross_entries(wanted, facts, tables, grids)
            doc["counts"].update(_cross_counts(doc["cross_year_checks"]))
            changed = True
        if changed:
            _write_report(vdir, _source_report(source_id, year, report["documents"]))


def _published_facts(data_dir: Path, source_id: str, year: int, sha: str, rows: list[dict[str, Any]]) -> list[Fact]:
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


def prune_validation_reports(data_dir: Path | str) -> list[Path]:
    """Remove the reports of source/years no longer in the warehouse, then rebuild the index.

    A source/year leaves the warehouse when a backfill rebuilds its year without it, or when its
    only document is now filed under another year (its year read differently). Its report would
    otherwise stay on disk and in the index, describing rows no reader of the tables can find.
    Call after ``publish``. Returns the files removed.
    """
    vdir = validation_dir(data_dir)
    if not vdir.is_dir():
        return []
    root = warehouse_dir(data_dir) / "reports"
    published: set[tuple[str, str]] = set()
    if root.is_dir():
        table = ds.dataset(
            root, format="parquet", partitioning=partitioning(), schema=dataset_schema("reports")
        ).to_table(columns=["source_id", "year"])
        pairs = zip(table.column("source_id").to_pylist(), table.column("year").to_pylist(), strict=True)
        published = {(source_dir_name(s), year_file_stem(y)) for s, y in set(pairs)}
    removed: list[Path] = []
    with file_lock(vdir / ".lock"):
        for path in sorted(vdir.glob("*/*")):
            is_report = path.suffix in (".json", ".html") and (path.stem.isdigit() or path.stem == "unknown")
            if is_report and path.is_file() and (path.parent.name, path.stem) not in published:
                path.unlink()
                removed.append(path)
        for directory in {p.parent for p in removed}:
            if not any(directory.iterdir()):
                directory.rmdir()
        if removed:
            _write_index_locked(vdir)
    return removed


def write_index(data_dir: Path | str) -> Path:
    """Rebuild ``validation/index.html`` and ``index.json`` from the source reports on disk."""
    vdir = validation_dir(data_dir)
    with file_lock(vdir / ".lock"):
        return _write_index_locked(vdir)


def _write_index_locked(vdir: Path) -> Path:
    entries = []
    for path in sorted(vdir.glob("*/*.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        if report.get("validation_format") != VALIDATION_FORMAT:
            continue
        docs = report["documents"]
        entries.append(
            {
                "source_id": report["source_id"],
                "year": report["year"],
                "year_label": year_file_stem(report["year"]),
                "publisher": next((d["publisher"] for d in docs if d["publisher"]), ""),
                "status": report["status"],
                "failed_checks": report["failed_checks"],
                "warnings": sum(_doc_warnings(d) for d in docs),
                "not_assessable": sum(d["counts"]["not_assessable"] for d in docs),
                "unmapped": sum(d["counts"]["unmapped"] for d in docs),
                "documents": len(docs),
                "reasons": sorted({d["reason"] for d in docs if d["reason"]}),
                "href": f"{quote(path.parent.name)}/{quote(path.stem)}.html",
            }
        )
    entries.sort(key=lambda e: (e["source_id"], e["year"]))
    totals = {
        "sources": len({e["source_id"] for e in entries}),
        "reports": len(entries),
        "with_failures": sum(1 for e in entries if e["failed_checks"]),
        "with_warnings": sum(1 for e in entries if e["warnings"]),
        "by_status": {s: n for s in _STATUS_RANK if (n := sum(1 for e in entries if e["status"] == s))},
    }
    write_if_changed(vdir / "index.json", _dumps({"validation_format": VALIDATION_FORMAT, "entries": entries}))
    index = vdir / "index.html"
    write_if_changed(index, _ENV.get_template("index.html.j2").render(entries=entries, totals=totals).encode("utf-8"))
    return index
