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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from xxgk.flows.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_WORKERS,
    PROCESS_RUNNER_THRESHOLD,
    configure_prefect,
    default_data_dir,
    pause_point,
)

# Defaults must be in the environment before Prefect reads its settings (at import).
configure_prefect(None)

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.exceptions import MissingContextError  # noqa: E402
from prefect.futures import as_completed  # noqa: E402
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from xxgk.extractors import EXTRACTOR_VERSION, extract_document  # noqa: E402
from xxgk.flows.deploy import is_dask_address, publish_artifacts, task_runner_for  # noqa: E402
from xxgk.flows.harvesting import (  # noqa: E402
    HarvestBatchOutcome,
    HarvestPlan,
    SourceOutcome,
    close_fetchers,
    drop_plan,
    harvest_source_batch,
    open_run_inputs,
    source_batch_size,
    stash_plan,
    take_plan,
    write_harvest_record,
)
from xxgk.flows.inputs import (  # noqa: E402
    DocumentJob,
    InputError,
    document_info,
    locate,
    portable_path,
    resolve_specs,
    select_documents,
)
from xxgk.flows.transaction import PublishTransaction, interrupted_publish, recover_publish  # noqa: E402
from xxgk.harvest import Source  # noqa: E402
from xxgk.schemas.records import STATUS_FAILED, DocumentResult  # noqa: E402
from xxgk.warehouse.documents import DocumentInfo  # noqa: E402
from xxgk.warehouse.layout import validation_dir, warehouse_dir  # noqa: E402
from xxgk.warehouse.published_inputs import plan_publish, record_inputs  # noqa: E402
from xxgk.warehouse.staging import (  # noqa: E402
    StagedDocument,
    StagedHeader,
    is_staged,
    load_staged,
    load_staged_header,
    result_summary,
    stage_result,
    staged_path,
)

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
    """What ``publish`` wrote: file counts and where the outputs are.

    ``written``/``unchanged``/``removed`` count warehouse files; ``changed`` lists every published
    file (warehouse and validation, relative to the data directory) the commit replaced or removed.
    ``artifacts``: Prefect artifacts created (per source, under Prefect only).
    """

    warehouse: str
    validation_index: str | None
    documents: int
    written: int
    unchanged: int
    removed: int
    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    artifacts: int = 0
    #: documents of the run already published from the same staged results, left alone
    up_to_date: int = 0


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
    #: documents already published from the same staged results: not read again by the publish step
    published_up_to_date: int = 0
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


def _outcome(
    job: DocumentJob, summary: Mapping[str, Any], action: str, staged: Path | None, seconds: float = 0.0
) -> DocumentOutcome:
    """A document's outcome from its result's summary (``result_summary``; a staged header holds the same)."""
    info = job.info
    return DocumentOutcome(
        source_id=info.source_id,
        document_sha256=info.document_sha256,
        path=info.path,
        action=action,
        status=summary["status"],
        reason=summary["reason"],
        facts=summary["facts"],
        failed_checks=summary["failed_checks"],
        unmapped=summary["unmapped"],
        staged=str(staged) if staged else None,
        seconds=seconds,
        name=job.name,
        source_url=info.source_url,
        year=info.year if info.year is not None else summary["year"],
    )


def _outcome_from_result(
    job: DocumentJob, result: DocumentResult, action: str, staged: Path | None, seconds: float = 0.0
) -> DocumentOutcome:
    return _outcome(job, result_summary(result), action, staged, seconds)


def _outcome_from_header(
    job: DocumentJob, header: StagedHeader, action: str, staged: Path, seconds: float = 0.0
) -> DocumentOutcome:
    """``_outcome_from_result`` from a staged file's header: the same numbers, no result decoded."""
    return _outcome(job, header._asdict(), action, staged, seconds)


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


