"""Render a synthetic report as a DOCX document (python-docx), the way Word and WPS save them.

The layout is ``synth.generate.printed_document``'s, as for HTML and PDF: the national tables
with their real merged cells (三、本年度办理结果 over the outcome rows, 法人或其他组织 over five
columns, the group labels of （三）（四）（五）, the 15-cell table 四 ...), written as Word
merges (``gridSpan`` across, ``vMerge`` down). Options add what real files carry:

- ``word_markup``: labels split over runs with proofing marks and bookmarks, hidden runs
  (``w:vanish`` and a hidden character style), tracked changes (a deleted old value beside the
  inserted new one), soft hyphens and zero-width spaces, cells whose value is a Word formula
  field (``=SUM(LEFT)`` with its result), a hidden paragraph naming another year's report;
- ``split_requests``: table 三 cut in two tables with a page break between them (as authors do
  to keep a table off a page end), the merged labels continuing as empty merged cells;
- ``nested_layout``: every table inside a one-cell frame table;
- ``title_box``: the title in a text box (DrawingML with its VML fallback, as Word writes it).

None of these changes what is printed: ``SyntheticReport.expected_facts()`` stays exact.
"""

from __future__ import annotations

import datetime
import io
import zipfile

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_BREAK
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from xxgk.schemas.model import REQUESTS
from xxgk.synth.generate import PrintedDocument, PrintedTable, Span, printed_document
from xxgk.synth.html import _positions, _requests_cut, split_table
from xxgk.synth.report import SyntheticReport

_HIDDEN_STYLE = "XxgkHidden"
_EXTRA_NS = (
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)


def _markup_runs(paragraph: Paragraph, text: str, seed: int) -> None:
    """A label as Word stores it after editing: runs, proofing marks, hidden and deleted text."""
    if len(text) < 4:
        paragraph.add_run(text)
        return
    a, b = len(text) // 3, 2 * len(text) // 3
    p = paragraph._p
    paragraph.add_run(text[:a] + ("\u00ad" if seed % 2 else "\u200b"))
    p.append(parse_xml(f'<w:proofErr {nsdecls("w")} w:type="spellStart"/>'))
    p.append(parse_xml(f'<w:bookmarkStart {nsdecls("w")} w:id="{seed}" w:name="_Toc{seed}"/>'))
    hidden = paragraph.add_run("隐藏")
    hidden.font.hidden = True
    paragraph.add_run(text[a:b])
    p.append(parse_xml(f'<w:bookmarkEnd {nsdecls("w")} w:id="{seed}"/>'))
    p.append(parse_xml(f'<w:proofErr {nsdecls("w")} w:type="spellEnd"/>'))
    p.append(
        parse_xml(
            f'<w:del {nsdecls("w")} w:id="{seed + 1}" w:author="编辑" w:date="2024-01-05T10:00:00Z">'
            "<w:r><w:delText>旧标签</w:delText></w:r></w:del>"
        )
    )
    paragraph.add_run("注", style=_HIDDEN_STYLE)
    p.append(
        parse_xml(
            f'<w:ins {nsdecls("w")} w:id="{seed + 2}" w:author="编辑" w:date="2024-01-05T10:00:00Z">'
            f"<w:r><w:t xml:space=\"preserve\">{_xml_text(text[b:])}</w:t></w:r></w:ins>"
        )
    )


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _markup_value(paragraph: Paragraph, text: str, seed: int) -> None:
    """A value cell: plain, a tracked change from an old value, or a formula field with its result."""
    kind = seed % 3
    p = paragraph._p
    if not text or kind == 0:
        paragraph.add_run(text)
        return
    if kind == 1:
        p.append(
            parse_xml(
                f'<w:del {nsdecls("w")} w:id="{seed}" w:author="编辑" w:date="2024-01-05T10:00:00Z">'
                "<w:r><w:delText>999</w:delText></w:r></w:del>"
            )
        )
        p.append(
            parse_xml(
                f'<w:ins {nsdecls("w")} w:id="{seed + 1}" w:author="编辑" w:date="2024-01-05T10:00:00Z">'
                f'<w:r><w:t xml:space="preserve">{_xml_text(text)}</w:t></w:r></w:ins>'
            )
        )
        return
    for xml in (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
        '<w:r><w:instrText xml:space="preserve"> =SUM(LEFT) \\# "0" </w:instrText></w:r>',
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
        f"<w:r><w:t>{_xml_text(text)}</w:t></w:r>",
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
    ):
        p.append(parse_xml(xml.replace("<w:r>", f"<w:r {nsdecls('w')}>", 1)))


