"""The one charset policy (extractors/decoding.py): what the HTML extractor, link discovery and
text exports share. The HTML-specific cases (meta in head vs body, Word pages) are in test_html."""

from __future__ import annotations

import pytest

from xxgk.extractors.base import ExtractionError
from xxgk.extractors.decoding import MAX_REPLACED_SHARE, decode_bytes, normalise_charset

REPORT = "政府信息公开工作年度报告"


def test_override_wins_over_a_declaration_that_also_decodes() -> None:
    """A per-source setting is the registry saying the site mislabels its pages."""
    text = "政府資訊公開"
    data = f'<meta charset="gbk"><p>{text}</p>'.encode("big5")
    decoded = decode_bytes(data, declared="gbk", override="big5")
    assert (decoded.encoding, decoded.replaced) == ("big5", 0)
    assert text in decoded.text


def test_valid_utf8_beats_even_an_override() -> None:
    decoded = decode_bytes(REPORT.encode("utf-8"), override="gbk")
    assert (decoded.text, decoded.encoding) == (REPORT, "utf-8")
    assert any("valid UTF-8" in note for note in decoded.notes)


def test_plain_text_does_not_read_markup_declarations() -> None:
    """``sniff_meta=False`` for text exports: a report quoting a <meta> tag is not declaring anything."""
    text = f'说明：网页源码含有 <meta charset="big5"> 字样。{REPORT}'
    data = text.encode("gb18030")
    assert decode_bytes(data, sniff_meta=False).text == text
    assert decode_bytes(data).encoding == "big5"  # as markup, the bytes do decode under their <meta>


def test_unknown_and_western_labels_are_noted_and_ignored() -> None:
    data = REPORT.encode("gbk")
    decoded = decode_bytes(data, declared="x-no-such-charset", override="ISO-8859-1")
    assert decoded.encoding == "gb18030" and decoded.text == REPORT
    assert [n.split(" ")[0:2] for n in decoded.notes] == [["source", "setting"], ["HTTP", "charset"]]


def test_ascii_only_bytes_are_ascii() -> None:
    assert decode_bytes(b"plain ascii").encoding == "ascii"
    assert decode_bytes(b"plain ascii", declared="utf-8").encoding == "utf-8"


def test_a_few_bad_bytes_are_tolerated_and_counted() -> None:
    data = (REPORT * 20).encode("utf-8")
    data = data[:10] + data[11:]  # one broken character
    decoded = decode_bytes(data)
    assert decoded.encoding == "utf-8" and decoded.replaced >= 1
    assert decoded.text.count("\ufffd") == decoded.replaced
    assert any("replaced with U+FFFD" in note for note in decoded.notes)


def test_mostly_undecodable_bytes_fail_unless_lenient() -> None:
    data = b"\x80\xff" * 300 + b"<a href='/x'>x</a>"
    with pytest.raises(ExtractionError) as err:
        decode_bytes(data, what="text")
    assert err.value.status == "failed" and err.value.reason.startswith("undecodable text:")
    lenient = decode_bytes(data, lenient=True)
    non_ascii = sum(1 for ch in lenient.text if ord(ch) > 127)
    assert lenient.replaced / non_ascii > MAX_REPLACED_SHARE and "<a href='/x'>" in lenient.text


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")],
)
def test_byte_order_marks_win(bom: bytes, encoding: str) -> None:
    codec = {b"\xef\xbb\xbf": "utf-8", b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}[bom]
    decoded = decode_bytes(bom + REPORT.encode(codec), declared="gbk", override="gbk")
    assert (decoded.text, decoded.encoding) == (REPORT, encoding)


@pytest.mark.parametrize(
    ("label", "codec"),
    [("GB2312", "gb18030"), ("text/html; charset=GBK", "gb18030"), ("utf8", "utf-8"), ("nope", None), ("", None)],
)
def test_normalise_charset(label: str, codec: str | None) -> None:
    assert normalise_charset(label) == codec
