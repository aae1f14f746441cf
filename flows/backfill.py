"""Backfills: re-extract years and sources from the raw archive and republish their partitions.

``xxgk backfill --years 2019-2024 [--sources ...] [--refetch] [--force-extract]`` is the nightly
run's twin for the past: instead of asking the portals what changed, it replays the harvest from
the raw archive (``flows.archive_index``: same discovery, same choice of document, same provenance,
no network), extracts what this extractor version has not staged yet (everything with
``--force-extract``), and republishes the affected year partitions in one commit
(``flows.transaction``). ``--refetch`` harvests the chosen sources again first, over the network.

Which sources (``--sources``): every source the archive holds (default); a comma list of ids; a
file of ids (one per line); a sources registry (its sources that the archive holds, plus with
``--refetch`` its enabled ones; definitions taken from the registry); or a documents file (local
files: re-extracted as listed).

What is republished: the ``--years`` partitions (default: every year the warehouse or the backfill
has). When the backfilled sources are all the sources those partitions hold, the partitions are
rebuilt from the backfill alone (``publish(replace=True)``): documents that no longer exist go, and
the result is the same as a fresh run's. Otherwise the backfilled sources' rows are replaced
source by source and every other source's rows stay (``replace=False``); a source/year of a
backfilled source for which the archive no longer gives any document then keeps its old rows, and
the summary says so.

A backfill killed at any point leaves the published files as they were (or, past the commit
point, as the next run completes them); its staged results are kept, so rerunning it parses only
what was left.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from xxgk.flows.prefect_api import configure_prefect
from xxgk.flows.settings import DEFAULT_MAX_WORKERS, default_data_dir

# Defaults must be in the environment before Prefect reads its settings (at import).
configure_prefect(None)

from prefect import flow, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from xxgk.flows.archive_index import ReplayOutcome, replay_source, select_backfill  # noqa: E402
from xxgk.flows.extraction import DocumentOutcome, as_job, staging_dir_of, unique_jobs  # noqa: E402
from xxgk.flows.harvesting import (  # noqa: E402
    HarvestBatchOutcome,
    HarvestPlan,
    SourceOutcome,
    archive_dir_of,
    close_fetchers,
)
from xxgk.flows.inputs import DocumentJob  # noqa: E402
from xxgk.flows.runners import extraction_runner  # noqa: E402
from xxgk.flows.sources import fetch_config_for  # noqa: E402
from xxgk.flows.summary import RunSummary, summarize  # noqa: E402
from xxgk.flows.tasks import (  # noqa: E402
    extract_step,
    harvest_step,
    load_documents,
    log_harvest_batch,
    new_run_id,
    publish_step,
    recover_interrupted,
    run_logger,
    untraversed,
    unwrap_result,
)
from xxgk.harvest import Source  # noqa: E402
from xxgk.warehouse.documents import UNKNOWN_YEAR  # noqa: E402
from xxgk.warehouse.parquet import partition_path, read_partition  # noqa: E402


def replay_sources(sources: list[Source], archive_dir: str, data_dir: str) -> list[ReplayOutcome]:
    """Replay each source's harvest from the archive (a failure is that source's outcome, not a crash)."""
    out: list[ReplayOutcome] = []
    for source in sources:
        try:
            out.append(replay_source(source, archive_dir, data_dir))
        except Exception as err:  # one broken source must not lose the others: reported as its status
            reason = f"internal_error: replay failed: {type(err).__name__}: {err}"
            out.append(ReplayOutcome(SourceOutcome(source.source_id, source.publisher, "failed", reason), []))
    return out


@task(name="replay_archive", cache_policy=NO_CACHE)
def replay_archive(sources: list[Source], archive_dir: str, data_dir: str) -> list[ReplayOutcome]:
    """Task: the documents of each source as its last harvest found them, read from the archive."""
    return replay_sources(sources, archive_dir, data_dir)


def _year_of(outcome: DocumentOutcome) -> int:
    return outcome.year if outcome.year is not None else UNKNOWN_YEAR


def published_pairs(data_dir: str | Path, years: Iterable[int]) -> set[tuple[str, int]]:
    """(source, year) pairs the warehouse's reports partitions of ``years`` hold now."""
    pairs: set[tuple[str, int]] = set()
    for year in years:
        path = partition_path(data_dir, "reports", year)
        if path.is_file():
            column = read_partition(path, "reports", ["source_id"]).column("source_id")
            pairs |= {(str(s), year) for s in column.unique().to_pylist() if s is not None}
    return pairs


