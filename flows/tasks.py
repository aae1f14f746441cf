"""The Prefect tasks and the steps that run them, shared by the pipeline and backfill flows.

Tasks are coarse on purpose: a Prefect task run costs ~25-30 ms of CPU between client and API
server, more than parsing a text or HTML report, so one task handles a whole batch and loops
inside. ``harvest_batch`` (a batch of sources: discover → fetch → raw archive), ``load_documents``
(local files), ``extract_batch`` (a batch of documents) and ``publish`` (one commit, then the
per-source artifacts). ``harvest_step`` and ``extract_step`` run them over batches, under Prefect
(``orchestrated``) or as plain calls in-process, and tell the progress listeners (the CLI's
progress view) after each batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from xxgk.flows.prefect_api import configure_prefect
from xxgk.flows.settings import DEFAULT_BATCH_SIZE, DEFAULT_MAX_WORKERS, pause_point

# Defaults must be in the environment before Prefect reads its settings (at import).
configure_prefect(None)

from prefect import get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.exceptions import MissingContextError  # noqa: E402
from prefect.futures import as_completed  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from xxgk.flows.artifacts import publish_artifacts  # noqa: E402
from xxgk.flows.extraction import (  # noqa: E402
    BatchOutcome,
    DocumentOutcome,
    current_extractor_version,
    extract_documents,
    load_document_infos,
    settle_staged,
)
from xxgk.flows.harvest_workers import harvest_pool, harvest_processes_for, host_batches, run_harvest_batch  # noqa: E402
from xxgk.flows.harvesting import (  # noqa: E402
    HarvestBatchOutcome,
    HarvestPlan,
    SourceOutcome,
    source_batch_size,
    write_harvest_record,
)
from xxgk.flows.inputs import DocumentJob  # noqa: E402
from xxgk.flows.prefect_api import shared_api  # noqa: E402
from xxgk.flows.publishing import PublishOutcome, publish_staged  # noqa: E402
from xxgk.flows.runners import (  # noqa: E402
    batches_of,
    extraction_batch_size,
    extraction_runner,
    runner_label,
    task_runner_for,
)
from xxgk.flows.transaction import recover_publish  # noqa: E402
from xxgk.harvest import Source  # noqa: E402
from xxgk.warehouse.documents import DocumentInfo  # noqa: E402

_log = logging.getLogger("xxgk")
T = TypeVar("T")


def untraversed(value: T) -> quote[T]:
    """``value`` as a task parameter or flow result that Prefect passes on without walking it.

    Prefect visits every element of a task's parameters and of a flow's return value (looking
    for futures and states): for the 10,000 source outcomes and staged paths of a national night
    that walk cost more CPU than the publish step itself (``bench.scale``). A task receives the
    value itself; a flow's caller gets it back with ``unwrap_result``.
    """
    return quote(value)


def unwrap_result(value: Any) -> Any:
    """A flow's return value without the ``untraversed`` wrapper (a plain value passes through)."""
    return value.unquote() if isinstance(value, quote) else value


#: What the step functions log through: the flow run's logger under Prefect, else ``xxgk``.
RunLogger = logging.Logger | logging.LoggerAdapter[logging.Logger]


#: Called by the flow after each batch: ``(documents_done, documents_total, outcome)``.
ProgressListener = Callable[[int, int, "BatchOutcome | None"], None]
_listeners: list[ProgressListener] = []
#: Called by the flow after each harvest batch: ``(sources_done, sources_total, outcome)``.
HarvestListener = Callable[[int, int, "HarvestBatchOutcome | None"], None]
_harvest_listeners: list[HarvestListener] = []


@task(name="harvest_batch", cache_policy=NO_CACHE)
def harvest_batch(
    sources: list[Source],
    plan: HarvestPlan,
    data_dir: str,
    index: int = 0,
    run_id: str | None = None,
    pool: str | None = None,
) -> HarvestBatchOutcome:
    """Task: discover, fetch and archive a batch of sources (a few at a time on threads inside).

    ``pool``: the run's harvest worker processes (``flows.harvest_workers.harvest_pool``), which
    then do the work while the task waits; None: this process.
    """
    return run_harvest_batch(sources, plan, data_dir, index=index, run_id=run_id, pool=pool)


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
    outcomes = extract_documents(batch, staging_dir, None, force, data_dir)
    return BatchOutcome(index=index, documents=outcomes, seconds=time.perf_counter() - start)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(
    data_dir: str,
    staged: list[str],
    years: list[int] | None = None,
    replace: bool = False,
    sources: list[str] | None = None,
    harvest: list[SourceOutcome] | None = None,
    archive_dir: str | None = None,
) -> PublishOutcome:
    """Task: publish the warehouse tables and the validation reports; then, under Prefect, artifacts.

    One markdown artifact per source of the run (``sources`` plus the harvested ones, with their
    harvest outcome) summarising its validation reports with links to them: what the Prefect UI
    shows per source. Only sources whose artifact would change get a new one (their reports
    changed in this publish, or their harvest status), so an unchanged night makes none. Outside a
    Prefect run no artifact is made.
    """
    outcome = publish_staged(data_dir, staged, years=years, replace=replace, archive_dir=archive_dir)
    wanted = sorted(set(sources or []) | {h.source_id for h in harvest or []})
    if wanted:
        try:
            made = publish_artifacts(wanted, data_dir, harvest=harvest, changed_reports=outcome.changed)
            outcome.artifacts = len(made)
        except Exception as err:  # the API refusing an artifact must not undo a committed publish
            message = f"per-source artifacts not created: {type(err).__name__}: {err}"
            run_logger().warning(message)
            outcome.warnings.append(message)
    return outcome


