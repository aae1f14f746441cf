"""Writing the reports: per source/year JSON, HTML and page crops, then the index, the harvest and history files.

A source/year file is replaced whole by the next run that publishes that source/year (the same
rule as the warehouse). ``index.html`` is rebuilt from the files on disk after every write, so
runs over different sources accumulate. Report files hold no time: the same input gives the same
bytes (``history.json``/``history.js`` hold the run times, and change only when a run changed a report).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow.dataset as ds

from xxgk.warehouse.documents import effective_year
from xxgk.warehouse.files import file_lock, write_if_changed
from xxgk.warehouse.layout import VALIDATION_LOCK, validation_dir
from xxgk.warehouse.parquet import partitioning, warehouse_dir
from xxgk.warehouse.publish import PublishItem, resolve_item
from xxgk.warehouse.schema import dataset_schema
from xxgk.warehouse.validation.crops import render_crops, wanted_crops
from xxgk.warehouse.validation.cross_year import (
    CrossYearChecks,
    cross_counts,
    cross_entries,
    published_facts,
    without_cells,
)
from xxgk.warehouse.validation.documents import document_report, source_report
from xxgk.warehouse.validation.index import (
    UNREAD,
    dumps,
    merge_harvest,
    record_run,
    write_index_locked,
)
from xxgk.warehouse.validation.naming import VALIDATION_FORMAT, crops_dir_name, source_dir_name, year_file_stem
from xxgk.warehouse.validation.render import render_source_html
from xxgk.warehouse.validation.trend import Trends


class _Run:
    """What one call wrote, for the history: source/years new, changed, confirmed, unreadable, removed."""

    def __init__(self) -> None:
        self.new: list[str] = []
        self.changed: list[str] = []
        self.unchanged: list[str] = []
        self.failed: list[str] = []
        self.removed: list[str] = []

    def record(self, vdir: Path) -> bool:
        return record_run(
            vdir, new=self.new, changed=self.changed, unchanged=self.unchanged, failed=self.failed, removed=self.removed
        )


def _resolve_document(path: str | None, documents_root: Path) -> Path | None:
    if not path:
        return None
    p = Path(path)
    for candidate in [p] if p.is_absolute() else [documents_root / p, p]:
        if candidate.is_file():
            return candidate
    return None


def _add_crops(doc: dict[str, Any], documents_root: Path, folder: str) -> dict[str, bytes]:
    """Crops of one document entry's failed and ambiguous cells (empty when none can be made)."""
    if not wanted_crops(doc):
        return {}
    source = _resolve_document(doc.get("path"), documents_root)
    if source is None:
        return {}
    return render_crops(doc, source.read_bytes(), folder)


def write_validation_reports(
    data_dir: Path | str,
    items: Iterable[PublishItem],
    *,
    documents_root: Path | str | None = None,
    harvest_file: Path | str | None = None,
    prune: bool = False,
) -> list[Path]:
    """Write ``validation/<source_id>/<year>.json`` and ``.html`` per source/year, then the index.

    ``items`` are what ``publish`` takes (staged paths or ``(info, result, extractor_version)``).
    Items are streamed: a source's reports are written when the next source starts, so memory stays
    bounded for any run size (a source/year met again later in the same call is merged, not lost).
    Cross-year checks come from the warehouse (call after ``publish``); the reports of other years
    of the sources written are then refreshed where their cross-year checks changed.
    ``documents_root``: the data directory documents' relative paths start from (default
    ``data_dir``; differs when ``data_dir`` is a publish shadow), for the crops and the links to the
    archived files. ``harvest_file``: ``<archive>/harvest.json``, whose sources' outcomes the index
    shows. ``prune``: also remove reports of source/years the warehouse no longer has.
    Returns the paths of the files written or confirmed (json, html per source/year, then the index).
    """
    vdir = validation_dir(data_dir)
    root = Path(documents_root) if documents_root is not None else Path(data_dir)
    cross = CrossYearChecks(data_dir)
    trends = Trends(data_dir)
    run = _Run()
    written: dict[tuple[str, int], tuple[Path, Path]] = {}
    pending: dict[tuple[str, int], list[dict[str, Any]]] = {}
    seen: set[tuple[str, str]] = set()
    current: str | None = None
    current_rows: dict[tuple[int, str], list[dict[str, Any]]] = {}
    with file_lock(Path(data_dir) / VALIDATION_LOCK):
        for item in items:
            info, result, version = resolve_item(item)
            if (info.source_id, info.document_sha256) in seen:
                continue
            seen.add((info.source_id, info.document_sha256))
            if info.source_id != current:
                if current is not None:
                    _flush(vdir, pending, written, root, run, trends)
                current = info.source_id
                current_rows = cross.for_source(current)
            year, _ = effective_year(info, result)
            rows = current_rows.get((year, info.document_sha256), [])
            doc = document_report(info, result, version, rows, documents_root=root)
            pending.setdefault((info.source_id, doc["year"]), []).append(doc)
        _flush(vdir, pending, written, root, run, trends)
        paths = [p for key in sorted(written) for p in written[key]]
        pruned: set[str] = set()
        if prune:
            run.removed, pruned = _prune_locked(Path(data_dir), vdir)
        for source in sorted({s for s, _ in written} | pruned):
            years = {y for s, y in written if s == source}
            _refresh_source(Path(data_dir), vdir, source, years, cross, trends)
        merge_harvest(vdir, Path(harvest_file) if harvest_file is not None else None)
        run.record(vdir)
        paths.append(write_index_locked(vdir))
    return paths


