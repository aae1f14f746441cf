"""Publish staged documents into the year-partitioned Parquet warehouse, atomically and idempotently.

Replacement rule (what a re-run does to rows already published):

* The unit of replacement is the **source/year**: publishing any document of source S for year Y
  removes every row previously published for (S, Y) and puts in this run's document(s) of (S, Y).
  So re-publishing a document replaces its rows (no duplicates), and a source whose report changed
  (new bytes, new sha256) ends up with only the new document.
* A re-published document (same source and sha256) is also removed from any *other* year partition
  it sat in before (e.g. its year was read differently by an older extractor), so it is never
  counted twice.
* Every other row is kept: a run over one source never erases other sources of the same year.
* ``replace=True`` (with ``years``) rebuilds those year partitions from this run alone: a full backfill
  of a year, which also drops documents that no longer exist.
* Several documents of one source/year in one run are all kept (e.g. a page and its PDF attachment).
  The same document (source + sha256) given twice is published once: the item with the greatest
  extractor version wins, first seen on a tie, and the summary says so.

Documents whose year is known neither to the registry nor from the document go to ``year=-1``
(``UNKNOWN_YEAR``), so ``year`` stays an integer in every reader; filter ``year >= 0`` for real years.

Cross-year checks (``checks`` rows of scope ``cross_year``, see ``warehouse.cross_year``): every
source/year whose rows this run changed (documents added, replaced or removed) is *touched*; for
each touched (S, Y) the pairs (Y-1, Y) and (Y, Y+1) are recomputed from the facts as published,
their rows stored in the later year's partition. So republishing year Y also refreshes the checks of
(S, Y+1), and a neighbour that disappears takes its checks with it. Cross-year rows of untouched
sources are kept as they are. Years are processed in ascending order, so the earlier year of a pair
is always final on disk when the pair is computed; a year that only needs its cross-year rows
refreshed gets only its ``checks`` file rewritten.

Memory: documents are streamed into a spool on disk (``warehouse.parquet.Spool``), one Arrow IPC
file per table and year, with string columns dictionary-encoded; then one year at a time is merged
with its old partition (read dictionary-encoded too), sorted and written one row group at a time.
Peak memory is about one year's rows in compact form, however many years a run covers.

Files: every affected partition is rewritten whole (``year=Y/part-0.parquet`` for each of the four
tables), written to ``warehouse/_tmp/`` first and moved into place with ``os.replace``; files whose
bytes would not change are not touched. A cross-process lock serialises publishers. Each file is
atomic; the four tables of a partition are replaced one after the other within milliseconds, with
``reports`` last (and removed first), so a crash in between leaves every table whole and never a
report row whose facts are missing; re-running the same publish completes it (a crash between
two years can also leave the later year's cross-year rows stale until then). The lock is held for
the whole run, from reading the first staged document to the last rename.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from xxgk.schemas.records import FAIL, DocumentResult
from xxgk.warehouse.copies import mark_copies
from xxgk.warehouse.cross_year import (
    REPORT_COLUMNS,
    continuity_facts,
    cross_year_rows,
    read_continuity_facts,
    read_reports,
)
from xxgk.warehouse.documents import DocumentInfo, effective_year
from xxgk.warehouse.files import commit_temp, file_lock, write_temp
from xxgk.warehouse.keys import keys_table
from xxgk.warehouse.layout import WAREHOUSE_LOCK
from xxgk.warehouse.parquet import (
    PART_FILE,
    SCOPE_CROSS_YEAR,
    Spool,
    compact_schema,
    document_parts,
    isin,
    partition_path,
    read_partition,
    sort_indices,
    table_bytes,
    warehouse_dir,
)
from xxgk.warehouse.schema import TABLE_NAMES
from xxgk.warehouse.staging import StagedDocument, load_staged, load_staged_columns

PublishItem = Path | str | StagedDocument | tuple[DocumentInfo, DocumentResult, str]

_SEP = "\x1f"
#: reports is the manifest: it is replaced last and removed first, so a document listed in reports
#: has its facts, checks and unmapped rows in place.
_COMMIT_ORDER = ("facts", "checks", "unmapped", "reports")
_REMOVE_ORDER = tuple(reversed(_COMMIT_ORDER))
#: Sources whose cross-year checks are computed together (their facts become Python objects).
_CROSS_YEAR_BATCH = 500


@dataclass(slots=True)
class PublishSummary:
    """What one publish did; ``written``/``unchanged``/``removed`` are final file paths.

    ``cross_year_checks``/``cross_year_failed``: cross-year rows computed by this run (and how many
    failed); ``cross_year_years``: partitions whose cross-year rows were recomputed.
    """

    documents: int = 0
    skipped_documents: int = 0
    duplicate_documents: int = 0
    replaced_documents: int = 0
    years: list[int] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    new_rows: dict[str, int] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cross_year_checks: int = 0
    cross_year_failed: int = 0
    cross_year_years: list[int] = field(default_factory=list)
    #: staged path -> (source_id, year) of each document published from a staged file
    published: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: (source_id, year) of every source/year whose rows this run changed, removed rows included
    touched: set[tuple[str, int]] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def resolve_item(item: PublishItem) -> StagedDocument:
    """A staged path or an in-memory triple as a ``StagedDocument``."""
    if isinstance(item, (str, os.PathLike)):
        return load_staged(Path(item))
    if isinstance(item, StagedDocument):
        return item
    info, result, version = item
    return StagedDocument(info, result, version)


def _partition_years(data_dir: Path, name: str) -> set[int]:
    root = warehouse_dir(data_dir) / name
    years: set[int] = set()
    if root.is_dir():
        for p in root.iterdir():
            if p.name.startswith("year=") and (p / "part-0.parquet").is_file():
                with contextlib.suppress(ValueError):
                    years.add(int(p.name[5:]))
    return years


def _existing_years(data_dir: Path) -> list[int]:
    """Year partitions that hold published documents (the reports table lists them)."""
    return sorted(_partition_years(data_dir, "reports"))


def _orphan_years(data_dir: Path) -> set[int]:
    """Partitions of facts/checks/unmapped without a reports file (left by a crash): rewritten or removed."""
    reports = _partition_years(data_dir, "reports")
    return {y for name in TABLE_NAMES if name != "reports" for y in _partition_years(data_dir, name)} - reports


def _doc_keys(table: pa.Table) -> pa.Array:
    return pc.binary_join_element_wise(table.column("source_id"), table.column("document_sha256"), _SEP)


def _years_holding(data_dir: Path, doc_keys: set[str]) -> set[int]:
    """Partitions whose reports already hold one of these (source_id, sha256) documents."""
    found: set[int] = set()
    if not doc_keys:
        return found
    value_set = pa.array(sorted(doc_keys), pa.string())
    for year in _existing_years(data_dir):
        t = read_partition(partition_path(data_dir, "reports", year), "reports", ["source_id", "document_sha256"])
        if pc.any(pc.is_in(_doc_keys(t), value_set=value_set)).as_py():
            found.add(year)
    return found


def _drop_mask(table: pa.Table, sources: pa.Array, docs: set[tuple[str, str]]) -> pa.ChunkedArray | pa.Array:
    """Rows of ``sources``, or of one of the (source_id, sha256) ``docs``; works on dictionary columns.

    The (source, sha) pairs are matched exactly on the few rows whose sha256 is one of theirs and
    whose source is not dropped anyway (a re-published document found in another year).
    """
    by_source = isin(table.column("source_id"), sources)
    if not docs or table.num_rows == 0:
        return by_source
    shas = pa.array(sorted({sha for _, sha in docs}), pa.string())
    idx = pc.indices_nonzero(pc.and_(isin(table.column("document_sha256"), shas), pc.invert(by_source)))
    if not len(idx):
        return by_source
    mask = by_source.combine_chunks().to_numpy(zero_copy_only=False).copy()
    sub = table.select(["source_id", "document_sha256"]).take(idx).to_pylist()
    for i, r in zip(idx.to_pylist(), sub, strict=True):
        if (r["source_id"], r["document_sha256"]) in docs:
            mask[i] = True
    return pa.array(mask)


def publish(
    data_dir: Path | str,
    items: Iterable[PublishItem],
    *,
    years: Iterable[int] | None = None,
    replace: bool = False,
) -> PublishSummary:
    """Merge documents into ``data_dir/warehouse/{facts,reports,checks,unmapped}/year=YYYY/part-0.parquet``.

    ``items``: staged file paths, ``StagedDocument``s or ``(info, result, extractor_version)`` tuples.
    ``years``: only publish documents of these years (others are counted as skipped).
    ``replace``: rebuild the ``years`` partitions from this run alone (requires ``years``).
    See the module docstring for the replacement rule and the cross-year checks. Same input →
    byte-identical files.
    """
    data_dir = Path(data_dir)
    year_filter = None if years is None else {int(y) for y in years}
    if replace and year_filter is None:
        raise ValueError("publish(replace=True) needs years: it rebuilds whole year partitions")
    summary = PublishSummary()
    wdir = warehouse_dir(data_dir)
    tmp_dir = wdir / "_tmp"
    with file_lock(Path(data_dir) / WAREHOUSE_LOCK):
        # Temporary files left by a crashed publisher: we hold the lock, so none is in use.
        shutil.rmtree(tmp_dir, ignore_errors=True)
        spool = Spool(tmp_dir / ".spool.tmp")  # hidden + .tmp, like every temporary name
        try:
            chosen, doc_year, origin = _spool_items(items, spool, year_filter, summary)
        finally:
            spool.close()

        keep = {o for _, o in chosen.values()}
        summary.documents = len(keep)
        summary.published = {
            origin[o]: (source, doc_year[o]) for (source, _sha), (_v, o) in chosen.items() if o in origin
        }
        incoming_docs = set(chosen)
        incoming_source_years: dict[int, set[str]] = {}
        keep_by_year: dict[int, set[int]] = {}
        for (source, _sha), (_v, o) in chosen.items():
            incoming_source_years.setdefault(doc_year[o], set()).add(source)
            keep_by_year.setdefault(doc_year[o], set()).add(o)

        affected = (
            set(incoming_source_years)
            | _years_holding(data_dir, {f"{s}{_SEP}{sha}" for s, sha in incoming_docs})
            | _orphan_years(data_dir)
        )
        if replace and year_filter is not None:
            affected |= year_filter & set(_existing_years(data_dir))
        summary.years = sorted(affected)
        existing = set(_existing_years(data_dir))

        removed_docs: set[tuple[str, str]] = set()
        touched: dict[int, set[str]] = {}
        last: YearView | None = None  # the year processed last, for the next year's cross-year checks
        pending = set(affected)
        while pending:
            year = min(pending)
            pending.discard(year)
            if year in affected:
                touched[year], last = _publish_year(
                    data_dir,
                    year,
                    spool,
                    keep_by_year.get(year, set()),
                    incoming_docs,
                    incoming_source_years.get(year, set()),
                    touched.get(year - 1, set()),
                    last,
                    replace_all=replace and year_filter is not None and year in year_filter,
                    summary=summary,
                    removed_docs=removed_docs,
                    tmp_dir=tmp_dir,
                )
            else:
                _refresh_cross_year(
                    data_dir, year, touched.get(year - 1, set()), last, summary=summary, tmp_dir=tmp_dir
                )
                last = None
            if touched.get(year) and year > 0 and year + 1 in existing:
                pending.add(year + 1)
        summary.replaced_documents = len(removed_docs - incoming_docs)
        summary.touched = {(source, year) for year, sources in touched.items() for source in sources}
        summary.cross_year_years.sort()
        _write_keys(data_dir, summary, tmp_dir)
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return summary


def _spool_items(
    items: Iterable[PublishItem], spool: Spool, year_filter: set[int] | None, summary: PublishSummary
) -> tuple[dict[tuple[str, str], tuple[str, int]], dict[int, int], dict[int, str]]:
    """Stream every item's rows into the spool; which ordinal to keep per (source, sha), each one's year
    and, for staged files, the path it came from.

    The same document (source + sha256) given twice is kept once: the greatest extractor version
    wins, the first seen on a tie (the other's spooled rows are dropped when read back).
    """
    chosen: dict[tuple[str, str], tuple[str, int]] = {}  # (source, sha) -> (version, ordinal)
    doc_year: dict[int, int] = {}
    origin: dict[int, str] = {}
    ordinal = 0
    for item in items:
        records = None
        if isinstance(item, (str, os.PathLike)):
            (info, result, version), records = load_staged_columns(Path(item))
        else:
            info, result, version = resolve_item(item)
        year, _ = effective_year(info, result)
        if year_filter is not None and year not in year_filter:
            summary.skipped_documents += 1
            continue
        key = (info.source_id, info.document_sha256)
        previous = chosen.get(key)
        if previous is not None:
            summary.duplicate_documents += 1
            summary.warnings.append(
                f"document {info.document_sha256[:12]} of source {info.source_id} given more than once "
                f"(extractor versions {previous[0]!r} and {version!r}); publishing one"
            )
            if version <= previous[0]:
                continue
        chosen[key] = (version, ordinal)
        doc_year[ordinal] = year
        if isinstance(item, (str, os.PathLike)):
            origin[ordinal] = str(item)
        spool.add(year, document_parts(info, result, version, records), ordinal)
        ordinal += 1
    return chosen, doc_year, origin


def _concat(parts: list[pa.Table], name: str) -> pa.Table:
    return pa.concat_tables(parts) if parts else compact_schema(name).empty_table()


class YearView(NamedTuple):
    """What cross-year checks read of one year: its reports (picking columns) and its continuity facts."""

    year: int
    reports: pa.Table
    facts: pa.Table

    def of(self, sources: set[str]) -> YearView:
        """Only the rows of ``sources``."""
        return YearView(
            self.year,
            self.reports.filter(isin(self.reports.column("source_id"), sources)),
            self.facts.filter(isin(self.facts.column("source_id"), sources)),
        )


def _read_view(data_dir: Path, year: int, sources: set[str]) -> YearView:
    """A year's view for ``sources``, read from its files (the filters pushed into the scans)."""
    return YearView(
        year,
        read_reports(partition_path(data_dir, "reports", year), sources),
        read_continuity_facts(partition_path(data_dir, "facts", year), sources),
    )


def _with_cross_year(
    data_dir: Path,
    checks: pa.Table,
    sources: set[str],
    current: YearView,
    previous: YearView | None,
    summary: PublishSummary,
) -> pa.Table:
    """``checks`` of ``current.year`` with the cross-year rows of ``sources`` recomputed against the year before.

    ``previous`` is the year before as this run left it when this run processed it, else it is
    read from its files (final either way: years are processed in ascending order).
    """
    year = current.year
    if year <= 0 or not sources:  # year=-1 (unknown) has no neighbours
        return checks
    stale = pc.and_(isin(checks.column("scope"), [SCOPE_CROSS_YEAR]), isin(checks.column("source_id"), sources))
    if pc.any(stale).as_py():
        checks = checks.filter(pc.invert(stale))
    before = previous.of(sources) if previous is not None and previous.year == year - 1 else None
    if before is None:
        before = _read_view(data_dir, year - 1, sources)
    now = current.of(sources)
    summary.cross_year_years.append(year)
    both = sorted(
        sources & set(now.reports.column("source_id").to_pylist()) & set(before.reports.column("source_id").to_pylist())
    )
    cols: dict[str, list] = {f.name: [] for f in compact_schema("checks")}
    for start in range(0, len(both), _CROSS_YEAR_BATCH):  # bounded Python objects for any number of sources
        batch = set(both[start : start + _CROSS_YEAR_BATCH])
        a, b = now.of(batch), before.of(batch)
        for k, v in cross_year_rows(year, batch, a.reports, a.facts, b.reports, b.facts).items():
            cols[k].extend(v)
    if not cols["check_id"]:
        return checks
    summary.cross_year_checks += len(cols["check_id"])
    summary.cross_year_failed += sum(1 for s in cols["status"] if s == FAIL)
    return pa.concat_tables([checks, pa.Table.from_pydict(cols, schema=compact_schema("checks"))])


def _publish_year(
    data_dir: Path,
    year: int,
    spool: Spool,
    keep: set[int],
    incoming_docs: set[tuple[str, str]],
    incoming_sources: set[str],
    touched_before: set[str],
    previous: YearView | None,
    *,
    replace_all: bool,
    summary: PublishSummary,
    removed_docs: set[tuple[str, str]],
    tmp_dir: Path,
) -> tuple[set[str], YearView | None]:
    """Merge one year partition of all four tables, then move the new files into place.

    Returns the sources whose rows in this year changed (they need their cross-year checks redone)
    and the year's view for the next year's cross-year checks (None when the partition is gone).
    """
    sources_value_set = pa.array(sorted(incoming_sources), pa.string())
    touched = set(incoming_sources)
    merged: dict[str, pa.Table] = {}
    for name in TABLE_NAMES:
        path = partition_path(data_dir, name, year)
        parts: list[pa.Table] = []
        if path.is_file():
            kept, gone = _old_rows(path, name, sources_value_set, incoming_docs, replace_all=replace_all)
            if kept is not None:
                parts.append(kept)
            removed_docs.update(gone)
            touched.update(source for source, _ in gone)
        if keep:
            new = spool.table(name, year, keep)
            summary.new_rows[name] = summary.new_rows.get(name, 0) + new.num_rows
            parts.append(new)
        merged[name] = _concat(parts, name)
        del parts

    if merged["reports"].num_rows == 0:
        # No document left in this year: the partition disappears (its four files are removed,
        # reports first so no report row ever points at rows that are gone).
        for name in _REMOVE_ORDER:
            path = partition_path(data_dir, name, year)
            if path.is_file():
                os.remove(path)
                summary.removed.append(path)
            with contextlib.suppress(OSError):
                path.parent.rmdir()
        return touched, None

    merged["reports"] = mark_copies(merged["reports"], year)
    view = YearView(year, merged["reports"].select(list(REPORT_COLUMNS)), continuity_facts(merged["facts"]))
    merged["checks"] = _with_cross_year(data_dir, merged["checks"], touched | touched_before, view, previous, summary)

    pending: list[tuple[Path, Path]] = []
    for name in _COMMIT_ORDER:
        summary.rows[name] = summary.rows.get(name, 0) + merged[name].num_rows
        pending.extend(_stage_file(data_dir, name, year, merged, summary, tmp_dir))
    for tmp, final in pending:
        commit_temp(tmp, final)
        summary.written.append(final)
    pa.default_memory_pool().release_unused()  # hand this year's buffers back before the next year
    return touched, view


def _old_rows(
    path: Path, name: str, sources: pa.Array, incoming_docs: set[tuple[str, str]], *, replace_all: bool
) -> tuple[pa.Table | None, set[tuple[str, str]]]:
    """The rows of an existing partition file that stay, and the documents it loses (reports only).

    Rows of the incoming sources and of re-published documents go; with ``replace_all`` every row
    goes (only the reports file is read, to know which documents are removed).
    """
    if replace_all:
        if name != "reports":
            return None, set()
        rows = read_partition(path, name, ["source_id", "document_sha256"]).to_pylist()
        return None, {(r["source_id"], r["document_sha256"]) for r in rows}
    old = read_partition(path, name, compact=True)
    drop = _drop_mask(old, sources, incoming_docs)
    gone: set[tuple[str, str]] = set()
    if name == "reports":
        rows = old.filter(drop).select(["source_id", "document_sha256"]).to_pylist()
        gone = {(r["source_id"], r["document_sha256"]) for r in rows}
    return old.filter(pc.invert(drop)), gone


def _stage_file(
    data_dir: Path, name: str, year: int, tables: dict[str, pa.Table], summary: PublishSummary, tmp_dir: Path
) -> list[tuple[Path, Path]]:
    """Sort ``tables[name]`` and write it aside; [] when the final file already holds these exact bytes.

    The table is popped from ``tables`` so it is freed as soon as it is written.
    """
    table = tables.pop(name)
    data = table_bytes(table, name, sort_indices(table, name))
    del table
    final = partition_path(data_dir, name, year)
    if final.is_file() and final.stat().st_size == len(data) and final.read_bytes() == data:
        summary.unchanged.append(final)
        return []
    return [(write_temp(final, data, tmp_dir), final)]


def keys_path(data_dir: Path | str) -> Path:
    """``data_dir/warehouse/keys/part-0.parquet``: the keys table (not partitioned)."""
    return warehouse_dir(data_dir) / "keys" / PART_FILE


def _write_keys(data_dir: Path, summary: PublishSummary, tmp_dir: Path) -> None:
    """Write the keys table beside the others (only when its bytes change: a new model)."""
    data = table_bytes(keys_table(), "keys")
    final = keys_path(data_dir)
    if final.is_file() and final.read_bytes() == data:
        summary.unchanged.append(final)
        return
    commit_temp(write_temp(final, data, tmp_dir), final)
    summary.written.append(final)


def _refresh_cross_year(
    data_dir: Path, year: int, sources: set[str], previous: YearView | None, *, summary: PublishSummary, tmp_dir: Path
) -> None:
    """Recompute the cross-year rows of ``sources`` in a year this run does not otherwise change.

    Only its ``checks`` file is rewritten (and only if its bytes change).
    """
    reports_path = partition_path(data_dir, "reports", year)
    if year <= 0 or not sources or not reports_path.is_file():
        return
    path = partition_path(data_dir, "checks", year)
    checks = read_partition(path, "checks", compact=True) if path.is_file() else compact_schema("checks").empty_table()
    current = _read_view(data_dir, year, sources)
    tables = {"checks": _with_cross_year(data_dir, checks, sources, current, previous, summary)}
    del checks
    for tmp, final in _stage_file(data_dir, "checks", year, tables, summary, tmp_dir):
        commit_temp(tmp, final)
        summary.written.append(final)
