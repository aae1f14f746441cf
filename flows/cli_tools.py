"""``xxgk export`` and ``xxgk bench``: what the warehouse gives analysts, and how fast extraction is.

Neither runs the pipeline; ``flows.cli`` registers both on the ``xxgk`` app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from xxgk.flows.console import EXIT_BAD_INPUT, EXIT_RUN_FAILED, fail


def export(
    data_dir: Annotated[
        Path, typer.Argument(help="Data directory whose warehouse is exported (default: data).")
    ] = Path("data"),
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="csv (a directory), xlsx (one workbook) or duckdb.")
    ] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write (default: DATA_DIR/export/...).")
    ] = None,
) -> None:
    """Export the warehouse for analysts: wide tables, reports, failed checks and keys (primary copies only)."""
    err = Console(stderr=True)
    from xxgk.warehouse.export import FORMATS

    if fmt not in FORMATS:
        raise fail(err, f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}", EXIT_BAD_INPUT)
    target = out or data_dir / "export" / {"csv": "csv", "xlsx": "xxgk.xlsx", "duckdb": "xxgk.duckdb"}[fmt]
    from xxgk.warehouse.analysis import MissingDependency
    from xxgk.warehouse.export import export_warehouse

    try:
        written = export_warehouse(data_dir, fmt, target)
    except FileNotFoundError as exc:
        raise fail(err, str(exc), EXIT_BAD_INPUT) from None
    except MissingDependency as exc:
        raise fail(err, str(exc), EXIT_RUN_FAILED) from None
    for path in written:
        typer.echo(str(path))


def bench(
    out: Annotated[Path, typer.Option("--out", help="Directory (or .json file) for bench.json and bench.md.")] = Path(
        "data/bench"
    ),
    docs: Annotated[int, typer.Option("--docs", help="Generated reports (each rendered in every format).")] = 40,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated reports.")] = 0,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Processes for the parallel pass.")] = 2,
    formats: Annotated[str, typer.Option("--formats", help="Comma list of pdf,html,text (default: all).")] = "",
    warmup: Annotated[int, typer.Option("--warmup", help="Documents extracted before timing starts.")] = 2,
    ocr_docs: Annotated[
        int, typer.Option("--ocr-docs", help="Reports scanned at every degradation level and read by OCR (0: skip).")
    ] = 2,
) -> None:
    """Benchmark extraction: time per document, throughput and memory, written to OUT as JSON and Markdown."""
    err = Console(stderr=True)
    try:
        from xxgk.bench import run as bench_run
    except ImportError as exc:
        raise fail(err, f"the benchmark is not available here ({exc})", EXIT_RUN_FAILED) from None
    chosen = [f.strip() for f in formats.split(",") if f.strip()] or None
    result: dict[str, Any] = bench_run.main(
        out,
        docs,
        seed=seed,
        workers=workers,
        formats=chosen,
        warmup=warmup,
        log=lambda msg: err.print(msg),
        ocr_docs=ocr_docs,
    )
    to_markdown = getattr(bench_run, "to_markdown", None)
    if to_markdown is not None:
        typer.echo(to_markdown(result))
    if result.get("files"):
        err.print("written: " + ", ".join(str(f) for f in result["files"]))
