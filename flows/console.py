"""What the ``xxgk`` commands show: progress on stderr, the run summary on stdout, one-line errors.

``execute`` is the frame of every run command: check the inputs (exit 2 with one line when they
are unusable, before Prefect is even imported), configure Prefect for the data directory, start
the temporary Prefect API if no server is configured (saying so, and how to skip it), run with a
progress view (a bar in a terminal, one line per batch and source elsewhere), map failures to
exit codes, then print the summary (tables, or ``--json``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xxgk.flows.inputs import InputError
from xxgk.flows.prefect_api import TEMPORARY_API_NOTICE, configure_prefect

if TYPE_CHECKING:
    from xxgk.flows.extraction import BatchOutcome
    from xxgk.flows.harvesting import HarvestBatchOutcome
    from xxgk.flows.summary import RunSummary


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
                f"xxgk: harvested {escape(src.source_id)}: {status}, {src.documents} documents, "
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
        # not resolve(): data/warehouse is a symlink to the current snapshot, which a later run prunes
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
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
            escape(src.source_id),
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
            lines.append(f"[red]{escape(src.source_id)}: {src.status}[/red]: {escape(src.reason)}")
        for p in src.problems:
            year = f" {p.year}" if p.year else ""
            lines.append(
                f"[yellow]{escape(src.source_id)}{year}[/yellow] {escape(p.kind)}: "
                f"{escape(_short_url(p.url))}: {escape(p.detail)}"
            )
        for p in src.recovered:
            lines.append(
                f"[dim]{escape(src.source_id)}[/dim] recovered: {escape(_short_url(p.url))}: {escape(p.detail)}"
            )
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
    if summary.sources and summary.harvest_processes:
        harvest += f" in {summary.harvest_processes} processes"
    console.print(
        f"[bold]{title}[/bold]: {summary.documents} documents in {summary.seconds:.1f} s "
        f"({summary.runner}, {summary.batches} batches{harvest}, extractor {summary.extractor_version})",
        soft_wrap=True,
    )
    if summary.portal:
        console.print(f"harvested the demo portal at {escape(summary.portal)}", soft_wrap=True, highlight=False)
    if summary.sources:
        render_harvest(summary, console)
    if summary.staleness:
        console.print(
            f"revalidate {summary.revalidate}: {summary.not_due} known documents not due, not asked; {summary.staleness}",
            soft_wrap=True,
            highlight=False,
        )
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
            problems.add_row(escape(p.source_id), escape(name), f"[{style}]{status}[/{style}]", escape(p.reason or "-"))
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
    console.print(
        f"warehouse:   {escape(_display_path(summary.warehouse))}  ({files})", soft_wrap=True, highlight=False
    )
    console.print(f"validation:  {escape(_display_path(summary.validation_index))}", soft_wrap=True, highlight=False)
    if summary.archive:
        console.print(
            f"raw archive: {escape(_display_path(summary.archive))}  (fetch_log/, harvest.json)",
            soft_wrap=True,
            highlight=False,
        )
    if summary.failed_sources:
        names = escape(", ".join(f"{s.source_id} ({s.status})" for s in summary.failed_sources))
        n = len(summary.failed_sources)
        console.print(f"[red]{n} source{'s' if n > 1 else ''} gave no documents:[/red] {names}", soft_wrap=True)
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True, highlight=False)
    if summary.internal_errors:
        console.print(
            f"[red]{summary.internal_errors} documents hit an internal error (a bug, not the document): "
            "see the reasons above[/red]"
        )


def fail(console: Console, message: str, code: int) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def execute(
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
    invoke: Callable[[], RunSummary],
) -> None:
    """Check inputs, configure Prefect, run (``invoke()``), print the summary.

    ``check`` raises ``InputError`` for inputs that stop the run before Prefect is even imported.
    """
    err = Console(stderr=True)
    out = Console()
    if not out.is_terminal:  # logs and pipes: wide enough that reasons and paths stay on one line
        out = Console(width=max(out.width, 160))
    try:
        check()
    except InputError as exc:
        raise fail(err, str(exc), EXIT_BAD_INPUT) from None
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(err, f"cannot create data directory {data_dir}: {exc.strerror or exc}", EXIT_BAD_INPUT) from None
    if (batch_size is not None and batch_size < 1) or workers < 1:
        raise fail(err, "--batch-size and --workers must be at least 1", EXIT_BAD_INPUT)

    configure_prefect(data_dir, console_level=None if verbose else "WARNING")
    loading = err.status("loading…", spinner="dots") if err.is_terminal and not quiet else nullcontext()
    with loading:
        from xxgk.flows import tasks
        from xxgk.flows.prefect_api import configured_api_url

    api = configured_api_url() if prefect else None
    if prefect and api is None:
        api = start_temporary_api(err, quiet)
    if api and verbose:
        err.print(f"Prefect API: {api}")

    view = ProgressView(err, quiet=quiet)
    remove = tasks.add_progress_listener(view)
    remove_harvest = tasks.add_harvest_listener(view.harvest)
    try:
        summary = invoke()
    except KeyboardInterrupt:
        view.close()
        raise fail(err, "interrupted", EXIT_INTERRUPTED) from None
    except InputError as exc:
        view.close()
        raise fail(err, str(exc), EXIT_BAD_INPUT) from None
    except Exception as exc:
        view.close()
        if verbose:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        message = f"run failed: {type(exc).__name__}: {first} (--verbose for the traceback)"
        raise fail(err, message, EXIT_RUN_FAILED) from None
    finally:
        view.close()
        remove()
        remove_harvest()
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False, indent=1))
    else:
        render_summary(summary, out, title)


def start_temporary_api(err: Console, quiet: bool = False) -> str:
    """Start this process's temporary Prefect API, saying so first: one line on stderr, also in a pipe."""
    from xxgk.flows.prefect_api import start_api

    if quiet:
        return start_api()
    err.print(f"xxgk: {TEMPORARY_API_NOTICE}", highlight=False, soft_wrap=True)
    start = time.perf_counter()
    with err.status("starting the Prefect API…", spinner="dots") if err.is_terminal else nullcontext():
        url = start_api()
    # also in a pipe: a log then shows where the first half-minute of a run went
    err.print(f"xxgk: Prefect API ready in {time.perf_counter() - start:.0f} s", highlight=False)
    return url
