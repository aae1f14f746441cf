"""Load-time benchmark of the analyst API: ``xxgk.open(d)`` read with pandas, DuckDB and Polars.

Not a test (timings belong in a benchmark, not in assertions). Publishes the publish benchmark's
warehouse (``bench.publish.build_staging``: the sample reports replicated to ``--docs`` documents
over ``--years`` years) once into ``<work>/data``, then times each reading in a fresh child
process (spawned, so its peak RSS is the reading's own)::

    python -m xxgk.bench.load --docs 10000 --work /tmp/xxgk-bench-load
    python -m xxgk.bench.load --docs 10000 --work /tmp/xxgk-bench-load --json   # the figures as JSON

Per reading: ``import`` (xxgk and the engine), ``open`` (``xxgk.open``; for DuckDB and Polars also
``wh.duckdb()``/``wh.polars()``, which register every table and compute the wide views),
``cold`` (the first load in the process) and ``warm`` (the same load again), the rows loaded and
the child's peak RSS; each phase in wall seconds and the process's CPU seconds (on a shared machine
the CPU figure is the steadier one). The operating system's file cache is not dropped: "cold" is a cold
process, not a cold disk. The warehouse is reused by later runs with the same ``--docs``/``--years``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

#: (engine, what is loaded): what each child process measures
READINGS: tuple[tuple[str, str], ...] = (
    ("pandas", "facts"),
    ("pandas", "wide"),
    ("duckdb", "facts"),
    ("duckdb", "wide"),
    ("polars", "facts"),
    ("polars", "wide"),
)
WIDE_TABLE = "requests"


def _loader(engine: str, what: str, data_dir: str) -> tuple[Callable[[], Any], Callable[[Any], int]]:
    """The open step (timed) returns a function that loads ``what`` (timed twice) and a row counter."""
    import xxgk

    wh = xxgk.open(data_dir)
    if engine == "pandas":
        if what == "facts":
            return wh.facts, len
        return lambda: wh.wide(WIDE_TABLE), len
    if engine == "duckdb":
        con = wh.duckdb()
        view = "primary_facts" if what == "facts" else f"wide_{WIDE_TABLE}"
        return lambda: con.sql(f"SELECT * FROM {view}").to_arrow_table(), lambda t: t.num_rows
    if engine == "polars":
        frames = wh.polars()
        name = "primary_facts" if what == "facts" else f"wide_{WIDE_TABLE}"
        return lambda: frames[name].collect(), len
    raise ValueError(f"unknown engine {engine!r}")


def _peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM where /proc has it (ru_maxrss keeps the spawning parent's peak over exec)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _child(engine: str, what: str, data_dir: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import importlib

    marks = [(time.perf_counter(), time.process_time())]
    importlib.import_module("xxgk.warehouse.analysis")
    if engine != "pandas":
        importlib.import_module(engine)
    marks.append((time.perf_counter(), time.process_time()))
    load, count = _loader(engine, what, data_dir)
    marks.append((time.perf_counter(), time.process_time()))
    rows = count(load())
    marks.append((time.perf_counter(), time.process_time()))
    count(load())
    marks.append((time.perf_counter(), time.process_time()))
    out: dict[str, Any] = {"engine": engine, "load": what if what == "facts" else f"wide({WIDE_TABLE})", "rows": rows}
    for phase, (before, after) in zip(("import", "open", "cold", "warm"), itertools.pairwise(marks), strict=True):
        out[f"{phase}_s"] = round(after[0] - before[0], 2)
        out[f"{phase}_cpu_s"] = round(after[1] - before[1], 2)  # this process's CPU (DuckDB/Polars threads too)
    out["peak_rss_mb"] = _peak_rss_mb()
    queue.put(out)


def measure(engine: str, what: str, data_dir: Path) -> dict[str, Any]:
    """One reading in a fresh interpreter: its timings and peak RSS."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(engine, what, str(data_dir), queue))
    proc.start()
    while True:  # a child that died (an exception, the OOM killer) puts nothing: say so instead of waiting
        try:
            out = queue.get(timeout=5)
            break
        except Empty:
            if not proc.is_alive():
                raise RuntimeError(f"{engine}/{what}: the child process ended with exit code {proc.exitcode}") from None
    proc.join()
    return out


def build_warehouse(work: Path, n_docs: int, years: int) -> tuple[Path, dict[str, Any] | None]:
    """The publish benchmark's warehouse of ``n_docs`` documents under ``work/data`` (reused if built)."""
    from xxgk.bench.publish import build_staging, measure_publish

    data_dir = work / "data"
    marker = data_dir / "bench-load.json"
    spec = {"docs": n_docs, "years": years}
    if marker.is_file() and json.loads(marker.read_text()) == spec:
        return data_dir, None
    staged = build_staging(work / "staging", n_docs, years)
    import shutil

    shutil.rmtree(data_dir, ignore_errors=True)
    published = measure_publish(data_dir, staged)
    marker.write_text(json.dumps(spec))
    return data_dir, published


def to_markdown(results: dict[str, Any]) -> str:
    """The readings as a markdown table: wall seconds (CPU seconds of the process) per phase."""
    lines = [
        "| engine | load | rows | import s | open s | cold s | warm s | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["readings"]:
        phases = " | ".join(f"{r[f'{p}_s']} ({r[f'{p}_cpu_s']})" for p in ("import", "open", "cold", "warm"))
        lines.append(f"| {r['engine']} | {r['load']} | {r['rows']:,} | {phases} | {r['peak_rss_mb']:,.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/xxgk-bench-load"))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args(argv)
    data_dir, published = build_warehouse(args.work, args.docs, args.years)
    results: dict[str, Any] = {
        "docs": args.docs,
        "years": args.years,
        "data_dir": str(data_dir),
        "published": published,
        "load_before": os.getloadavg(),
        "readings": [measure(engine, what, data_dir) for engine, what in READINGS],
        "load_after": os.getloadavg(),
    }
    if args.json:
        json.dump(results, sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        print(to_markdown(results))
        print(f"\nload average before/after: {results['load_before']} / {results['load_after']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
