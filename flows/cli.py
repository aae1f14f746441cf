"""The ``xxgk`` command: ``run`` (the main job), ``extract`` (any local files), ``bench``.

``xxgk run`` harvests: with no arguments the local demo portal serving the embedded sample set
(discover → fetch → raw archive → extract → validate → Parquet, in one flow); with
``--sources registry.yaml`` the registry's enabled sources (or ``--sources-only``). A documents
file (``--sources documents.yaml``) and ``xxgk extract PATH...`` read local files instead.

Prefect is imported only once a command has chosen its data directory (Prefect reads its settings
at import), so ``xxgk --help`` and ``xxgk --version`` stay fast. Progress goes to stderr (a bar in a
terminal, one line per batch otherwise); the summary table goes to stdout. Exit codes: 0 when the
run completed (documents that fail to extract are data, reported in the summary), 2 for inputs
that stop the run before it starts, 1 when the run itself failed, 130 on Ctrl-C.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xxgk.flows.deploy import serve_command
from xxgk.flows.inputs import InputError, parse_ids, parse_years, resolve_specs, select_documents
from xxgk.flows.settings import DEFAULT_BATCH_SIZE, DEFAULT_MAX_WORKERS, configure_prefect, default_data_dir

if TYPE_CHECKING:
    from xxgk.flows.harvesting import HarvestBatchOutcome
    from xxgk.flows.pipeline import BatchOutcome, RunSummary

app = typer.Typer(
    name="xxgk",
    help="Batch ETL for China's annual Open Government Information reports (政府信息公开工作年度报告).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

_STATUS_STYLE = {
    "ok": "green",
    "partial": "yellow",
    "failed": "red",
    "needs_ocr": "magenta",
    "legacy": "cyan",
    "not_a_report": "dim",
}
_STATUS_ORDER = tuple(_STATUS_STYLE)
_MAX_PROBLEMS_SHOWN = 15
_HARVEST_STYLE = {"ok": "green", "partial": "yellow", "empty": "red", "layout_changed": "red", "failed": "red"}
_MAX_HARVEST_LINES = 20


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


# ---------------------------------------------------------------------------------------------
# Progress and summary


@dataclass
class ProgressView:
    """Batch progress on stderr: a live bar in a terminal, one line per batch elsewhere (CI, logs)."""

    console: Console
    quiet: bool = False
    bar: Progress | None = None
    task_id: Any = None
    batches: int = 0
    lines: list[str] = field(default_factory=list)

    def __call__(self, done: int, total: int, outcome: BatchOutcome | None) -> None:
        if self.quiet:
            return
        if self.console.is_terminal:
            if self.bar is None:
                self.bar = Progress(
                    TextColumn("[bold]extracting"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("documents"),
                    TimeElapsedColumn(),
                    console=self.console,
                    transient=True,
                )
                self.bar.start()
                self.task_id = self.bar.add_task("extract", total=total)
            self.bar.update(self.task_id, completed=done, total=total)
            return
        if outcome is None:
            self.console.print(f"xxgk: {total} documents to read")
            return
        self.batches += 1
        extracted = sum(1 for o in outcome.documents if o.action == "extracted")
        self.console.print(
            f"xxgk: batch {self.batches} done ({len(outcome.documents)} documents, {extracted} extracted, "
            f"{outcome.seconds:.1f} s): {done}/{total}"
        )

    def harvest(self, done: int, total: int, outcome: HarvestBatchOutcome | None) -> None:
        """Harvest progress: one line per source (not a terminal) or a status line (terminal)."""
        if self.quiet:
            return
        if outcome is None:
            if not self.console.is_terminal:
                self.console.print(f"xxgk: harvesting {total} sources")
            return
        for src in outcome.sources:
            style = _HARVEST_STYLE.get(src.status, "")
            status = f"[{style}]{src.status}[/{style}]" if style and self.console.is_terminal else src.status
            self.console.print(
                f"xxgk: harvested {src.source_id}: {status}, {src.documents} documents, "
                f"{src.requests} requests ({src.not_modified} not modified)",
                highlight=False,
                soft_wrap=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _display_path(path: str | None) -> str:
    """A path relative to the cwd when it is below it (shorter in the summary), else as is."""
    if not path:
        return "-"
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def _short_url(url: str) -> str:
    """A URL without scheme and host (the source column already says where it is)."""
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1] if "/" in rest else rest


def render_harvest(summary: RunSummary, console: Console) -> None:
    """Per source: harvest status, reports, documents, requests; then every problem and recovered fault."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for name, justify in (
        ("source", "left"),
        ("harvest", "left"),
        ("reports", "right"),
        ("changed", "right"),
        ("documents", "right"),
        ("requests (304)", "right"),
        ("problems", "right"),
        ("recovered", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for src in summary.sources:
        style = _HARVEST_STYLE.get(src.status, "")
        table.add_row(
            src.source_id,
            f"[{style}]{src.status}[/{style}]" if style else src.status,
            f"{src.fetched}/{src.reports}",
            str(src.changed),
            str(src.documents),
            f"{src.requests} ({src.not_modified})",
            str(len(src.problems)),
            str(len(src.recovered)),
        )
    console.print(table)
    lines: list[str] = []
    for src in summary.sources:
        if src.failed and not any(p.detail == src.reason for p in src.problems):
            lines.append(f"[red]{src.source_id}: {src.status}[/red]: {src.reason}")
        for p in src.problems:
            year = f" {p.year}" if p.year else ""
            lines.append(f"[yellow]{src.source_id}{year}[/yellow] {p.kind}: {_short_url(p.url)}: {p.detail}")
        for p in src.recovered:
            lines.append(f"[dim]{src.source_id}[/dim] recovered: {_short_url(p.url)}: {p.detail}")
    if lines:
        console.print()
        for line in lines[:_MAX_HARVEST_LINES]:
            console.print(line, soft_wrap=True, highlight=False)
        if len(lines) > _MAX_HARVEST_LINES:
            console.print(f"… and {len(lines) - _MAX_HARVEST_LINES} more (see --json or the fetch log)")
    console.print()


def render_summary(summary: RunSummary, console: Console, title: str) -> None:
    """The end-of-run tables: sources harvested, documents by status, cells, failed checks, outputs."""
    harvest = f", harvest {summary.harvest_seconds:.1f} s" if summary.sources else ""
    console.print(
        f"[bold]{title}[/bold]: {summary.documents} documents in {summary.seconds:.1f} s "
        f"({summary.runner}, {summary.batches} batches{harvest}, extractor {summary.extractor_version})",
        soft_wrap=True,
    )
    if summary.portal:
        console.print(f"harvested the demo portal at {summary.portal}", soft_wrap=True, highlight=False)
    if summary.sources:
        render_harvest(summary, console)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("documents by status")
    table.add_column("count", justify="right")
    statuses = sorted(summary.by_status, key=lambda s: (_STATUS_ORDER.index(s) if s in _STATUS_ORDER else 99, s))
    for status in statuses:
        style = _STATUS_STYLE.get(status, "")
        table.add_row(f"[{style}]{status}[/{style}]" if style else status, str(summary.by_status[status]))
    if summary.by_action.get("error"):
        table.add_row("[red]not read (errors)[/red]", str(summary.by_action["error"]))
    table.add_row("", "")
    actions = summary.by_action
    reused = actions.get("reused", 0) + actions.get("restaged", 0)
    table.add_row("extracted now / reused from staging", f"{actions.get('extracted', 0)} / {reused}")
    table.add_row("cells (facts)", str(summary.cells))
    failed_style = "red" if summary.failed_checks else "green"
    table.add_row("failed checks", f"[{failed_style}]{summary.failed_checks}[/{failed_style}]")
    table.add_row("unmapped rows", str(summary.unmapped))
    console.print(table)

    if summary.problems:
        problems = Table(title=None, show_header=True, header_style="bold", box=None, pad_edge=False)
        problems.add_column("source")
        problems.add_column("file")
        problems.add_column("status")
        problems.add_column("reason", overflow="fold")
        for p in summary.problems[:_MAX_PROBLEMS_SHOWN]:
            style = (
                "red"
                if p.action == "error" or p.reason.startswith("internal error")
                else _STATUS_STYLE.get(p.status, "")
            )
            status = p.status if p.action != "error" else "not read"
            name = p.name or Path(p.path or "").name
            problems.add_row(p.source_id, name, f"[{style}]{status}[/{style}]", p.reason or "-")
        console.print()
        console.print(problems)
        if len(summary.problems) > _MAX_PROBLEMS_SHOWN:
            console.print(f"… and {len(summary.problems) - _MAX_PROBLEMS_SHOWN} more (see the validation index)")

    console.print()
    files = f"{summary.files_written} files written, {summary.files_unchanged} unchanged"
    if summary.files_removed:
        files += f", {summary.files_removed} removed"
    if summary.published_up_to_date:
        files += f"; {summary.published_up_to_date} documents already published, not read again"
    # paths are printed unwrapped so they can be copied from any terminal width
    console.print(f"warehouse:   {_display_path(summary.warehouse)}  ({files})", soft_wrap=True, highlight=False)
    console.print(f"validation:  {_display_path(summary.validation_index)}", soft_wrap=True, highlight=False)
    if summary.archive:
        console.print(
            f"raw archive: {_display_path(summary.archive)}  (fetch_log/, harvest.json)",
            soft_wrap=True,
            highlight=False,
        )
    if summary.failed_sources:
        names = ", ".join(f"{s.source_id} ({s.status})" for s in summary.failed_sources)
        n = len(summary.failed_sources)
        console.print(f"[red]{n} source{'s' if n > 1 else ''} gave no documents:[/red] {names}", soft_wrap=True)
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if summary.internal_errors:
        console.print(
            f"[red]{summary.internal_errors} documents hit an internal error (a bug, not the document): "
            "see the reasons above[/red]"
        )


# ---------------------------------------------------------------------------------------------
# Commands


def _fail(console: Console, message: str, code: int) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _execute(
    *,
    title: str,
    data_dir: Path,
    batch_size: int | None,
    workers: int,
    prefect: bool,
    quiet: bool,
    verbose: bool,
    as_json: bool,
    check: Callable[[], None],
    invoke: Callable[[Any], RunSummary],
) -> None:
    """Check inputs, configure Prefect, run (``invoke(flows.pipeline)``), print the summary.

    ``check`` raises ``InputError`` for inputs that stop the run before Prefect is even imported.
    """
    err = Console(stderr=True)
    out = Console()
    if not out.is_terminal:  # logs and pipes: wide enough that reasons and paths stay on one line
        out = Console(width=max(out.width, 160))
    try:
        check()
    except InputError as exc:
        raise _fail(err, str(exc), EXIT_BAD_INPUT) from None
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(err, f"cannot create data directory {data_dir}: {exc.strerror or exc}", EXIT_BAD_INPUT) from None
    if (batch_size is not None and batch_size < 1) or workers < 1:
        raise _fail(err, "--batch-size and --workers must be at least 1", EXIT_BAD_INPUT)

    configure_prefect(data_dir, console_level=None if verbose else "WARNING")
    starting = err.status("starting…", spinner="dots") if err.is_terminal and not quiet else nullcontext()
    with starting:
        from xxgk.flows import pipeline

        api = pipeline.start_api() if prefect else None
    if api and verbose:
        err.print(f"Prefect API: {api}")

    view = ProgressView(err, quiet=quiet)
    remove = pipeline.add_progress_listener(view)
    remove_harvest = pipeline.add_harvest_listener(view.harvest)
    try:
        summary = invoke(pipeline)
    except KeyboardInterrupt:
        view.close()
        raise _fail(err, "interrupted", EXIT_INTERRUPTED) from None
    except InputError as exc:
        view.close()
        raise _fail(err, str(exc), EXIT_BAD_INPUT) from None
    except Exception as exc:
        view.close()
        if verbose:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        message = f"run failed: {type(exc).__name__}: {first} (--verbose for the traceback)"
        raise _fail(err, message, EXIT_RUN_FAILED) from None
    finally:
        view.close()
        remove()
        remove_harvest()
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False, indent=1))
    else:
        render_summary(summary, out, title)


