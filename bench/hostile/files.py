"""Bad documents, generated: every way a file can try to exhaust, crash or fool ``xxgk extract``.

``bad_files(scale)`` returns the cases (``BadFile``: case name, file name, bytes, what it tries,
which statuses are acceptable). Bombs are built from one repeated deflate block, so a GiB of
inflated data costs about a MiB and a few milliseconds to make; ``scale="small"`` keeps every
bomb just past the reader's limit (what the CI test runs), ``"full"`` uses the sizes of the
issue's adversarial pass. ``good_document()`` is the one good report mixed into the same run.

    for bad in bad_files("small"):
        (folder / bad.name).write_bytes(bad.data)   # bad.name may be bytes (not UTF-8)
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from xxgk.synth.docx import render_docx
from xxgk.synth.generate import generate_report
from xxgk.synth.html import render_html
from xxgk.synth.pdf import render_pdf, truncated_pdf, write_pdf
from xxgk.synth.text import render_text
from xxgk.synth.xlsx import render_xlsx

GOOD_SEED = 14
GOOD_YEAR = 2022
#: Seeds of the well-formed reports carried by the odd-name cases (publishers differ from the good one).
NAME_SEEDS = (21, 22, 23, 24, 25)
MIB = 1 << 20

#: A status the run must give: anything but a crash. ``REFUSED``: the bad file must not pass as a report.
ANY = frozenset({"ok", "partial", "failed", "needs_ocr", "not_a_report", "legacy"})
REFUSED = frozenset({"failed", "needs_ocr", "not_a_report"})
READ = frozenset({"ok", "partial"})


@dataclass(frozen=True, slots=True)
class BadFile:
    """One hostile case: the file to extract and the statuses acceptable for it."""

    case: str
    name: str | bytes
    data: bytes
    tries: str
    expect: frozenset[str] = REFUSED

    @property
    def fs_name(self) -> bytes:
        """The file name as bytes for ``os`` calls (a str name is UTF-8)."""
        return self.name if isinstance(self.name, bytes) else self.name.encode()


# --------------------------------------------------------------------------------------------
# Deflate bombs from one repeated block
# --------------------------------------------------------------------------------------------


def repeated_deflate(block: bytes, times: int) -> tuple[bytes, int, int]:
    """Raw deflate of ``block * times`` without building it: (stream, crc32, adler32).

    After a full flush the compressor starts afresh, so every later block compresses to the
    same bytes: the stream is ``first + repeat * (times - 1) + final``.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    repeat = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    final = comp.flush()
    crc, adler = 0, 1
    for _ in range(times):
        crc = zlib.crc32(block, crc)
        adler = zlib.adler32(block, adler)
    return first + repeat * (times - 1) + final, crc, adler


def zlib_bomb(block: bytes, times: int) -> bytes:
    """A zlib stream (PDF ``/FlateDecode``) inflating to ``block * times``."""
    raw, _, adler = repeated_deflate(block, times)
    return b"\x78\xda" + raw + struct.pack(">I", adler)


# --------------------------------------------------------------------------------------------
# PDFs written object by object
# --------------------------------------------------------------------------------------------


def _stream(body: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length " + str(len(body)).encode() + extra + b" >>\nstream\n" + body + b"\nendstream"


_FONT = b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"
_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources " + _FONT + b" >>"


def _one_page(content: bytes, content_extra: bytes = b"") -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        _PAGE,
        _stream(content, content_extra),
    ]


def encrypted_pdf() -> bytes:
    """A PDF under the Standard security handler with a user password nobody knows."""
    rng = random.Random(14)
    o_key, u_key, file_id = (bytes(rng.randrange(256) for _ in range(n)).hex().encode() for n in (32, 32, 16))
    encrypt = b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <" + o_key + b"> /U <" + u_key + b"> >>"
    objects = [*_one_page(b"BT /F1 12 Tf 72 720 Td (secret) Tj ET"), encrypt]
    return write_pdf(objects, trailer=b" /Encrypt 5 0 R /ID [<" + file_id + b"> <" + file_id + b">]")


def xref_loop_pdf() -> bytes:
    """An xref section whose ``/Prev`` is itself, and no usable object 1 (the reader must recover)."""
    return write_pdf(_one_page(b"BT /F1 12 Tf 72 720 Td (loop) Tj ET"), prev_self=True)


