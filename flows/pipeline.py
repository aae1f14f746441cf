"""The pipeline flow ``xxgk-extract``: harvest sources / load documents → extract in batches → publish.

What a run reads (``flows.sources.open_run_inputs``): a sources registry (harvested), a documents
file or paths (local files), or with no inputs at all the local demo portal serving the embedded
sample set (harvested like a real site). Its steps are the tasks of ``flows.tasks``: harvest_batch
× N on threads → load_documents → extract_batch × M on the chosen runner → publish (one commit, one
artifact per source whose summary changed).

``run_pipeline`` runs the same task functions either under Prefect (``orchestrate=True``, the
default) or called directly in-process (``orchestrate=False``: no API server to start, for a quick
one-off extract and for tests). Both give byte-identical outputs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from xxgk.flows.prefect_api import configure_prefect
from xxgk.flows.settings import DEFAULT_MAX_WORKERS, default_data_dir

# Defaults must be in the environment before Prefect reads its settings (at import).
configure_prefect(None)

from prefect import flow  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from xxgk.flows.extraction import as_job, staging_dir_of, unique_jobs  # noqa: E402
from xxgk.flows.harvest_workers import harvest_processes_for  # noqa: E402
from xxgk.flows.harvesting import HarvestPlan, SourceOutcome, close_fetchers, drop_plan, stash_plan, take_plan  # noqa: E402
from xxgk.flows.identity import settle_copies, settle_sources  # noqa: E402
from xxgk.flows.inputs import DocumentJob  # noqa: E402
from xxgk.flows.runners import extraction_runner  # noqa: E402
from xxgk.flows.sources import check_revalidate, open_run_inputs  # noqa: E402
from xxgk.flows.summary import RunSummary, summarize  # noqa: E402
from xxgk.flows.tasks import (  # noqa: E402
    extract_step,
    harvest_step,
    load_documents,
    new_run_id,
    publish_step,
    recover_interrupted,
    run_logger,
    untraversed,
    unwrap_result,
)
from xxgk.warehouse.documents import DocumentInfo  # noqa: E402


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
    revalidate: str | None = None,
) -> RunSummary:
    """The flow's steps, shared by the Prefect flow and the in-process run."""
    start = time.perf_counter()
    log = run_logger()
    staging = str(staging_dir_of(data_dir))
    run_id = new_run_id(orchestrated)
    local = bool(paths or documents)
    recovered = recover_interrupted(data_dir, log)
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
            harvest_processes = 0
            if inputs.plan is not None:
                if revalidate is not None:
                    inputs.plan.revalidate = check_revalidate(revalidate)
                h_start = time.perf_counter()
                h_jobs, harvested = harvest_step(inputs.plan, data_dir, run_id, orchestrated, log, max_workers)
                harvest_processes = harvest_processes_for(inputs.plan, max_workers)
                jobs += h_jobs
                harvest_seconds = time.perf_counter() - h_start
    finally:
        close_fetchers()
    jobs = unique_jobs(jobs)
    outcomes, n_batches, label = extract_step(
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
    if any(j.info.source_from_name for j in jobs):  # files known by name only: file them under their publisher
        outcomes = settle_sources(outcomes, staging)
    settle_copies(outcomes, staging)  # copies of one report settle each other's ambiguous digit runs
    staged = [o.staged for o in outcomes if o.staged]
    run_sources = sorted({o.source_id for o in outcomes})
    archive = inputs.plan.archive_dir if inputs.plan is not None else archive_dir
    published = publish_step(
        data_dir, staged, orchestrated=orchestrated, sources=run_sources, harvest=harvested, archive_dir=archive
    )
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
    summary.harvest_processes = harvest_processes
    summary.warnings = [f"the publish step of an interrupted run was {r}" for r in recovered]
    summary.warnings += list(inputs.warnings) + list(published.warnings)
    if inputs.plan is not None:
        summary.archive = inputs.plan.archive_dir
        summary.portal = inputs.plan.portal
        summary.revalidate = inputs.plan.revalidate
        summary.staleness = inputs.plan.staleness()
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
    revalidate: str | None = None,
) -> quote[RunSummary]:
    """Harvest and/or read documents, extract them into ``data_dir`` and publish.

    ``sources``: a sources registry (harvested) or a documents file; with no ``sources``, ``paths``,
    ``documents`` or ``harvest`` the demo portal serving the embedded sample set is harvested.
    harvest_batch × N (threads) → load_documents → extract_batch × M on ``runner`` (``auto``,
    ``threads``, ``processes``, ``dask`` or a Dask scheduler address; at most ``max_workers`` at
    once) → publish (one commit; one artifact per source). Returns a ``RunSummary``.

    ``harvest_ref``: a plan stashed in this process (``flows.harvesting.stash_plan``), how
    ``run_pipeline`` hands over an explicit plan: a plan of many sources is over Prefect's 512 KB
    cap on flow parameters. ``batch_size``: see ``extraction_batch_size`` (None: sized by runner).
    ``revalidate``: which known report pages and attachments are asked about again (``due``: the
    revisit schedule, the default; ``all``; ``none``), see ``harvest.revisit``. The summary comes
    back ``untraversed`` (``flows.tasks``): ``run_pipeline`` unwraps it.
    """
    summary = _run_body(
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
        revalidate=revalidate,
    )
    return untraversed(summary)


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
    revalidate: str | None = None,
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
        "revalidate": check_revalidate(revalidate) if revalidate is not None else None,
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
        return unwrap_result(
            extract_flow(
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
        )
    finally:
        if ref is not None:
            drop_plan(ref)
