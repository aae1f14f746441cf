"""Scale benchmark (issue 5, item 6): N sources × Y years harvested from the local portal.

``python -m bench.scale`` serves ``demo.scale.scale_spec`` (default 2,000 sources × 5 years:
60% HTML pages with tables, 30% PDF attachments, 10% text exports; every source on a loopback
address of its own, so per-host politeness applies per source as between real sites) from a
separate process, then runs the pipeline in fresh child processes (as ``xxgk serve`` runs each
flow run) and measures each run's wall time, the CPU of its whole process tree (the child and
every descendant: process-pool workers, a temporary Prefect API), the peak RSS of that tree
(summed over its processes, sampled), and the CPU of the Prefect server and of the portal.

Runs (``--steps``, in this order):

- ``first``: the first full harvest + extract + publish over the first ``--sources`` sources;
- ``nightly``: the same again with nothing changed on the portal (conditional requests, 304s,
  nothing extracted) against an already running Prefect server, as ``xxgk serve`` runs it;
- ``nightly_ephemeral``: the same with a temporary Prefect API started by the run itself;
- ``nightly_plain``: the same without Prefect (``orchestrate=False``), for reference;
- ``nightly_defaults``: the nightly run with the pipeline's own harvest concurrency, when
  ``--source-threads``/``--source-batch`` tune it for the other runs;
- ``grow``: a run over all ``--backfill-sources`` sources, so the raw archive holds their reports;
- ``backfill``: ``xxgk backfill`` (``flows.backfill.run_backfill``) with the staging cleared first,
  as after an extractor version bump: every report of the raw archive replayed, parsed again and
  republished, under Prefect with the process runner;
- ``backfill_serial``: the same with ``orchestrate=False`` (the same task functions, in-process);
- ``backfill_plain``: the backfill's functions with extraction on a plain pool of ``--workers``
  processes, no Prefect: with ``backfill`` it gives the Prefect overhead share.

Results go to ``<out>/scale.json`` and ``<out>/scale.md``. The politeness delay is per source
(``delay_seconds`` in the generated registry, default 0.1 s: a tenth of the production default).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import psutil  # a dependency of distributed (prefect-dask): always installed with xxgk

STEPS = (
    "first",
    "nightly",
    "nightly_ephemeral",
    "nightly_plain",
    "nightly_defaults",
    "grow",
    "backfill",
    "backfill_serial",
    "backfill_plain",
)
#: Targets of issue 5.
TARGET_NIGHTLY_S = 30.0
TARGET_BACKFILL_S = 15 * 60.0
TARGET_OVERHEAD = 0.10
TARGET_RSS_MB = 1024.0
SERVER_PORT = 28642


@dataclass
class ScaleConfig:
    """What to run: sizes, politeness, concurrency, where, which steps."""

    sources: int = 1000
    years: int = 5
    backfill_sources: int = 2000
    seed: int = 0
    delay: float = 0.1
    workers: int = 2
    #: documents per extraction task; None: the pipeline's own sizing (``extraction_batch_size``)
    batch_size: int | None = None
    runner: str = "auto"
    backfill_runner: str = "processes"
    source_threads: int | None = None
    source_batch: int | None = None
    portal_port: int = 28765
    server_port: int = SERVER_PORT
    hosts: str | None = None
    work_dir: Path = Path("data/bench/scale")
    out: Path = Path("data/bench")
    steps: tuple[str, ...] = STEPS
    fresh: bool = True
    sample_interval: float = 0.2
    #: ``server``: orchestrated runs use a Prefect server started for the benchmark (as under
    #: ``xxgk serve``); ``ephemeral``: each run starts its temporary API; ``none``: every run
    #: in-process without Prefect (``orchestrate=False``; the tests' tiny runs).
    prefect: str = "server"
    #: False: a what-if without the per-source Prefect artifacts (to isolate their cost).
    artifacts: bool = True
    #: sites the portal serves, when not derived from the steps: ``--keep`` keeps the portal the data
    #: directory was harvested from (a portal of another size is another corpus, not a prefix of it)
    portal_size: int | None = None

    @property
    def portal_sources(self) -> int:
        if self.portal_size:
            return self.portal_size
        return max(self.sources, self.backfill_sources if self._grows else self.sources)

    @property
    def _grows(self) -> bool:
        return any(s in self.steps for s in ("grow", "backfill", "backfill_serial", "backfill_plain"))


# ---------------------------------------------------------------------------------------------
# Measuring a process tree


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live descendants now (0 if gone)."""
    total = 0.0
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return 0.0
    for p in _tree(root):
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


