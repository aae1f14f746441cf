"""Discovery: report links, pagination, attachments, CMS families, changed layouts."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from xxgk.demo import PortalReport, PortalSite, PortalSpec, serve_portal
from xxgk.harvest.adapters import ADAPTERS
from xxgk.harvest.adapters.trs import trs_page_urls
from xxgk.harvest.archive import RawArchive, SourceState
from xxgk.harvest.discovery import decode_page, find_year, is_report_title
from xxgk.harvest.fetch import FetchConfig, Fetcher
from xxgk.harvest.harvester import (
    HARVEST_EMPTY,
    HARVEST_FAILED,
    HARVEST_LAYOUT_CHANGED,
    HARVEST_OK,
    PROBLEM_EMPTY,
    PROBLEM_LAYOUT,
    SourceHarvest,
    harvest_source,
    harvest_sources,
)
from xxgk.harvest.registry import source_from_dict

CORPUS = Path(__file__).parents[2] / "shared" / "corpus"
BASE = "http://www.example.gov.cn/xxgk/nb/"

LISTING = """<html><head><meta charset="utf-8"></head><body>
<div class="nav"><a href="/">首页</a><a href="/zwgk/">政务公开</a></div>
<ul class="list">
 <li><a href="2024/t20250301_9.html" title="示例区2024年政府信息公开工作年度报告">示例区2024年政府信息公开工作...</a></li>
 <li><a href="2024/t20250302_10.html">示例区2024年政府信息公开工作年度报告解读</a></li>
 <li><a href="2023/t20240301_8.html">2023年度示例区政府信息公开年报</a></li>
 <li><a href="/tz/1.html">关于做好2023年政府信息公开工作年度报告编制工作的通知</a></li>
 <li><a href="2022/P020230301.pdf">示例区二〇二二年政府信息公开工作年度报告</a></li>
 <li><a href="2021/x.html">示例区政府信息公开工作年度报告</a></li>
