"""The whole benchmark: the portal cache, the helpers, the runs in order, the command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import psutil

from xxgk.bench.scale.child import child_main
from xxgk.bench.scale.config import SERVER_PORT, STEPS, ScaleConfig
from xxgk.bench.scale.measure import Helper, _child_env, _load, run_child, start_portal, start_prefect_server
from xxgk.bench.scale.report import correctness, to_markdown, verdict
from xxgk.demo.scale import SCALE_MIX, parse_mix
from xxgk.harvest.revisit import RevisitSettings


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
            s in cfg.steps
            for s in ("first", "settle", "nightly", "nightly_defaults", "changes", "due", "grow", "backfill")
        ):
            running["server"] = start_prefect_server(cfg, log)
        yield running
    finally:
        for helper in running.values():
            last = helper.stop()
            if helper.name == "portal" and last:
                helper.info["served"] = last


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _same_portal(cfg: ScaleConfig, record: Path) -> ScaleConfig:
    """With ``--keep``, serve the portal the kept data directory was harvested from (recorded in ``record``).

    The generated portal of N sites is not a prefix of a larger one (report forms are shuffled over
    all sites), so a nightly run against a portal of another size would see every report changed.
    """
    wanted = {"seed": cfg.seed, "years": cfg.years, "hosts": cfg.hosts, "mix": list(cfg.mix)}
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
    if cfg.portal_port == 0 and ("changes" in cfg.steps or "due" in cfg.steps):
        cfg = replace(cfg, portal_port=_free_port())  # a restarted portal must serve the same URLs
    t0 = time.perf_counter()
    from xxgk.demo import fill_cache, loopback_aliases_work, scale_spec

    hosts = cfg.hosts or ("addresses" if loopback_aliases_work() else "ports")
    years = tuple(range(2025 - cfg.years, 2025))
    spec = scale_spec(cfg.portal_sources, years, seed=cfg.seed, port=cfg.portal_port, hosts=hosts, mix=cfg.mix)
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
    harvest_opts = {
        "source_threads": cfg.source_threads,
        "source_batch": cfg.source_batch,
        "harvest_processes": cfg.harvest_processes,
    }
    with _helpers(cfg, full_registry, say) as helpers:
        results["portal"]["start_s"] = helpers["portal"].info.get("start_seconds")
        server = helpers.get("server")
        if server is not None:
            results["prefect_server"] = {"start_s": server.info["start_seconds"]}
        registry = _write_registry(full_registry, work / f"sources-{cfg.sources}.yaml", cfg.sources)
        watched = list(helpers.values())

        def pipeline_run(
            name: str,
            reg: Path,
            *,
            api: str | None,
            orchestrate: bool = True,
            tuned: bool = True,
            extra: dict[str, Any] | None = None,
        ) -> None:
            orchestrate = orchestrate and cfg.prefect != "none"
            harvest = harvest_opts if tuned else {}
            params = {
                "mode": "pipeline",
                "sources": str(reg.resolve()),
                "runner": cfg.runner,
                "orchestrate": orchestrate,
                "revalidate": cfg.revalidate if name != "first" else None,
                **(extra or {}),
            }
            results["runs"][name] = run_child(
                name, {**common, **harvest, **params}, cfg, env=_child_env(api), helpers=watched, log=say
            )

        api_url = server.info["api_url"] if server else None
        if "first" in cfg.steps:
            pipeline_run("first", registry, api=api_url)
        if "settle" in cfg.steps:  # e.g. the first night after an archive made by older code
            pipeline_run("settle", registry, api=api_url)
        if "nightly" in cfg.steps:
            pipeline_run("nightly", registry, api=api_url)
        if "nightly_ephemeral" in cfg.steps and cfg.prefect != "none":
            pipeline_run("nightly_ephemeral", registry, api=None)
        if "nightly_plain" in cfg.steps:
            pipeline_run("nightly_plain", registry, api=None, orchestrate=False)
        tuning = cfg.source_threads is not None or cfg.source_batch is not None
        if "nightly_defaults" in cfg.steps and tuning:
            pipeline_run("nightly_defaults", registry, api=api_url, tuned=False)
        if "changes" in cfg.steps or "due" in cfg.steps:
            # the portal as changed between two nights: restart it with the changes applied
            helpers["portal"].stop()
            helpers["portal"] = start_portal(cfg, full_registry, say, changes=cfg.changes)
            watched[:] = list(helpers.values())
            expected = helpers["portal"].info.get("changes") or {}
            results["changes"] = expected
            watch = {"watch": sorted({slug for pairs in expected.values() for slug, _year in pairs})}
            if "changes" in cfg.steps:
                pipeline_run("changes", registry, api=api_url, extra=watch)
            if "due" in cfg.steps:  # as if the longest revisit interval had passed
                later = {**watch, "clock_days": RevisitSettings().max_days + 1}
                pipeline_run("due", registry, api=api_url, extra=later)
            results["correctness"] = correctness(expected, results["runs"], cfg.revalidate)
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
    parser.add_argument("--mix", type=parse_mix, default=SCALE_MIX, help="shares of HTML, PDF, text reports")
    parser.add_argument("--delay", type=float, default=0.1, help="politeness delay per source (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, help="documents per extraction task (default: the pipeline's)")
    parser.add_argument("--runner", default="auto", help="task runner of the harvest runs")
    parser.add_argument("--backfill-runner", default="processes")
    parser.add_argument("--source-threads", type=int, help="sources harvested at once per batch task")
    parser.add_argument("--source-batch", type=int, help="sources per harvest task")
    parser.add_argument(
        "--harvest-processes", type=int, help="worker processes of the harvest (default: the pipeline decides)"
    )
    parser.add_argument("--portal-port", type=int, default=28765)
    parser.add_argument("--server-port", type=int, default=SERVER_PORT)
    parser.add_argument("--hosts", choices=("addresses", "ports"))
    parser.add_argument("--work-dir", type=Path, default=Path("data/bench/scale"))
    parser.add_argument("--out", type=Path, default=Path("data/bench"))
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma list of {', '.join(STEPS)}")
    parser.add_argument("--keep", action="store_true", help="keep the data directory of an earlier run")
    parser.add_argument(
        "--revalidate", choices=("all", "due", "none"), help="the nightly runs' --revalidate (default: due)"
    )
    parser.add_argument("--changes", type=int, default=3, help="sites per kind of change of the changes/due steps")
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
        mix=args.mix,
        revalidate=args.revalidate,
        changes=args.changes,
        delay=args.delay,
        workers=args.workers,
        batch_size=args.batch_size,
        runner=args.runner,
        backfill_runner=args.backfill_runner,
        source_threads=args.source_threads,
        source_batch=args.source_batch,
        harvest_processes=args.harvest_processes,
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