def publish_step(
    data_dir: str,
    staged: list[str],
    *,
    orchestrated: bool,
    years: list[int] | None = None,
    replace: bool = False,
    sources: list[str] | None = None,
    harvest: list[SourceOutcome] | None = None,
    archive_dir: str | None = None,
) -> PublishOutcome:
    """The ``publish`` task under Prefect (its long lists passed ``untraversed``), else its function."""
    if not orchestrated:
        return publish_task.fn(data_dir, staged, years, replace, sources, harvest, archive_dir)
    return publish_task(
        data_dir,
        untraversed(staged),
        years=years,
        replace=replace,
        sources=untraversed(sources),
        harvest=untraversed(harvest),
        archive_dir=archive_dir,
    )


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


def run_logger() -> RunLogger:
    """The flow run's logger under Prefect (logs reach the API), the ``xxgk`` logger otherwise."""
    try:
        return get_run_logger()
    except MissingContextError:
        return _log


def new_run_id(orchestrated: bool) -> str:
    """The flow run's id under Prefect (the fetch log then links requests to the run), else a new one."""
    if orchestrated:
        from prefect.runtime import flow_run

        run = flow_run.get_id()
        if run:
            return str(run)
    return uuid.uuid4().hex


def recover_interrupted(data_dir: str, log: RunLogger) -> list[str]:
    """Complete (or discard) the publish of a run that was killed, before this run reads anything."""
    done = recover_publish(data_dir)
    for outcome in done:
        log.warning("the publish step of an interrupted run was %s", outcome)
    return done


def harvest_step(
    plan: HarvestPlan,
    data_dir: str,
    run_id: str,
    orchestrated: bool,
    log: RunLogger,
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
    total = len(plan.sources)
    processes = harvest_processes_for(plan, max_workers)
    # in one process the shared Fetcher keeps per-host politeness across batches; worker
    # processes each have their own, so there no host may be in two batches
    chunks = host_batches(list(plan.sources), size) if processes else batches_of(list(plan.sources), size)
    log.info(
        "harvesting %d sources in %d batches of up to %d, %d at once per batch%s (%s)",
        total,
        len(chunks),
        size,
        plan.threads,
        f", in {processes} worker processes" if processes else "",
        plan.label or "registry",
    )
    _notify_harvest(0, total, None)
    results: list[HarvestBatchOutcome] = []
    done = 0
    # A task gets its own sources and the plan without the run's whole source list: Prefect walks
    # every task parameter (twice, looking for futures), so handing each of 20 tasks the plan's
    # 10,000 sources cost more CPU than the harvest itself (bench.scale, 10,000 sources).
    task_plan = dataclasses.replace(plan, sources=[])
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(harvest_pool(processes))
        # a worker process runs one batch at a time; one more waits queued per worker, so a worker
        # that finishes starts the next batch at once (a batch's last sources leave it half idle)
        at_once = 2 * processes if processes else max(1, int(max_workers))
        if orchestrated and chunks:
            runner = stack.enter_context(ThreadPoolTaskRunner(max_workers=at_once))
            futures = [
                runner.submit(
                    harvest_batch,
                    {
                        "sources": untraversed(chunk),
                        "plan": task_plan,
                        "data_dir": data_dir,
                        "index": i,
                        "run_id": run_id,
                        "pool": pool,
                    },
                )
                for i, chunk in enumerate(chunks)
            ]
            stream: Iterable[HarvestBatchOutcome] = (f.result() for f in as_completed(futures))
        elif pool is not None:
            stream = _pooled_batches(chunks, task_plan, data_dir, run_id, pool, at_once)
        else:
            stream = (harvest_batch.fn(chunk, task_plan, data_dir, i, run_id) for i, chunk in enumerate(chunks))
        for outcome in stream:
            results.append(outcome)
            done += len(outcome.sources)
            log_harvest_batch(log, outcome, orchestrated, len(results), len(chunks), done, total)
            _notify_harvest(done, total, outcome)
    # the registry's order, whatever batch a source's host put it in
    position = {s.source_id: i for i, s in enumerate(plan.sources)}
    outcomes = sorted((o for b in results for o in b.sources), key=lambda o: position.get(o.source_id, total))
    documents = sorted((j for b in results for j in b.documents), key=lambda j: position.get(j.info.source_id, total))
    write_harvest_record(plan.archive_dir, run_id, outcomes)
    return documents, outcomes


def _pooled_batches(
    chunks: list[list[Source]], plan: HarvestPlan, data_dir: str, run_id: str, pool: str, at_once: int
) -> Iterator[HarvestBatchOutcome]:
    """Harvest batches in the worker processes without Prefect, as they complete."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import as_completed as completed

    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="harvest-batch") as threads:
        futures = [
            threads.submit(run_harvest_batch, chunk, plan, data_dir, index=i, run_id=run_id, pool=pool)
            for i, chunk in enumerate(chunks)
        ]
        for future in completed(futures):
            yield future.result()


def log_harvest_batch(
    log: RunLogger,
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


def extract_step(
    jobs: list[DocumentJob],
    staging: str,
    data_dir: str,
    batch_size: int | None,
    force: bool,
    orchestrated: bool,
    log: RunLogger,
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
            current_extractor_version(),
        )
    else:
        chunks = batches_of(jobs, batch_size or DEFAULT_BATCH_SIZE)
        log.info("%d documents in %d batches (extractor %s)", total, len(chunks), current_extractor_version())
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
    with shared_api(kind in ("processes", "dask")), task_runner_for(kind, max_workers, dask_address) as runner:
        futures = [
            runner.submit(
                extract_batch,
                {"batch": untraversed(chunk), "staging_dir": staging, "index": i, "force": force, "data_dir": data_dir},
            )
            for i, chunk in enumerate(chunks)
        ]
        for future in as_completed(futures):
            yield future.result()
