"""The ``xxgk`` command: ``run`` (the main job), ``extract``, ``backfill``, ``serve``, ``bench``.

``xxgk run`` harvests: with no arguments the local demo portal serving the embedded sample set
(discover → fetch → raw archive → extract → validate → Parquet, in one flow); with
``--sources registry.yaml`` the registry's enabled sources (or ``--sources-only``). A documents
file (``--sources documents.yaml``) and ``xxgk extract PATH...`` read local files instead.
``xxgk backfill`` replays the raw archive; ``xxgk serve`` registers the nightly and backfill
deployments with a Prefect server and runs them.

Prefect is imported only once a command has chosen its data directory (Prefect reads its settings
at import), so ``xxgk --help`` and ``xxgk --version`` stay fast. What the commands print is
``flows.console``'s. Exit codes: 0 when the run completed (documents that fail to extract are
data, reported in the summary), 2 for inputs that stop the run before it starts, 1 when the run
itself failed, 130 on Ctrl-C.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from xxgk.flows.console import EXIT_BAD_INPUT, EXIT_RUN_FAILED, execute, fail
from xxgk.flows.inputs import InputError, check_sources_file, is_registry, parse_ids, parse_years
from xxgk.flows.options import (
    ArchiveDirOpt,
    BatchSizeOpt,
    Command,
    DaskAddressOpt,
    DataDirOpt,
    ForceOpt,
    Group,
    JsonOpt,
    PortalPortOpt,
    PrefectOpt,
    QuietOpt,
    RevalidateOpt,
    RunnerOpt,
    SourcesOnlyOpt,
    SourcesOpt,
    VerboseOpt,
    WorkersOpt,
    YearsOpt,
)
from xxgk.flows.settings import DEFAULT_MAX_WORKERS, default_data_dir

app = typer.Typer(
    name="xxgk",
    cls=Group,
    help="Batch ETL for China's annual Open Government Information reports (政府信息公开工作年度报告).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def sample_manifest() -> Path:
    """The embedded sample set's manifest (``data/sample/manifest.yaml`` in the repository)."""
    try:
        from xxgk.synth.sample import MANIFEST, SAMPLE_DIR
    except ImportError:
        return Path(__file__).resolve().parents[1] / "data" / "sample" / "manifest.yaml"
    return SAMPLE_DIR / MANIFEST


def package_version() -> str:
    """The installed xxgk version (``0+unknown`` when run from a tree that was never installed)."""
    try:
        return metadata.version("xxgk")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _version_callback(value: bool) -> None:
    if value:
        from xxgk.extractors import EXTRACTOR_VERSION

        typer.echo(f"xxgk {package_version()} (extractor {EXTRACTOR_VERSION})")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """xxgk: extract the statistical tables of annual OGI reports into a Parquet warehouse."""


def _check_runner(runner: str, dask_address: str | None) -> None:
    """An unknown runner or a bad Dask address is an input error (exit 2), found before Prefect starts."""
    from xxgk.flows.runners import scheduled_runner

    try:
        scheduled_runner(runner, dask_address)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _run_documents(
    *,
    title: str,
    data_dir: Path,
    paths: list[str] | None,
    sources: str | None,
    batch_size: int | None,
    workers: int,
    runner: str,
    force: bool,
    prefect: bool,
    quiet: bool,
    verbose: bool,
    as_json: bool,
    sources_only: str | None = None,
    years: str | None = None,
    portal_port: int | None = None,
    dask_address: str | None = None,
    archive_dir: Path | None = None,
    revalidate: str | None = None,
) -> None:
    """``run`` and ``extract``: harvest and/or local files through ``run_pipeline``."""
    parsed: dict[str, Any] = {}

    def check() -> None:
        from xxgk.flows.sources import check_selection

        parsed["ids"], parsed["years"] = parse_ids(sources_only), parse_years(years)
        check_selection(sources, paths=paths, ids=parsed["ids"], years=parsed["years"])
        if revalidate is not None:
            from xxgk.flows.sources import check_revalidate

            check_revalidate(revalidate)
        _check_runner(runner, dask_address)

    def invoke() -> Any:
        from xxgk.flows.pipeline import run_pipeline

        return run_pipeline(
            paths,
            sources,
            data_dir=data_dir,
            batch_size=batch_size,
            max_workers=workers,
            runner=runner,
            force=force,
            orchestrate=prefect,
            sources_only=parsed["ids"],
            years=parsed["years"],
            portal_port=portal_port,
            dask_address=dask_address,
            archive_dir=archive_dir,
            revalidate=revalidate,
        )

    execute(
        title=title,
        data_dir=data_dir,
        batch_size=batch_size,
        workers=workers,
        prefect=prefect,
        quiet=quiet,
        verbose=verbose,
        as_json=as_json,
        check=check,
        invoke=invoke,
    )