</ul>
<div class="pages"><a href="index.html">1</a><a href="index_1.html">2</a><a href="index_2.html">3</a>
<a href="index_1.html">下一页</a><a href="javascript:void(0)">尾页</a></div>
</body></html>"""


def test_generic_listing_links_and_pagination() -> None:
    parsed = ADAPTERS["generic"].parse_listing(LISTING, BASE + "index.html")
    got = {(link.url.removeprefix(BASE), link.year) for link in parsed.report_links}
    # 解读 and 通知 are companions, and a title without a year cannot be filed
    assert got == {("2024/t20250301_9.html", 2024), ("2023/t20240301_8.html", 2023), ("2022/P020230301.pdf", 2022)}
    assert next(lk for lk in parsed.report_links if lk.year == 2024).title == "示例区2024年政府信息公开工作年度报告"
    assert next(lk for lk in parsed.report_links if lk.year == 2022).is_document
    assert [u.removeprefix(BASE) for u in parsed.next_pages] == ["index_1.html", "index_2.html"]
    assert parsed.layout_problem is None


def test_report_titles_and_years() -> None:
    assert find_year("2023年度政府信息公开年报（2024年3月发布）") == 2023
    assert find_year("二〇二一年政府信息公开工作年度报告") == 2021
    assert find_year("政府信息公开工作年度报告") is None
    assert is_report_title("某局2020年政府信息公开工作年度报告")
    assert is_report_title("某镇2022年政务公开工作年度报告")
    assert not is_report_title("某局2020年政府信息公开工作年度报告图解")
    assert not is_report_title("某局2020年政府信息公开指南")


def test_registry_patterns_override_recognition() -> None:
    src = source_from_dict(
        {
            "source_id": "xx",
            "publisher": "某局",
            "listing_urls": [BASE],
            "report_title_pattern": "年报",
            "report_url_pattern": r"/t\d{8}_",
        }
    )
    parsed = ADAPTERS["generic"].parse_listing(LISTING, BASE + "index.html", src)
    assert [lk.year for lk in parsed.report_links] == [2023]


def test_layout_selector_mismatch_is_a_layout_problem() -> None:
    src = source_from_dict(
        {"source_id": "xx", "publisher": "某局", "listing_urls": [BASE], "layout_selector": "ul.nb-list"}
    )
    assert ADAPTERS["generic"].parse_listing(LISTING, BASE, src).layout_problem is not None


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('createPageHTML(3, 0, "index", "htm");', ["index.htm", "index_1.htm", "index_2.htm"]),
        ("var countPage = 2;createPageHTML(countPage, 1, 'index', 'shtml');", ["index.shtml", "index_1.shtml"]),
        ("createPageHTML('page_div', 2, 1, 'index', 'html', 37);", ["index.html", "index_1.html"]),
    ],
)
def test_trs_pagination(script: str, expected: list[str]) -> None:
    assert [u.removeprefix(BASE) for u in trs_page_urls(f"<script>{script}</script>", BASE + "index.htm")] == expected


def test_trs_script_written_listing_and_attachments() -> None:
    listing = """<html><body><ul class="list"><script>
      var _url = "./202503/t20250310_97791.htm";
      var _title = "平潭综合实验区2024年度政府信息公开工作年度报告";
      document.write("<li><a href='" + _url + "'>" + _title + "</a></li>");
    </script></ul><script>createPageHTML(1, 0, "index", "htm");</script></body></html>"""
    parsed = ADAPTERS["trs"].parse_listing(listing, BASE + "index.htm")
    assert [(lk.url, lk.year) for lk in parsed.report_links] == [(BASE + "202503/t20250310_97791.htm", 2024)]
    page = """<html><head><meta name="ArticleTitle" content="某区2023年政府信息公开工作年度报告"></head><body>
    <div class="TRS_Editor"><p>详见附件</p></div>
    <script>var apps1 = [{url:"./P020240310.pdf",name:"某区2023年报.pdf"}];</script></body></html>"""
    rp = ADAPTERS["trs"].parse_report_page(page, BASE + "202403/t20240310_1.htm")
    assert rp.title == "某区2023年政府信息公开工作年度报告" and rp.year == 2023 and not rp.has_tables
    assert [a.url for a in rp.attachments] == [BASE + "202403/P020240310.pdf"]


def test_hanweb_datastore_records() -> None:
    listing = """<html><body><div id="1"><script type="text/xml"><datastore><recordset>
    <record><![CDATA[<li><a href="/art/2024/1/30/art_1229_123.html" title="某县2023年政府信息公开工作年度报告">某县2023年...</a></li>]]></record>
    <record><![CDATA[<li><a href="/art/2023/1/30/art_1229_100.html">某县2022年政府信息公开工作年度报告</a></li>]]></record>
    </recordset></datastore></script></div></body></html>"""
    parsed = ADAPTERS["hanweb"].parse_listing(listing, "http://www.x.gov.cn/col/col1229/index.html")
    assert sorted(lk.year for lk in parsed.report_links if lk.year) == [2022, 2023]
    assert ADAPTERS["generic"].parse_listing(listing, "http://www.x.gov.cn/").report_links == []


@pytest.mark.corpus
def test_pingtan_page_structure() -> None:
    path = CORPUS / "pingtan_2024_page.html"
    if not path.exists():
        pytest.skip("corpus not available")
    data = path.read_bytes()
    decoded = decode_page(data, "text/html")
    text, enc = decoded.text, decoded.encoding
    rp = ADAPTERS["trs"].parse_report_page(
        text, "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202503/t20250310_97791.htm"
    )
    assert enc == "utf-8"
    assert rp.title == "平潭综合实验区2024年度政府信息公开工作年度报告" and rp.year == 2024
    assert rp.has_tables and rp.table_count == 3
    assert rp.attachments == []  # this report has no 全真版 PDF (empty apps arrays)


def test_decode_page_uses_the_one_charset_policy() -> None:
    page = '<html><head><meta charset="gb2312"></head><body>政府信息公开工作年度报告</body></html>'
    gbk = page.encode("gb18030")
    assert (decode_page(gbk).text, decode_page(gbk).encoding) == (page, "gb18030")
    lying = decode_page(gbk, http_charset="utf-8")  # the header lies; meta wins
    assert (lying.text, lying.encoding) == (page, "gb18030")
    assert decode_page(page.encode("utf-8"), http_charset="utf-8").encoding == "utf-8"
    assert decode_page(gbk, override="gbk").encoding == "gb18030"
    assert decode_page("年度报告".encode("utf-8-sig")).text == "年度报告"


def test_decode_page_never_refuses_a_page_of_garbage() -> None:
    """Discovery still reads the links of a page the extractor would refuse as undecodable."""
    data = b'<html><body><a href="/nb/2023.html">x</a>' + b"\x80\xff" * 300 + b"</body></html>"
    decoded = decode_page(data)
    assert '<a href="/nb/2023.html">' in decoded.text
    assert decoded.replaced > 0 and any("U+FFFD" in note for note in decoded.notes)


def _harvest(spec: PortalSpec, entry: dict[str, object], root: Path) -> list[SourceHarvest]:
    with serve_portal(spec) as (_, base), Fetcher(FetchConfig.for_tests()) as f:
        src = source_from_dict({"source_id": "tt", "publisher": "某", **entry}).resolve_portal(base)
        return [harvest_source(src, RawArchive(root), f)]


def test_pagination_discovers_every_report(tmp_path: Path) -> None:
    site = PortalSite(
        "s", "某区人民政府", "generic", page_size=2, reports=[PortalReport(y, y) for y in range(2019, 2025)]
    )
    (h,) = _harvest(PortalSpec([site]), {"listing_urls": ["{portal}/s/nb/index.html"]}, tmp_path)
    assert h.status == HARVEST_OK, h.reason
    assert sorted(r.year for r in h.reports) == list(range(2019, 2025))
    assert len(h.listing_pages) == 4  # 6 reports + 1 解读 + 1 通知 in pages of 2
    assert all(r.has_tables for r in h.reports)


def test_trs_pagination_against_portal(tmp_path: Path) -> None:
    site = PortalSite("t", "某县人民政府", "trs", page_size=1, encoding="gb18030",
                      reports=[PortalReport(y, y, encoding="gb18030") for y in (2022, 2023, 2024)])  # fmt: skip
    (h,) = _harvest(
        PortalSpec([site]), {"adapter": "trs", "listing_urls": ["{portal}/t/zwgk/zfxxgknb/index.htm"]}, tmp_path
    )
    assert h.status == HARVEST_OK, h.reason
    assert sorted(r.year for r in h.reports) == [2022, 2023, 2024]
    assert {r.title for r in h.reports} == {f"某县人民政府{y}年政府信息公开工作年度报告" for y in (2022, 2023, 2024)}


def test_changed_layout_is_reported_not_empty_success(tmp_path: Path) -> None:
    site = PortalSite("d", "某局", "changed")
    entry = {"listing_urls": ["{portal}/d/xxgk/ndbg/index.html"], "layout_selector": "ul.nb-list"}
    (h,) = _harvest(PortalSpec([site]), entry, tmp_path)
    assert h.status == HARVEST_LAYOUT_CHANGED and h.reports == []
    assert [p.kind for p in h.problems] == [PROBLEM_LAYOUT]


def test_listing_that_stops_yielding_links_is_layout_changed(tmp_path: Path) -> None:
    """Without a selector: a listing that found reports last run and none now has changed layout."""
    site = PortalSite("s", "某区人民政府", "generic", reports=[PortalReport(2023, 1)])
    site.layout = "changed"  # the listing URL now answers with a script app and no links
    entry: dict[str, object] = {"listing_urls": ["{portal}/s/xxgk/ndbg/index.html"]}
    spec = PortalSpec([site])
    (empty,) = _harvest(spec, entry, tmp_path / "a")
    assert empty.status == HARVEST_EMPTY and [p.kind for p in empty.problems] == [PROBLEM_EMPTY]

    root = tmp_path / "b"
    archive = RawArchive(root)
    state = archive.load_state("tt")
    state.reports_last_run = 4
    archive.save_state(state)
    (changed,) = _harvest(spec, entry, root)
    assert changed.status == HARVEST_LAYOUT_CHANGED
    assert "last run found 4" in changed.reason


def test_offsite_report_links_are_not_followed(tmp_path: Path) -> None:
    listing = LISTING.replace('href="2023/t20240301_8.html"', 'href="http://127.0.0.9/2023.html"').encode()
    spec = PortalSpec(static={"/l/index.html": ("text/html; charset=utf-8", listing)})
    with tempfile.TemporaryDirectory() as tmp:
        (h,) = _harvest(spec, {"listing_urls": ["{portal}/l/index.html"]}, Path(tmp))
    offsite = [p for p in h.problems if p.kind == "offsite_link"]
    assert [p.url for p in offsite] == ["http://127.0.0.9/2023.html"]


def test_a_broken_source_does_not_sink_the_others(tmp_path: Path) -> None:
    site = PortalSite("s", "某区人民政府", "generic", reports=[PortalReport(2023, 1)])
    with serve_portal(PortalSpec([site])) as (_, base), Fetcher(FetchConfig.for_tests()) as f:
        good = source_from_dict({"source_id": "good", "publisher": "某", "listing_urls": [base + "/s/nb/index.html"]})
        broken = replace(good, source_id="broken", adapter="no-such-cms")  # bypasses registry validation
        results = harvest_sources([broken, good], RawArchive(tmp_path), f, max_workers=2)
    assert [h.source_id for h in results] == ["broken", "good"]
    assert results[0].status == HARVEST_FAILED and "internal_error: KeyError" in results[0].reason
    assert results[1].status == HARVEST_OK and [r.year for r in results[1].reports] == [2023]


def test_a_night_that_changed_nothing_leaves_the_validator_state_unwritten(tmp_path: Path) -> None:
    """Regression (issue 15): every no-change night rewrote every source's state file (10,000 atomic
    replaces) to move check times; the fetch log records the checks. A change is still written."""
    import socket

    with socket.socket() as probe:  # one port for every night: the URLs stay the same
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = PortalSite("s", "某区人民政府", "generic", reports=[PortalReport(2023, 1), PortalReport(2024, 2)])
    archive = RawArchive(tmp_path)

    def night(spec: PortalSpec) -> SourceHarvest:
        with serve_portal(spec, port=port) as (_, base), Fetcher(FetchConfig.for_tests()) as fetcher:
            entry = {"source_id": "tt", "publisher": "某", "listing_urls": ["{portal}/s/nb/index.html"]}
            return harvest_source(source_from_dict(entry).resolve_portal(base), archive, fetcher)

    first = night(PortalSpec([site]))
    assert first.status == HARVEST_OK and len(first.reports) == 2
    state_file = archive.state_path("tt")
    written = state_file.read_bytes()
    os.utime(state_file, ns=(1, 1))
    second = night(PortalSpec([site]))
    assert second.not_modified == 1 and second.not_due == 2  # the listing: 304; its reports: not due
    assert second.changed_reports == []
    assert state_file.read_bytes() == written and state_file.stat().st_mtime_ns == 1
    checks = [e for e in archive.read_log("tt") if e.get("status") == 304]
    assert len(checks) == second.not_modified  # the checks are on record

    grown = replace(site, reports=[*site.reports, PortalReport(2022, 3)])  # a new report listed
    third = night(PortalSpec([grown]))
    assert len(third.reports) == 3
    assert state_file.stat().st_mtime_ns != 1
    assert len(archive.load_state("tt").urls) > len(SourceState.from_dict(json.loads(written)).urls)
