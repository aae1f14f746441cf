"""The Prefect flow: harvest sources / load documents → extract/check/stage in batches → publish.

Tasks are coarse on purpose: a Prefect task run costs ~25-30 ms of CPU between client and API
server, more than parsing a text or HTML report, so one task handles a whole batch and loops
inside. The flow has four kinds of task: ``harvest_batch`` (one per batch of sources: discover →
fetch → raw archive, sharing one Fetcher per process), ``load_documents`` (local files, one),
``extract_batch`` (one per batch of documents) and ``publish`` (one). Harvest and extract batches
run concurrently on the flow's bounded thread or process pool.

What a run reads (``flows.harvesting.open_run_inputs``): a sources registry (harvested), a
documents file or paths (local files), or with no inputs at all the local demo portal serving the
embedded sample set (harvested like a real site).

``run_pipeline`` runs the same task functions either under Prefect (``orchestrate=True``, the
default) or called directly in-process (``orchestrate=False``: no API server to start, for a quick
one-off extract and for tests). Both give byte-identical outputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from flows.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_WORKERS,
    PROCESS_RUNNER_THRESHOLD,
    configure_prefect,
    default_data_dir,
)

# Defaults must be in the environment before Prefect reads its settings (at import).
configure_prefect(None)

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.exceptions import MissingContextError  # noqa: E402
from prefect.futures import as_completed  # noqa: E402
from prefect.settings import get_current_settings  # noqa: E402
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner  # noqa: E402

from extractors import EXTRACTOR_VERSION, extract_document  # noqa: E402
from flows.harvesting import (  # noqa: E402
    DEFAULT_SOURCE_BATCH,
    HarvestBatchOutcome,
    HarvestPlan,
    SourceOutcome,
    close_fetchers,
    harvest_source_batch,
    open_run_inputs,
    write_harvest_record,
)
from flows.inputs import (  # noqa: E402
    DocumentJob,
    InputError,
    document_info,
    is_registry,
    locate,
    portable_path,
    resolve_specs,
    select_documents,
)
from harvest import Source  # noqa: E402
from schemas.records import STATUS_FAILED, DocumentResult  # noqa: E402
from warehouse import (  # noqa: E402
    DocumentInfo,
    StagedDocument,
    is_staged,
    load_staged,
    publish,
    stage_result,
    staged_path,
    write_validation_reports,
)
from warehouse.parquet import warehouse_dir  # noqa: E402
from warehouse.validation_report import validation_dir  # noqa: E402

_log = logging.getLogger("xxgk")

#: Called by the flow after each batch: ``(documents_done, documents_total, outcome)``.
ProgressListener = Callable[[int, int, "BatchOutcome | None"], None]
_listeners: list[ProgressListener] = []
#: Called by the flow after each harvest batch: ``(sources_done, sources_total, outcome)``.
HarvestListener = Callable[[int, int, "HarvestBatchOutcome | None"], None]
_harvest_listeners: list[HarvestListener] = []

#: Prefix of the reason recorded for a document on which the extractor raised (a bug, not data).
INTERNAL_ERROR = "internal error"


def staging_dir_of(data_dir: Path | str) -> Path:
    """Where staged per-document results live under a data directory."""
    return Path(data_dir) / "staging"


# ---------------------------------------------------------------------------------------------
# Records passed between tasks (plain dataclasses: picklable for the process pool).


@dataclass(slots=True)
class DocumentOutcome:
    """What happened to one document in ``extract_batch``.

    ``action``: ``extracted`` (parsed now), ``reused`` (already staged by this extractor version),
    ``restaged`` (already extracted; provenance changed, so restaged without parsing again),
    ``error`` (not staged: unreadable file, or bytes changed since they were hashed).
    ``path`` is the published (portable) path; ``name`` the file name shown in summaries.
    """

    source_id: str
    document_sha256: str
    path: str | None
    action: str
    status: str = ""
    reason: str = ""
    facts: int = 0
    failed_checks: int = 0
    unmapped: int = 0
    staged: str | None = None
    seconds: float = 0.0
    name: str = ""
    source_url: str | None = None
    year: int | None = None


@dataclass(slots=True)
class BatchOutcome:
    """The outcomes of one batch, in input order."""

    index: int
    documents: list[DocumentOutcome]
    seconds: float = 0.0


@dataclass(slots=True)
class PublishOutcome:
    """What ``publish`` wrote: file counts and where the outputs are."""

    warehouse: str
    validation_index: str | None
    documents: int
    written: int
    unchanged: int
    removed: int
    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RunSummary:
    """The result of a run, as the CLI prints it and tests assert on it."""

    data_dir: str
    documents: int
    by_status: dict[str, int]
    by_action: dict[str, int]
    cells: int
    failed_checks: int
    unmapped: int
    extractor_version: str
    warehouse: str | None
    validation_index: str | None
    files_written: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    seconds: float = 0.0
    runner: str = "local"
    batches: int = 0
    problems: list[DocumentOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: list[SourceOutcome] = field(default_factory=list)
    inputs: str = ""
    archive: str | None = None
    portal: str | None = None
    harvest_seconds: float = 0.0
    run_id: str = ""

    @property
    def internal_errors(self) -> int:
        """Documents on which the extractor raised or whose file could not be read: bugs, not data."""
        return self.by_action.get("error", 0) + sum(1 for p in self.problems if p.reason.startswith(INTERNAL_ERROR))

    @property
    def failed_sources(self) -> list[SourceOutcome]:
        """Harvested sources that gave nothing usable (failed, layout_changed, empty)."""
        return [s for s in self.sources if s.failed]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Plain functions: the work of each task, callable without Prefect.


def load_document_infos(
    paths: list[str] | None = None,
    sources: str | None = None,
    documents: list[DocumentInfo] | None = None,
    *,
    ids: list[str] | None = None,
    years: list[int] | None = None,
) -> list[DocumentInfo]:
    """Provenance records of the run's documents, bytes hashed; duplicates (source, sha256) dropped.

    ``ids`` keeps only those sources (an id matching no document is an ``InputError``); ``years``
    keeps only documents whose year is known and listed.
    """
    infos = list(documents or [])
    if paths or sources:
        infos += [document_info(spec) for spec in resolve_specs(paths, sources)]
    if not infos:
        raise InputError("nothing to read: give paths, a documents file or documents")
    infos = select_documents(infos, ids, years)
    seen: set[tuple[str, str]] = set()
    unique: list[DocumentInfo] = []
    for info in infos:
        key = (info.source_id, info.document_sha256)
        if key not in seen:
            seen.add(key)
            unique.append(info)
    return unique


def as_job(item: DocumentInfo | DocumentJob, data_dir: Path | str) -> DocumentJob:
    """A document to extract: a ``DocumentInfo`` gets its bytes located and its path made portable."""
    if isinstance(item, DocumentJob):
        return item
    if not item.path:
        return DocumentJob(info=item, location="", name="")
    location = locate(item.path, data_dir)
    info = replace(item, path=portable_path(location, data_dir))
    return DocumentJob(info=info, location=str(location), name=location.name)


def unique_jobs(jobs: Iterable[DocumentJob]) -> list[DocumentJob]:
    """Jobs without repeats of the same (source, sha256): one document is staged once per source."""
    seen: set[tuple[str, str]] = set()
    out: list[DocumentJob] = []
    for job in jobs:
        key = (job.info.source_id, job.info.document_sha256)
        if key not in seen:
            seen.add(key)
            out.append(job)
    return out


def _outcome_from_result(
    job: DocumentJob, result: DocumentResult, action: str, staged: Path | None, seconds: float = 0.0
) -> DocumentOutcome:
    info = job.info
    return DocumentOutcome(
        source_id=info.source_id,
        document_sha256=info.document_sha256,
        path=info.path,
        action=action,
        status=result.status,
        reason=result.reason,
        facts=len(result.facts),
        failed_checks=result.failed_checks,
        unmapped=len(result.unmapped),
        staged=str(staged) if staged else None,
        seconds=seconds,
        name=job.name,
        source_url=info.source_url,
        year=info.year if info.year is not None else result.year,
    )


class ChangedOnDisk(Exception):
    """The file's bytes are no longer those hashed by ``load_documents``."""