class TreeSampler:
    """Samples a process tree every ``interval`` s: summed RSS (peak), process count, CPU per pid.

    The CPU sampled per pid misses at most the last interval of a process that exits between two
    samples; the run's CPU is taken from ``getrusage(RUSAGE_CHILDREN)`` and this is a cross-check.
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_rss = 0
        self.peak_procs = 0
        self.peak_at = 0.0
        self.cpu: dict[int, float] = {}
        self.rss_max_single = 0
        #: (epoch seconds, tree RSS bytes) per sample: RSS by phase of the run
        self.timeline: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._start = time.perf_counter()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while True:
            self.sample(root)
            if self._stop.wait(self.interval):
                return

    def sample(self, root: psutil.Process) -> None:
        rss = 0
        procs = _tree(root)
        for p in procs:
            with contextlib.suppress(psutil.Error):
                with p.oneshot():
                    mem = p.memory_info().rss
                    t = p.cpu_times()
                rss += mem
                self.rss_max_single = max(self.rss_max_single, mem)
                self.cpu[p.pid] = max(self.cpu.get(p.pid, 0.0), t.user + t.system)
        self.timeline.append((time.time(), rss))
        if rss > self.peak_rss:
            self.peak_rss, self.peak_at = rss, time.perf_counter() - self._start
        self.peak_procs = max(self.peak_procs, len(procs))

    def peak_until(self, marks: dict[str, float], t0_epoch: float) -> dict[str, float]:
        """The tree's peak RSS (MB) from the start up to each phase mark (marks in s after ``t0_epoch``)."""
        out: dict[str, float] = {}
        for name, at in sorted(marks.items(), key=lambda kv: kv[1]):
            until = t0_epoch + at
            seen = [rss for t, rss in self.timeline if t <= until]
            if seen:
                out[name] = round(max(seen) / 2**20, 1)
        return out

    def figures(self) -> dict[str, Any]:
        return {
            "peak_rss_mb": round(self.peak_rss / 2**20, 1),
            "peak_rss_at_s": round(self.peak_at, 1),
            "max_process_rss_mb": round(self.rss_max_single / 2**20, 1),
            "peak_processes": self.peak_procs,
            "cpu_sampled_s": round(sum(self.cpu.values()), 2),
        }


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


# ---------------------------------------------------------------------------------------------
# Helper processes: the portal and the Prefect server


@dataclass
class Helper:
    """A background process the runs talk to (the portal, the Prefect server)."""

    name: str
    popen: subprocess.Popen[str]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> dict[str, Any]:
        """SIGTERM, then wait; returns the last JSON line the process printed, if any."""
        last: dict[str, Any] = {}
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                out, _ = self.popen.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                out, _ = self.popen.communicate()
            for line in (out or "").splitlines():
                with contextlib.suppress(ValueError):
                    last = json.loads(line)
        return last


def start_portal(cfg: ScaleConfig, registry: Path, log: Callable[[str], None]) -> Helper:
    """Serve the scale portal in its own process; returns once every host listens."""
    cmd = [
        sys.executable,
        "-m",
        "xxgk.demo",
        "--scale",
        f"{cfg.portal_sources}x{cfg.years}",
        "--seed",
        str(cfg.seed),
        "--port",
        str(cfg.portal_port),
        "--cache",
        str(cfg.work_dir / "portal-cache"),
        "--registry",
        str(registry),
        "--delay",
        str(cfg.delay),
    ]
    if cfg.hosts:
        cmd += ["--hosts", cfg.hosts]
    popen = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=_repo_root())
    assert popen.stdout is not None
    line = popen.stdout.readline()
    try:
        info = json.loads(line)
    except ValueError:
        popen.kill()
        raise RuntimeError(f"the scale portal did not start: {line!r}") from None
    log(f"portal: {info['sites']} sites, {info['reports']} reports on {info['hosts']}, up in {info['start_seconds']} s")
    return Helper("portal", popen, info)


def prefect_command() -> list[str]:
    exe = Path(sys.executable).with_name("prefect")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "prefect"]


