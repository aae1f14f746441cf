"""Harvesting inside the pipeline: the plan of a run's harvest and the work of one ``harvest_batch`` task.

Plain functions with no Prefect import (``flows.tasks`` wraps them in tasks), so tests can call
them directly. Which sources a run harvests is decided in ``flows.sources``.

A run harvests a ``HarvestPlan``: sources, the raw archive directory, the fetch settings and an
optional years filter. ``harvest_source_batch`` harvests a batch of sources (discover → fetch →
archive, a few sources at a time on threads) with the process's shared ``Fetcher`` (one per run
and process, so per-host limits hold across every source and task of the run) and turns each
fetched report into a ``DocumentJob`` read from the raw archive: the harvester's own record of
the chosen document becomes here the warehouse's ``DocumentInfo`` (``document_info_of``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from xxgk.flows.inputs import DocumentJob, InputError, portable_path
from xxgk.flows.source_records import record_sources
from xxgk.harvest import (
    HARVEST_EMPTY,
    HARVEST_FAILED,
    HARVEST_LAYOUT_CHANGED,
    ArchivedDoc,
    ChosenDocument,
    FetchConfig,
    Fetcher,
    HarvestProblem,
    RawArchive,
    Source,
    SourceHarvest,
    chosen_documents,
    harvest_sources,
)
from xxgk.harvest.revisit import REVALIDATE_DUE, RobotsMemory, staleness_bound
from xxgk.storage.files import atomic_write_bytes
from xxgk.warehouse.documents import DocumentInfo

_log = logging.getLogger("xxgk")

#: Sources harvested at once inside one ``harvest_batch`` task (threads sharing the process's
#: Fetcher; politeness is per host there, so this bounds only the run's concurrency). With 4
#: threads × 2 tasks 1,000 sources took 147 s, bound by the per-host delays. On the benchmark's
#: loopback portal, where answers take no time, every thread is runnable at once and they contend
#: for the GIL: a no-change night over 1,000 sources took 10.7-11.3 s with 48, 9.7-9.9 s with 16
#: (bench.scale). Sites that answer slowly (a first run over thousands of sources) gain from more:
#: ``$XXGK_HARVEST_THREADS`` sets it.
DEFAULT_SOURCE_THREADS = 16
HARVEST_THREADS_ENV = "XXGK_HARVEST_THREADS"


def source_threads() -> int:
    """Sources at once per harvest batch: ``$XXGK_HARVEST_THREADS`` when set (1-256), else the default."""
    raw = os.environ.get(HARVEST_THREADS_ENV, "").strip()
    if not raw:
        return DEFAULT_SOURCE_THREADS
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"${HARVEST_THREADS_ENV}={raw!r}: expected a whole number of threads (1-256)") from None
    if not 1 <= value <= 256:
        raise InputError(f"${HARVEST_THREADS_ENV}={value}: expected 1-256 threads")
    return value
#: Bounds of the sources per ``harvest_batch`` task when the plan does not set it: at least a few
#: (a task run costs ~30 ms of Prefect CPU), at most a few hundred (a task's outcome is returned,
#: logged and shown at once).
MIN_SOURCE_BATCH = 8
MAX_SOURCE_BATCH = 500
#: Harvest statuses that mean "nothing usable came from this source".
BAD_HARVEST = (HARVEST_FAILED, HARVEST_LAYOUT_CHANGED, HARVEST_EMPTY)


def archive_dir_of(data_dir: Path | str) -> Path:
    """Where the raw archive (bytes, fetch log, validator state) lives under a data directory."""
    return Path(data_dir) / "archive"


@dataclass(slots=True)
class HarvestPlan:
    """What a run harvests: sources, where to archive, how to fetch, which report years."""

    sources: list[Source]
    archive_dir: str
    fetch: FetchConfig = field(default_factory=FetchConfig)
    years: list[int] | None = None
    #: Sources per harvest task; None: ``source_batch_size`` (one task per worker, within bounds).
    batch_size: int | None = None
    threads: int = field(default_factory=source_threads)
    #: Worker processes the batches run in; None: ``flows.harvest_workers.harvest_processes``
    #: decides (processes for large runs only), 0 or 1: the flow's own process.
    processes: int | None = None
    label: str = ""
    portal: str | None = None
    #: Which known report pages and attachments are asked about again (``harvest.revisit``):
    #: ``due`` (the revisit schedule), ``all`` or ``none``. Listing pages are asked every run.
    revalidate: str = REVALIDATE_DUE

    def staleness(self) -> str:
        """How stale a report can be at most after this run (the run summary's sentence)."""
        return staleness_bound([s.revisit for s in self.sources], self.revalidate)


def source_batch_size(n_sources: int, max_workers: int, requested: int | None = None) -> int:
    """Sources per ``harvest_batch`` task: ``requested`` when set, else one task per worker.

    ``ceil(n_sources / max_workers)`` clamped to [``MIN_SOURCE_BATCH``, ``MAX_SOURCE_BATCH``]:
    every worker busy with as few task runs as possible (each costs Prefect API work), while
    one task never holds more than a few hundred sources.
    """
    if requested:
        return max(1, int(requested))
    per_worker = -(-max(0, n_sources) // max(1, int(max_workers)))
    return min(MAX_SOURCE_BATCH, max(MIN_SOURCE_BATCH, per_worker))


# Plans handed to a flow in this process by reference (see ``stash_plan``).
_stashed_plans: dict[str, HarvestPlan] = {}
_stash_lock = threading.Lock()


def stash_plan(plan: HarvestPlan) -> str:
    """Keep ``plan`` in this process and return a short reference to pass as a flow parameter.

    A resolved plan of 1,000 sources is ~560 KB of JSON, over Prefect's 512 KB cap on flow
    parameters; the flow (called in this process) resolves the reference with ``take_plan``.
    Call ``drop_plan`` when the run is over.
    """
    import uuid

    ref = f"plan-{uuid.uuid4().hex}"
    with _stash_lock:
        _stashed_plans[ref] = plan
    return ref


def take_plan(ref: str) -> HarvestPlan:
    """The plan ``stash_plan`` kept under ``ref``; ``InputError`` when this process has none.

    A reference only means something in the process that stashed it (a deployment's runs are
    given a registry path instead).
    """
    with _stash_lock:
        plan = _stashed_plans.get(ref)
    if plan is None:
        raise InputError(f"no harvest plan {ref!r} in this process: pass a sources registry instead")
    return plan


def drop_plan(ref: str) -> None:
    """Forget a stashed plan (end of the run that used it)."""
    with _stash_lock:
        _stashed_plans.pop(ref, None)


@dataclass(slots=True)
class SourceOutcome:
    """One source's harvest as the run summary shows it (``SourceHarvest`` without the reports)."""

    source_id: str
    publisher: str
    status: str
    reason: str
    reports: int = 0
    fetched: int = 0
    changed: int = 0
    documents: int = 0
    requests: int = 0
    not_modified: int = 0
    #: known report pages and attachments not asked about (not due under the revisit policy)
    not_due: int = 0
    problems: list[HarvestProblem] = field(default_factory=list)
    recovered: list[HarvestProblem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """True when the source gave nothing usable (failed, layout_changed, empty)."""
        return self.status in BAD_HARVEST


@dataclass(slots=True)
class HarvestBatchOutcome:
    """What one ``harvest_batch`` task gave: per-source outcomes and the documents to extract."""

    index: int
    sources: list[SourceOutcome]
    documents: list[DocumentJob]
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# One Fetcher per process and run


_fetchers: dict[tuple[FetchConfig, str | None], Fetcher] = {}
_fetchers_lock = threading.Lock()


def shared_fetcher(config: FetchConfig, archive_dir: str | Path | None = None) -> Fetcher:
    """The process's Fetcher for ``config``: every source and task of a run shares it (per-host limits).

    With ``archive_dir`` it remembers robots.txt answers there between runs (``RobotsMemory``).
    """
    key = (config, str(archive_dir) if archive_dir is not None else None)
    with _fetchers_lock:
        fetcher = _fetchers.get(key)
        if fetcher is None:
            memory = RobotsMemory(archive_dir) if archive_dir is not None else None
            fetcher = _fetchers[key] = Fetcher(config, robots_memory=memory)
        return fetcher


def close_fetchers() -> None:
    """Close the shared Fetchers (end of a run): the next run starts with fresh robots and host gates."""
    with _fetchers_lock:
        fetchers = list(_fetchers.values())
        _fetchers.clear()
    for fetcher in fetchers:
        fetcher.close()


# ---------------------------------------------------------------------------------------------
# The work of one harvest_batch task


def source_outcome(harvest: SourceHarvest, documents: int, seconds: float = 0.0) -> SourceOutcome:
    """The summary view of one source's harvest."""
    return SourceOutcome(
        source_id=harvest.source_id,
        publisher=harvest.publisher,
        status=harvest.status,
        reason=harvest.reason,
        reports=len(harvest.reports),
        fetched=sum(1 for r in harvest.reports if r.fetched),
        changed=len(harvest.changed_reports),
        documents=documents,
        requests=harvest.requests,
        not_modified=harvest.not_modified,
        not_due=harvest.not_due,
        problems=list(harvest.problems),
        recovered=list(harvest.recovered),
        seconds=seconds,
    )


def document_info_of(
    chosen: ChosenDocument,
    source: Source,
    archive: RawArchive,
    doc: ArchivedDoc | None = None,
    path: str | None = None,
) -> DocumentInfo:
    """The warehouse's provenance record of one of a harvested report's documents (path in the archive).

    ``doc``: which of the report's documents (default its first candidate, ``chosen.document``);
    ``path``: the path to record (default the document's path in the archive).
    """
    doc = doc or chosen.document
    return DocumentInfo(
        document_sha256=doc.sha256,
        source_id=source.source_id,
        publisher=source.publisher,
        year=chosen.report.year,
        format=doc.format,
        source_url=doc.final_url,
        fetched_at=doc.fetched_at,
        path=path if path is not None else archive.raw_path(doc.sha256),
        region_code=source.region_code,
        level=source.level,
        http_status=doc.status,
        etag=doc.etag,
        last_modified=doc.last_modified,
    )


def document_infos(
    harvest: SourceHarvest, source: Source, archive: RawArchive, *, only_changed: bool = False
) -> list[DocumentInfo]:
    """The ``DocumentInfo`` of each fetched report's first candidate (``harvest.chosen_documents``)."""
    return [document_info_of(c, source, archive) for c in chosen_documents(harvest, only_changed=only_changed)]


class ArchivePaths:
    """Where an archived document's bytes are (absolute) and the path it is published under, per sha256.

    The same as ``archive.path_of(sha).resolve()`` and ``flows.inputs.portable_path`` of it, with
    the archive root resolved once: resolving every document's path walked the directory tree
    (an ``lstat`` per component) for each of a night's thousands of documents, most of the harvest
    task's own CPU when nothing changed (``bench.scale``).
    """

    def __init__(self, archive: RawArchive, data_dir: str | Path) -> None:
        raw = (archive.root / "raw").resolve()
        self._raw = str(raw)
        published = portable_path(raw, data_dir)
        self._published = "" if published == "." else published.rstrip("/") + "/"

    def location(self, sha256: str) -> str:
        return f"{self._raw}/{sha256[:2]}/{sha256}"

    def published(self, sha256: str) -> str:
        return f"{self._published}{sha256[:2]}/{sha256}"


def _job(
    chosen: ChosenDocument, doc: ArchivedDoc, source: Source, archive: RawArchive, paths: ArchivePaths
) -> DocumentJob:
    info = document_info_of(chosen, source, archive, doc, path=paths.published(doc.sha256))
    return DocumentJob(info=info, location=paths.location(doc.sha256), name=doc.name, http_charset=doc.charset)


def jobs_of(
    harvest: SourceHarvest,
    source: Source,
    archive: RawArchive,
    data_dir: str | Path,
    paths: ArchivePaths | None = None,
) -> list[DocumentJob]:
    """The documents to extract for one harvested source, read from the raw archive.

    One job per fetched report: its first candidate, with the report's other documents as the
    job's ``alternatives`` (read in turn until one settles which document is the report, see
    ``schemas.choice``). Every fetched report, changed or not: staging reuses the results of
    bytes already extracted, so an unchanged report costs lookups, and the published tables
    stay complete. Paths are relative to the data directory when the archive is inside it
    (``paths``: the archive's ``ArchivePaths``, made once for many sources).
    """
    paths = paths or ArchivePaths(archive, data_dir)
    jobs: list[DocumentJob] = []
    for chosen in chosen_documents(harvest):
        job = _job(chosen, chosen.document, source, archive, paths)
        seen = {chosen.document.sha256}
        for alt in chosen.alternatives:
            if alt.sha256 not in seen:  # the same bytes linked twice are read once
                seen.add(alt.sha256)
                job.alternatives.append(_job(chosen, alt, source, archive, paths))
        jobs.append(job)
    return jobs


def harvest_source_batch(
    sources: list[Source],
    plan: HarvestPlan,
    data_dir: str,
    *,
    index: int = 0,
    run_id: str | None = None,
    fetcher: Fetcher | None = None,
) -> HarvestBatchOutcome:
    """Harvest a batch of sources and hand their reports to extraction.

    A source that fails in any way is a ``failed`` outcome naming the exception (harvest_sources
    already does this per source; the hand-off is guarded here too), never a lost batch.
    """
    start = time.perf_counter()
    archive = RawArchive(plan.archive_dir)
    record_sources(plan.archive_dir, sources)  # so a backfill can replay them without the registry
    fetch = fetcher or shared_fetcher(plan.fetch, plan.archive_dir)
    years = set(plan.years) if plan.years else None
    harvests = harvest_sources(
        sources,
        archive,
        fetch,
        max_workers=max(1, min(plan.threads, len(sources))),
        years=years,
        run_id=run_id,
        revalidate=plan.revalidate,
    )
    outcomes: list[SourceOutcome] = []
    documents: list[DocumentJob] = []
    paths = ArchivePaths(archive, data_dir)
    for harvest, source in zip(harvests, sources, strict=True):
        try:
            jobs = jobs_of(harvest, source, archive, data_dir, paths)
        except (OSError, ValueError) as exc:  # the archive lost bytes it just stored: report, don't drop
            detail = f"internal_error: cannot hand the reports to extraction: {type(exc).__name__}: {exc}"
            harvest.status, harvest.reason = HARVEST_FAILED, detail
            harvest.problems.append(HarvestProblem("internal_error", source.listing_urls[0], detail))
            jobs = []
        documents += jobs
        outcomes.append(source_outcome(harvest, len(jobs), _seconds(harvest)))
    return HarvestBatchOutcome(index=index, sources=outcomes, documents=documents, seconds=time.perf_counter() - start)


def _seconds(harvest: SourceHarvest) -> float:
    from datetime import datetime

    try:
        return round(
            (datetime.fromisoformat(harvest.finished) - datetime.fromisoformat(harvest.started)).total_seconds(), 3
        )
    except ValueError:
        return 0.0


def write_harvest_record(archive_dir: str | Path, run_id: str, outcomes: list[SourceOutcome]) -> Path:
    """``<archive>/harvest.json``: the last run's status, reason and problems per source (atomic).

    What the fetch log says request by request, summed up per source, for whoever reads the data
    directory after the run (the validation index can list failed sources from it).
    """
    root = Path(archive_dir)
    root.mkdir(parents=True, exist_ok=True)
    record = {
        "run_id": run_id,
        "sources": [{**asdict(o), "failed": o.failed} for o in outcomes],
    }
    target = root / "harvest.json"
    data = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))  # C encoder: 10,000 sources
    atomic_write_bytes(target, data.encode("utf-8"), durable=False)
    return target