def _fill(cell: _Cell, span: Span, markup: bool, seed: int) -> None:
    lines = span.text.split("\n") if span.text else [""]
    first = cell.paragraphs[0]
    for i, line in enumerate(lines):
        paragraph = first if i == 0 else cell.add_paragraph()
        if not markup:
            paragraph.add_run(line)
        elif span.key is not None:
            _markup_value(paragraph, line, seed)
        else:
            _markup_runs(paragraph, line, seed + i)


def _table(container: docx.document.Document | _Cell, table: PrintedTable, markup: bool) -> Table:
    """A Word table with the printed merges (python-docx writes gridSpan/vMerge)."""
    rows = len(table.rows)
    out = container.add_table(rows=rows, cols=table.ncols)
    out.style = "Table Grid"
    cells = out._cells  # once: Table.cell() rescans the whole table on every call
    ncols = table.ncols
    for r, placed in enumerate(_positions(table)):
        for c, span in placed:
            cell = cells[r * ncols + c]
            if span.rowspan > 1 or span.colspan > 1:
                bottom = min(r + span.rowspan, rows) - 1
                cell = cell.merge(cells[bottom * ncols + c + span.colspan - 1])
            _fill(cell, span, markup, seed=100 + r * 20 + c * 3)
    return out


def _page_break(document: docx.document.Document) -> None:
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _title_box(document: docx.document.Document, title: str) -> None:
    """The title in a floating text box: DrawingML (mc:Choice) with its VML copy (mc:Fallback)."""
    text = _xml_text(title)
    box = f'<w:txbxContent><w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent>'
    xml = (
        f'<w:r {nsdecls("w", "wp", "a")} {_EXTRA_NS}>'
        '<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0" relativeHeight="1" '
        'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
        '<wp:positionH relativeFrom="margin"><wp:align>center</wp:align></wp:positionH>'
        '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="5400000" cy="600000"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapTopAndBottom/>'
        '<wp:docPr id="1" name="Title Box"/><wp:cNvGraphicFramePr/>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="5400000" cy="600000"/>'
        '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></wps:spPr>'
        f"<wps:txbx>{box}</wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
        '</mc:Choice><mc:Fallback><w:pict><v:shape id="TitleBox" type="#_x0000_t202" '
        'style="width:425pt;height:47pt;mso-position-horizontal:center"><v:textbox>'
        f"{box}</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    document.add_paragraph()._p.append(parse_xml(xml))


def _prepare(document: docx.document.Document) -> None:
    style = document.styles.add_style(_HIDDEN_STYLE, WD_STYLE_TYPE.CHARACTER)
    style.font.hidden = True
    # a hidden paragraph naming another year's report: it must not decide the year
    hidden = document.add_paragraph().add_run("2017年政府信息公开工作年度报告（旧稿）")
    hidden.font.hidden = True


def render_docx(
    report: SyntheticReport | PrintedDocument,
    *,
    word_markup: bool = False,
    split_requests: bool = False,
    nested_layout: bool = False,
    title_box: bool = False,
) -> bytes:
    """The report as the bytes of a DOCX file (see the module docstring for the options)."""
    doc = printed_document(report) if isinstance(report, SyntheticReport) else report
    document = docx.Document()
    if word_markup:
        _prepare(document)
    if title_box:
        _title_box(document, doc.title)
    else:
        heading = document.add_paragraph()
        heading.alignment = 1
        heading.add_run(doc.title).bold = True
    if word_markup:
        page = document.add_paragraph("第")
        for xml in (
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
            '<w:r><w:instrText xml:space="preserve"> PAGE  \\* MERGEFORMAT </w:instrText></w:r>',
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
            "<w:r><w:t>1</w:t></w:r>",
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
        ):
            page._p.append(parse_xml(xml.replace("<w:r>", f"<w:r {nsdecls('w')}>", 1)))
        page.add_run("页")
    for block in doc.blocks:
        if isinstance(block, str):
            if block.strip():
                document.add_paragraph(block)
            continue
        parts = [block]
        if split_requests and block.name == REQUESTS:
            parts = list(split_table(block, _requests_cut(block)))
        for i, part in enumerate(parts):
            if i:
                _page_break(document)
            if nested_layout:
                frame = document.add_table(rows=1, cols=1)
                holder = frame.cell(0, 0)
                _table(holder, part, word_markup)
                holder.add_paragraph()  # Word keeps a paragraph after a nested table
            else:
                _table(document, part, word_markup)
    document.core_properties.title = doc.title
    document.core_properties.created = document.core_properties.modified = FIXED_TIME
    out = io.BytesIO()
    document.save(out)
    return reproducible_zip(out.getvalue())


#: The time stamped on every rendered file: the same report renders to the same bytes (the demo
#: portal's documents keep their sha256 from one run to the next).
FIXED_TIME = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def reproducible_zip(data: bytes) -> bytes:
    """A ZIP package again with every member dated 1980-01-01 (python-docx stamps the current time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


__all__ = ["FIXED_TIME", "render_docx", "reproducible_zip"]
