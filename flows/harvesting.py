"""Harvesting inside the pipeline: what a run harvests, the work of one ``harvest_batch`` task.

Plain functions with no Prefect import (``flows.pipeline`` wraps them in tasks), so the CLI can
resolve a registry and fail fast before the orchestration starts, and tests can call them directly.

A run harvests a ``HarvestPlan``: sources, the raw archive directory, the fetch settings and an
optional years filter. ``harvest_source_batch`` harvests a batch of sources (discover → fetch →
archive, a few sources at a time on threads) with the process's shared ``Fetcher`` (one per run
and process, so per-host limits hold across every source and task of the run) and turns each
fetched report into a ``DocumentJob`` read from the raw archive. ``demo_portal`` starts the local
fake portal serving the embedded sample set plus the demo sites, which is what ``xxgk run``
harvests when given no sources.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from xxgk.flows.inputs import DocumentJob, InputError, is_registry, portable_path
from xxgk.harvest import (
    HARVEST_EMPTY,
    HARVEST_FAILED,
    HARVEST_LAYOUT_CHANGED,
    FetchConfig,
    Fetcher,
    HarvestProblem,
    RawArchive,
    RegistryError,
    Source,
    SourceHarvest,
    chosen_documents,
    harvest_sources,
    load_sources,
    select_sources,
)
from xxgk.storage.files import atomic_write_bytes

_log = logging.getLogger("xxgk")

#: Sources harvested at once inside one ``harvest_batch`` task (threads sharing the run's
#: Fetcher). Politeness is per host in the shared Fetcher, so this bounds only the run's
#: concurrency: with 4 threads × 2 tasks (8 sources in flight) 1,000 sources took 147 s, bound
#: by the per-host delays; 48 per task took 18.6 s, CPU-bound in the flow process (bench.scale).
DEFAULT_SOURCE_THREADS = 48
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
    threads: int = DEFAULT_SOURCE_THREADS
    label: str = ""
    portal: str | None = None


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


_fetchers: dict[FetchConfig, Fetcher] = {}
_fetchers_lock = threading.Lock()


def shared_fetcher(config: FetchConfig) -> Fetcher:
    """The process's Fetcher for ``config``: every source and task of a run shares it (per-host limits)."""
    with _fetchers_lock:
        fetcher = _fetchers.get(config)
        if fetcher is None:
            fetcher = _fetchers[config] = Fetcher(config)
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
        problems=list(harvest.problems),
        recovered=list(harvest.recovered),
        seconds=seconds,
    )


def jobs_of(harvest: SourceHarvest, source: Source, archive: RawArchive, data_dir: str | Path) -> list[DocumentJob]:
    """The documents to extract for one harvested source, read from the raw archive.

    Every fetched report's best document, changed or not: staging reuses the result of bytes
    already extracted, so an unchanged report costs a lookup, and the published tables stay
    complete. The published path is relative to the data directory when the archive is inside it.
    """
    jobs: list[DocumentJob] = []
    for doc, info in chosen_documents(harvest, source, archive):
        location = str(archive.path_of(doc.sha256).resolve())
        info.path = portable_path(location, data_dir)
        jobs.append(DocumentJob(info=info, location=location, name=doc.name, http_charset=doc.charset))
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
    from xxgk.flows.archive_index import record_sources  # it imports this module

    start = time.perf_counter()
    archive = RawArchive(plan.archive_dir)
    record_sources(plan.archive_dir, sources)  # so a backfill can replay them without the registry
    fetch = fetcher or shared_fetcher(plan.fetch)
    years = set(plan.years) if plan.years else None
    harvests = harvest_sources(
        sources, archive, fetch, max_workers=max(1, min(plan.threads, len(sources))), years=years, run_id=run_id
    )
    outcomes: list[SourceOutcome] = []
    documents: list[DocumentJob] = []
    for harvest, source in zip(harvests, sources, strict=True):
        try:
            jobs = jobs_of(harvest, source, archive, data_dir)
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
    data = json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True)
    atomic_write_bytes(target, data.encode("utf-8"), durable=False)
    return target


# ---------------------------------------------------------------------------------------------
# Choosing the sources of a run