def page_tree_loop_pdf() -> bytes:
    """A page tree whose node lists itself among its kids (and its parent as its child)."""
    return write_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 5 0 R 3 0 R] /Count 3 >>",
            _PAGE,
            _stream(b"BT /F1 12 Tf 72 720 Td (tree) Tj ET"),
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 5 0 R] /Count 2 >>",
        ]
    )


def page_count_bomb_pdf(fanout: int = 1000, levels: int = 3) -> bytes:
    """A page tree of ``fanout ** levels`` pages in a few KB: every node lists the next node ``fanout`` times."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(levels):
        node = 2 + level
        kids = b" ".join([f"{node + 1} 0 R".encode()] * fanout)
        parent = f" /Parent {node - 1} 0 R".encode() if level else b""
        objects.append(
            b"<< /Type /Pages"
            + parent
            + b" /Kids ["
            + kids
            + b"] /Count "
            + str(fanout ** (levels - level)).encode()
            + b" >>"
        )
    leaf_parent = 2 + levels - 1
    content = 2 + levels + 1
    objects.append(
        f"<< /Type /Page /Parent {leaf_parent} 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R /Resources ".encode()
        + _FONT
        + b" >>"
    )
    objects.append(_stream(b"BT /F1 12 Tf 72 720 Td (page) Tj ET"))
    return write_pdf(objects)


def content_bomb_pdf(inflated: int) -> bytes:
    """One page whose content stream inflates to ``inflated`` bytes of text-showing operators."""
    op = b"BT /F1 9 Tf 72 720 Td (0123456789) Tj ET\n"
    block = op * (MIB // len(op))
    return write_pdf(_one_page(zlib_bomb(block, max(1, inflated // len(block))), b" /Filter /FlateDecode"))


def deflate_bomb_pdf(inflated: int) -> bytes:
    """One page whose content stream inflates to ``inflated`` bytes of spaces."""
    return write_pdf(_one_page(zlib_bomb(b" " * MIB, max(1, inflated // MIB)), b" /Filter /FlateDecode"))


# --------------------------------------------------------------------------------------------
# ZIP packages (DOCX, XLSX, nested archives)
# --------------------------------------------------------------------------------------------


def _replace_member(
    package: bytes, member: str, data: bytes | None = None, *, bomb: int = 0, lie: bool = False
) -> bytes:
    """``package`` with ``member`` replaced by ``data`` or by ``bomb`` bytes of spaces (a repeated deflate block).

    ``lie``: the local and central headers then declare the member 1 KiB long, as a zip bomb
    built to pass a check of the declared sizes would.
    """
    entries: list[tuple[str, bytes, int, int]] = []  # name, raw deflate, crc32, size
    with zipfile.ZipFile(io.BytesIO(package)) as src:
        for info in src.infolist():
            if info.filename == member and data is None:
                raw, crc, _ = _spaces(bomb // MIB)
                entries.append((member, raw, crc, 1024 if lie else bomb // MIB * MIB))
                continue
            body = data if info.filename == member and data is not None else src.read(info)
            comp = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            entries.append((info.filename, comp.compress(body) + comp.flush(), zlib.crc32(body), len(body)))
    return write_zip(entries)


@functools.lru_cache(maxsize=2)
def _spaces(mebibytes: int) -> tuple[bytes, int, int]:
    return repeated_deflate(b" " * MIB, mebibytes)


def write_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP archive of already deflated members: (name, raw deflate, crc32, declared size) each."""
    out = bytearray()
    central = bytearray()
    for name, raw, crc, size in entries:
        encoded = name.encode()
        offset = len(out)
        fields = (20, 0x800, 8, 0, 0x5421, crc, len(raw), size, len(encoded), 0)
        out += b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", *fields) + encoded + raw
        central += (
            b"PK\x01\x02"
            + struct.pack(
                "<HHHHHHIIIHHHHHII",
                20,
                20,
                0x800,
                8,
                0,
                0x5421,
                crc,
                len(raw),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


def nested_zip(inner: bytes, inner_name: str, depth: int) -> bytes:
    """``inner`` zipped ``depth`` times, one archive inside the next."""
    data, name = inner, inner_name
    for level in range(depth):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2022, 1, 1, 0, 0, 0)), data)
        data, name = out.getvalue(), f"level{level}.zip"
    return data


def fanout_zip(inner: bytes, inner_name: str, fanout: int, depth: int) -> bytes:
    """``depth`` levels of archives each holding ``fanout`` copies of the level below: ``fanout ** depth`` leaves."""
    data, name = inner, inner_name
    for level in range(depth):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for i in range(fanout):
                zf.writestr(zipfile.ZipInfo(f"{i}-{name}", date_time=(2022, 1, 1, 0, 0, 0)), data)
        data, name = out.getvalue(), f"level{level}.zip"
    return data