def _write_report(
    vdir: Path, report: dict[str, Any], documents_root: Path | None = None, run: _Run | None = None
) -> tuple[Path, Path]:
    """One source/year's JSON, HTML and crops (crops only when ``documents_root`` is given)."""
    directory = vdir / source_dir_name(report["source_id"])
    base = directory / year_file_stem(report["year"])
    json_path, html_path = base.with_suffix(".json"), base.with_suffix(".html")
    crops_dir = directory / crops_dir_name(report["year"])
    if documents_root is not None:
        crops: dict[str, bytes] = {}
        for doc in report["documents"]:
            crops.update(_add_crops(doc, documents_root, crops_dir.name))
        _write_crops(crops_dir, crops)
    existed = json_path.is_file()
    changed = write_if_changed(json_path, dumps(report))
    write_if_changed(html_path, render_source_html(report).encode("utf-8"))
    if run is not None:
        key = f"{report['source_id']}/{year_file_stem(report['year'])}"
        (run.changed if changed and existed else run.new if changed else run.unchanged).append(key)
        if report["status"] in UNREAD:
            run.failed.append(key)
    return json_path, html_path


def _write_crops(crops_dir: Path, crops: dict[str, bytes]) -> None:
    """The crops of one source/year: written when new or changed, stale ones removed."""
    if crops:
        crops_dir.mkdir(parents=True, exist_ok=True)
        for name, data in sorted(crops.items()):
            write_if_changed(crops_dir / name, data)
    if crops_dir.is_dir():
        for old in crops_dir.iterdir():
            if old.name not in crops:
                old.unlink()
        if not crops:
            crops_dir.rmdir()


def _flush(
    vdir: Path,
    pending: dict[tuple[str, int], list[dict[str, Any]]],
    written: dict[tuple[str, int], tuple[Path, Path]],
    documents_root: Path,
    run: _Run,
    trends: Trends,
) -> None:
    """Write the pending source/year reports (merging with one this call already wrote)."""
    for (source_id, year), docs in sorted(pending.items()):
        if (source_id, year) in written:
            earlier = json.loads(written[(source_id, year)][0].read_text(encoding="utf-8"))["documents"]
            have = {d["document_sha256"] for d in docs}
            docs = docs + [d for d in earlier if d["document_sha256"] not in have]
            key = f"{source_id}/{year_file_stem(year)}"
            for bucket in (run.new, run.changed, run.unchanged, run.failed):
                if key in bucket:
                    bucket.remove(key)
        report = source_report(source_id, year, docs, trends.for_source(source_id))
        written[(source_id, year)] = _write_report(vdir, report, documents_root, run)
    pending.clear()