def _extract_one(job: DocumentJob) -> DocumentResult:
    """Read and extract one document; an exception from the extractor becomes a ``failed`` result.

    ``extract_document`` already turns unreadable documents into statuses; anything it raises is a
    bug, recorded with the exception so it shows up in the report and the run summary instead of
    losing the rest of the batch. Raises ``OSError`` if the file cannot be read and
    ``ChangedOnDisk`` if it no longer has the hashed bytes (its result would be filed under the
    wrong sha256).
    """
    data = Path(job.location).read_bytes()
    if hashlib.sha256(data).hexdigest() != job.info.document_sha256:
        raise ChangedOnDisk(f"{job.info.path} changed since it was hashed at the start of the run")
    # the HTTP charset of a fetched page is evidence for its encoding, after BOM and <meta>
    charset = {"http_charset": job.http_charset} if job.http_charset else {}
    try:
        return extract_document(data, job.name or Path(job.location).name, **charset)
    except Exception as err:  # a bug in an extractor must not take the batch down
        _log.warning("extractor raised on %s: %s: %s", job.info.path, type(err).__name__, err)
        _log.debug("traceback", exc_info=True)
        return DocumentResult(status=STATUS_FAILED, reason=f"{INTERNAL_ERROR}: {type(err).__name__}: {err}")


