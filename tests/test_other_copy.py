"""Failure class 13, second half: a table-二 digit run settled by another copy of the same report."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import xxgk
from xxgk.extractors import extract_document
from xxgk.flows.cli import app
from xxgk.schemas.model import V2019
from xxgk.schemas.other_copy import split_by_other_copy
from xxgk.schemas.values import AMBIGUOUS, SPLIT_BY_OTHER_COPY
from xxgk.synth import generate_report, render_text
from xxgk.synth.html import render_html

runner = CliRunner()


def _ambiguous_report():
    for seed in range(60):
        report = generate_report(seed, defects=(), versions=V2019, requests_layout=V2019, scale="medium")
        text = render_text(report, "runs")
        result = extract_document(text, "export.txt")
        if any(f.table == "proactive" and f.value_status == AMBIGUOUS for f in result.facts):
            return report, text, result
    pytest.skip("no ambiguous table-二 run in these seeds")


def test_table_two_run_ambiguous_in_the_text_export_is_split_by_the_page_copy(tmp_path: Path) -> None:
    report, text, alone = _ambiguous_report()
    ambiguous = {(f.row_key, f.column_key) for f in alone.facts if f.value_status == AMBIGUOUS}
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "report_export.txt").write_bytes(text)
    (docs / "report_page.html").write_bytes(render_html(report))
    result = runner.invoke(app, ["extract", str(docs), "--out", str(tmp_path / "out"), "-q", "--json"])
    assert result.exit_code == 0, result.output
    wh = xxgk.open(tmp_path / "out")
    reports = wh.reports(primary_only=False)
    assert len(reports) == 2 and reports["source_id"].nunique() == 1  # one report, two copies
    sha = reports.loc[reports["format"] == "text", "document_sha256"].item()
    facts = wh.facts(primary_only=False, tables="proactive")
    export = facts[facts["document_sha256"] == sha]
    cells = {(r.row_key, r.column_key): r for r in export.itertuples()}
    for key in ambiguous:
        cell = cells[key]
        assert cell.value_status == SPLIT_BY_OTHER_COPY, key
        assert cell.raw_text == report.cells[("proactive", *key)]
        assert "report_page.html" in cell.note and "as printed in the other copy" in cell.note
    assert AMBIGUOUS not in set(export["value_status"])


def test_a_copy_whose_cells_do_not_make_up_the_run_decides_nothing() -> None:
    report, _text, alone = _ambiguous_report()
    page = extract_document(render_html(report), "page.html")
    assert split_by_other_copy(alone, page, "page.html") is not None
    run_cell = next(f for f in alone.facts if f.value_status == AMBIGUOUS)
    for f in page.facts:
        if (f.table, f.row_key, f.column_key) == (run_cell.table, run_cell.row_key, run_cell.column_key):
            f.raw_text = f.raw_text + "1"  # the page now prints a different number: no split matches it
    assert all(
        f.value_status == AMBIGUOUS
        for f in (split_by_other_copy(alone, page, "page.html") or alone).facts
        if (f.table, f.row_key) == (run_cell.table, run_cell.row_key) and f.note == run_cell.note
    )
    assert split_by_other_copy(alone, alone, "itself") is None  # an ambiguous copy settles nothing
