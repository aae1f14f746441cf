"""End to end against the local portal: discover → fetch → archive → extract, faults, second run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.facts import expected_facts as _expected
from tests.facts import printed_facts as _facts
from xxgk.demo import demo_spec, main, portal_sources, serve_portal
from xxgk.flows.harvesting import document_infos
from xxgk.harvest.archive import RawArchive
from xxgk.harvest.fetch import ERR_HTTP, ERR_OFFSITE, ERR_ROBOTS, FetchConfig, Fetcher
from xxgk.harvest.harvester import (
    HARVEST_LAYOUT_CHANGED,
    HARVEST_OK,
    HARVEST_PARTIAL,
    SourceHarvest,
    extract_report,
    harvest_sources,
    reports_to_extract,
)
from xxgk.synth.report import SyntheticReport

SLUG = {"demo-city": "city", "demo-county": "county"}


def _config() -> FetchConfig:
    # the slow fault answers after 2 s; a 1 s read timeout turns it into a retried timeout while
    # leaving ordinary answers ample time on a loaded machine
    return FetchConfig.for_tests(read_timeout=1.0)


def _run(sources: list[Any], archive: RawArchive) -> dict[str, SourceHarvest]:
    """One run: a new Fetcher (as a new process would have), sources in parallel threads."""
    with Fetcher(_config()) as fetcher:
        return {h.source_id: h for h in harvest_sources(sources, archive, fetcher, max_workers=3, run_id="test")}


def _check_extraction(
    harvests: dict[str, SourceHarvest], archive: RawArchive, expected: dict[tuple[str, int], SyntheticReport]
) -> int:
    checked = 0
    for sid, h in harvests.items():
        for rep in reports_to_extract(h):
            ex = extract_report(rep, archive)
            assert ex is not None
            assert ex.result.status == "ok", (rep.url, ex.result.reason)
            assert ex.result.year == rep.year
            assert _facts(ex.result) == _expected(expected[(SLUG[sid], rep.year or 0)]), rep.url
            checked += 1
    return checked


@pytest.mark.slow
def test_portal_end_to_end(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "archive")
    with serve_portal(demo_spec(slow_seconds=2.0, retry_after=0.2)) as (portal, base):
        sources = [s for s in portal_sources(base) if s.source_id != "demo-office"]  # tests/test_office_portal.py
        assert [s.source_id for s in sources] == ["demo-city", "demo-county", "demo-dept"]
        expected = portal.expected_reports()

        first = _run(sources, archive)
        city, county, dept = first["demo-city"], first["demo-county"], first["demo-dept"]

        # every report discovered and fetched
        assert sorted(r.year for r in city.reports if r.fetched) == [2019, 2020, 2021, 2022, 2023, 2024]
        assert sorted(r.year for r in county.reports if r.fetched) == [2020, 2021, 2022, 2023, 2024]
        pdf_only = next(r for r in city.reports if r.year == 2021)
        assert pdf_only.has_tables is False and [a.name for a in pdf_only.attachments] == ["P0202203101103.pdf"]
        assert pdf_only.candidates()[0].kind == "attachment"
        trs_pdf = next(r for r in county.reports if r.year == 2022)
        assert trs_pdf.has_tables is False and len(trs_pdf.attachments) == 1  # found in the TRS script array

        # every report extracted (from the page, or from the PDF when the page has no tables)
        assert _check_extraction(first, archive, expected) == 11  # 9 pages, 2 PDFs

        # the hand-off to the warehouse: one DocumentInfo per fetched report, bytes in the archive
        infos = document_infos(city, sources[0], archive)
        assert sorted(i.year for i in infos) == [2019, 2020, 2021, 2022, 2023, 2024]
        assert {i.year: i.format for i in infos}[2021] == "pdf"
        assert all(Path(i.path).read_bytes() and i.source_url.startswith(base) for i in infos)

        # permanent faults reported, transient ones recovered and reported
        assert city.status == HARVEST_PARTIAL and county.status == HARVEST_OK
        assert {(p.year, p.kind, p.status) for p in city.problems} == {
            (2018, ERR_HTTP, 404),
            (2017, ERR_OFFSITE, 302),
            (2016, ERR_ROBOTS, None),
        }
        recovered = {
            (Path(p.url).name, p.detail.split(";")[0].split(" (")[0]) for h in first.values() for p in h.recovered
        }
        assert recovered == {
            ("index_1.html", "HTTP 429"),
            ("t20210315_1102.html", "HTTP 500, HTTP 500"),
            ("index_1.htm", "HTTP 503"),
            ("t20220310_1202.htm", "connection error"),
            ("t20240310_1204.htm", "timeout"),
        }
        assert dept.status == HARVEST_LAYOUT_CHANGED and dept.reports == []

        # no request left the allowed hosts; robots-disallowed paths were never requested
        assert [r for r in portal.requests if r["host"] != "main"] == []
        assert not [r for r in portal.requests if r["path"].startswith("/city/private/")]

        # the fetch log has one line per request made, linked to source, year and parent
        log = archive.read_log()
        assert len([e for e in log if e["attempt"] > 0]) == len(portal.requests)
        att = [e for e in log if e["kind"] == "attachment" and e["status"] == 200]
        assert {e["parent_url"].rsplit("/", 1)[-1] for e in att} == {
            "t20220315_1103.html",
            "t20250315_1106.html",
            "t20230310_1203.htm",
        }
        for e in log:
            if e["sha256"] and e["kind"] != "robots":
                assert archive.has(e["sha256"])

        # second run: conditional requests; only the changed report is new
        raw_before = set(archive.iter_raw())
        served_before = len(portal.requests)
        portal.change_report("county", 2023)
        second = _run(sources, archive)
        again = portal.requests[served_before:]
        ok_paths = {e["url"].split("/", 3)[3] for e in log if e["status"] == 200 and e["kind"] != "robots"}
        for r in again:
            if r["path"].lstrip("/") in ok_paths:
                assert r["if_none_match"] and r["if_modified_since"], r["path"]
        changed = [(sid, r.year) for sid, h in second.items() for r in reports_to_extract(h)]
        assert changed == [("demo-county", 2023)]
        new_raw = set(archive.iter_raw()) - raw_before
        assert len(new_raw) == 1  # the changed page; every other body was a 304
        assert second["demo-county"].not_modified >= 8
        expected = portal.expected_reports()
        assert _check_extraction({"demo-county": second["demo-county"]}, archive, expected) == 1


def test_portal_main_prints_listings(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--port", "0", "--no-faults"], wait=lambda: None)
    out = capsys.readouterr().out
    assert "/city/nb/index.html" in out and "/county/zwgk/zfxxgknb/index.htm" in out