def _load_staged_or_none(path: Path) -> StagedDocument | None:
    """A staged result, or None (with a warning) when the file is unreadable: then it is re-extracted."""
    try:
        return load_staged(path)
    except (OSError, EOFError, ValueError, KeyError, TypeError) as err:
        _log.warning("staged result %s unreadable (%s: %s); extracting again", path, type(err).__name__, err)
        return None


def extract_documents(
    batch: Sequence[DocumentInfo | DocumentJob],
    staging_dir: Path | str,
    extractor_version: str = EXTRACTOR_VERSION,
    force: bool = False,
    data_dir: Path | str | None = None,
) -> list[DocumentOutcome]:
    """Extract → check → stage each document of a batch, skipping those already staged.

    A document already staged under (sha256, extractor version, source id) is not parsed again;
    if its provenance changed (publisher, year, URL... in the documents file) it is restaged with
    the new provenance and the stored result. Paths are staged in their portable form (relative
    to ``data_dir``, default the staging directory's parent), so two checkouts stage the same.
    """
    base = Path(data_dir) if data_dir is not None else Path(staging_dir).parent
    outcomes: list[DocumentOutcome] = []
    for item in batch:
        start = time.perf_counter()
        job = as_job(item, base)
        info = job.info
        path = staged_path(staging_dir, info.document_sha256, extractor_version, info.source_id)
        staged = None
        if not force and is_staged(staging_dir, info.document_sha256, extractor_version, info.source_id):
            staged = _load_staged_or_none(path)
        if staged is not None:
            action = "reused"
            if staged.info != info:
                stage_result(staging_dir, info, staged.result, extractor_version)
                action = "restaged"
            outcomes.append(_outcome_from_result(job, staged.result, action, path, time.perf_counter() - start))
            continue
        try:
            result = _extract_one(job)
        except (OSError, ChangedOnDisk) as err:
            reason = f"cannot read {info.path}: {err.strerror or err}" if isinstance(err, OSError) else str(err)
            outcomes.append(
                DocumentOutcome(
                    source_id=info.source_id,
                    document_sha256=info.document_sha256,
                    path=info.path,
                    action="error",
                    status=STATUS_FAILED,
                    reason=reason,
                    name=job.name,
                    source_url=info.source_url,
                    year=info.year,
                )
            )
            continue
        stage_result(staging_dir, info, result, extractor_version)
        outcomes.append(_outcome_from_result(job, result, "extracted", path, time.perf_counter() - start))
    return outcomes


