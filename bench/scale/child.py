"""The child process: one pipeline run (or backfill) as ``xxgk run``/``xxgk serve`` makes it, timed by phase."""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class _Phases:
    """Phase boundaries seen from the progress listeners and around publishing."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.t0_epoch = time.time()
        self.marks: dict[str, float] = {}
        self.last_harvest: tuple[int, int] = (0, 0)

    def mark(self, key: str, *, first: bool = True) -> None:
        if first and key in self.marks:
            return
        self.marks[key] = round(time.perf_counter() - self.t0, 3)

    def harvest(self, done: int, total: int, _outcome: Any) -> None:
        self.mark("harvest_start")
        self.mark("harvest_end", first=False)
        self.last_harvest = (done, total)

    def extract(self, done: int, total: int, _outcome: Any) -> None:
        self.mark("extract_start")
        self.mark("extract_end", first=False)

    def spans(self) -> dict[str, float]:
        m = self.marks
        out: dict[str, float] = {}
        for a, b, name in (
            ("harvest_start", "harvest_end", "harvest_s"),
            ("extract_start", "extract_end", "extract_s"),
            ("publish_start", "publish_end", "publish_s"),
        ):
            if a in m and b in m:
                out[name] = round(m[b] - m[a], 3)
        return out


def _timed_publish(phases: _Phases) -> None:
    """Time the publish step where it runs (the flow's own process, also under Prefect)."""
    from xxgk.flows import tasks

    original = getattr(tasks, "publish_staged", None)
    if original is None:
        return

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        phases.mark("publish_start", first=False)
        try:
            return original(*args, **kwargs)
        finally:
            phases.mark("publish_end", first=False)

    tasks.publish_staged = wrapped  # type: ignore[assignment]


def _without_artifacts() -> None:
    """What-if: the run creates no per-source Prefect artifacts (isolates what they cost)."""
    from xxgk.flows import tasks

    if hasattr(tasks, "publish_artifacts"):
        tasks.publish_artifacts = lambda *args, **kwargs: {}  # type: ignore[assignment]


def _plain_extract(args: tuple[list[Any], str, str]) -> list[Any]:
    from xxgk.flows.extraction import extract_documents

    batch, staging, data_dir = args
    return extract_documents(batch, staging, data_dir=data_dir)


def child_main(params_path: Path) -> int:
    """One measured run (``--child``): a pipeline run as ``xxgk run``/``xxgk serve`` would make it."""
    params = json.loads(Path(params_path).read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    data_dir = Path(params["data_dir"])
    from xxgk.flows.prefect_api import configure_prefect

    configure_prefect(data_dir, console_level="WARNING")
    from xxgk.flows import pipeline, prefect_api, tasks

    phases = _Phases()
    imports_s = time.perf_counter() - t0
    tasks.add_harvest_listener(phases.harvest)
    tasks.add_progress_listener(phases.extract)
    watched = _Watched(params.get("watch") or [])
    tasks.add_progress_listener(watched.extract)
    _move_clock(float(params.get("clock_days") or 0.0))
    _timed_publish(phases)
    if not params.get("artifacts", True):
        _without_artifacts()
    mode, orchestrate = params["mode"], bool(params.get("orchestrate", True))
    api_s = 0.0
    if orchestrate:
        a0 = time.perf_counter()
        prefect_api.start_api()
        api_s = time.perf_counter() - a0
    common: dict[str, Any] = {
        "data_dir": data_dir,
        "batch_size": int(params["batch_size"]) if params.get("batch_size") else None,
        "max_workers": int(params["workers"]),
        "runner": params["runner"],
        "orchestrate": orchestrate,
    }
    r0 = time.perf_counter()
    if mode == "pipeline":
        _tune_harvest(params)
        summary = pipeline.run_pipeline(sources=params.get("sources"), revalidate=params.get("revalidate"), **common)
        result = _summary_dict(summary)
    elif mode == "backfill":
        from xxgk.flows.backfill import run_backfill

        summary = run_backfill(**common)
        result = _summary_dict(summary)
    elif mode == "backfill_plain":
        result = _plain_backfill(params, data_dir, phases)
    else:
        raise ValueError(f"unknown mode {mode!r}")
    run_s = time.perf_counter() - r0
    if orchestrate:
        s0 = time.perf_counter()
        prefect_api.stop_api()
        result["api_stop_s"] = round(time.perf_counter() - s0, 3)
    if watched.sources:
        result["watched"] = watched.documents
    result.update(
        imports_s=round(imports_s, 3),
        api_start_s=round(api_s, 3),
        run_s=round(run_s, 3),
        child_total_s=round(time.perf_counter() - t0, 3),
        phases=phases.spans(),
        marks=phases.marks,
        t0_epoch=phases.t0_epoch,
    )
    Path(params["result"]).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


class _Watched:
    """The documents of a few sources as a run handed them to extraction: ``{source: {year: action}}``."""

    def __init__(self, sources: list[str]) -> None:
        self.sources = set(sources)
        self.documents: dict[str, dict[str, str]] = {s: {} for s in sorted(self.sources)}

    def extract(self, _done: int, _total: int, outcome: Any) -> None:
        for doc in getattr(outcome, "documents", None) or []:
            if doc.source_id in self.sources:
                self.documents[doc.source_id][str(doc.year)] = doc.action


def _move_clock(days: float) -> None:
    """Run as if ``days`` later (the revisit policy's clock only): a night when the schedule falls due.

    Here and in the harvest's worker processes (spawned, so they do not inherit the change).
    """
    if not days:
        return
    from xxgk.flows.harvest_workers import add_worker_setup

    shift_revisit_clock(days)
    add_worker_setup(shift_revisit_clock, days)


def shift_revisit_clock(days: float) -> None:
    """Move ``harvest.revisit``'s clock ``days`` ahead in this process."""
    from datetime import timedelta

    from xxgk.harvest import revisit

    real = revisit.now_utc
    revisit.now_utc = lambda: real() + timedelta(days=days)  # type: ignore[assignment]


def _tune_harvest(params: dict[str, Any]) -> None:
    """Override the harvest's sources per task, sources at once per task or processes for this run (a what-if).

    The run still reads the registry as ``xxgk run --sources`` does (a resolved plan of 1,000
    sources cannot be a flow parameter: Prefect caps parameters at 512 KB); the plan it builds
    gets these values before the harvest starts.
    """
    threads, batch = params.get("source_threads"), params.get("source_batch")
    processes = params.get("harvest_processes")
    if threads is None and batch is None and processes is None:
        return
    from xxgk.flows import pipeline

    original = pipeline.open_run_inputs

    @contextlib.contextmanager
    def tuned(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with original(*args, **kwargs) as inputs:
            if inputs.plan is not None:
                if threads is not None:
                    inputs.plan.threads = int(threads)
                if batch is not None:
                    inputs.plan.batch_size = int(batch)
                if processes is not None:
                    inputs.plan.processes = int(processes)
            yield inputs

    pipeline.open_run_inputs = tuned  # type: ignore[assignment]


def _summary_dict(summary: Any) -> dict[str, Any]:
    sources = list(summary.sources or [])
    return {
        "documents": summary.documents,
        "by_action": dict(summary.by_action),
        "by_status": dict(summary.by_status),
        "cells": summary.cells,
        "files_written": summary.files_written,
        "files_unchanged": summary.files_unchanged,
        "runner": summary.runner,
        "batches": summary.batches,
        "pipeline_seconds": round(summary.seconds, 3),
        "harvest_seconds": summary.harvest_seconds,
        "harvest_processes": summary.harvest_processes,
        "sources": len(sources),
        "source_status": dict(Counter(s.status for s in sources)),
        "requests": sum(s.requests for s in sources),
        "not_modified": sum(s.not_modified for s in sources),
        "not_due": sum(getattr(s, "not_due", 0) for s in sources),
        "revalidate": getattr(summary, "revalidate", ""),
        "staleness": getattr(summary, "staleness", ""),
        "changed_reports": sum(s.changed for s in sources),
        "internal_errors": summary.internal_errors,
    }


def _plain_backfill(params: dict[str, Any], data_dir: Path, phases: _Phases) -> dict[str, Any]:
    """``xxgk backfill``'s steps without Prefect, extraction on a plain process pool.

    The same functions as ``flows.backfill`` (replay the archive, extract batches, publish the
    scope), with ``concurrent.futures`` where the flow has its task runner: the baseline against
    which Prefect's share of the backfill is measured.
    """
    from concurrent.futures import ProcessPoolExecutor

    from xxgk.flows.archive_index import select_backfill
    from xxgk.flows.backfill import publish_scope, replay_sources
    from xxgk.flows.extraction import staging_dir_of, unique_jobs
    from xxgk.flows.harvesting import archive_dir_of
    from xxgk.flows.publishing import publish_staged
    from xxgk.flows.runners import batches_of, extraction_batch_size

    archive = str(archive_dir_of(data_dir))
    selection = select_backfill(archive, None)
    phases.mark("replay_start")
    replayed = replay_sources(selection.sources, archive, str(data_dir))
    phases.mark("replay_end", first=False)
    jobs = unique_jobs(j for r in replayed for j in r.documents)
    staging = str(staging_dir_of(data_dir))
    size = extraction_batch_size(
        len(jobs), "processes", int(params["workers"]), int(params["batch_size"]) if params.get("batch_size") else None
    )
    chunks = batches_of(jobs, size)
    phases.mark("extract_start")
    with ProcessPoolExecutor(max_workers=int(params["workers"])) as pool:
        batches = pool.map(_plain_extract, [(c, staging, str(data_dir)) for c in chunks])
        outcomes = [o for batch in batches for o in batch]
    phases.mark("extract_end", first=False)
    backfilled = {s.source_id for s in selection.sources} | {o.source_id for o in outcomes}
    scope, replace, _warnings = publish_scope(data_dir, None, backfilled, outcomes)
    published = publish_staged(data_dir, [o.staged for o in outcomes if o.staged], years=scope, replace=replace)
    return {
        "documents": len(outcomes),
        "by_action": dict(Counter(o.action for o in outcomes)),
        "by_status": dict(Counter(o.status for o in outcomes)),
        "cells": sum(o.facts for o in outcomes),
        "files_written": published.written,
        "files_unchanged": published.unchanged,
        "runner": f"plain ProcessPoolExecutor×{params['workers']}",
        "batches": len(chunks),
        "sources": len(replayed),
    }