def _refresh_source(
    data_dir: Path, vdir: Path, source_id: str, written_years: set[int], cross: CrossYearChecks, trends: Trends
) -> None:
    """Bring the cross-year section and the trend of a source's other reports on disk up to date with the warehouse.

    Republishing year N changes the cross-year checks of N+1 and the trend of every year (whose
    reports this call did not write); a report is rewritten only when its cross-year checks or
    its trend differ from the warehouse's.
    """
    directory = vdir / source_dir_name(source_id)
    if not directory.is_dir():
        return
    rows = cross.for_source(source_id)
    trend = trends.for_source(source_id)
    for path in sorted(directory.glob("*.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        if report.get("validation_format") != VALIDATION_FORMAT or report["year"] in written_years:
            continue
        year = report["year"]
        changed = report.get("trend") != trend
        for doc in report["documents"]:
            wanted = rows.get((year, doc["document_sha256"]), [])
            if without_cells(cross_entries(wanted, None, [], {})) == without_cells(doc.get("cross_year_checks", [])):
                continue
            tables = [t["rows"] for t in doc["tables"]]
            grids: dict[str, int] = {}
            for i, t in enumerate(doc["tables"]):
                grids.setdefault(t["locator"], i)
            facts = published_facts(data_dir, source_id, year, doc["document_sha256"], wanted)
            doc["cross_year_checks"] = cross_entries(wanted, facts, tables, grids)
            doc["counts"].update(cross_counts(doc["cross_year_checks"]))
            changed = True
        if changed:
            _write_report(vdir, source_report(source_id, year, report["documents"], trend))


def _published_pairs(data_dir: Path) -> set[tuple[str, str]]:
    root = warehouse_dir(data_dir) / "reports"
    if not root.is_dir():
        return set()
    table = ds.dataset(root, format="parquet", partitioning=partitioning(), schema=dataset_schema("reports")).to_table(
        columns=["source_id", "year"]
    )
    pairs = zip(table.column("source_id").to_pylist(), table.column("year").to_pylist(), strict=True)
    return {(source_dir_name(s), year_file_stem(y)) for s, y in set(pairs)}


def _prune_locked(data_dir: Path, vdir: Path) -> tuple[list[str], set[str]]:
    """Remove the reports (and crops) of source/years not in the warehouse; their ``source/year`` keys and sources."""
    published = _published_pairs(data_dir)
    removed: list[str] = []
    sources: set[str] = set()
    for path in sorted(vdir.glob("*/*")):
        is_report = path.suffix in (".json", ".html") and (path.stem.isdigit() or path.stem == "unknown")
        if is_report and path.is_file() and (path.parent.name, path.stem) not in published:
            if path.suffix == ".json":
                try:
                    source = str(json.loads(path.read_text(encoding="utf-8"))["source_id"])
                except (OSError, ValueError, KeyError):
                    source = unquote(path.parent.name)
                removed.append(f"{source}/{path.stem}")
                sources.add(source)
            path.unlink()
            crops = path.parent / f"{path.stem}-crops"
            if crops.is_dir():
                shutil.rmtree(crops)
    for directory in sorted({p.parent for p in vdir.glob("*/*")} | set(vdir.glob("*/"))):
        if directory.is_dir() and directory != vdir and not any(directory.iterdir()):
            directory.rmdir()
    return removed, sources


def prune_validation_reports(data_dir: Path | str) -> list[Path]:
    """Remove the reports of source/years no longer in the warehouse, then rebuild the index.

    A source/year leaves the warehouse when a backfill rebuilds its year without it, or when its
    only document is now filed under another year (its year read differently). Its report would
    otherwise stay on disk and in the index, describing rows no reader of the tables can find.
    Call after ``publish``. Returns the report files removed.
    """
    vdir = validation_dir(data_dir)
    if not vdir.is_dir():
        return []
    with file_lock(Path(data_dir) / VALIDATION_LOCK):
        before = set(vdir.glob("*/*.*"))
        removed, sources = _prune_locked(Path(data_dir), vdir)
        gone = sorted(p for p in before if not p.exists())
        cross, trends = CrossYearChecks(data_dir), Trends(data_dir)
        for source in sorted(sources):  # the source's other years lose the removed one from their trend
            _refresh_source(Path(data_dir), vdir, source, set(), cross, trends)
        if removed:
            record_run(vdir, new=[], changed=[], unchanged=[], failed=[], removed=removed)
            write_index_locked(vdir)
    return gone