def existing_years(data_dir: str | Path) -> set[int]:
    """Years with a published reports partition."""
    root = Path(data_dir) / "warehouse" / "reports"
    years: set[int] = set()
    if root.is_dir():
        for part in root.glob("year=*/part-0.parquet"):
            try:
                years.add(int(part.parent.name.removeprefix("year=")))
            except ValueError:
                continue
    return years


def publish_scope(
    data_dir: str | Path, years: list[int] | None, sources: set[str], outcomes: list[DocumentOutcome]
) -> tuple[list[int], bool, list[str]]:
    """``(years, replace, warnings)`` of a backfill's publish.

    The years are ``years`` or every year published or produced. ``replace`` when the backfilled
    ``sources`` are all the sources those partitions hold: then they are rebuilt from this run
    alone, as a fresh run would publish them. Otherwise other sources' rows must stay, so only the
    backfilled sources' source/years are replaced, and each one the archive no longer gives a
    document for is named in a warning (its old rows stay).
    """
    produced = {(o.source_id, _year_of(o)) for o in outcomes if o.staged}
    scope = set(years) if years is not None else existing_years(data_dir) | {y for _, y in produced}
    present = published_pairs(data_dir, scope)
    others = sorted({s for s, _ in present} - sources)
    if not others:
        return sorted(scope), True, []
    stale = sorted((s, y) for s, y in present if s in sources and (s, y) not in produced)
    warnings = [
        f"{s} {y if y != UNKNOWN_YEAR else 'unknown year'}: no document now, its published rows are kept "
        f"(the years also hold other sources: {', '.join(others[:5])}{'…' if len(others) > 5 else ''})"
        for s, y in stale
    ]
    return sorted(scope), False, warnings


def _backfill_body(
    data_dir: str,
    archive_dir: str | None,
    sources: str | None,
    years: list[int] | None,
    refetch: bool,
    force: bool,
    batch_size: int | None,
    *,
    orchestrated: bool,
    runner: str,
    max_workers: int,
    dask_address: str | None,
) -> RunSummary:
    """The backfill's steps, shared by the Prefect flow and the in-process run."""
    start = time.perf_counter()
    log = run_logger()
    run_id = new_run_id(orchestrated)
    recovered = recover_interrupted(data_dir, log)
    archive = str(archive_dir if archive_dir is not None else archive_dir_of(data_dir))
    selection = select_backfill(archive, sources, refetch=refetch)
    harvested: list[SourceOutcome] = []
    harvest_seconds = 0.0
    if refetch and selection.sources:
        # a refetch asks about every known document again (``--revalidate all``), not only the due ones
        plan = HarvestPlan(
            selection.sources, archive, fetch_config_for(selection.sources), years, label="refetch", revalidate="all"
        )
        h_start = time.perf_counter()
        try:
            _jobs, harvested = harvest_step(plan, data_dir, run_id, orchestrated, log, max_workers)
        finally:
            close_fetchers()
        harvest_seconds = time.perf_counter() - h_start
    replay = replay_archive if orchestrated else replay_archive.fn
    r_start = time.perf_counter()
    replayed = replay(selection.sources, archive, data_dir) if selection.sources else []
    jobs: list[DocumentJob] = [j for r in replayed for j in r.documents]
    if replayed:
        batch = HarvestBatchOutcome(0, [r.source for r in replayed], jobs, time.perf_counter() - r_start)
        log_harvest_batch(log, batch, orchestrated, 1, 1, len(replayed), len(replayed), what="archive replay")
    if selection.documents_file:
        load = load_documents if orchestrated else load_documents.fn
        jobs += [as_job(info, data_dir) for info in load(None, selection.documents_file, None, None, years)]
    # a document whose year is known and outside the years is not parsed; one without is, to learn it
    jobs = unique_jobs(j for j in jobs if years is None or j.info.year is None or j.info.year in years)
    outcomes, n_batches, label = extract_step(
        jobs,
        str(staging_dir_of(data_dir)),
        data_dir,
        batch_size,
        force,
        orchestrated,
        log,
        runner=runner,
        max_workers=max_workers,
        dask_address=dask_address,
    )
    kept = [o for o in outcomes if years is None or _year_of(o) in years]
    backfilled = {s.source_id for s in selection.sources} | {o.source_id for o in outcomes}
    scope, replace, scope_warnings = publish_scope(data_dir, years, backfilled, kept)
    staged = [o.staged for o in kept if o.staged]
    published = publish_step(
        data_dir,
        staged,
        orchestrated=orchestrated,
        years=scope,
        replace=replace,
        sources=sorted(backfilled),
        harvest=harvested,
        archive_dir=archive,
    )
    summary = summarize(
        data_dir,
        outcomes,
        published,
        seconds=time.perf_counter() - start,
        runner=label,
        batches=n_batches,
        sources=harvested or [r.source for r in replayed],
    )
    summary.inputs = selection.label + (" (refetched)" if refetch else " (raw archive, no network)")
    summary.run_id = run_id
    summary.archive = archive
    summary.harvest_seconds = round(harvest_seconds, 3)
    summary.warnings = [f"the publish step of an interrupted run was {r}" for r in recovered]
    summary.warnings += selection.warnings + scope_warnings + list(published.warnings)
    log.info(
        "backfill published years %s (%s): %d files changed; %d cells, %d failed checks",
        ",".join(str(y) for y in scope) or "-",
        "rebuilt" if replace else "merged",
        len(published.changed),
        summary.cells,
        summary.failed_checks,
    )
    return summary