def huge_dimension_xlsx(package: bytes) -> bytes:
    """An XLSX whose first sheet also holds a cell at the last row and column Excel allows."""
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    sheet = sheet.replace(b"</sheetData>", far, 1)
    sheet = sheet.replace(b"<dimension ref=", b'<dimension ref="A1:XFD1048576" old=', 1)
    return _replace_member(package, "xl/worksheets/sheet1.xml", sheet)


# --------------------------------------------------------------------------------------------
# HTML and text
# --------------------------------------------------------------------------------------------


def deep_html(depth: int, inner: bytes) -> bytes:
    """``inner`` (a page body) under ``depth`` nested ``<div>`` elements."""
    return b"<html><body>" + b"<div>" * depth + inner + b"</div>" * depth + b"</body></html>"


def span_bomb_html(rows: int) -> bytes:
    """A table whose every row asks for a cell covering 65534 rows and 1000 columns."""
    row = '<tr><td rowspan="65534" colspan="1000">收到申请数{r}</td><td>本年新收政府信息公开申请数量</td></tr>'
    body = "".join(row.format(r=r) for r in range(rows))
    return f"<html><body><table>{body}</table></body></html>".encode()


def huge_table_html(rows: int, cols: int) -> bytes:
    """A real (not spanned) table of ``rows`` × ``cols`` small numbers."""
    line = "<tr>" + "".join(f"<td>{c}</td>" for c in range(cols)) + "</tr>"
    return ("<html><body><p>政府信息公开工作年度报告</p><table>" + line * rows + "</table></body></html>").encode()


def _stray_byte(data: bytes) -> bytes:
    end_of_title = data.index(b"\n")
    return data[:end_of_title] + b"\xff" + data[end_of_title:]


# --------------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------------

#: Inflated size of each bomb: just past the reader's limit (small) or the issue's sizes (full).
BOMB_SIZES = {"small": 300 * MIB, "full": 1 << 30}


def good_document() -> tuple[str, bytes]:
    """The one good report of the run: (file name, bytes) of a UTF-8 text report."""
    return "good_report.txt", render_text(generate_report(GOOD_SEED, year=GOOD_YEAR), "cells")