def registry_sources(registry: str | Path, ids: list[str] | None = None, portal_url: str | None = None) -> list[Source]:
    """The sources a registry run harvests: by id when given, else the enabled ones.

    Raises ``InputError`` (one line) for a malformed registry, unknown ids, or a selection that is
    empty; ``NeedsPortal`` when a selected entry is a demo-portal entry and no portal runs yet.
    """
    try:
        sources = load_sources(registry, portal_url=portal_url)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read sources registry {registry}: {exc}") from exc
    except (RegistryError, ValueError) as exc:
        raise InputError(f"{registry}: {exc}") from exc
    if ids:
        known = {s.source_id: s for s in sources}
        missing = [i for i in ids if i not in known]
        if missing:
            raise InputError(f"{registry}: unknown source ids: {', '.join(missing)}")
        if any(known[i].needs_portal for i in ids):
            raise NeedsPortal(ids)
    try:
        picked = select_sources(sources, ids)
    except RegistryError as exc:
        raise InputError(f"{registry}: {exc}") from exc
    if not picked:
        disabled = [s.source_id for s in sources if not s.enabled]
        hint = f" ({len(disabled)} disabled: {', '.join(disabled[:6])}{'…' if len(disabled) > 6 else ''})"
        raise InputError(
            f"{registry}: no enabled source to harvest{hint if disabled else ''}; "
            "set `enabled: true` or pick sources with --sources-only ID,..."
        )
    return picked


class NeedsPortal(Exception):
    """The selected registry entries point at the local demo portal: start it, then resolve them."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(", ".join(ids))
        self.ids = ids


def select_by_id(sources: list[Source], ids: list[str] | None, what: str) -> list[Source]:
    """``sources`` restricted to ``ids`` (in the given order); unknown ids raise ``InputError``."""
    if not ids:
        return sources
    by_id = {s.source_id: s for s in sources}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise InputError(f"unknown source ids for {what}: {', '.join(missing)} (known: {', '.join(by_id)})")
    return [by_id[i] for i in ids]


@dataclass(slots=True)
class DemoPortal:
    """The running demo portal: its address, its sources and what it serves."""

    portal: Any
    base_url: str
    sources: list[Source]
    samples: list[Any]
    warnings: list[str] = field(default_factory=list)


@contextlib.contextmanager
def demo_portal(
    *, port: int | None = None, faults: bool = True, sample_dir: Path | None = None, registry: str | Path | None = None
) -> Iterator[DemoPortal]:
    """Serve the embedded sample set and the demo sites on 127.0.0.1 while the block runs.

    ``port`` defaults to ``$XXGK_PORTAL_PORT`` or ``harvest.portal.DEMO_PORT``: a fixed port keeps
    URLs, validators and published provenance identical from run to run. When it is taken, any
    free port is used and a warning says so. The demo sources are the sample set's sites plus the
    registry's demo-portal entries (``registry``, default ``data/sources.yaml``).
    """
    from xxgk.harvest.portal import DEMO_PORT, demo_run_spec, sample_sources, serve_portal

    wanted = port if port is not None else int(os.environ.get("XXGK_PORTAL_PORT", DEMO_PORT))
    warnings: list[str] = []
    with contextlib.ExitStack() as stack:
        spec, samples = demo_run_spec(sample_dir, faults=faults)
        try:
            portal, base = stack.enter_context(serve_portal(spec, port=wanted))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or wanted == 0:
                raise
            warnings.append(
                f"port {wanted} is in use, so the demo portal runs on another port: its URLs differ from "
                "earlier runs (no conditional requests; documents restaged with the new URLs)"
            )
            spec, samples = demo_run_spec(sample_dir, faults=faults)
            portal, base = stack.enter_context(serve_portal(spec, port=0))
        demo = [s for s in load_sources(registry, portal_url=base) if s.portal]
        yield DemoPortal(portal, base, sample_sources(base, samples) + demo, samples, warnings)


def demo_source_ids(registry: str | Path | None = None, sample_dir: Path | None = None) -> list[str]:
    """The ids of the sources ``xxgk run`` harvests by default, without starting the portal."""
    import yaml

    from xxgk.harvest.portal import SAMPLE_DIR, SAMPLE_MANIFEST

    manifest = (sample_dir or SAMPLE_DIR) / SAMPLE_MANIFEST
    entries = yaml.safe_load(manifest.read_text(encoding="utf-8"))["documents"]
    ids = list(dict.fromkeys(str(e["source_id"]) for e in entries))
    return ids + [s.source_id for s in load_sources(registry) if s.portal]


# ---------------------------------------------------------------------------------------------
# What a run reads


@dataclass(slots=True)
class RunInputs:
    """A run's inputs once resolved: a harvest plan and/or a documents file to read."""

    plan: HarvestPlan | None
    documents_file: str | None
    label: str
    warnings: list[str] = field(default_factory=list)