@flow(name="xxgk-backfill", validate_parameters=False)
def backfill_flow(
    data_dir: str = "data",
    archive_dir: str | None = None,
    sources: str | None = None,
    years: list[int] | None = None,
    refetch: bool = False,
    force: bool = False,
    batch_size: int | None = None,
    runner: str = "auto",
    max_workers: int = DEFAULT_MAX_WORKERS,
    dask_address: str | None = None,
) -> quote[RunSummary]:
    """Re-extract ``sources``/``years`` from the raw archive and republish their partitions.

    (refetch: harvest_batch × N) → replay_archive → extract_batch × M on ``runner`` → publish.
    The summary comes back ``untraversed`` (``flows.tasks``): ``run_backfill`` unwraps it.
    """
    summary = _backfill_body(
        data_dir,
        archive_dir,
        sources,
        years,
        refetch,
        force,
        batch_size,
        orchestrated=True,
        runner=runner,
        max_workers=max_workers,
        dask_address=dask_address,
    )
    return untraversed(summary)


def run_backfill(
    data_dir: Path | str | None = None,
    *,
    archive_dir: Path | str | None = None,
    sources: str | None = None,
    years: list[int] | None = None,
    refetch: bool = False,
    force: bool = False,
    batch_size: int | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    runner: str = "auto",
    dask_address: str | None = None,
    orchestrate: bool = True,
) -> RunSummary:
    """Backfill ``data_dir`` (default ``./data``) from its raw archive; see the module docstring.

    ``orchestrate=False`` runs the same steps in-process without Prefect.
    """
    data = str(Path(data_dir) if data_dir is not None else default_data_dir())
    archive = str(archive_dir) if archive_dir is not None else None
    workers = max(1, int(max_workers))
    args: dict[str, Any] = {
        "archive_dir": archive,
        "sources": sources,
        "years": sorted(set(years)) if years else None,
        "refetch": refetch,
        "force": force,
        "batch_size": batch_size,
    }
    if not orchestrate:
        return _backfill_body(data, **args, orchestrated=False, runner="local", max_workers=workers, dask_address=None)
    extraction_runner(runner, 0, workers, dask_address)  # an unknown runner fails before the flow starts
    return unwrap_result(
        backfill_flow(data_dir=data, runner=runner, max_workers=workers, dask_address=dask_address, **args)
    )