def publish_staged(data_dir: Path | str, staged: Iterable[str | Path]) -> PublishOutcome:
    """Publish the run's staged documents: Parquet warehouse, then the validation reports.

    Both steps are idempotent and write only files whose bytes change, so a second identical run
    touches nothing.
    """
    paths = sorted({str(p) for p in staged})
    summary = publish(data_dir, paths)
    reports = write_validation_reports(data_dir, paths) if paths else []
    index = str(validation_dir(data_dir) / "index.html") if reports else None
    return PublishOutcome(
        warehouse=str(warehouse_dir(data_dir)),
        validation_index=index,
        documents=summary.documents,
        written=len(summary.written),
        unchanged=len(summary.unchanged),
        removed=len(summary.removed),
        rows=dict(summary.rows),
        warnings=list(summary.warnings),
    )


def summarize(
    data_dir: Path | str,
    outcomes: list[DocumentOutcome],
    published: PublishOutcome | None,
    *,
    seconds: float,
    runner: str,
    batches: int,
    sources: list[SourceOutcome] | None = None,
) -> RunSummary:
    """Counts of a run from the per-document outcomes, the harvest and the publish step."""
    problems = [o for o in outcomes if o.action == "error" or o.status != "ok"]
    return RunSummary(
        data_dir=str(data_dir),
        documents=len(outcomes),
        by_status=dict(Counter(o.status for o in outcomes if o.action != "error")),
        by_action=dict(Counter(o.action for o in outcomes)),
        cells=sum(o.facts for o in outcomes),
        failed_checks=sum(o.failed_checks for o in outcomes),
        unmapped=sum(o.unmapped for o in outcomes),
        extractor_version=EXTRACTOR_VERSION,
        warehouse=published.warehouse if published else None,
        validation_index=published.validation_index if published else None,
        files_written=published.written if published else 0,
        files_unchanged=published.unchanged if published else 0,
        files_removed=published.removed if published else 0,
        seconds=seconds,
        runner=runner,
        batches=batches,
        problems=problems,
        warnings=list(published.warnings) if published else [],
        sources=list(sources or []),
    )


def batches_of(items: list[Any], size: int) -> list[list[Any]]:
    """Consecutive chunks of at most ``size`` items."""
    size = max(1, int(size))
    return [items[i : i + size] for i in range(0, len(items), size)]


# ---------------------------------------------------------------------------------------------
# Prefect tasks and flow.


@task(name="harvest_batch", cache_policy=NO_CACHE)
def harvest_batch(
    sources: list[Source], plan: HarvestPlan, data_dir: str, index: int = 0, run_id: str | None = None
) -> HarvestBatchOutcome:
    """Task: discover, fetch and archive a batch of sources (a few at a time on threads inside)."""
    return harvest_source_batch(sources, plan, data_dir, index=index, run_id=run_id)


@task(name="load_documents", cache_policy=NO_CACHE)
def load_documents(
    paths: list[str] | None = None,
    sources: str | None = None,
    documents: list[DocumentInfo] | None = None,
    ids: list[str] | None = None,
    years: list[int] | None = None,
) -> list[DocumentInfo]:
    """Task: resolve paths / documents file into hashed provenance records."""
    return load_document_infos(paths, sources, documents, ids=ids, years=years)


@task(name="extract_batch", cache_policy=NO_CACHE)
def extract_batch(
    batch: list[DocumentInfo] | list[DocumentJob],
    staging_dir: str,
    index: int = 0,
    force: bool = False,
    data_dir: str | None = None,
) -> BatchOutcome:
    """Task: extract, check and stage one batch of documents (a loop inside one task run)."""
    start = time.perf_counter()
    outcomes = extract_documents(batch, staging_dir, EXTRACTOR_VERSION, force, data_dir)
    return BatchOutcome(index=index, documents=outcomes, seconds=time.perf_counter() - start)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(data_dir: str, staged: list[str]) -> PublishOutcome:
    """Task: publish the warehouse tables and the validation reports."""
    return publish_staged(data_dir, staged)


def add_progress_listener(listener: ProgressListener) -> Callable[[], None]:
    """Register a callback told after each extract batch; returns a function that removes it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def add_harvest_listener(listener: HarvestListener) -> Callable[[], None]:
    """Register a callback told after each harvest batch; returns a function that removes it."""
    _harvest_listeners.append(listener)
    return lambda: _harvest_listeners.remove(listener) if listener in _harvest_listeners else None


def _notify(done: int, total: int, outcome: BatchOutcome | None) -> None:
    for listener in list(_listeners):
        listener(done, total, outcome)


def _notify_harvest(done: int, total: int, outcome: HarvestBatchOutcome | None) -> None:
    for listener in list(_harvest_listeners):
        listener(done, total, outcome)


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The flow run's logger under Prefect (logs reach the API), the ``xxgk`` logger otherwise."""
    try:
        return get_run_logger()
    except MissingContextError:
        return _log


