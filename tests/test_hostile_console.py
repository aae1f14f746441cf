"""Server and document text in the run summary is data, never Rich markup (issue 14, item 4)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from xxgk.flows.console import fail, render_summary
from xxgk.flows.extraction import DocumentOutcome
from xxgk.flows.harvesting import SourceOutcome
from xxgk.flows.summary import RunSummary
from xxgk.harvest.results import HarvestProblem

HOSTILE = "links [/yellow] and [bold]kept[/bold] [secret]"


def _summary() -> RunSummary:
    source = SourceOutcome(
        "src-[x]",
        "publisher",
        "partial",
        HOSTILE,
        problems=[HarvestProblem("http_error", f"http://h/a[/red]{HOSTILE}", HOSTILE, status=500, year=2024)],
        recovered=[HarvestProblem("timeout", "http://h/[b]", HOSTILE)],
    )
    problem = DocumentOutcome("src-[x]", "0" * 64, "/d/[red]x.pdf", "extracted", "failed", HOSTILE, name="[red]x.pdf")
    return RunSummary(
        data_dir="/d",
        documents=1,
        by_status={"failed": 1},
        by_action={"extracted": 1},
        cells=0,
        failed_checks=0,
        unmapped=0,
        extractor_version="x",
        warehouse="/d/[w]",
        validation_index="/d/[v]/index.html",
        problems=[problem],
        warnings=[HOSTILE],
        sources=[source],
    )


def test_a_link_containing_rich_markup_printed_the_summary_as_markup() -> None:
    """A closing tag in server text raised MarkupError after a successful publish; text in [...] vanished."""
    out = io.StringIO()
    console = Console(file=out, width=400, color_system=None, force_terminal=False)
    render_summary(_summary(), console, "run")
    text = out.getvalue()
    assert text.count("[/yellow]") >= 3 and "[secret]" in text and "[bold]kept[/bold]" in text
    assert "src-[x]" in text and "[red]x.pdf" in text and "/d/[w]" in text


def test_an_error_message_keeps_its_brackets() -> None:
    out = io.StringIO()
    fail(Console(file=out, width=400, color_system=None), "no such file: /in/[/red]report.pdf", 2)
    assert "no such file: /in/[/red]report.pdf" in out.getvalue()


def test_the_summary_names_the_stable_warehouse_path_not_the_snapshot_it_points_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``data/warehouse`` is a symlink to the current snapshot, which a later run prunes."""
    snapshot = tmp_path / "snapshots" / "000001" / "warehouse"
    snapshot.mkdir(parents=True)
    (tmp_path / "warehouse").symlink_to(snapshot)
    monkeypatch.chdir(tmp_path)
    summary = _summary()
    summary.warehouse = str(tmp_path / "warehouse")
    out = io.StringIO()
    render_summary(summary, Console(file=out, width=400, color_system=None), "run")
    assert "warehouse:   warehouse  (" in out.getvalue() and "snapshots" not in out.getvalue()
