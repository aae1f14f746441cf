"""Helpers of the office-format tests: hand-made DOCX packages and Excel 97 (XLS) workbooks."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import xlwt

from xxgk.synth.generate import PrintedDocument
from xxgk.synth.report import SyntheticReport
from xxgk.synth.xlsx import fill_workbook

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
NSDECLS = (
    f'xmlns:w="{W_NS}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
)


def make_docx(body: str, *, styles: str = "", doc_rels: str = "", parts: dict[str, bytes] | None = None) -> bytes:
    """A minimal DOCX package whose body is ``body`` (WordprocessingML, ``w:`` prefix)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document {NSDECLS}><w:body>{body}</w:body></w:document>')
        rels = '<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>' if styles else ""
        if rels or doc_rels:
            zf.writestr(
                "word/_rels/document.xml.rels",
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f"{rels}{doc_rels}</Relationships>",
            )
        if styles:
            zf.writestr("word/styles.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:styles {NSDECLS}>{styles}</w:styles>')
        for name, data in (parts or {}).items():
            zf.writestr(name, data)
    return out.getvalue()


def p(*runs: str) -> str:
    """A paragraph of plain runs."""
    return "<w:p>" + "".join(f'<w:r><w:t xml:space="preserve">{t}</w:t></w:r>' for t in runs) + "</w:p>"


def tc(text: str = "", *, span: int = 1, vmerge: str | None = None, inner: str = "") -> str:
    """A table cell: gridSpan ``span``, vMerge ``restart``/``continue``, or raw ``inner`` content."""
    props = ""
    if span > 1:
        props += f'<w:gridSpan w:val="{span}"/>'
    if vmerge == "restart":
        props += '<w:vMerge w:val="restart"/>'
    elif vmerge == "continue":
        props += "<w:vMerge/>"
    content = inner or p(text)
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{content}</w:tc>"


def tbl(*rows: str, cols: int = 3) -> str:
    grid = "".join('<w:gridCol w:w="1000"/>' for _ in range(cols))
    return f"<w:tbl><w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"


def tr(*cells: str, props: str = "") -> str:
    return f"<w:tr><w:trPr>{props}</w:trPr>{''.join(cells)}</w:tr>"


class _XlwtSheet:
    """The XlsxWriter worksheet calls ``synth.xlsx`` makes, written with xlwt (Excel 97)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    def merge_range(self, r0: int, c0: int, r1: int, c1: int, value: Any, _fmt: Any = None) -> None:
        self.ws.write_merge(r0, r1, c0, c1, value)

    def write(self, r: int, c: int, value: Any, _fmt: Any = None) -> None:
        self.ws.write(r, c, value)

    write_number = write_string = write

    def write_blank(self, r: int, c: int, _value: Any, _fmt: Any = None) -> None:
        return None

    def hide(self) -> None:
        self.ws.visibility = 1

    def activate(self) -> None:
        self.ws.set_selected(True)


class _XlwtBook:
    def __init__(self) -> None:
        self.book = xlwt.Workbook(encoding="utf-8")

    def add_worksheet(self, name: str) -> _XlwtSheet:
        return _XlwtSheet(self.book.add_sheet(name, cell_overwrite_ok=True))

    def add_format(self, _props: dict[str, Any]) -> None:
        return None


def render_xls(report: SyntheticReport | PrintedDocument, **options: Any) -> bytes:
    """The workbook ``synth.xlsx`` lays out, as an Excel 97 binary (XLS)."""
    book = _XlwtBook()
    fill_workbook(report, book, **options)
    out = io.BytesIO()
    book.book.save(out)
    return out.getvalue()


def make_ods(rows_xml: str) -> bytes:
    """A minimal OpenDocument spreadsheet whose one sheet (表) holds ``rows_xml``."""
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
      f'<office:body><office:spreadsheet><table:table table:name="表">{rows_xml}</table:table></office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
      '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
      '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        mimetype = "application/vnd.oasis.opendocument.spreadsheet"  # first and stored, as ODF requires
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    return out.getvalue()
