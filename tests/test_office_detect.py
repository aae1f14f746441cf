"""Format detection by content for office documents and containers (``extractors.sniff``),
and the status of office files xxgk cannot read."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.office_docs import make_docx, p, render_xls
from xxgk.extractors import detect_format, extract_document
from xxgk.synth.generate import generate_report
from xxgk.synth.ole import as_written_by_wps, compound_file, summary_information
from xxgk.synth.xlsx import render_xlsx


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


_HTML = "<html><head><meta charset='utf-8'></head><body><p>2023年政府信息公开工作年度报告</p></body></html>"
_MHTML = (
    "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"----=_NextPart_01D9\"\r\n\r\n"
    "------=_NextPart_01D9\r\nContent-Location: file:///C:/report.htm\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=\"utf-8\"\r\n\r\n"
    "<html><body><p>=E6=8A=A5=E5=91=8A</p></body></html>\r\n------=_NextPart_01D9--\r\n"
)
_WORDML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<?mso-application progid="Word.Document"?>\n'
    '<w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml"><w:body/></w:wordDocument>'
)

CASES = {
    "docx": (lambda: make_docx(p("报告")), "report.doc"),
    "xlsx named et": (lambda: render_xlsx(generate_report(1)), "report.et"),
    "zip": (lambda: _zip({"a.txt": b"x"}), "report.docx"),
    "odt": (lambda: _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}), "a.doc"),
    "ods": (lambda: _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}), "a.xls"),
    "doc": (lambda: compound_file({"WordDocument": b"\xec\xa5", "1Table": b""}), "report.wps"),
    "wps by summary": (
        lambda: compound_file({"WordDocument": b"\xec\xa5", "\x05SummaryInformation": summary_information("WPS Office")}),
        "report.doc",
    ),
    "wps works": (lambda: compound_file({"CONTENTS": b"CHNKWKS", "SPELLING": b""}), "report.wps"),
    "xls": (lambda: render_xls(generate_report(1)), "report.et"),
    "xls excel 5 book": (lambda: compound_file({"Book": b"\x09\x08"}), "report.xls"),
    "et": (lambda: as_written_by_wps(render_xls(generate_report(1))), "report.xls"),
    "encrypted": (lambda: compound_file({"EncryptedPackage": b"x", "EncryptionInfo": b"y"}), "report.docx"),
    "ole2": (lambda: compound_file({"PowerPoint Document": b"x"}), "report.doc"),
    "rtf": (lambda: b"{\\rtf1\\ansi\\ansicpg936 report}", "report.doc"),
    "rtf after a BOM": (lambda: b"\xef\xbb\xbf{\\rtf1 report}", "report.wps"),
    "mhtml": (lambda: _MHTML.encode("ascii"), "report.doc"),
    "wordml": (lambda: _WORDML.encode("utf-8"), "report.doc"),
    "html named doc": (lambda: _HTML.encode("utf-8"), "report.doc"),
    "pdf named doc": (lambda: b"%PDF-1.7\n%...", "report.doc"),
}
EXPECTED = {
    "docx": "docx",
    "xlsx named et": "xlsx",
    "zip": "zip",
    "odt": "odt",
    "ods": "ods",
    "doc": "doc",
    "wps by summary": "wps",
    "wps works": "wps",
    "xls": "xls",
    "xls excel 5 book": "xls",
    "et": "et",
    "encrypted": "encrypted",
    "ole2": "ole2",
    "rtf": "rtf",
    "rtf after a BOM": "rtf",
    "mhtml": "mhtml",
    "wordml": "wordml",
    "html named doc": "html",
    "pdf named doc": "pdf",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_detected_by_content_not_by_name(case: str) -> None:
    make, name = CASES[case]
    assert detect_format(make(), name) == EXPECTED[case]


def test_docx_whose_main_part_has_another_name_is_docx() -> None:
    data = _zip({"[Content_Types].xml": b"<Types/>", "word/document2.xml": b"<w:document/>", "_rels/.rels": b"<R/>"})
    assert detect_format(data, "x.bin") == "docx"


def test_broken_ole2_and_zip_get_a_status_with_a_reason() -> None:
    broken_ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    result = extract_document(broken_ole, "report.doc")
    assert result.status == "failed" and "OLE2" in result.reason
    result = extract_document(b"PK\x03\x04" + b"\0" * 100, "report.docx")
    assert result.status == "failed" and "ZIP" in result.reason


def test_encrypted_office_document_fails_saying_it_is_password_protected() -> None:
    result = extract_document(compound_file({"EncryptedPackage": b"x", "EncryptionInfo": b"y"}), "report.docx")
    assert (result.status, result.format) == ("failed", "encrypted")
    assert "password" in result.reason


def test_powerpoint_is_not_read_as_a_report() -> None:
    result = extract_document(compound_file({"PowerPoint Document": b"x"}), "report.doc")
    assert result.status == "failed" and "no Word or Excel" in result.reason and "PowerPoint Document" in result.reason


def test_word_html_saved_as_doc_goes_to_the_html_reader() -> None:
    report = generate_report(2, versions="v2021")
    from xxgk.synth.html import render_html

    result = extract_document(render_html(report, encoding="gbk", word_markup=True, chrome=False), "报告.doc")
    assert result.format == "html" and result.status == "ok", result.reason
