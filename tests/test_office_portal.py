"""Reports that are only attachments, end to end on the demo portal (issue 11).

``demo-office`` publishes notice pages without tables: 2022 links a Word 97 ``.doc`` and a PDF
of the same report, 2023 a ``.docx``, 2024 an ``.xlsx``. The flow (its task functions run
in-process) must harvest them, read each report's documents in order, publish the one that is
the report with exact facts, and say in the reports table which document was used and why the
others were not; without LibreOffice the ``.doc`` gets needs_converter and the PDF is the report.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault(
    "PREFECT_HOME",
    str(Path(tempfile.gettempdir()) / f"xxgk-test-prefect-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"),
)

from tests.facts import expected_facts, printed_facts
from xxgk.demo import PortalSpec, attachment_paths, office_site, portal_sources, report_path, serve_portal
from xxgk.extractors import converter
from xxgk.flows import tasks
from xxgk.flows.extraction import DocumentOutcome
from xxgk.flows.harvesting import HarvestPlan, archive_dir_of
from xxgk.flows.pipeline import run_pipeline
from xxgk.flows.summary import RunSummary
from xxgk.harvest import FetchConfig
from xxgk.warehouse import load_staged
from xxgk.warehouse.parquet import read_table

needs_soffice = pytest.mark.skipif(
    converter.find_soffice() is None, reason="LibreOffice (soffice) not installed: the demo's .doc is made with it"
)


def _run(base: str, data: Path) -> tuple[RunSummary, list[DocumentOutcome]]:
    sources = [s for s in portal_sources(base) if s.source_id == "demo-office"]
    plan = HarvestPlan(sources, str(archive_dir_of(data)), FetchConfig.for_tests(), label="office", portal=base)
    outcomes: list[DocumentOutcome] = []
    remove = tasks.add_progress_listener(lambda _d, _t, batch: outcomes.extend(batch.documents if batch else []))
    try:
        return run_pipeline(harvest=plan, data_dir=data, orchestrate=False), outcomes
    finally:
        remove()


def _reports(data: Path) -> dict[int, dict[str, Any]]:
    rows = read_table(data, "reports").to_pylist()
    return {int(r["year"]): r for r in rows}


def _urls(base: str, portal: Any, year: int) -> tuple[str, list[str]]:
    site = portal.spec.site("office")
    rep = next(r for r in site.reports if r.year == year)
    return base + report_path(site, rep), [base + p for p in attachment_paths(site, rep)]


@needs_soffice
def test_office_attachments_are_the_reports_and_the_reports_table_names_them(tmp_path: Path) -> None:
    with serve_portal(PortalSpec(sites=[office_site()])) as (portal, base):
        portal.prerender()
        summary, outcomes = _run(base, tmp_path)
        expected = portal.expected_reports()
        assert summary.documents == 3 and summary.by_status == {"ok": 3}
        for outcome in outcomes:
            result = load_staged(outcome.staged).result
            assert printed_facts(result) == expected_facts(expected[("office", outcome.year)]), outcome.year

        reports = _reports(tmp_path)
        assert {y: (r["format"], r["status"], r["n_facts"], r["n_failed_checks"]) for y, r in reports.items()} == {
            2022: ("doc", "ok", 186, 0),
            2023: ("docx", "ok", 200, 0),
            2024: ("xlsx", "ok", 200, 0),
        }
        page, (doc, pdf) = _urls(base, portal, 2022)
        assert reports[2022]["source_url"] == doc
        assert reports[2022]["chosen_because"] == "first of 3 documents in order, read ok"
        assert [(a["url"], a["format"], a["status"], a["reason"]) for a in reports[2022]["alternatives"]] == [
            (pdf, "pdf", None, f"not read: {doc} came before it and read ok"),
            (page, "html", None, f"not read: {doc} came before it and read ok"),
        ]
        page, (docx,) = _urls(base, portal, 2023)
        assert (reports[2023]["source_url"], reports[2023]["chosen_because"]) == (
            docx,
            "first of 2 documents in order, read ok",
        )
        assert [a["url"] for a in reports[2023]["alternatives"]] == [page]
        page, (xlsx,) = _urls(base, portal, 2024)
        assert reports[2024]["source_url"] == xlsx

        # the next run reads nothing again: every document's result is staged
        again, _ = _run(base, tmp_path)
        assert again.by_action == {"reused": 3}
        assert _reports(tmp_path) == reports


@needs_soffice
def test_without_libreoffice_the_doc_needs_a_converter_and_the_pdf_is_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_portal(PortalSpec(sites=[office_site()])) as (portal, base):
        portal.prerender()  # the .doc is made while LibreOffice is still there
        monkeypatch.setenv(converter.SOFFICE_ENV, str(tmp_path / "no-soffice"))
        converter._CACHE.clear()
        summary, outcomes = _run(base, tmp_path / "data")
        expected = portal.expected_reports()
        assert summary.by_status == {"ok": 3}
        for outcome in outcomes:
            result = load_staged(outcome.staged).result
            assert printed_facts(result) == expected_facts(expected[("office", outcome.year)]), outcome.year
        reports = _reports(tmp_path / "data")
        assert {y: r["format"] for y, r in reports.items()} == {2022: "pdf", 2023: "docx", 2024: "xlsx"}
        page, (doc, pdf) = _urls(base, portal, 2022)
        assert reports[2022]["source_url"] == pdf
        assert reports[2022]["chosen_because"] == f"document 2 of 3, read ok after {doc}: needs_converter"
        first, second = reports[2022]["alternatives"]
        assert (first["url"], first["format"], first["status"]) == (doc, "doc", "needs_converter")
        assert first["reason"].startswith("needs_converter (DOC document needs LibreOffice to be read: XXGK_SOFFICE=")
        assert first["reason"].endswith(", 0 facts")
        assert (second["url"], second["status"]) == (page, None)
        assert [r["alternatives"][0]["status"] for y, r in sorted(reports.items()) if y > 2022] == [None, None]