@app.command(cls=Command)
def run(
    data_dir: DataDirOpt = None,
    sources: SourcesOpt = None,
    sources_only: SourcesOnlyOpt = None,
    years: YearsOpt = None,
    portal_port: PortalPortOpt = None,
    archive_dir: ArchiveDirOpt = None,
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = DEFAULT_MAX_WORKERS,
    runner: RunnerOpt = "auto",
    dask_address: DaskAddressOpt = None,
    force: ForceOpt = False,
    revalidate: RevalidateOpt = "due",
    prefect: PrefectOpt = True,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The main job: harvest (discover → fetch → archive), extract, validate, publish.

    With no --sources, harvests the local demo portal (127.0.0.1) serving the embedded sample set. Without a Prefect server (PREFECT_API_URL), a temporary Prefect API starts first (6-20 s); --no-prefect runs the same steps in-process without it.
    """
    if sources is None:
        title = "xxgk run (demo portal: sample set)"
    else:
        kind = "sources registry" if sources.is_file() and is_registry(sources) else "documents file"
        title = f"xxgk run ({kind} {sources})"
    _run_documents(
        title=title,
        data_dir=data_dir or default_data_dir(),
        paths=None,
        sources=str(sources) if sources is not None else None,
        batch_size=batch_size,
        workers=workers,
        runner=runner,
        force=force,
        prefect=prefect,
        quiet=quiet,
        verbose=verbose,
        as_json=as_json,
        sources_only=sources_only,
        years=years,
        portal_port=portal_port,
        dask_address=dask_address,
        archive_dir=archive_dir,
        revalidate=revalidate,
    )


@app.command(cls=Command)
def extract(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (format detected from the content).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (warehouse, validation, staging).")],
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = DEFAULT_MAX_WORKERS,
    runner: RunnerOpt = "auto",
    dask_address: DaskAddressOpt = None,
    force: ForceOpt = False,
    prefect: Annotated[
        bool,
        typer.Option(
            "--prefect/--no-prefect",
            help="Orchestrate with Prefect; by default the steps run in-process: a one-off extract of a few "
            "files should not wait ~10-20 s for a temporary API server.",
        ),
    ] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Extract any local files into OUT: source id from the file name, publisher and year from the document."""
    _run_documents(
        title="xxgk extract",
        data_dir=out,
        paths=[str(p) for p in paths],
        sources=None,
        batch_size=batch_size,
        workers=workers,
        runner=runner,
        force=force,
        prefect=prefect,
        quiet=quiet,
        verbose=verbose,
        as_json=as_json,
        dask_address=dask_address,
    )


@app.command(cls=Command)
def backfill(
    years: Annotated[
        str | None,
        typer.Option(
            "--years", help="Years to re-extract and republish: 2019-2024, 2021 or 2019,2021-2022 (default: all)."
        ),
    ] = None,
    sources: Annotated[
        str | None,
        typer.Option(
            "--sources",
            "-s",
            help="What to backfill: source ids (a,b,c), a file of ids (one per line), a sources registry "
            "(its sources in the archive) or a documents file. Default: every source in the archive.",
        ),
    ] = None,
    refetch: Annotated[
        bool, typer.Option("--refetch", help="Harvest the sources again first (network); else the archive only.")
    ] = False,
    force_extract: Annotated[
        bool,
        typer.Option("--force-extract", help="Parse every document again, even when staged by this extractor."),
    ] = False,
    data_dir: DataDirOpt = None,
    archive_dir: ArchiveDirOpt = None,
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = DEFAULT_MAX_WORKERS,
    runner: RunnerOpt = "auto",
    dask_address: DaskAddressOpt = None,
    prefect: PrefectOpt = True,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Re-extract years and sources from the raw archive (no network unless --refetch); republish them.

    Only the years' partitions are rewritten, in one commit: a backfill killed midway leaves the warehouse as it was, and running it again completes it (staged documents are not parsed twice).
    """
    data = data_dir or default_data_dir()
    parsed: dict[str, Any] = {}

    def check() -> None:
        from xxgk.flows.harvesting import archive_dir_of

        parsed["years"] = parse_years(years)
        archive = archive_dir or archive_dir_of(data)
        if not Path(archive).is_dir() and not refetch:
            raise InputError(f"no raw archive at {archive}: harvest first (xxgk run), or give --archive-dir")
        # reads only the archive's small JSON records (and a registry): Prefect is not imported yet
        from xxgk.flows.archive_index import select_backfill

        select_backfill(archive, sources, refetch=refetch)
        _check_runner(runner, dask_address)

    def invoke() -> Any:
        from xxgk.flows.backfill import run_backfill

        return run_backfill(
            data,
            archive_dir=archive_dir,
            sources=sources,
            years=parsed["years"],
            refetch=refetch,
            force=force_extract,
            batch_size=batch_size,
            max_workers=workers,
            runner=runner,
            dask_address=dask_address,
            orchestrate=prefect,
        )

    span = f" {years}" if years else ""
    execute(
        title=f"xxgk backfill{span}",
        data_dir=data,
        batch_size=batch_size,
        workers=workers,
        prefect=prefect,
        quiet=quiet,
        verbose=verbose,
        as_json=as_json,
        check=check,
        invoke=invoke,
    )


@app.command(cls=Command)
def serve(
    data_dir: DataDirOpt = None,
    sources: SourcesOpt = None,
    sources_only: SourcesOnlyOpt = None,
    years: YearsOpt = None,
    cron: Annotated[
        str, typer.Option("--cron", envvar="XXGK_CRON", help="Cron schedule (minute hour day month weekday).")
    ] = "0 2 * * *",
    timezone: Annotated[
        str, typer.Option("--timezone", "--tz", envvar="XXGK_TIMEZONE", help="IANA time zone of the schedule.")
    ] = "Asia/Shanghai",
    name: Annotated[str, typer.Option("--name", help="Name of the scheduled deployment.")] = "nightly",
    archive_dir: ArchiveDirOpt = None,
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = DEFAULT_MAX_WORKERS,
    runner: RunnerOpt = "auto",
    dask_address: DaskAddressOpt = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Prefect server API (default: PREFECT_API_URL or the Prefect profile)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Runs executing at once (nightly and backfill).")] = 1,
    register_only: Annotated[
        bool, typer.Option("--register-only", help="Register the deployments and exit (their runs wait for a serve).")
    ] = False,
    flow_ref: Annotated[
        str, typer.Option("--flow", help="The flow to schedule, as module:attribute.")
    ] = "xxgk.flows.pipeline:extract_flow",
) -> None:
    """Register the nightly run and the backfill with a Prefect server, then serve their runs (blocks).

    The nightly deployment runs the pipeline on the cron schedule over the selected sources and years; the backfill deployment has no schedule and is started from the Prefect UI with its years and sources. The selection, the schedule and the runner are checked before the Prefect server is.
    """
    from xxgk.flows.prefect_api import ServerUnavailable, check_api, configure_for_server, keep_prefect_home

    err = Console(stderr=True)
    configure_for_server(api_url)
    try:
        ids, year_list = parse_ids(sources_only), parse_years(years)
        if sources is not None:
            check_sources_file(sources)
        from xxgk.flows.sources import check_selection

        check_selection(sources, ids=ids, years=year_list)
        _check_runner(runner, dask_address)
    except InputError as exc:
        raise fail(err, str(exc), EXIT_BAD_INPUT) from None
    values = {
        "data_dir": data_dir or default_data_dir(),
        "sources": sources,
        "sources_only": ids,
        "years": year_list,
        "batch_size": batch_size,
        "workers": workers,
        "runner": runner,
        "dask_address": dask_address,
        "archive_dir": archive_dir,
    }
    # the backfill replays by default what the nightly harvests (every archived source without a selection)
    replayed = ",".join(ids) if ids else (str(sources) if sources is not None else None)
    try:
        keep_prefect_home()
        from xxgk.flows.deploy import plan_deployments, register_plans, serve_deployments

        plans = plan_deployments(
            values,
            backfill={"sources": replayed, "years": year_list},
            name=name,
            cron=cron,
            timezone=timezone,
            flow_ref=flow_ref,
        )
        url = check_api(api_url)
    except (ServerUnavailable, ValueError) as exc:
        raise fail(err, str(exc), EXIT_BAD_INPUT) from None
    _show_plans(err, plans, url, workers)
    if register_only:
        register_plans(plans, url)
        err.print("registered; their runs execute while `xxgk serve` (without --register-only) is running.")
        return
    serve_deployments(plans, limit=limit, api_url=url)


def _show_plans(err: Console, plans: list[Any], url: str, workers: int) -> None:
    """One paragraph per deployment: name, schedule, runner, parameters; and what the flows ignore."""
    from xxgk.flows.runners import describe_runner

    for plan in plans:
        for key, value in plan.ignored.items():
            err.print(
                "[yellow]warning:[/] "
                + escape(f"the flow {plan.flow.name!r} has no parameter for {key}={value!r}; ignored")
            )
        when = (
            f"cron {plan.cron!r} ({plan.timezone})"
            if plan.cron
            else f"started by hand (Prefect UI, or `prefect deployment run {plan.full_name}`)"
        )
        err.print(
            f"deployment [bold]{plan.full_name}[/]: {when} on {url}; tasks on {describe_runner(*plan.runner[:1], workers, plan.runner[1])}\n"
            f"parameters: {json.dumps(plan.parameters, ensure_ascii=False)}",
            highlight=False,
            soft_wrap=True,
        )


@app.command(cls=Command)
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


@app.command(cls=Command)
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


def entry() -> None:
    """``python -m xxgk.flows.cli``: the same as the ``xxgk`` console script."""
    app(prog_name="xxgk")


if __name__ == "__main__":
    sys.exit(entry())
