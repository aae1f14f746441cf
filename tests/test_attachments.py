"""Attachments of a report page: found, named by their headers, ordered, and the choice between them."""

from __future__ import annotations

from xxgk.harvest.archive import RawArchive
from xxgk.harvest.attachments import candidate_order, disposition_file_name, format_of
from xxgk.harvest.discovery import GenericAdapter, Link, file_name_of
from xxgk.harvest.harvester import ArchivedDoc, HarvestedReport, extract_report
from xxgk.schemas.choice import Tried, best_index, chosen_because, not_chosen_because
from xxgk.schemas.records import DocumentResult

PAGE = """<html><head><title>2023年政府信息公开工作年度报告</title></head><body>
<h1>示例市2023年政府信息公开工作年度报告</h1><div><p>全文详见附件。</p>
<p><a href="W020240310.docx">年报.docx</a></p>
<p><a href="/module/download/downfile.jsp?classid=0&amp;filename=abc123.xls">统计表</a></p>
<p><a href="/attach/get.do?id=77">示例市2023年年报.wps</a></p>
<p><a href="/download.jsp?id=12">下载</a></p>
<p><a href="scan-1.jpg">扫描件第1页</a><img src="logo.png"></p>
<p><a href="all.zip">打包下载</a> <a href="/news/2.html">上一篇</a> <a href="?page=2">2</a></p>
</div></body></html>"""


def test_attachments_found_by_url_anchor_name_and_download_handler() -> None:
    parsed = GenericAdapter().parse_report_page(PAGE, "http://x.gov.cn/nb/2023/t1.html")
    assert [(a.url, a.title) for a in parsed.attachments] == [
        ("http://x.gov.cn/nb/2023/W020240310.docx", "年报.docx"),
        ("http://x.gov.cn/module/download/downfile.jsp?classid=0&filename=abc123.xls", "统计表"),
        ("http://x.gov.cn/attach/get.do?id=77", "示例市2023年年报.wps"),
        ("http://x.gov.cn/download.jsp?id=12", "下载"),
        ("http://x.gov.cn/nb/2023/scan-1.jpg", "扫描件第1页"),  # a picture linked, not one shown
        ("http://x.gov.cn/nb/2023/all.zip", "打包下载"),
    ]
    assert file_name_of("http://x/a/downfile.jsp?filename=D%3A%5Cup%5C%E5%B9%B4%E6%8A%A5.pdf") == "年报.pdf"
    assert Link("http://x/a/b.PDF", "").is_document and not Link("http://x/a/b.html", "").is_document


def test_content_disposition_names_the_file() -> None:
    assert disposition_file_name('attachment; filename="report.docx"') == "report.docx"
    assert disposition_file_name("attachment; filename*=UTF-8''%E5%B9%B4%E6%8A%A5.xlsx") == "年报.xlsx"
    assert disposition_file_name('attachment; filename="C:\\up\\a.pdf"') == "a.pdf"
    assert disposition_file_name("inline") is None and disposition_file_name(None) is None


def test_format_from_content_type_else_name() -> None:
    assert format_of("application/msword", "download.jsp") == "doc"
    assert format_of("application/octet-stream", "年报.xlsx") == "xlsx"
    assert format_of("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "x") == "docx"
    assert format_of("text/html; charset=gbk", "a.doc") == "html"  # what the server says it sent
    assert format_of("image/jpeg", "scan") == "jpg" and format_of(None, "a.htm") == "html"
    assert format_of("text/plain", "a.md") == "md" and format_of("application/octet-stream", "get") == "bin"
    order = sorted(["jpg", "html", "zip", "pdf", "xlsx", "doc", "txt"], key=candidate_order)
    assert order == ["doc", "xlsx", "pdf", "zip", "txt", "html", "jpg"]


def _doc(url: str, kind: str, ctype: str, name: str | None = None, sha: str = "0" * 64) -> ArchivedDoc:
    return ArchivedDoc(url, url, kind, sha, 200, ctype, None, 1, "2024-01-01T00:00:00+00:00", True, False, file_name=name)


def test_candidates_page_with_tables_first_else_structured_files_first() -> None:
    page = _doc("http://x/p.html", "report", "text/html")
    pdf = _doc("http://x/a.pdf", "attachment", "application/pdf")
    doc = _doc("http://x/download.jsp?id=1", "attachment", "application/octet-stream", "年报.doc")
    jpg = _doc("http://x/s.jpg", "attachment", "image/jpeg")
    report = HarvestedReport("s", page.url, "t", 2023, "l", page, [jpg, pdf, doc], has_tables=False)
    assert [d.url for d in report.candidates()] == [doc.url, pdf.url, page.url, jpg.url]
    assert (doc.name, doc.format, doc.is_html) == ("年报.doc", "doc", False)
    report.has_tables = True
    assert report.candidates()[0] is page


def test_choice_first_ok_wins_else_best_status_then_facts_then_order() -> None:
    ok = Tried("b.pdf", "ok", "", 200)
    assert best_index([Tried("a.doc", "needs_converter", "no soffice", 0), ok]) == 1
    assert best_index([Tried("a", "partial", "", 50), Tried("b", "partial", "", 120)]) == 1
    # nothing readable: the first candidate's reason stands, not a notice page's tried last
    assert best_index([Tried("a.txt", "not_a_report", "x", 0), Tried("page", "failed", "y", 0)]) == 0
    assert best_index([Tried("a.doc", "failed", "x", 0), Tried("b.pdf", "needs_ocr", "scan", 0)]) == 1
    tried = [Tried("a.doc", "needs_converter", "no soffice", 0), ok]
    assert chosen_because(tried, 1, 3) == "document 2 of 3, read ok after a.doc: needs_converter"
    assert chosen_because([ok], 0, 1) == "the report's only document"
    assert not_chosen_because(tried[0], ok) == "needs_converter (no soffice), 0 facts"
    assert not_chosen_because(None, ok) == "not read: b.pdf came before it and read ok"


def test_extract_report_reads_on_past_a_partial_and_stops_at_ok(tmp_path) -> None:
    archive = RawArchive(tmp_path)
    docs = []
    for i, body in enumerate([b"partial", b"ok", b"never"]):
        sha, _ = archive.put(body)
        docs.append(_doc(f"http://x/{i}.pdf", "attachment", "application/pdf", sha=sha))
    page = _doc("http://x/p.html", "report", "text/html", sha=archive.put(b"page")[0])
    report = HarvestedReport("s", page.url, "t", 2023, "l", page, docs, has_tables=False)
    read: list[bytes] = []

    def extract(data: bytes, name: str, **_: object) -> DocumentResult:
        read.append(data)
        return DocumentResult(status=data.decode() if data in (b"partial", b"ok") else "failed", reason="")

    got = extract_report(report, archive, extract)
    assert got is not None and got.document is docs[1] and read == [b"partial", b"ok"]
    assert [(u, s) for u, s, _ in got.tried] == [("http://x/0.pdf", "partial"), ("http://x/1.pdf", "ok")]
