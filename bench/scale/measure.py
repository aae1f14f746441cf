"""Measuring a process tree, the helper processes (portal, Prefect server) and one measured child run."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil  # a dependency of distributed (prefect-dask): always installed with xxgk

from xxgk.bench.scale.config import ScaleConfig


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


def start_portal(cfg: ScaleConfig, registry: Path, log: Callable[[str], None], *, changes: int = 0) -> Helper:
    """Serve the scale portal in its own process; returns once every host listens.

    ``changes`` > 0: the portal as changed between two nights (``demo.scale.apply_scale_changes``
    among the first ``cfg.sources`` sites; what changed is in ``Helper.info["changes"]``).
    """
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
    cmd += ["--mix", ",".join(f"{x:g}" for x in cfg.mix)]
    if changes:
        cmd += ["--changes", str(changes), "--changes-within", str(cfg.sources)]
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
    return Path(__file__).resolve().parents[2]


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