def reuse_staged(
    item: DocumentInfo | DocumentJob,
    staging_dir: Path | str,
    extractor_version: str = EXTRACTOR_VERSION,
    data_dir: Path | str | None = None,
) -> DocumentOutcome | None:
    """The outcome of a document already staged by this extractor version, or None: it must be parsed.

    Compares the provenance with the staged file's header (``load_staged_header``: no result
    decoded): the same gives ``reused``; a different one restages the stored result with the new
    provenance (``restaged``, the one case that decodes the result). A staged file that cannot be
    read is None with a warning, so the document is extracted again.
    """
    start = time.perf_counter()
    base = Path(data_dir) if data_dir is not None else Path(staging_dir).parent
    job = as_job(item, base)
    info = job.info
    path = staged_path(staging_dir, info.document_sha256, extractor_version, info.source_id)
    try:
        header = load_staged_header(path)
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, KeyError, TypeError) as err:
        _log.warning("staged result %s unreadable (%s: %s); extracting again", path, type(err).__name__, err)
        return None
    if header.info == info:
        return _outcome_from_header(job, header, "reused", path, time.perf_counter() - start)
    staged = _load_staged_or_none(path)
    if staged is None:
        return None
    stage_result(staging_dir, info, staged.result, extractor_version)
    return _outcome_from_result(job, staged.result, "restaged", path, time.perf_counter() - start)


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
        reused = None if force else reuse_staged(job, staging_dir, extractor_version, base)
        if reused is not None:
            outcomes.append(reused)
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


