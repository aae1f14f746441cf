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

Files: every affected partition is rewritten whole (``year=Y/part-0.parquet`` for each of the four
tables), written to ``warehouse/_tmp/`` first and moved into place with ``os.replace``; files whose
bytes would not change are not touched. A cross-process lock serialises publishers. Each file is
atomic; the four tables of a partition are replaced one after the other within milliseconds, with
``reports`` last (and removed first), so a crash in between leaves every table whole and never a
report row whose facts are missing; re-running the same publish completes it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from schemas.records import DocumentResult
from warehouse._io import commit_temp, file_lock, write_temp
from warehouse.documents import DocumentInfo, effective_year
from warehouse.parquet import (
    RowBuffer,
    document_rows,
    partition_path,
    read_partition,
    sort_rows,
    table_bytes,
    warehouse_dir,
)
from warehouse.schema import TABLE_NAMES, arrow_schema
from warehouse.staging import StagedDocument, load_staged

PublishItem = Path | str | StagedDocument | tuple[DocumentInfo, DocumentResult, str]

_SEP = "\x1f"
#: reports is the manifest: it is replaced last and removed first, so a document listed in reports
#: has its facts, checks and unmapped rows in place.
_COMMIT_ORDER = ("facts", "checks", "unmapped", "reports")
_REMOVE_ORDER = tuple(reversed(_COMMIT_ORDER))


@dataclass(slots=True)
class PublishSummary:
    """What one publish did; ``written``/``unchanged``/``removed`` are final file paths."""

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
    See the module docstring for the replacement rule. Same input → byte-identical files.
    """
    data_dir = Path(data_dir)
    year_filter = None if years is None else {int(y) for y in years}
    if replace and year_filter is None:
        raise ValueError("publish(replace=True) needs years: it rebuilds whole year partitions")
    summary = PublishSummary()

    buffers = {name: RowBuffer(name) for name in TABLE_NAMES}
    chosen: dict[tuple[str, str], tuple[str, int]] = {}  # (source, sha) -> (version, ordinal)
    doc_year: dict[int, int] = {}
    ordinal = 0
    for item in items:
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
        rows = document_rows(info, result, version)
        for name in TABLE_NAMES:
            buffers[name].add(rows[name], ordinal)
        ordinal += 1

    keep = {o for _, o in chosen.values()}
    summary.documents = len(keep)
    incoming_docs = {f"{s}{_SEP}{sha}" for (s, sha) in chosen}
    incoming_source_years: dict[int, set[str]] = {}
    for (source, _sha), (_v, o) in chosen.items():
        incoming_source_years.setdefault(doc_year[o], set()).add(source)

    wdir = warehouse_dir(data_dir)
    tmp_dir = wdir / "_tmp"
    with file_lock(wdir / ".publish.lock"):
        # Temporary files left by a crashed publisher: we hold the lock, so none is in use.
        shutil.rmtree(tmp_dir, ignore_errors=True)
        affected = set(incoming_source_years) | _years_holding(data_dir, incoming_docs) | _orphan_years(data_dir)
        if replace and year_filter is not None:
            affected |= year_filter & set(_existing_years(data_dir))
        summary.years = sorted(affected)
        removed_docs: set[str] = set()
        for year in summary.years:
            _publish_year(
                data_dir,
                year,
                buffers,
                {o for o in keep if doc_year[o] == year},
                incoming_docs,
                incoming_source_years.get(year, set()),
                replace_all=replace and year_filter is not None and year in year_filter,
                summary=summary,
                removed_docs=removed_docs,
                tmp_dir=tmp_dir,
            )
        summary.replaced_documents = len(removed_docs - incoming_docs)
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return summary


def _publish_year(
    data_dir: Path,
    year: int,
    buffers: dict[str, RowBuffer],
    keep: set[int],
    incoming_docs: set[str],
    incoming_sources: set[str],
    *,
    replace_all: bool,
    summary: PublishSummary,
    removed_docs: set[str],
    tmp_dir: Path,
) -> None:
    """Merge one year partition of all four tables, then move the new files into place."""
    docs_value_set = pa.array(sorted(incoming_docs), pa.string())
    sources_value_set = pa.array(sorted(incoming_sources), pa.string())
    merged: dict[str, pa.Table] = {}
    for name in TABLE_NAMES:
        path = partition_path(data_dir, name, year)
        parts: list[pa.Table] = []
        if path.is_file() and not replace_all:
            old = read_partition(path, name)
            drop = pc.or_(
                pc.is_in(_doc_keys(old), value_set=docs_value_set),
                pc.is_in(old.column("source_id"), value_set=sources_value_set),
            )
            if name == "reports":
                removed_docs.update(_doc_keys(old.filter(drop)).to_pylist())
            parts.append(old.filter(pc.invert(drop)))
        elif path.is_file() and name == "reports":
            old = read_partition(path, name, ["source_id", "document_sha256"])
            removed_docs.update(_doc_keys(old).to_pylist())
        if keep:
            new = buffers[name].table(keep)
            summary.new_rows[name] = summary.new_rows.get(name, 0) + new.num_rows
            parts.append(new)
        merged[name] = sort_rows(pa.concat_tables(parts), name) if parts else arrow_schema(name).empty_table()

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
        return

    pending: list[tuple[Path, Path]] = []
    for name in _COMMIT_ORDER:
        table = merged[name]
        summary.rows[name] = summary.rows.get(name, 0) + table.num_rows
        data = table_bytes(table, name)
        final = partition_path(data_dir, name, year)
        if final.is_file() and final.stat().st_size == len(data) and final.read_bytes() == data:
            summary.unchanged.append(final)
            continue
        pending.append((write_temp(final, data, tmp_dir), final))
    for tmp, final in pending:
        commit_temp(tmp, final)
        summary.written.append(final)
