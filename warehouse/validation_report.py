"""Validation reports a person reads: one per source and year, plus an index over all sources.

``validation/<source_id>/<year>.json`` and ``.html`` show each document of that source/year: status
and reason, warnings, every failed identity spelled out (id, row/column, expected, actual,
difference), the tables as printed with the cells taking part in a failed identity marked, and the
unmapped rows. A source/year file is replaced whole by the next run that publishes that source/year
(the same rule as the warehouse). ``validation/index.html`` (and ``index.json``) is rebuilt from the
JSON files on disk after every write, so runs over different sources accumulate. No timestamps are
written: the same input gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from schemas.records import FAIL, NOT_ASSESSABLE, PASS, CheckResult, DocumentResult, Fact
from warehouse._io import file_lock, write_if_changed
from warehouse.documents import (
    UNKNOWN_YEAR,
    DocumentInfo,
    effective_format,
    effective_publisher,
    effective_year,
    report_id,
)
from warehouse.publish import PublishItem, resolve_item

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


def validation_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "validation"


def source_dir_name(source_id: str) -> str:
    """A directory name for a source id (percent-quoted; never ``.``/``..`` or hidden)."""
    quoted = quote(source_id, safe="-_+=@,.")
    return "%2E" + quoted[1:] if quoted.startswith(".") else quoted


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
    totals, parts = check_operands(check)
    cells = []
    for fact in result.facts:
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
            and 0 <= fact.grid_row < len(result.grids[grid])
            and 0 <= fact.grid_col < len(result.grids[grid][fact.grid_row])
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


def document_report(info: DocumentInfo, result: DocumentResult, extractor_version: str) -> dict[str, Any]:
    """The JSON-ready validation content of one document."""
    year, year_source = effective_year(info, result)
    grids = _grid_index(result)
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
        },
        "failed_checks": failed,
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
    for n, check in enumerate(doc["failed_checks"]):
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
                mark["anchors"].append(f"d{doc['_n']}-c{n}")
    return marks


def render_source_html(report: dict[str, Any]) -> str:
    """The HTML page of one source/year report (self-contained, inline CSS, autoescaped)."""
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
        unlocated = sum(1 for c in doc["failed_checks"] for cell in c["cells"] if cell["grid"] is None)
        docs.append({**doc, "rendered_tables": tables, "unlocated_cells": unlocated})
    return _ENV.get_template("source_report.html.j2").render(report=report, documents=docs)


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1, allow_nan=True) + "\n").encode("utf-8")


def write_validation_reports(data_dir: Path | str, items: Iterable[PublishItem]) -> list[Path]:
    """Write ``validation/<source_id>/<year>.json`` and ``.html`` per source/year, then the index.

    ``items`` are what ``publish`` takes (staged paths or ``(info, result, extractor_version)``).
    Items are streamed: a source's reports are written when the next source starts, so memory stays
    bounded for any run size (a source/year met again later in the same call is merged, not lost).
    Returns the paths of the files written or confirmed (json, html per source/year, then the index).
    """
    vdir = validation_dir(data_dir)
    written: dict[tuple[str, int], tuple[Path, Path]] = {}
    pending: dict[tuple[str, int], list[dict[str, Any]]] = {}
    seen: set[tuple[str, str]] = set()
    current: str | None = None
    with file_lock(vdir / ".lock"):
        for item in items:
            info, result, version = resolve_item(item)
            if (info.source_id, info.document_sha256) in seen:
                continue
            seen.add((info.source_id, info.document_sha256))
            if current is not None and info.source_id != current:
                _flush(vdir, pending, written)
            current = info.source_id
            doc = document_report(info, result, version)
            pending.setdefault((info.source_id, doc["year"]), []).append(doc)
        _flush(vdir, pending, written)
        paths = [p for key in sorted(written) for p in written[key]]
        paths.append(_write_index_locked(vdir))
    return paths


def _flush(
    vdir: Path,
    pending: dict[tuple[str, int], list[dict[str, Any]]],
    written: dict[tuple[str, int], tuple[Path, Path]],
) -> None:
    """Write the pending source/year reports (merging with one this call already wrote)."""
    for (source_id, year), docs in sorted(pending.items()):
        base = vdir / source_dir_name(source_id) / year_file_stem(year)
        json_path, html_path = base.with_suffix(".json"), base.with_suffix(".html")
        if (source_id, year) in written:
            earlier = json.loads(json_path.read_text(encoding="utf-8"))["documents"]
            have = {d["document_sha256"] for d in docs}
            docs = docs + [d for d in earlier if d["document_sha256"] not in have]
        docs.sort(key=lambda d: d["document_sha256"])
        report = {
            "validation_format": VALIDATION_FORMAT,
            "source_id": source_id,
            "year": year,
            "status": _worst_status(d["status"] for d in docs),
            "failed_checks": sum(d["counts"]["failed"] for d in docs),
            "documents": docs,
        }
        write_if_changed(json_path, _dumps(report))
        write_if_changed(html_path, render_source_html(report).encode("utf-8"))
        written[(source_id, year)] = (json_path, html_path)
    pending.clear()


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
        "by_status": {s: n for s in _STATUS_RANK if (n := sum(1 for e in entries if e["status"] == s))},
    }
    write_if_changed(vdir / "index.json", _dumps({"validation_format": VALIDATION_FORMAT, "entries": entries}))
    index = vdir / "index.html"
    write_if_changed(index, _ENV.get_template("index.html.j2").render(entries=entries, totals=totals).encode("utf-8"))
    return index
