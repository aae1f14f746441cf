"""What the index page shows: a row per source/year, harvest outcomes, counts, the run history.

Everything is rebuilt from files in ``validation/``: the source/year JSON reports, ``harvest.json``
(per source, its last harvest as ``<archive>/harvest.json`` recorded it: status, reason, problems)
and ``history.json`` (what each publishing run changed). The index itself holds no time, so the
same reports give the same bytes; the history, which is about time, lives in ``history.json`` and
``history.js`` (loaded by the page), and gains an entry only when a run changed something.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from xxgk.warehouse.files import file_lock, write_if_changed
from xxgk.warehouse.layout import VALIDATION_LOCK, validation_dir
from xxgk.warehouse.validation.documents import (
    CONSISTENCY_RANK,
    CONSISTENT,
    INCONSISTENT,
    STATUS_RANK,
    doc_consistency,
    doc_warnings,
    worst,
)
from xxgk.warehouse.validation.naming import (
    HARVEST_JSON,
    HISTORY_JS,
    HISTORY_JSON,
    VALIDATION_FORMAT,
    year_file_stem,
)

#: Runs the history keeps, and source/years named per category in one entry.
HISTORY_RUNS = 30
HISTORY_NAMES = 40
#: Statuses meaning the document could not be read at all.
UNREAD = ("failed", "needs_ocr", "needs_converter")
#: Harvest statuses that are not a problem.
HARVEST_FINE = ("ok",)
#: Fields of a harvest outcome the index keeps: the ones stable across an unchanged night.
_PROBLEM_FIELDS = ("kind", "url", "detail", "status", "year")


def dumps(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1, allow_nan=True) + "\n").encode("utf-8")


def verdict(status: str, consistency: str, warnings: int) -> str:
    """The colour class of a row: bad (red), warn (amber), good (green), none (grey).

    Green only for a report read and consistent with no failed soft check; a failed hard check is
    always red, whatever the extraction status says.
    """
    if consistency == INCONSISTENT or status in UNREAD:
        return "bad"
    if status == "partial" or (warnings and consistency == CONSISTENT):
        return "warn"
    if consistency == CONSISTENT and status == "ok":
        return "good"
    return "none"


# --------------------------------------------------------------------------- harvest outcomes


def _harvest_entry(source: dict[str, Any]) -> dict[str, Any]:
    problems = [{k: p.get(k) for k in _PROBLEM_FIELDS} for p in source.get("problems") or [] if isinstance(p, dict)]
    return {
        "source_id": str(source.get("source_id", "")),
        "publisher": str(source.get("publisher") or ""),
        "status": str(source.get("status") or ""),
        "reason": str(source.get("reason") or ""),
        "reports": source.get("reports"),
        "problems": problems,
    }


def load_harvest(vdir: Path) -> dict[str, dict[str, Any]]:
    """Per source id, the harvest outcome the index shows (``validation/harvest.json``)."""
    path = vdir / HARVEST_JSON
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {s["source_id"]: s for s in data.get("sources", []) if isinstance(s, dict) and s.get("source_id")}


def merge_harvest(vdir: Path, harvest_file: Path | None) -> bool:
    """Take the sources of ``<archive>/harvest.json`` into ``validation/harvest.json``; True when it changed.

    Sources the harvest file does not name keep their earlier outcome: a run over a few sources
    does not wipe the others' problems from the index.
    """
    if harvest_file is None or not harvest_file.is_file():
        return False
    try:
        record = json.loads(harvest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    known = load_harvest(vdir)
    for source in record.get("sources", []) if isinstance(record, dict) else []:
        if isinstance(source, dict) and source.get("source_id"):
            entry = _harvest_entry(source)
            known[entry["source_id"]] = entry
    data = {"validation_format": VALIDATION_FORMAT, "sources": [known[k] for k in sorted(known)]}
    vdir.mkdir(parents=True, exist_ok=True)
    return write_if_changed(vdir / HARVEST_JSON, dumps(data))


# --------------------------------------------------------------------------- history


def load_history(vdir: Path) -> dict[str, Any]:
    path = vdir / HISTORY_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        data = {}
    return {"runs": list(data.get("runs", [])), "updated": dict(data.get("updated", {}))}


def record_run(
    vdir: Path,
    *,
    new: list[str],
    changed: list[str],
    unchanged: list[str],
    failed: list[str],
    removed: list[str],
    now: datetime | None = None,
) -> bool:
    """Add what a publishing run did to the history; nothing when it changed nothing (returns False).

    ``new``/``changed``/``unchanged``/``removed``: source/years (``source_id/year``) whose report
    the run wrote for the first time, rewrote with other content, confirmed, or removed;
    ``failed``: those of the run whose documents could not be read.
    """
    if not (new or changed or removed):
        return False
    at = (now or datetime.now(UTC)).replace(microsecond=0).isoformat()
    history = load_history(vdir)
    entry = {
        "at": at,
        "counts": {
            "new": len(new),
            "changed": len(changed),
            "unchanged": len(unchanged),
            "failed": len(failed),
            "removed": len(removed),
        },
        "new": sorted(new)[:HISTORY_NAMES],
        "changed": sorted(changed)[:HISTORY_NAMES],
        "failed": sorted(failed)[:HISTORY_NAMES],
        "removed": sorted(removed)[:HISTORY_NAMES],
    }
    history["runs"] = [*history["runs"], entry][-HISTORY_RUNS:]
    for key in (*new, *changed):
        history["updated"][key] = at
    for key in removed:
        history["updated"].pop(key, None)
    history["updated"] = dict(sorted(history["updated"].items()))
    vdir.mkdir(parents=True, exist_ok=True)
    write_if_changed(vdir / HISTORY_JSON, dumps(history))
    script = "window.XXGK_HISTORY = " + json.dumps(history, ensure_ascii=True, separators=(",", ":")) + ";\n"
    write_if_changed(vdir / HISTORY_JS, script.encode("ascii"))
    return True


# --------------------------------------------------------------------------- index rows


def _entry(path: Path, report: dict[str, Any], harvest: dict[str, dict[str, Any]]) -> dict[str, Any]:
    docs = report["documents"]
    status = report["status"]
    consistency = report.get("consistency") or worst((doc_consistency(d) for d in docs), CONSISTENCY_RANK)
    warnings = sum(doc_warnings(d) for d in docs)
    fetched = sorted(d["fetched_at"] for d in docs if d.get("fetched_at"))
    source_harvest = harvest.get(report["source_id"], {})
    year_problems = [p for p in source_harvest.get("problems", []) if p.get("year") in (None, report["year"])]
    return {
        "source_id": report["source_id"],
        "year": report["year"],
        "year_label": year_file_stem(report["year"]),
        "publisher": next((d["publisher"] for d in docs if d["publisher"]), ""),
        "status": status,
        "consistency": consistency,
        "verdict": verdict(status, consistency, warnings),
        "failed_checks": report["failed_checks"],
        "warnings": warnings,
        "not_assessable": sum(d["counts"]["not_assessable"] for d in docs),
        "unmapped": sum(d["counts"]["unmapped"] for d in docs),
        "cells": sum(d["counts"]["facts"] for d in docs),
        "documents": len(docs),
        "formats": sorted({d["format"] for d in docs if d.get("format")}),
        "fetched": fetched[-1][:10] if fetched else "",
        "reasons": sorted({d["reason"] for d in docs if d["reason"]}),
        "harvest": source_harvest.get("status", ""),
        "harvest_problems": len(year_problems),
        "href": f"{quote(path.parent.name)}/{quote(path.stem)}.html",
    }


def _harvest_only_entry(source: dict[str, Any]) -> dict[str, Any]:
    """The row of a source that has no report at all: what its harvest said."""
    return {
        "source_id": source["source_id"],
        "year": None,
        "year_label": "",
        "publisher": source.get("publisher", ""),
        "status": "no_document",
        "consistency": "",
        "verdict": "bad" if source.get("status") not in HARVEST_FINE else "none",
        "failed_checks": 0,
        "warnings": 0,
        "not_assessable": 0,
        "unmapped": 0,
        "cells": 0,
        "documents": 0,
        "formats": [],
        "fetched": "",
        "reasons": [source["reason"]] if source.get("reason") else [],
        "harvest": source.get("status", ""),
        "harvest_problems": len(source.get("problems", [])),
        "href": "",
    }


def index_model(vdir: Path) -> dict[str, Any]:
    """Rows, harvest outcomes, totals and chart data of the index, from the files in ``vdir``."""
    harvest = load_harvest(vdir)
    entries = []
    for path in sorted(vdir.glob("*/*.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        if report.get("validation_format") != VALIDATION_FORMAT:
            continue
        entries.append(_entry(path, report, harvest))
    entries.sort(key=lambda e: (e["source_id"], e["year"]))
    with_reports = {e["source_id"] for e in entries}
    entries += [_harvest_only_entry(s) for k, s in sorted(harvest.items()) if k not in with_reports]
    reports = [e for e in entries if e["year"] is not None]
    troubled = [s for _, s in sorted(harvest.items()) if s.get("status") not in HARVEST_FINE or s.get("problems")]
    totals = {
        "sources": len({e["source_id"] for e in entries}),
        "reports": len(reports),
        "inconsistent": sum(1 for e in reports if e["consistency"] == INCONSISTENT),
        "with_warnings": sum(1 for e in reports if e["warnings"]),
        "good": sum(1 for e in reports if e["verdict"] == "good"),
        "unread": sum(1 for e in reports if e["status"] in UNREAD),
        "failed_checks": sum(e["failed_checks"] for e in reports),
        "by_status": {s: n for s in STATUS_RANK if (n := sum(1 for e in reports if e["status"] == s))},
        "no_document": len(entries) - len(reports),
        "harvest_troubled": len(troubled),
        "harvest_problems": sum(len(s.get("problems", [])) for s in troubled),
    }
    return {"entries": entries, "totals": totals, "harvest": troubled}


# --------------------------------------------------------------------------- the index files
# (here, not in ``writer``: a night with nothing to publish refreshes the harvest outcomes and
# the index without importing the Parquet reading of the reports: pyarrow.dataset and pandas)


def refresh_harvest(data_dir: Path | str, harvest_file: Path | str, *, locked: bool = False) -> bool:
    """Take a run's harvest outcomes into the index when nothing else is published; True when it changed.

    ``locked``: the caller already holds the validation lock (``flows.transaction.publish_lock``);
    taking it again from the same process would wait for ever.
    """
    vdir = validation_dir(data_dir)
    if not Path(harvest_file).is_file():
        return False
    with contextlib.nullcontext() if locked else file_lock(Path(data_dir) / VALIDATION_LOCK):
        if not merge_harvest(vdir, Path(harvest_file)):
            return False
        write_index_locked(vdir)
    return True


def write_index(data_dir: Path | str) -> Path:
    """Rebuild ``validation/index.html`` and ``index.json`` from the source reports on disk."""
    vdir = validation_dir(data_dir)
    with file_lock(Path(data_dir) / VALIDATION_LOCK):
        return write_index_locked(vdir)


def write_index_locked(vdir: Path) -> Path:
    """``write_index`` for a caller that holds the validation lock (``VALIDATION_LOCK``)."""
    from xxgk.warehouse.validation.render import render_index_html

    model = index_model(vdir)
    write_if_changed(vdir / "index.json", dumps({"validation_format": VALIDATION_FORMAT, **model}))
    index = vdir / "index.html"
    write_if_changed(index, render_index_html(model).encode("utf-8"))
    return index