def _run_id(orchestrated: bool) -> str:
    """The flow run's id under Prefect (the fetch log then links requests to the run), else a new one."""
    if orchestrated:
        from prefect.runtime import flow_run

        run = flow_run.get_id()
        if run:
            return str(run)
    return uuid.uuid4().hex


def _run_body(
    paths: list[str] | None,
    sources: str | None,
    documents: list[DocumentInfo] | None,
    data_dir: str,
    batch_size: int,
    force: bool,
    *,
    orchestrated: bool,
    runner: str,
    harvest: HarvestPlan | None = None,
    sources_only: list[str] | None = None,
    years: list[int] | None = None,
    portal_port: int | None = None,
) -> RunSummary:
    """The flow's steps, shared by the Prefect flow and the in-process run."""
    start = time.perf_counter()
    log = _logger()
    staging = str(staging_dir_of(data_dir))
    run_id = _run_id(orchestrated)
    local = bool(paths or documents)
    try:
        with open_run_inputs(
            sources,
            data_dir,
            local=local,
            ids=sources_only,
            years=years,
            harvest=harvest,
            portal_port=portal_port,
        ) as inputs:
            jobs: list[DocumentJob] = []
            if local or inputs.documents_file:
                load = load_documents if orchestrated else load_documents.fn
                infos = load(paths, inputs.documents_file, documents, sources_only, years)
                jobs += [as_job(info, data_dir) for info in infos]
            harvested: list[SourceOutcome] = []
            harvest_seconds = 0.0
            if inputs.plan is not None:
                h_start = time.perf_counter()
                h_jobs, harvested = _harvest(inputs.plan, data_dir, run_id, orchestrated, log)
                jobs += h_jobs
                harvest_seconds = time.perf_counter() - h_start
    finally:
        close_fetchers()
    jobs = unique_jobs(jobs)
    outcomes, n_batches = _extract(jobs, staging, data_dir, batch_size, force, orchestrated, log)
    staged = [o.staged for o in outcomes if o.staged]
    published = publish_task(data_dir, staged) if orchestrated else publish_task.fn(data_dir, staged)
    summary = summarize(
        data_dir,
        outcomes,
        published,
        seconds=time.perf_counter() - start,
        runner=runner,
        batches=n_batches,
        sources=harvested,
    )
    summary.inputs = inputs.label
    summary.run_id = run_id
    summary.harvest_seconds = round(harvest_seconds, 3)
    summary.warnings = list(inputs.warnings) + summary.warnings
    if inputs.plan is not None:
        summary.archive = inputs.plan.archive_dir
        summary.portal = inputs.plan.portal
    counts = (published.documents, published.written, published.unchanged, summary.cells, summary.failed_checks)
    log.info("published %d documents: %d files written, %d unchanged; %d cells, %d failed checks", *counts)
    return summary