def start_prefect_server(cfg: ScaleConfig, log: Callable[[str], None]) -> Helper:
    """``prefect server start`` on loopback with its own home under the work dir; waits for /health."""
    import httpx

    home = cfg.work_dir / "prefect-server"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_UI_ENABLED="false",
    )
    cmd = [*prefect_command(), "server", "start", "--host", "127.0.0.1", "--port", str(cfg.server_port)]
    logfile = (cfg.work_dir / "prefect-server.log").open("w")
    start = time.perf_counter()
    popen = subprocess.Popen(cmd, env=env, stdout=logfile, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{cfg.server_port}/api"
    while time.perf_counter() - start < 180:
        if popen.poll() is not None:
            raise RuntimeError(f"prefect server exited with {popen.returncode}; see {logfile.name}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                seconds = round(time.perf_counter() - start, 1)
                log(f"Prefect server at {url}, up in {seconds} s")
                return Helper("prefect-server", popen, {"api_url": url, "start_seconds": seconds})
        time.sleep(0.5)
    popen.kill()
    raise RuntimeError("prefect server did not answer /api/health within 180 s")


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# One measured run in a child process


def run_child(
    name: str,
    params: dict[str, Any],
    cfg: ScaleConfig,
    *,
    env: dict[str, str],
    helpers: list[Helper],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Run ``python -m bench.scale --child`` with ``params`` and measure it (see the module docstring)."""
    runs = cfg.work_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    params_path, result_path = runs / f"{name}.params.json", runs / f"{name}.result.json"
    result_path.unlink(missing_ok=True)
    params = {**params, "result": str(result_path)}
    params_path.write_text(json.dumps(params, ensure_ascii=False, indent=1), encoding="utf-8")
    helper_cpu0 = {h.name: tree_cpu_seconds(h.pid) for h in helpers}
    load0 = _load()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with (runs / f"{name}.log").open("w") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", "xxgk.bench.scale", "--child", str(params_path)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=_repo_root(),
        )
        with TreeSampler(popen.pid, cfg.sample_interval) as sampler:
            rc = popen.wait()
    wall = time.perf_counter() - start
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0 or not result_path.is_file():
        raise RuntimeError(f"run {name} failed (exit {rc}); see {runs / (name + '.log')}")
    child = json.loads(result_path.read_text(encoding="utf-8"))
    child["peak_rss_by_mark_mb"] = sampler.peak_until(child.get("marks", {}), child.get("t0_epoch", 0.0))
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    measured = {
        "name": name,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        **sampler.figures(),
        "helpers_cpu_s": {h.name: round(tree_cpu_seconds(h.pid) - helper_cpu0[h.name], 2) for h in helpers},
        "load_before": load0,
        "load_after": _load(),
        **child,
    }
    log(
        f"{name}: {measured['wall_s']} s wall, {measured['cpu_s']} s CPU, peak RSS {measured['peak_rss_mb']} MB; "
        f"{child.get('documents')} documents {child.get('by_action')}"
    )
    return measured


def _child_env(api_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PYTHONPATH"] = str(_repo_root()) + os.pathsep + env.get("PYTHONPATH", "")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


# ---------------------------------------------------------------------------------------------
# The child: one pipeline run, timed by phase


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
        summary = pipeline.run_pipeline(sources=params.get("sources"), **common)
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


def _tune_harvest(params: dict[str, Any]) -> None:
    """Override the harvest's sources per task / sources at once per task for this run (a what-if).

    The run still reads the registry as ``xxgk run --sources`` does (a resolved plan of 1,000
    sources cannot be a flow parameter: Prefect caps parameters at 512 KB); the plan it builds
    gets these values before the harvest starts.
    """
    threads, batch = params.get("source_threads"), params.get("source_batch")
    if threads is None and batch is None:
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
        "sources": len(sources),
        "source_status": dict(Counter(s.status for s in sources)),
        "requests": sum(s.requests for s in sources),
        "not_modified": sum(s.not_modified for s in sources),
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
    published = publish_staged(
        data_dir, [o.staged for o in outcomes if o.staged], years=scope, replace=replace
    )
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


# ---------------------------------------------------------------------------------------------
# The whole benchmark


def _write_registry(full: Path, target: Path, n: int) -> Path:
    import yaml

    doc = yaml.safe_load(full.read_text(encoding="utf-8"))
    doc["sources"] = doc["sources"][:n]
    target.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _clear_staging(data_dir: Path) -> None:
    """Move the staging directory away (an extractor version bump leaves nothing reusable) and delete it."""
    staging = data_dir / "staging"
    if staging.exists():
        trash = data_dir / f".staging-trash-{time.time_ns()}"
        staging.rename(trash)
        shutil.rmtree(trash)


@contextlib.contextmanager
def _helpers(cfg: ScaleConfig, registry: Path, log: Callable[[str], None]) -> Iterator[dict[str, Helper]]:
    running: dict[str, Helper] = {}
    try:
        running["portal"] = start_portal(cfg, registry, log)
        if cfg.prefect == "server" and any(
            s in cfg.steps for s in ("first", "nightly", "nightly_defaults", "grow", "backfill")
        ):
            running["server"] = start_prefect_server(cfg, log)
        yield running
    finally:
        for helper in running.values():
            last = helper.stop()
            if helper.name == "portal" and last:
                helper.info["served"] = last


def _same_portal(cfg: ScaleConfig, record: Path) -> ScaleConfig:
    """With ``--keep``, serve the portal the kept data directory was harvested from (recorded in ``record``).

    The generated portal of N sites is not a prefix of a larger one (report forms are shuffled over
    all sites), so a nightly run against a portal of another size would see every report changed.
    """
    wanted = {"seed": cfg.seed, "years": cfg.years, "hosts": cfg.hosts}
    if not cfg.fresh and record.is_file():
        kept = json.loads(record.read_text(encoding="utf-8"))
        if {k: kept.get(k) for k in wanted} == wanted and int(kept.get("sources", 0)) > cfg.portal_sources:
            cfg = replace(cfg, portal_size=int(kept["sources"]))
    record.write_text(json.dumps({**wanted, "sources": cfg.portal_sources}), encoding="utf-8")
    return cfg


def run(cfg: ScaleConfig, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the configured steps; returns every figure (also written by ``main``)."""
    say = log or (lambda _m: None)
    work = cfg.work_dir
    data_dir = work / "data"
    if cfg.fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    work.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    cfg = _same_portal(cfg, work / "portal.json")
    t0 = time.perf_counter()
    from xxgk.demo import fill_cache, loopback_aliases_work, scale_spec

    hosts = cfg.hosts or ("addresses" if loopback_aliases_work() else "ports")
    years = tuple(range(2025 - cfg.years, 2025))
    spec = scale_spec(cfg.portal_sources, years, seed=cfg.seed, port=cfg.portal_port, hosts=hosts)
    f0 = time.perf_counter()
    rendered = fill_cache(spec, work / "portal-cache", cfg.workers)
    fill_s = round(time.perf_counter() - f0, 1)
    say(f"portal cache: {rendered} pages rendered in {fill_s} s")
    forms = Counter(r.form for s in spec.sites for r in s.reports)
    full_registry = work / f"sources-{cfg.portal_sources}.yaml"
    results: dict[str, Any] = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "load_at_start": _load(),
        },
        "portal": {"hosts": hosts, "forms": dict(forms), "cache_rendered": rendered, "cache_fill_s": fill_s},
        "runs": {},
    }
    common = {
        "batch_size": cfg.batch_size,
        "workers": cfg.workers,
        "data_dir": str(data_dir.resolve()),
        "artifacts": cfg.artifacts,
    }
    harvest_opts = {"source_threads": cfg.source_threads, "source_batch": cfg.source_batch}
    with _helpers(cfg, full_registry, say) as helpers:
        results["portal"]["start_s"] = helpers["portal"].info.get("start_seconds")
        server = helpers.get("server")
        if server is not None:
            results["prefect_server"] = {"start_s": server.info["start_seconds"]}
        registry = _write_registry(full_registry, work / f"sources-{cfg.sources}.yaml", cfg.sources)
        watched = list(helpers.values())

        def pipeline_run(
            name: str, reg: Path, *, api: str | None, orchestrate: bool = True, tuned: bool = True
        ) -> None:
            orchestrate = orchestrate and cfg.prefect != "none"
            harvest = harvest_opts if tuned else {}
            params = {
                "mode": "pipeline",
                "sources": str(reg.resolve()),
                "runner": cfg.runner,
                "orchestrate": orchestrate,
            }
            results["runs"][name] = run_child(
                name, {**common, **harvest, **params}, cfg, env=_child_env(api), helpers=watched, log=say
            )

        api_url = server.info["api_url"] if server else None
        if "first" in cfg.steps:
            pipeline_run("first", registry, api=api_url)
        if "nightly" in cfg.steps:
            pipeline_run("nightly", registry, api=api_url)
        if "nightly_ephemeral" in cfg.steps and cfg.prefect != "none":
            pipeline_run("nightly_ephemeral", registry, api=None)
        if "nightly_plain" in cfg.steps:
            pipeline_run("nightly_plain", registry, api=None, orchestrate=False)
        tuning = cfg.source_threads is not None or cfg.source_batch is not None
        if "nightly_defaults" in cfg.steps and tuning:
            pipeline_run("nightly_defaults", registry, api=api_url, tuned=False)
        if "grow" in cfg.steps and cfg.portal_sources > cfg.sources:
            pipeline_run("grow", full_registry, api=api_url)
        backfills = [s for s in ("backfill", "backfill_serial", "backfill_plain") if s in cfg.steps]
        for name in backfills:
            _clear_staging(data_dir)  # as after an extractor version bump: every document is parsed again
            params = {
                **common,
                "mode": "backfill_plain" if name == "backfill_plain" else "backfill",
                "runner": cfg.backfill_runner,
                "orchestrate": name == "backfill" and cfg.prefect != "none",
            }
            api = api_url if name == "backfill" else None
            results["runs"][name] = run_child(name, params, cfg, env=_child_env(api), helpers=watched, log=say)
    results["portal"]["served"] = helpers["portal"].info.get("served")
    results["elapsed_s"] = round(time.perf_counter() - t0, 1)
    results["machine"]["load_at_end"] = _load()
    results["verdict"] = verdict(results)
    return results


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets against the figures that were measured."""
    runs = results["runs"]
    out: dict[str, Any] = {}
    if "nightly" in runs:
        out["nightly_s"] = {"value": runs["nightly"]["wall_s"], "target": TARGET_NIGHTLY_S}
        out["nightly_s"]["met"] = out["nightly_s"]["value"] <= TARGET_NIGHTLY_S
        out["nightly_extracted"] = runs["nightly"].get("by_action", {}).get("extracted", 0)
    if "backfill" in runs:
        out["backfill_s"] = {"value": runs["backfill"]["wall_s"], "target": TARGET_BACKFILL_S}
        out["backfill_s"]["met"] = out["backfill_s"]["value"] <= TARGET_BACKFILL_S
        out["backfill_documents"] = runs["backfill"].get("documents")
    share = overhead(runs)
    if share:
        out["prefect_overhead"] = {**share, "target": TARGET_OVERHEAD}
        out["prefect_overhead"]["met"] = max(share.get("wall", 0), share.get("cpu", 0)) <= TARGET_OVERHEAD
    peaks = {name: r["peak_rss_mb"] for name, r in runs.items()}
    if peaks:
        worst = max(peaks, key=lambda k: peaks[k])
        out["peak_rss_mb"] = {"value": peaks[worst], "run": worst, "target": TARGET_RSS_MB}
        out["peak_rss_mb"]["met"] = peaks[worst] <= TARGET_RSS_MB
    return out


def overhead(runs: dict[str, Any]) -> dict[str, float]:
    """Prefect's share of the backfill: wall and CPU against the plain pool (and CPU against serial)."""
    b = runs.get("backfill")
    if not b:
        return {}
    cpu_b = b["cpu_s"] + b["helpers_cpu_s"].get("prefect-server", 0.0)
    out: dict[str, float] = {"backfill_cpu_with_server_s": round(cpu_b, 2)}
    plain = runs.get("backfill_plain")
    if plain:
        out["wall"] = round((b["wall_s"] - plain["wall_s"]) / b["wall_s"], 4)
        out["cpu"] = round((cpu_b - plain["cpu_s"]) / cpu_b, 4)
    serial = runs.get("backfill_serial")
    if serial:
        out["cpu_vs_serial"] = round((cpu_b - serial["cpu_s"]) / cpu_b, 4)
    return out


def to_markdown(results: dict[str, Any]) -> str:
    """The figures as a short report (``scale.md``)."""
    c, m, p = results["config"], results["machine"], results["portal"]
    lines = [
        "# xxgk scale benchmark",
        "",
        f"{c['sources']} sources × {c['years']} years (backfill over {c['backfill_sources']} sources), seed "
        f"{c['seed']}; forms {p['forms']}; one {p['hosts'][:-2] if p['hosts'].endswith('es') else p['hosts']} per "
        f"source; politeness delay {c['delay']} s per source; {c['workers']} workers, batch {c['batch_size']}; "
        f"{m['cpus']} CPUs, {m['memory_gb']} GB, load {m['load_at_start']} → {m['load_at_end']}.",
        "",
        "| run | wall s | CPU s (tree) | server CPU s | portal CPU s | peak RSS MB (tree) | largest process MB | "
        "documents | actions | requests / 304 | phases s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["runs"].items():
        helpers = r.get("helpers_cpu_s", {})
        phases = ", ".join(f"{k[:-2]} {v}" for k, v in r.get("phases", {}).items())
        lines.append(
            f"| {name} | {r['wall_s']} | {r['cpu_s']} | {helpers.get('prefect-server', '—')} | "
            f"{helpers.get('portal', '—')} | {r['peak_rss_mb']} | {r['max_process_rss_mb']} | {r.get('documents')} | "
            f"{r.get('by_action')} | {r.get('requests', '—')} / {r.get('not_modified', '—')} | {phases} |"
        )
    lines += ["", "Peak RSS of the tree (MB) up to each point of the run:", ""]
    for name, r in results["runs"].items():
        marks = ", ".join(f"{k} {v}" for k, v in r.get("peak_rss_by_mark_mb", {}).items())
        lines.append(f"- {name}: {marks or '—'}; end {r['peak_rss_mb']}")
    lines += ["", "Targets:", ""]
    for key, v in results.get("verdict", {}).items():
        lines.append(f"- {key}: {v}")
    lines.append("")
    return "\n".join(lines)


def main(cfg: ScaleConfig, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the benchmark and write ``scale.json`` and ``scale.md`` under ``cfg.out``."""
    results = run(cfg, log)
    cfg.out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = cfg.out / "scale.json", cfg.out / "scale.md"
    json_path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(to_markdown(results), encoding="utf-8")
    results["files"] = [str(json_path), str(md_path)]
    return results


def cli(argv: list[str] | None = None) -> int:
    """``python -m bench.scale``: parse the options, run, print the report; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sources", type=int, default=1000, help="sources of the first/nightly runs")
    parser.add_argument("--years", type=int, default=5, help="report years per source (1-6, up to 2024)")
    parser.add_argument("--backfill-sources", type=int, default=2000, help="sources harvested for the backfill")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.1, help="politeness delay per source (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, help="documents per extraction task (default: the pipeline's)")
    parser.add_argument("--runner", default="auto", help="task runner of the harvest runs")
    parser.add_argument("--backfill-runner", default="processes")
    parser.add_argument("--source-threads", type=int, help="sources harvested at once per batch task")
    parser.add_argument("--source-batch", type=int, help="sources per harvest task")
    parser.add_argument("--portal-port", type=int, default=28765)
    parser.add_argument("--server-port", type=int, default=SERVER_PORT)
    parser.add_argument("--hosts", choices=("addresses", "ports"))
    parser.add_argument("--work-dir", type=Path, default=Path("data/bench/scale"))
    parser.add_argument("--out", type=Path, default=Path("data/bench"))
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma list of {', '.join(STEPS)}")
    parser.add_argument("--keep", action="store_true", help="keep the data directory of an earlier run")
    parser.add_argument(
        "--no-artifacts", action="store_true", help="what-if: no per-source Prefect artifacts (isolates their cost)"
    )
    parser.add_argument(
        "--prefect",
        choices=("server", "ephemeral", "none"),
        default="server",
        help="orchestrated runs against a Prefect server started here, a temporary API per run, or no Prefect",
    )
    args = parser.parse_args(argv)
    if args.child is not None:
        return child_main(args.child)
    steps = tuple(s.strip() for s in args.steps.split(",") if s.strip())
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        parser.error(f"unknown steps {unknown}; known: {', '.join(STEPS)}")
    cfg = ScaleConfig(
        sources=args.sources,
        years=args.years,
        backfill_sources=args.backfill_sources,
        seed=args.seed,
        delay=args.delay,
        workers=args.workers,
        batch_size=args.batch_size,
        runner=args.runner,
        backfill_runner=args.backfill_runner,
        source_threads=args.source_threads,
        source_batch=args.source_batch,
        portal_port=args.portal_port,
        server_port=args.server_port,
        hosts=args.hosts,
        work_dir=args.work_dir.resolve(),
        out=args.out,
        steps=steps,
        fresh=not args.keep,
        prefect=args.prefect,
        artifacts=not args.no_artifacts,
    )
    results = main(cfg, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(to_markdown(results))
    print("written:", ", ".join(results["files"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
