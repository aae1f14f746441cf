"""The ``xxgk`` command: ``run`` (the main job), ``extract``, ``backfill``, ``serve``, ``export``, ``bench``.

``xxgk run`` harvests: with no arguments the local demo portal serving the embedded sample set
(discover → fetch → raw archive → extract → validate → Parquet, in one flow); with
``--sources registry.yaml`` the registry's enabled sources (or ``--sources-only``). A documents
file (``--sources documents.yaml``) and ``xxgk extract PATH...`` read local files instead.
``xxgk backfill`` replays the raw archive; ``xxgk serve`` (``flows.cli_serve``) registers the nightly
and backfill deployments with a Prefect server and runs them; ``xxgk export`` and ``xxgk bench``
live in ``flows.cli_tools``. All are registered on this module's ``app``.

Prefect is imported only once a command has chosen its data directory (Prefect reads its settings
at import), so ``xxgk --help`` and ``xxgk --version`` stay fast. What the commands print is
``flows.console``'s. Exit codes: 0 when the run completed (documents that fail to extract are
data, reported in the summary), 2 for inputs that stop the run before it starts, 1 when the run
itself failed, 130 on Ctrl-C.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer

from xxgk.flows.cli_serve import serve
from xxgk.flows.cli_tools import bench, export
from xxgk.flows.console import execute
from xxgk.flows.inputs import InputError, is_registry, parse_ids, parse_years
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
    check_runner,
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
        check_runner(runner, dask_address)

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
        check_runner(runner, dask_address)

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


# Registered here, after backfill, so `xxgk --help` lists the commands in this order.
app.command(cls=Command)(serve)
app.command(cls=Command)(export)
app.command(cls=Command)(bench)


def entry() -> None:
    """``python -m xxgk.flows.cli``: the same as the ``xxgk`` console script."""
    app(prog_name="xxgk")


if __name__ == "__main__":
    sys.exit(entry())