def _cases(scale: str) -> list[tuple[str, Callable[[], BadFile]]]:
    bomb = BOMB_SIZES[scale]
    report = generate_report(GOOD_SEED + 1, year=GOOD_YEAR - 1)
    pdf = render_pdf(report)
    docx = render_docx(report)
    xlsx = render_xlsx(report)
    html = render_html(report)
    text = render_text(report, "cells")
    gb_text = render_text(report, "cells", encoding="gb18030")
    named = [render_text(generate_report(seed, year=2021), "cells") for seed in NAME_SEEDS]
    long_stem = (report.publisher * 20)[:80]  # 240 bytes of CJK: over 255 once anything is added
    rng = random.Random(14)
    return [
        (
            "pdf_truncated",
            lambda: BadFile("pdf_truncated", "truncated.pdf", truncated_pdf(pdf, 0.5), "a PDF cut in half"),
        ),
        ("pdf_encrypted", lambda: BadFile("pdf_encrypted", "encrypted.pdf", encrypted_pdf(), "a user password")),
        (
            "pdf_xref_loop",
            lambda: BadFile("pdf_xref_loop", "xref_loop.pdf", xref_loop_pdf(), "xref /Prev pointing at itself", ANY),
        ),
        (
            "pdf_page_tree_loop",
            lambda: BadFile(
                "pdf_page_tree_loop", "tree_loop.pdf", page_tree_loop_pdf(), "a page tree node listing itself"
            ),
        ),
        ("pdf_page_bomb", lambda: BadFile("pdf_page_bomb", "pages.pdf", page_count_bomb_pdf(), "10^9 pages in 12 KB")),
        (
            "pdf_content_bomb",
            lambda: BadFile(
                "pdf_content_bomb",
                "content.pdf",
                content_bomb_pdf(bomb // 2),
                "a content stream of millions of text objects",
            ),
        ),
        (
            "pdf_deflate_bomb",
            lambda: BadFile(
                "pdf_deflate_bomb", "deflate.pdf", deflate_bomb_pdf(bomb), "a Flate stream past the inflate limit"
            ),
        ),
        (
            "docx_zip_bomb",
            lambda: BadFile(
                "docx_zip_bomb",
                "bomb.docx",
                _replace_member(docx, "word/document.xml", bomb=bomb),
                "document.xml of zip-bomb size",
            ),
        ),
        (
            "docx_lying_zip",
            lambda: BadFile(
                "docx_lying_zip",
                "lying.docx",
                _replace_member(docx, "word/document.xml", bomb=bomb, lie=True),
                "a bomb declared 1 KiB",
            ),
        ),
        (
            "xlsx_zip_bomb",
            lambda: BadFile(
                "xlsx_zip_bomb",
                "bomb.xlsx",
                _replace_member(xlsx, "xl/worksheets/sheet1.xml", bomb=bomb),
                "sheet1.xml of zip-bomb size",
            ),
        ),
        (
            "xlsx_lying_zip",
            lambda: BadFile(
                "xlsx_lying_zip",
                "lying.xlsx",
                _replace_member(xlsx, "xl/worksheets/sheet1.xml", bomb=bomb, lie=True),
                "a bomb declared 1 KiB",
            ),
        ),
        (
            "xlsx_huge_dimension",
            lambda: BadFile(
                "xlsx_huge_dimension", "far_cell.xlsx", huge_dimension_xlsx(xlsx), "a cell at XFD1048576", ANY
            ),
        ),
        (
            "zip_nested",
            lambda: BadFile(
                "zip_nested", "nested.zip", nested_zip(pdf, "report.pdf", 12), "a report zipped 12 times", ANY
            ),
        ),
        (
            "zip_fanout",
            lambda: BadFile(
                "zip_fanout", "fanout.zip", fanout_zip(text, "report.txt", 16, 3), "4096 reports in 3 levels of 16", ANY
            ),
        ),
        (
            "html_deep_nesting",
            lambda: BadFile("html_deep_nesting", "deep.html", deep_html(100_000, html), "100,000 nested <div>", ANY),
        ),
        (
            "html_span_bomb",
            lambda: BadFile("html_span_bomb", "spans.html", span_bomb_html(200), "rowspan=65534 colspan=1000 per row"),
        ),
        (
            "html_huge_table",
            lambda: BadFile("html_huge_table", "huge_table.html", huge_table_html(800, 150), "120,000 real cells"),
        ),
        (
            "text_stray_byte",
            lambda: BadFile(
                "text_stray_byte", "stray_byte.txt", _stray_byte(gb_text), "one 0xFF in GB18030 text", READ
            ),
        ),
        (
            "text_undecodable",
            lambda: BadFile(
                "text_undecodable", "undecodable.txt", b"\x80\xff" * 50_000, "bytes that are text in no encoding"
            ),
        ),
        (
            "text_utf16_no_bom",
            lambda: BadFile(
                "text_utf16_no_bom", "utf16.txt", text.decode().encode("utf-16-le"), "UTF-16 without a byte-order mark"
            ),
        ),
        ("binary_noise", lambda: BadFile("binary_noise", "noise.txt", rng.randbytes(200_000), "random bytes")),
        ("empty", lambda: BadFile("empty", "empty.pdf", b"", "zero bytes")),
        (
            "name_long_cjk",
            lambda: BadFile("name_long_cjk", long_stem + ".txt", named[0], "an 80-character CJK file name", READ),
        ),
        (
            "name_markup",
            lambda: BadFile(
                "name_markup",
                "[bold]报告[link=x] $(x) `y` 'q\".txt",
                named[1],
                "Rich markup and shell characters",
                READ,
            ),
        ),
        ("name_dash", lambda: BadFile("name_dash", "-o --force.txt", named[2], "a name that reads as options", READ)),
        (
            "name_newline",
            lambda: BadFile("name_newline", "line\nbreak 报告.txt", named[3], "a newline in the name", READ),
        ),
        (
            "name_gbk_bytes",
            lambda: BadFile(
                "name_gbk_bytes", "年度报告".encode("gbk") + b".txt", named[4], "a GBK (not UTF-8) file name", READ
            ),
        ),
    ]


def bad_files(scale: str = "small", only: tuple[str, ...] = ()) -> list[BadFile]:
    """Every hostile case (or those named in ``only``), built at ``scale`` ("small" or "full")."""
    if scale not in BOMB_SIZES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(BOMB_SIZES)}")
    return [build() for name, build in _cases(scale) if not only or name in only]


__all__ = [
    "ANY",
    "READ",
    "REFUSED",
    "BadFile",
    "bad_files",
    "good_document",
    "repeated_deflate",
    "write_pdf",
    "zlib_bomb",
]