def _fetch_config_for(sources: list[Source]) -> FetchConfig:
    """Short waits when every source is on the local demo portal; polite defaults otherwise."""
    return FetchConfig.for_demo() if sources and all(s.portal for s in sources) else FetchConfig()


def check_run_inputs(sources: str | Path | None, *, local: bool = False, ids: list[str] | None = None) -> str:
    """Fail fast (``InputError``) on what ``open_run_inputs`` would refuse; returns the kind of run.

    ``registry``, ``documents`` or ``demo``. Starts nothing (no portal, no Prefect).
    """
    if sources is not None and is_registry(sources):
        with contextlib.suppress(NeedsPortal):  # fine: the run starts the portal
            registry_sources(sources, ids)
        return "registry"
    if sources is not None or local:
        return "documents"
    known = demo_source_ids()
    missing = [i for i in ids or [] if i not in known]
    if missing:
        raise InputError(f"unknown source ids for the demo portal: {', '.join(missing)} (known: {', '.join(known)})")
    return "demo"


@contextlib.contextmanager
def open_run_inputs(
    sources: str | Path | None,
    data_dir: str | Path,
    *,
    local: bool = False,
    ids: list[str] | None = None,
    years: list[int] | None = None,
    harvest: HarvestPlan | None = None,
    portal_port: int | None = None,
    archive_dir: str | Path | None = None,
) -> Iterator[RunInputs]:
    """Resolve what a run reads, starting the demo portal for the block when needed.

    - ``harvest`` given: that plan (a caller that built its own sources, e.g. tests).
    - ``sources`` is a registry (a ``sources:`` list): its enabled sources, or ``ids``; entries on
      the demo portal (``{portal}`` URLs) start it.
    - ``sources`` is a documents file, or ``local`` (paths/documents given): no harvest.
    - nothing at all: the demo portal serving the embedded sample set and the demo sites.

    ``archive_dir`` (default ``<data_dir>/archive``) is where harvested bytes go: it may sit on
    shared storage apart from the data directory.
    """
    archive = str(archive_dir if archive_dir is not None else archive_dir_of(data_dir))
    registry = sources is not None and is_registry(sources)
    if harvest is not None:
        yield RunInputs(harvest, str(sources) if sources and not registry else None, harvest.label or "harvest")
        return
    if registry:
        assert sources is not None
        label = f"sources registry {sources}"
        try:
            picked = registry_sources(sources, ids)
        except NeedsPortal:
            with demo_portal(port=portal_port, registry=sources) as demo:
                picked = registry_sources(sources, ids, portal_url=demo.base_url)
                plan = HarvestPlan(picked, archive, _fetch_config_for(picked), years, label=label, portal=demo.base_url)
                yield RunInputs(plan, None, label, list(demo.warnings))
            return
        yield RunInputs(HarvestPlan(picked, archive, _fetch_config_for(picked), years, label=label), None, label)
        return
    if sources is not None or local:
        yield RunInputs(None, str(sources) if sources is not None else None, "local documents")
        return
    with demo_portal(port=portal_port) as demo:
        picked = select_by_id(demo.sources, ids, "the demo portal")
        label = f"demo portal {demo.base_url}"
        plan = HarvestPlan(picked, archive, FetchConfig.for_demo(), years, label=label, portal=demo.base_url)
        yield RunInputs(plan, None, label, list(demo.warnings))