def publish_staged(
    data_dir: Path | str,
    staged: Iterable[str | Path],
    *,
    years: Iterable[int] | None = None,
    replace: bool = False,
    force: bool = False,
) -> PublishOutcome:
    """Publish the run's staged documents: Parquet warehouse, then the validation reports, as one commit.

    Only what changed is published: ``warehouse.published_inputs`` records which staged file every
    published document came from, so a run handing in the same staged files publishes nothing (no
    file read, nothing written) and a run with a few new ones publishes only their sources
    (``force`` publishes everything). What is published runs in a ``PublishTransaction``: against a
    shadow of the published trees, moved into place only once everything is written, so a run
    killed at any point leaves the published files as they were (or, past the commit point, as the
    next run completes them). Both steps are idempotent and write only files whose bytes change.
    ``years``/``replace`` are ``warehouse.publish``'s: only documents of those years; with
    ``replace``, those year partitions rebuilt from this run alone (a full backfill).
    """
    paths = sorted({str(p) for p in staged})
    year_list = sorted({int(y) for y in years}) if years is not None else None
    plan = plan_publish(data_dir, paths, years=year_list, replace=replace, force=force or interrupted_publish(data_dir))
    index = validation_dir(data_dir) / "index.html"
    if plan.nothing_to_do:
        _log.info("nothing to publish: %d documents already published from these staged results", plan.up_to_date)
        return PublishOutcome(
            warehouse=str(warehouse_dir(data_dir)),
            validation_index=str(index) if index.is_file() else None,
            documents=0,
            written=0,
            unchanged=len(plan.record.outputs) if plan.record else 0,
            removed=0,
            up_to_date=plan.up_to_date,
        )
    if plan.up_to_date:
        _log.info("publishing %d documents (%s); %d already published", len(plan.paths), plan.reason, plan.up_to_date)
    # imported here: pyarrow.dataset and pandas cost ~1.4 s, which a run with nothing to publish saves
    from xxgk.warehouse.publish import publish
    from xxgk.warehouse.validation_report import prune_validation_reports, write_validation_reports

    with PublishTransaction(data_dir) as txn:
        summary = publish(txn.root, plan.paths, years=year_list, replace=replace)
        reports = write_validation_reports(txn.root, plan.paths) if plan.paths else []
        prune_validation_reports(txn.root)  # source/years the publish removed from the warehouse
    record_inputs(data_dir, plan.record, summary.published, years=year_list, replace=replace)
    root = Path(txn.root)
    changed = txn.result.replaced + txn.result.removed
    in_warehouse = [c for c in changed if c.startswith("warehouse/")]
    return PublishOutcome(
        warehouse=str(warehouse_dir(data_dir)),
        validation_index=str(index) if reports or index.is_file() else None,
        documents=summary.documents,
        written=len([c for c in in_warehouse if c in txn.result.replaced]),
        unchanged=len(summary.unchanged),
        removed=len([c for c in in_warehouse if c in txn.result.removed]),
        rows=dict(summary.rows),
        warnings=[w.replace(str(root), str(data_dir)) for w in summary.warnings]
        + [f"an interrupted publish was {r} first" for r in txn.recovered],
        years=list(summary.years),
        changed=changed,
        up_to_date=plan.up_to_date,
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
        published_up_to_date=published.up_to_date if published else 0,
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
def publish_task(
    data_dir: str,
    staged: list[str],
    years: list[int] | None = None,
    replace: bool = False,
    sources: list[str] | None = None,
    harvest: list[SourceOutcome] | None = None,
) -> PublishOutcome:
    """Task: publish the warehouse tables and the validation reports; then, under Prefect, artifacts.

    One markdown artifact per source of the run (``sources`` plus the harvested ones, with their
    harvest outcome) summarising its validation reports with links to them: what the Prefect UI
    shows per source. Only sources whose artifact would change get a new one (their reports
    changed in this publish, or their harvest status), so an unchanged night makes none. Outside a
    Prefect run no artifact is made.
    """
    outcome = publish_staged(data_dir, staged, years=years, replace=replace)
    wanted = sorted(set(sources or []) | {h.source_id for h in harvest or []})
    if wanted:
        try:
            made = publish_artifacts(wanted, data_dir, harvest=harvest, changed_reports=outcome.changed)
            outcome.artifacts = len(made)
        except Exception as err:  # the API refusing an artifact must not undo a committed publish
            message = f"per-source artifacts not created: {type(err).__name__}: {err}"
            _logger().warning(message)
            outcome.warnings.append(message)
    return outcome


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


def _recover(data_dir: str, log: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> list[str]:
    """Complete (or discard) the publish of a run that was killed, before this run reads anything."""
    done = recover_publish(data_dir)
    for outcome in done:
        log.warning("the publish step of an interrupted run was %s", outcome)
    return done


def _run_body(
    paths: list[str] | None,
    sources: str | None,
    documents: list[DocumentInfo] | None,
    data_dir: str,
    batch_size: int | None,
    force: bool,
    *,
    orchestrated: bool,
    runner: str,
    max_workers: int = DEFAULT_MAX_WORKERS,
    dask_address: str | None = None,
    harvest: HarvestPlan | None = None,
    sources_only: list[str] | None = None,
    years: list[int] | None = None,
    portal_port: int | None = None,
    archive_dir: str | None = None,
) -> RunSummary:
    """The flow's steps, shared by the Prefect flow and the in-process run."""
    start = time.perf_counter()
    log = _logger()
    staging = str(staging_dir_of(data_dir))
    run_id = _run_id(orchestrated)
    local = bool(paths or documents)
    recovered = _recover(data_dir, log)
    try:
        with open_run_inputs(
            sources,
            data_dir,
            local=local,
            ids=sources_only,
            years=years,
            harvest=harvest,
            portal_port=portal_port,
            archive_dir=archive_dir,
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
                h_jobs, harvested = _harvest(inputs.plan, data_dir, run_id, orchestrated, log, max_workers)
                jobs += h_jobs
                harvest_seconds = time.perf_counter() - h_start
    finally:
        close_fetchers()
    jobs = unique_jobs(jobs)
    outcomes, n_batches, label = _extract(
        jobs,
        staging,
        data_dir,
        batch_size,
        force,
        orchestrated,
        log,
        runner=runner,
        max_workers=max_workers,
        dask_address=dask_address,
    )
    staged = [o.staged for o in outcomes if o.staged]
    run_sources = sorted({o.source_id for o in outcomes})
    publish_step = publish_task if orchestrated else publish_task.fn
    published = publish_step(data_dir, staged, sources=run_sources, harvest=harvested)
    summary = summarize(
        data_dir,
        outcomes,
        published,
        seconds=time.perf_counter() - start,
        runner=label,
        batches=n_batches,
        sources=harvested,
    )
    summary.inputs = inputs.label
    summary.run_id = run_id
    summary.harvest_seconds = round(harvest_seconds, 3)
    summary.warnings = [f"the publish step of an interrupted run was {r}" for r in recovered]
    summary.warnings += list(inputs.warnings) + list(published.warnings)
    if inputs.plan is not None:
        summary.archive = inputs.plan.archive_dir
        summary.portal = inputs.plan.portal
    counts = (
        published.documents,
        published.up_to_date,
        published.written,
        published.unchanged,
        summary.cells,
        summary.failed_checks,
    )
    log.info(
        "published %d documents (%d already published): %d files written, %d unchanged; %d cells, %d failed checks",
        *counts,
    )
    return summary


def _harvest(
    plan: HarvestPlan,
    data_dir: str,
    run_id: str,
    orchestrated: bool,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
    max_workers: int = DEFAULT_MAX_WORKERS,
) -> tuple[list[DocumentJob], list[SourceOutcome]]:
    """harvest_batch over batches of sources; returns the documents to extract and each source's outcome.

    Harvesting waits on the network, so its tasks always run on threads in the flow's process
    (``max_workers`` batches at once, sharing the process's Fetcher and so its per-host limits),
    whatever runner extraction uses. Writes ``<archive>/harvest.json``. Under Prefect a source that
    gave nothing usable is logged as a warning.

    Sources per task: ``plan.batch_size``, else ``source_batch_size`` (one task per worker, 8-500
    sources). Log lines (each one an API record under Prefect): one per batch, plus one per source
    that failed or had problems; every source's line is at debug level.
    """
    size = source_batch_size(len(plan.sources), max_workers, plan.batch_size)
    chunks = batches_of(list(plan.sources), size)
    total = len(plan.sources)
    log.info(
        "harvesting %d sources in %d batches of up to %d, %d at once per batch (%s)",
        total,
        len(chunks),
        size,
        plan.threads,
        plan.label or "registry",
    )
    _notify_harvest(0, total, None)
    results: list[HarvestBatchOutcome] = []
    done = 0
    with contextlib.ExitStack() as stack:
        if orchestrated and chunks:
            runner = stack.enter_context(ThreadPoolTaskRunner(max_workers=max(1, int(max_workers))))
            futures = [
                runner.submit(
                    harvest_batch,
                    {"sources": chunk, "plan": plan, "data_dir": data_dir, "index": i, "run_id": run_id},
                )
                for i, chunk in enumerate(chunks)
            ]
            stream: Iterable[HarvestBatchOutcome] = (f.result() for f in as_completed(futures))
        else:
            stream = (harvest_batch.fn(chunk, plan, data_dir, i, run_id) for i, chunk in enumerate(chunks))
        for outcome in stream:
            results.append(outcome)
            done += len(outcome.sources)
            _log_harvest_batch(log, outcome, orchestrated, len(results), len(chunks), done, total)
            _notify_harvest(done, total, outcome)
    results.sort(key=lambda b: b.index)
    outcomes = [o for b in results for o in b.sources]
    write_harvest_record(plan.archive_dir, run_id, outcomes)
    return [j for b in results for j in b.documents], outcomes


def _log_harvest_batch(
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
    outcome: HarvestBatchOutcome,
    orchestrated: bool,
    n_done: int,
    n_batches: int,
    done: int,
    total: int,
    what: str = "harvest batch",
) -> None:
    """One summary line per harvest batch; a line per failed or troubled source; the rest at debug.

    Under Prefect every line is a log record sent to the API (~1.4 ms of CPU each), so a
    per-source line for 2,000 sources was ~2,000 records; the CLI's table shows every source.
    ``what`` names the batch in the summary line (a backfill's archive replay logs the same way).
    """
    line = "source %s: %s (%s); %d documents, %d requests, %d not modified"
    for src in outcome.sources:
        args = (src.source_id, src.status, src.reason, src.documents, src.requests, src.not_modified)
        if src.failed or src.problems:
            # a warning in the flow run's log (the Prefect UI); in-process the summary shows it
            (log.warning if src.failed and orchestrated else log.info)(line + "; %d problems", *args, len(src.problems))
        else:
            log.debug(line, *args)
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(Counter(src.status for src in outcome.sources).items()))
    log.info(
        "%s %d/%d done in %.1f s (%s): %d documents, %d requests, %d not modified; %d/%d sources",
        what,
        n_done,
        n_batches,
        outcome.seconds,
        statuses or "no sources",
        sum(src.documents for src in outcome.sources),
        sum(src.requests for src in outcome.sources),
        sum(src.not_modified for src in outcome.sources),
        done,
        total,
    )


def pending_documents(jobs: Sequence[DocumentJob], staging: str | Path, extractor_version: str | None = None) -> int:
    """How many of ``jobs`` this extractor version has not staged yet: the documents a run will parse."""
    version = extractor_version or EXTRACTOR_VERSION
    return sum(1 for j in jobs if not is_staged(staging, j.info.document_sha256, version, j.info.source_id))


#: Extraction tasks per worker on a process or Dask runner: enough to even out documents of
#: uneven cost, few enough that Prefect's per-task-run cost (~5.6 ms client + ~29 ms server CPU,
#: competing with the workers for the cores) stays small: 200 task runs for 10,000 documents
#: cost ~6 s of server CPU, 8 cost 0.2 s.
TASKS_PER_WORKER = 4


def extraction_batch_size(documents: int, kind: str, max_workers: int, requested: int | None = None) -> int:
    """Documents per ``extract_batch`` task for ``documents`` to parse on a runner of ``kind``.

    A size the caller gives (``--batch-size``) is used as given on every runner: it is an explicit
    choice (finer progress, bounded memory per task, a known task count). Otherwise
    ``processes``/``dask``: about ``TASKS_PER_WORKER`` × ``max_workers`` tasks, at least 1 document
    each (a worker process or Dask worker pays for each task run, not for each document);
    ``threads``/``local``: ``DEFAULT_BATCH_SIZE`` (thread tasks share the flow's process, where a
    batch is mostly a unit of progress).
    """
    if requested:
        return max(1, int(requested))
    if kind in ("processes", "dask"):
        return max(1, -(-max(0, documents) // (TASKS_PER_WORKER * max(1, int(max_workers)))))
    return DEFAULT_BATCH_SIZE


def settle_staged(
    jobs: Sequence[DocumentJob], staging: str | Path, data_dir: str | Path, force: bool = False
) -> tuple[dict[int, DocumentOutcome], list[int]]:
    """Outcomes of the documents already staged (by position in ``jobs``) and the positions left to parse.

    Run inline in the flow, without a task: a staged document costs a header read (~20 µs,
    ``reuse_staged``), far less than the task run it would otherwise ride in. ``force``: every
    document is left to parse.
    """
    if force:
        return {}, list(range(len(jobs)))
    settled: dict[int, DocumentOutcome] = {}
    todo: list[int] = []
    for i, job in enumerate(jobs):
        outcome = reuse_staged(job, staging, EXTRACTOR_VERSION, data_dir)
        if outcome is None:
            todo.append(i)
        else:
            settled[i] = outcome
    return settled, todo


def _extract(
    jobs: list[DocumentJob],
    staging: str,
    data_dir: str,
    batch_size: int | None,
    force: bool,
    orchestrated: bool,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
    *,
    runner: str = "auto",
    max_workers: int = DEFAULT_MAX_WORKERS,
    dask_address: str | None = None,
) -> tuple[list[DocumentOutcome], int, str]:
    """extract_batch over batches of documents; the outcomes in input order, the batch count, the runner.

    Under Prefect, documents already staged by this extractor version are settled first, inline
    (``settle_staged``: reused/restaged, no task run), and only the rest become ``extract_batch``
    tasks; the task runner is chosen once their number is known (``auto``: processes only above
    ``PROCESS_RUNNER_THRESHOLD``, see ``extraction_runner``) and so is the batch size
    (``extraction_batch_size``). In-process, batches of ``batch_size`` (default
    ``DEFAULT_BATCH_SIZE``) each check their staged documents themselves.
    """
    total = len(jobs)
    kind, address, label = "local", None, "local"
    settled: dict[int, DocumentOutcome] = {}
    todo = list(range(total))
    if orchestrated:
        s_start = time.perf_counter()
        settled, todo = settle_staged(jobs, staging, data_dir, force)
        kind, address = extraction_runner(runner, len(todo), max_workers, dask_address)
        label = runner_label(kind, max_workers, address)
        size = extraction_batch_size(len(todo), kind, max_workers, batch_size)
        chunks = batches_of([jobs[i] for i in todo], size)
        actions = Counter(o.action for o in settled.values())
        log.info(
            "%d documents: %d already staged (%s) settled in %.1f s; %d to parse in %d batches of up to %d on %s "
            "(extractor %s)",
            total,
            len(settled),
            ", ".join(f"{n} {a}" for a, n in sorted(actions.items())) or "none",
            time.perf_counter() - s_start,
            len(todo),
            len(chunks),
            size,
            label,
            EXTRACTOR_VERSION,
        )
    else:
        chunks = batches_of(jobs, batch_size or DEFAULT_BATCH_SIZE)
        log.info("%d documents in %d batches (extractor %s)", total, len(chunks), EXTRACTOR_VERSION)
    _notify(0, total, None)
    done = len(settled)
    if settled:
        _notify(done, total, BatchOutcome(index=-1, documents=[settled[i] for i in sorted(settled)]))
    results: list[BatchOutcome] = []
    every = max(1, -(-len(chunks) // 8))  # at most ~8 info lines for the batches, whatever their number
    for outcome in _run_batches(chunks, staging, force, data_dir, kind, max_workers, address):
        results.append(outcome)
        done += len(outcome.documents)
        actions_line = ", ".join(f"{n} {a}" for a, n in sorted(Counter(o.action for o in outcome.documents).items()))
        level = logging.INFO if len(results) % every == 0 or len(results) == len(chunks) else logging.DEBUG
        log.log(
            level,
            "batch %d/%d done (%s) in %.1f s: %d/%d documents",
            len(results),
            len(chunks),
            actions_line,
            outcome.seconds,
            done,
            total,
        )
        _notify(done, total, outcome)
        if len(results) == 1:
            pause_point("extract")
    results.sort(key=lambda b: b.index)
    parsed = [o for b in results for o in b.documents]
    if not settled:
        return parsed, len(chunks), label
    slots: dict[int, DocumentOutcome] = dict(settled)
    slots.update(zip(todo, parsed, strict=True))
    return [slots[i] for i in range(total)], len(chunks), label


def _run_batches(
    chunks: list[list[DocumentJob]],
    staging: str,
    force: bool,
    data_dir: str,
    kind: str,
    max_workers: int,
    dask_address: str | None,
) -> Iterator[BatchOutcome]:
    """Batch outcomes as they complete: on the chosen Prefect task runner, or in order (``local``).

    The runner is started here for the extraction only (harvesting keeps its threads): worker
    processes and Dask clusters cost seconds to start, which only parsing can earn back.
    """
    if kind == "local":
        for i, chunk in enumerate(chunks):
            yield extract_batch.fn(chunk, staging, i, force, data_dir)
        return
    if not chunks:
        return
    with _shared_api(kind in ("processes", "dask")), task_runner_for(kind, max_workers, dask_address) as runner:
        futures = [
            runner.submit(
                extract_batch,
                {"batch": chunk, "staging_dir": staging, "index": i, "force": force, "data_dir": data_dir},
            )
            for i, chunk in enumerate(chunks)
        ]
        for future in as_completed(futures):
            yield future.result()


@flow(name="xxgk-extract", validate_parameters=False)
def extract_flow(
    paths: list[str] | None = None,
    sources: str | None = None,
    documents: list[DocumentInfo] | None = None,
    data_dir: str = "data",
    batch_size: int | None = None,
    force: bool = False,
    runner: str = "auto",
    harvest: HarvestPlan | None = None,
    sources_only: list[str] | None = None,
    years: list[int] | None = None,
    portal_port: int | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    dask_address: str | None = None,
    archive_dir: str | None = None,
    harvest_ref: str | None = None,
) -> RunSummary:
    """Harvest and/or read documents, extract them into ``data_dir`` and publish.

    ``sources``: a sources registry (harvested) or a documents file; with no ``sources``, ``paths``,
    ``documents`` or ``harvest`` the demo portal serving the embedded sample set is harvested.
    harvest_batch × N (threads) → load_documents → extract_batch × M on ``runner`` (``auto``,
    ``threads``, ``processes``, ``dask`` or a Dask scheduler address; at most ``max_workers`` at
    once) → publish (one commit; one artifact per source). Returns a ``RunSummary``.

    ``harvest_ref``: a plan stashed in this process (``flows.harvesting.stash_plan``), how
    ``run_pipeline`` hands over an explicit plan: a plan of many sources is over Prefect's 512 KB
    cap on flow parameters. ``batch_size``: see ``extraction_batch_size`` (None: sized by runner).
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
        max_workers=max_workers,
        dask_address=dask_address,
        harvest=harvest if harvest is not None or harvest_ref is None else take_plan(harvest_ref),
        sources_only=sources_only,
        years=years,
        portal_port=portal_port,
        archive_dir=archive_dir,
    )


#: Runner names for extraction (besides a Dask scheduler address such as ``tcp://host:8786``).
RUNNER_CHOICES = ("auto", "threads", "processes", "dask")


def extraction_runner(
    runner: str, documents: int, max_workers: int, dask_address: str | None = None
) -> tuple[str, str | None]:
    """``(kind, dask address)`` for extracting ``documents`` documents: threads, processes or dask.

    ``auto`` picks processes only when more than ``PROCESS_RUNNER_THRESHOLD`` documents must be
    parsed, on several cores with ``max_workers`` > 1: parsing is CPU-bound (the GIL serialises
    threads), but each worker process pays ~5-8 s to import Prefect and the extractors, which only
    a large backfill earns back. ``auto`` with ``dask_address``, or a runner given as an address,
    is that Dask cluster. Raises ``ValueError`` for an unknown runner.
    """
    if is_dask_address(runner):
        return "dask", runner.strip()
    kind = runner.strip().lower()
    if kind not in RUNNER_CHOICES:
        raise ValueError(f"unknown runner {runner!r}: auto, threads, processes, dask, or tcp://host:port")
    if dask_address and kind not in ("auto", "dask"):
        raise ValueError(f"a Dask address ({dask_address}) needs --runner dask or auto, not {runner!r}")
    if dask_address and not is_dask_address(dask_address):
        raise ValueError(f"not a Dask scheduler address: {dask_address!r} (expected tcp://host:port)")
    if kind == "auto":
        if dask_address:
            return "dask", dask_address.strip()
        cores = os.cpu_count() or 1
        large = documents > PROCESS_RUNNER_THRESHOLD and cores > 1 and max_workers > 1
        return ("processes" if large else "threads"), None
    return kind, (dask_address.strip() if kind == "dask" and dask_address else None)


def choose_runner(runner: str, documents: int, max_workers: int) -> str:
    """The kind of runner ``extraction_runner`` picks: ``threads``, ``processes`` or ``dask``."""
    return extraction_runner(runner, documents, max_workers)[0]


def runner_label(kind: str, max_workers: int, dask_address: str | None = None) -> str:
    """How the summary names the runner: ``prefect/threads×2``, ``prefect/dask@tcp://…``."""
    if kind == "dask" and dask_address:
        return f"prefect/dask@{dask_address}"
    return f"prefect/{kind}×{max(1, int(max_workers))}"


def run_pipeline(
    paths: list[str] | None = None,
    sources: str | None = None,
    documents: list[DocumentInfo] | None = None,
    data_dir: Path | str | None = None,
    *,
    batch_size: int | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    runner: str = "auto",
    force: bool = False,
    orchestrate: bool = True,
    expected_documents: int | None = None,
    harvest: HarvestPlan | None = None,
    sources_only: list[str] | None = None,
    years: list[int] | None = None,
    portal_port: int | None = None,
    dask_address: str | None = None,
    archive_dir: Path | str | None = None,
) -> RunSummary:
    """Run the pipeline into ``data_dir`` (default ``./data``): harvest and/or local documents.

    ``sources`` is a sources registry or a documents file; ``harvest`` an explicit plan; with
    neither (nor paths/documents) the demo portal is harvested. ``sources_only``/``years`` narrow
    the run. ``orchestrate=False`` calls the same task functions directly (no Prefect API).
    ``runner``: ``auto`` / ``threads`` / ``processes`` / ``dask`` / a Dask scheduler address
    (or ``dask_address``) for the extraction tasks, at most ``max_workers`` batches at once;
    ``auto`` decides once the documents left to parse are known. ``archive_dir`` (default
    ``<data_dir>/archive``) may be on shared storage. ``expected_documents`` is accepted for
    compatibility and no longer needed (the runner is chosen from the documents left to parse).
    ``batch_size``: documents per extract task; None sizes them by runner (``extraction_batch_size``:
    about 4 tasks per worker on processes/Dask, ``DEFAULT_BATCH_SIZE`` on threads), a number is
    used as given. Under Prefect an explicit
    ``harvest`` plan reaches the flow by reference (``stash_plan``), not as a parameter.
    """
    del expected_documents
    data = str(Path(data_dir) if data_dir is not None else default_data_dir())
    options: dict[str, Any] = {
        "harvest": harvest,
        "sources_only": sources_only,
        "years": years,
        "portal_port": portal_port,
        "archive_dir": str(archive_dir) if archive_dir is not None else None,
    }
    workers = max(1, int(max_workers))
    if not orchestrate:
        return _run_body(
            paths, sources, documents, data, batch_size, force, orchestrated=False, runner="local", **options
        )
    extraction_runner(runner, 0, workers, dask_address)  # an unknown runner fails before the flow starts
    ref = stash_plan(harvest) if harvest is not None else None
    options["harvest"] = None
    try:
        return extract_flow(
            paths=paths,
            sources=sources,
            documents=documents,
            data_dir=data,
            batch_size=batch_size,
            force=force,
            runner=runner,
            max_workers=workers,
            dask_address=dask_address,
            harvest_ref=ref,
            **options,
        )
    finally:
        if ref is not None:
            drop_plan(ref)


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
    """Let worker processes and Dask workers reach this process's temporary API server.

    Without an API URL every Prefect process starts its own ephemeral server (6-20 s each) and
    records its task runs there, not in this run. So while the workers start and run, the URL of
    this process's server is exported (process-pool and local Dask workers inherit the environment)
    and put in the settings that travel with each task to its worker (how tasks on an existing Dask
    cluster learn it). A user's ``PREFECT_API_URL`` is left alone.
    """
    if not needed or configured_api_url():
        yield
        return
    url = start_api()
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)