def _check_runner(runner: str, dask_address: str | None) -> None:
    """An unknown runner or a bad Dask address is an input error (exit 2), found before Prefect starts."""
    from xxgk.flows.deploy import scheduled_runner

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
) -> None:
    """``run`` and ``extract``: harvest and/or local files through ``run_pipeline``."""
    parsed: dict[str, Any] = {}

    def check() -> None:
        parsed["ids"], parsed["years"] = parse_ids(sources_only), parse_years(years)
        from xxgk.flows.harvesting import check_run_inputs

        kind = check_run_inputs(sources, local=bool(paths), ids=parsed["ids"])
        if kind == "documents":
            select_documents(resolve_specs(paths, sources), parsed["ids"], parsed["years"])
        _check_runner(runner, dask_address)

    def invoke(pipeline: Any) -> RunSummary:
        return pipeline.run_pipeline(
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
        )

    _execute(
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


BatchSizeOpt = Annotated[
    int | None,
    typer.Option(
        "--batch-size",
        help="Documents per extract task (a task costs ~25-30 ms of Prefect overhead). Default: "
        f"about 4 tasks per worker on processes/Dask, {DEFAULT_BATCH_SIZE} on threads.",
    ),
]
WorkersOpt = Annotated[int, typer.Option("--workers", "-w", help="Batches extracted at once.")]
RunnerOpt = Annotated[
    str,
    typer.Option(
        "--runner",
        help="Where extraction runs: auto (processes when over 1000 documents need parsing, on several cores; "
        "else threads), threads, processes, dask (a local Dask cluster), or a Dask scheduler address tcp://host:port.",
    ),
]
DaskAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--dask-address", envvar="XXGK_DASK_ADDRESS", help="Scheduler of an existing Dask cluster (tcp://host:8786)."
    ),
]
ArchiveDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--archive-dir",
        envvar="XXGK_ARCHIVE_DIR",
        help="Raw archive of fetched bytes (default: <data-dir>/archive); may live on shared storage.",
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Re-extract documents already staged by this extractor.")]
PrefectOpt = Annotated[
    bool,
    typer.Option(
        "--prefect/--no-prefect",
        help="Orchestrate with Prefect (default), or call the same steps in-process without an API server.",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs and full tracebacks.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the run summary as JSON instead of a table.")]


SourcesOnlyOpt = Annotated[
    str | None,
    typer.Option("--sources-only", help="Comma list of source ids: harvest (or read) only these sources."),
]
YearsOpt = Annotated[
    str | None,
    typer.Option("--years", help="Report years to keep: 2019-2024, 2021 or 2019,2021-2022."),
]


@app.command()
def run(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", "-d", help="Output directory (default: $XXGK_DATA_DIR or ./data).")
    ] = None,
    sources: Annotated[
        Path | None,
        typer.Option(
            "--sources",
            "-s",
            help="A sources registry to harvest (YAML `sources:` list, e.g. data/sources.yaml: its enabled "
            "sources), or a documents file of local files (YAML/JSON/CSV: path, source_id, publisher, year, url). "
            "Default: harvest the local demo portal serving the embedded sample set.",
        ),
    ] = None,
    sources_only: SourcesOnlyOpt = None,
    years: YearsOpt = None,
    portal_port: Annotated[
        int | None,
        typer.Option(
            "--portal-port",
            envvar="XXGK_PORTAL_PORT",
            help="Port of the local demo portal (default 8765; 0 = any free port).",
        ),
    ] = None,
    archive_dir: ArchiveDirOpt = None,
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = DEFAULT_MAX_WORKERS,
    runner: RunnerOpt = "auto",
    dask_address: DaskAddressOpt = None,
    force: ForceOpt = False,
    prefect: PrefectOpt = True,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The main job: harvest (discover → fetch → archive), extract, validate, publish.

    With no --sources, harvests the local demo portal (127.0.0.1) serving the embedded sample set.
    """
    if sources is None:
        title = "xxgk run (demo portal: sample set)"
    else:
        from xxgk.flows.inputs import is_registry

        title = f"xxgk run ({'sources registry' if is_registry(sources) else 'documents file'} {sources})"
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
    )


@app.command()
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


@app.command()
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
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", "-d", help="Data directory (default: $XXGK_DATA_DIR or ./data).")
    ] = None,
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

    Only the years' partitions are rewritten, in one commit: a backfill killed midway leaves the
    warehouse as it was, and running it again completes it (staged documents are not parsed twice).
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

    def invoke(pipeline: Any) -> RunSummary:
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
    _execute(
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


@app.command()
def bench(
    out: Annotated[Path, typer.Option("--out", help="Directory (or .json file) for bench.json and bench.md.")] = Path(
        "data/bench"
    ),
    docs: Annotated[int, typer.Option("--docs", help="Generated reports (each rendered in every format).")] = 40,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Processes for the parallel pass.")] = 2,
    formats: Annotated[str, typer.Option("--formats", help="Comma list of pdf,html,text (default: all).")] = "",
    warmup: Annotated[int, typer.Option("--warmup")] = 2,
) -> None:
    """Benchmark extraction (time per document, throughput, memory): runs ``bench.run.main``."""
    err = Console(stderr=True)
    try:
        from xxgk.bench import run as bench_run
    except ImportError as exc:
        raise _fail(err, f"the benchmark is not available here ({exc})", EXIT_RUN_FAILED) from None
    chosen = [f.strip() for f in formats.split(",") if f.strip()] or None
    result: dict[str, Any] = bench_run.main(
        out, docs, seed=seed, workers=workers, formats=chosen, warmup=warmup, log=lambda msg: err.print(msg)
    )
    to_markdown = getattr(bench_run, "to_markdown", None)
    if to_markdown is not None:
        typer.echo(to_markdown(result))
    if result.get("files"):
        err.print("written: " + ", ".join(str(f) for f in result["files"]))


app.command("serve")(serve_command)


def entry() -> None:
    """``python -m flows.cli``: the same as the ``xxgk`` console script."""
    app(prog_name="xxgk")


if __name__ == "__main__":
    sys.exit(entry())