def _harvest(
    plan: HarvestPlan,
    data_dir: str,
    run_id: str,
    orchestrated: bool,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> tuple[list[DocumentJob], list[SourceOutcome]]:
    """harvest_batch over batches of sources; returns the documents to extract and each source's outcome.

    Writes ``<archive>/harvest.json``. Under Prefect a source that gave nothing usable is logged as a
    warning.
    """
    chunks = batches_of(list(plan.sources), plan.batch_size or DEFAULT_SOURCE_BATCH)
    total = len(plan.sources)
    log.info("harvesting %d sources in %d batches (%s)", total, len(chunks), plan.label or "registry")
    _notify_harvest(0, total, None)
    results: list[HarvestBatchOutcome] = []
    done = 0
    if orchestrated:
        futures = [harvest_batch.submit(chunk, plan, data_dir, i, run_id) for i, chunk in enumerate(chunks)]
        stream: Iterable[HarvestBatchOutcome] = (f.result() for f in as_completed(futures))
    else:
        stream = (harvest_batch.fn(chunk, plan, data_dir, i, run_id) for i, chunk in enumerate(chunks))
    for outcome in stream:
        results.append(outcome)
        done += len(outcome.sources)
        for src in outcome.sources:
            line = "source %s: %s (%s); %d documents, %d requests, %d not modified"
            args = (src.source_id, src.status, src.reason, src.documents, src.requests, src.not_modified)
            # a warning in the flow run's log (the Prefect UI); in-process the summary shows it
            (log.warning if src.failed and orchestrated else log.info)(line, *args)
        _notify_harvest(done, total, outcome)
    results.sort(key=lambda b: b.index)
    outcomes = [o for b in results for o in b.sources]
    write_harvest_record(plan.archive_dir, run_id, outcomes)
    return [j for b in results for j in b.documents], outcomes


def _extract(
    jobs: list[DocumentJob],
    staging: str,
    data_dir: str,
    batch_size: int,
    force: bool,
    orchestrated: bool,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> tuple[list[DocumentOutcome], int]:
    """extract_batch over batches of documents; the outcomes in input order and the batch count."""
    chunks = batches_of(jobs, batch_size)
    total = len(jobs)
    log.info("%d documents in %d batches (extractor %s)", total, len(chunks), EXTRACTOR_VERSION)
    _notify(0, total, None)
    results: list[BatchOutcome] = []
    done = 0
    for outcome in _run_batches(chunks, staging, force, orchestrated, data_dir):
        results.append(outcome)
        done += len(outcome.documents)
        actions = ", ".join(f"{n} {a}" for a, n in sorted(Counter(o.action for o in outcome.documents).items()))
        log.info(
            "batch %d/%d done (%s) in %.1f s: %d/%d documents",
            len(results),
            len(chunks),
            actions,
            outcome.seconds,
            done,
            total,
        )
        _notify(done, total, outcome)
    results.sort(key=lambda b: b.index)
    return [o for b in results for o in b.documents], len(chunks)


def _run_batches(
    chunks: list[list[DocumentJob]], staging: str, force: bool, orchestrated: bool, data_dir: str
) -> Iterator[BatchOutcome]:
    """Batch outcomes as they complete: submitted to the flow's task runner, or run in order."""
    if not orchestrated:
        for i, chunk in enumerate(chunks):
            yield extract_batch.fn(chunk, staging, i, force, data_dir)
        return
    futures = [extract_batch.submit(chunk, staging, i, force, data_dir) for i, chunk in enumerate(chunks)]
    for future in as_completed(futures):
        yield future.result()


@flow(name="xxgk-extract", validate_parameters=False)
def extract_flow(
    paths: list[str] | None = None,
    sources: str | None = None,
    documents: list[DocumentInfo] | None = None,
    data_dir: str = "data",
    batch_size: int = DEFAULT_BATCH_SIZE,
    force: bool = False,
    runner: str = "threads",
    harvest: HarvestPlan | None = None,
    sources_only: list[str] | None = None,
    years: list[int] | None = None,
    portal_port: int | None = None,
) -> RunSummary:
    """Harvest and/or read documents, extract them into ``data_dir`` and publish.

    ``sources``: a sources registry (harvested) or a documents file; with no ``sources``, ``paths``,
    ``documents`` or ``harvest`` the demo portal serving the embedded sample set is harvested.
    harvest_batch × N → load_documents → extract_batch × M (concurrent, bounded) → publish;
    returns a ``RunSummary``. ``runner`` only labels the summary: the task runner itself is chosen
    by ``run_pipeline`` (or the deployment).
    """
    return _run_body(
        paths,
        sources,
        documents,
        data_dir,
        batch_size,
        force,
        orchestrated=True,
        runner=runner,
        harvest=harvest,
        sources_only=sources_only,
        years=years,
        portal_port=portal_port,
    )


def choose_runner(runner: str, documents: int, max_workers: int) -> str:
    """``threads`` or ``processes``: ``auto`` picks processes only for large runs on several cores.

    Parsing is CPU-bound (the GIL serialises threads), but each worker process pays ~2-5 s to
    import Prefect and the extractors, which only a large backfill earns back.
    """
    if runner in ("threads", "processes"):
        return runner
    if runner != "auto":
        raise ValueError(f"unknown runner {runner!r} (auto, threads, processes)")
    cores = os.cpu_count() or 1
    if documents > PROCESS_RUNNER_THRESHOLD and cores > 1 and max_workers > 1:
        return "processes"
    return "threads"


def run_pipeline(
    paths: list[str] | None = None,
    sources: str | None = None,
    documents: list[DocumentInfo] | None = None,
    data_dir: Path | str | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_workers: int = DEFAULT_MAX_WORKERS,
    runner: str = "auto",
    force: bool = False,
    orchestrate: bool = True,
    expected_documents: int | None = None,
    harvest: HarvestPlan | None = None,
    sources_only: list[str] | None = None,
    years: list[int] | None = None,
    portal_port: int | None = None,
) -> RunSummary:
    """Run the pipeline into ``data_dir`` (default ``./data``): harvest and/or local documents.

    ``sources`` is a sources registry or a documents file; ``harvest`` an explicit plan; with
    neither (nor paths/documents) the demo portal is harvested. ``sources_only``/``years`` narrow
    the run. ``orchestrate=False`` calls the same task functions directly (no Prefect API).
    ``runner``: ``auto`` / ``threads`` / ``processes`` for the Prefect task runner, with at most
    ``max_workers`` batches at once. ``expected_documents`` (if the caller already counted the
    inputs) lets ``auto`` choose without hashing first.
    """
    data = str(Path(data_dir) if data_dir is not None else default_data_dir())
    options: dict[str, Any] = {
        "harvest": harvest,
        "sources_only": sources_only,
        "years": years,
        "portal_port": portal_port,
    }
    if not orchestrate:
        return _run_body(
            paths, sources, documents, data, batch_size, force, orchestrated=False, runner="local", **options
        )
    count = expected_documents if expected_documents is not None else len(documents or [])
    if expected_documents is None and (paths or (sources and not is_registry(sources))):
        count += len(resolve_specs(paths, sources))
    kind = choose_runner(runner, count, max_workers)
    workers = max(1, int(max_workers))
    task_runner = ProcessPoolTaskRunner(max_workers=workers) if kind == "processes" else ThreadPoolTaskRunner(workers)
    configured = extract_flow.with_options(task_runner=task_runner)
    with _shared_api(kind == "processes"):
        return configured(
            paths=paths,
            sources=sources,
            documents=documents,
            data_dir=data,
            batch_size=batch_size,
            force=force,
            runner=f"prefect/{kind}×{workers}",
            **options,
        )


def configured_api_url() -> str | None:
    """The Prefect API URL the user configured (environment or profile), or None for a temporary one."""
    return get_current_settings().api.url or None


def start_api() -> str:
    """The API this process talks to; starts the temporary one now if none is configured.

    Starting it up front lets the CLI show the 6-20 s it takes as a step of its own; the Prefect
    client later finds the same per-process server and reuses it.
    """
    url = configured_api_url()
    if url:
        return url
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the per-process singleton the Prefect client uses
    server.start()
    return server.api_url


def stop_api() -> None:
    """Send pending logs and events, then stop this process's temporary API server, if any.

    Without this the server stops at interpreter exit (fine for the CLI); tests call it while
    their output capture is still open.
    """
    module = sys.modules.get("prefect.server.api.server")
    if module is not None and module.SubprocessASGIServer._instances:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        for worker in (APILogWorker, EventsWorker):
            worker.drain_all(timeout=10, at_exit=False)
        for server in list(module.SubprocessASGIServer._instances.values()):
            server.stop()


@contextlib.contextmanager
def _shared_api(needed: bool) -> Iterator[None]:
    """Let worker processes reach this process's temporary API server instead of starting their own.

    Without an API URL every Prefect process starts its own ephemeral server (6-20 s each); a
    process-pool worker inherits the environment, so the URL of the parent's server is exported
    for the duration of the run. A user's ``PREFECT_API_URL`` is left alone.
    """
    if not needed or configured_api_url():
        yield
        return
    os.environ["PREFECT_API_URL"] = start_api()
    try:
        yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)
