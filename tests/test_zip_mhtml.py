"""Zipped report attachments (opened with limits) and MHTML archives (Word's single-file web page)."""

from __future__ import annotations

import io
import quopri
import zipfile

import pytest

from tests.facts import expected_facts, printed_facts
from xxgk.extractors import converter, detect_format, extract_document, read_document
from xxgk.extractors.archive import ZipLimits, extract_zip
from xxgk.extractors.base import ExtractionError
from xxgk.schemas.model import V2019, V2021
from xxgk.synth.docx import render_docx
from xxgk.synth.generate import generate_report
from xxgk.synth.html import render_html
from xxgk.synth.ole import compound_file
from xxgk.synth.xlsx import render_xlsx


class _GbkName(zipfile.ZipInfo):
    """A member name stored as GBK bytes without the UTF-8 flag, as zips made on Chinese Windows are."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("gbk"), self.flag_bits


def zipped(members: list[tuple[str, bytes]], *, utf8_names: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name) if utf8_names else _GbkName(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out.getvalue()


def test_zipped_docx_report_is_read_and_traced_to_its_member() -> None:
    report = generate_report(4, versions=V2021)
    data = zipped([("说明.txt", "附件说明".encode()), ("2023年年度报告.docx", render_docx(report))], utf8_names=False)
    result = extract_document(data, "附件.zip")
    assert (result.status, result.format) == ("ok", "zip"), result.reason
    assert printed_facts(result) == expected_facts(report)
    assert {f.locator.split(" ", 1)[0] for f in result.facts} == {"zip:2023年年度报告.docx"}  # GBK name decoded
    assert result.warnings[0] == "read zip member '2023年年度报告.docx' (docx); 1 other member(s) not read"


def test_member_named_as_the_report_is_preferred_then_document_formats() -> None:
    report = generate_report(5, versions=V2019)
    data = zipped([("a.txt", "目录".encode()), ("b.xlsx", render_xlsx(generate_report(6))), ("政府信息公开工作年度报告.xlsx", render_xlsx(report))])
    assert printed_facts(extract_document(data, "a.zip")) == expected_facts(report)
    data = zipped([("readme.txt", "说明".encode()), ("report.xlsx", render_xlsx(report))])
    assert printed_facts(extract_document(data, "a.zip")) == expected_facts(report)


def test_zip_without_a_report_document_fails_naming_what_it_holds() -> None:
    inner = zipped([("report.docx", render_docx(generate_report(1)))])
    result = extract_document(zipped([("nested.zip", inner), ("logo.png", b"\x89PNG\r\n\x1a\n....")]), "a.zip")
    assert result.status == "failed" and "nested.zip (zip)" in result.reason and "logo.png (image)" in result.reason


def _read(data: bytes, limits: ZipLimits) -> None:
    extract_zip(data, detect_format, read_document, limits)


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (ZipLimits(max_entries=3), "5 entries, more than the limit of 3"),
        (ZipLimits(max_total_bytes=1000), "more than the limit of 1000"),
        (ZipLimits(max_member_bytes=1000), "is 5000 bytes uncompressed"),
        (ZipLimits(ratio_floor=1000, max_ratio=10), "zip bomb"),
    ],
)
def test_zip_past_a_limit_is_refused_with_the_limit_named(limits: ZipLimits, words: str) -> None:
    data = zipped([(f"f{i}.txt", b"0" * 5000) for i in range(5)])
    with pytest.raises(ExtractionError) as err:
        _read(data, limits)
    assert err.value.status == "failed" and words in err.value.reason


def test_zip_bomb_with_default_limits_gets_a_status() -> None:
    data = zipped([("report.txt", b"\0" * (8 * 1024 * 1024))])
    assert len(data) < 20_000
    result = extract_document(data, "report.zip")
    assert result.status == "failed" and "zip bomb" in result.reason


def test_zipped_doc_without_soffice_keeps_needs_converter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(converter, "find_soffice", lambda: None)
    converter._CACHE.clear()
    result = extract_document(zipped([("报告.doc", compound_file({"WordDocument": b"\xec\xa5"}))]), "a.zip")
    assert result.status == "needs_converter" and "zip member '报告.doc' (doc)" in result.reason


def mhtml(page: bytes, charset: str) -> bytes:
    body = quopri.encodestring(page).decode("ascii")
    return (
        'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart_01DA"\r\n\r\n'
        "此文档为“单个文件网页”。\r\n\r\n"
        "------=_NextPart_01DA\r\nContent-Location: file:///C:/report.htm\r\n"
        f'Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset="{charset}"\r\n\r\n'
        f"{body}\r\n------=_NextPart_01DA\r\nContent-Location: file:///C:/report.files/image001.png\r\n"
        "Content-Transfer-Encoding: base64\r\nContent-Type: image/png\r\n\r\niVBORw0KGgo=\r\n"
        "------=_NextPart_01DA--\r\n"
    ).encode()


@pytest.mark.parametrize("charset", ["gb2312", "utf-8"])
def test_mhtml_saved_as_doc_is_read_by_the_html_reader(charset: str) -> None:
    report = generate_report(2, versions=V2021)
    page = render_html(report, encoding=charset, word_markup=True, chrome=False)
    result = extract_document(mhtml(page, charset), "报告.doc")
    assert (result.status, result.format) == ("ok", "mhtml"), result.reason
    assert printed_facts(result) == expected_facts(report)


def test_mhtml_without_a_page_fails_with_a_reason() -> None:
    data = b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n--b\r\nContent-Type: image/png\r\n\r\nxx\r\n--b--\r\n'
    result = extract_document(data, "a.doc")
    assert result.status == "failed" and "text/html" in result.reason
