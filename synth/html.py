"""Render a synthetic report as an HTML page, the way portals and Word publish them.

The layout comes from ``synth.generate.printed_document`` (shared by every renderer): the
national tables with their real merged cells (table 二 as blocks of caption row 第二十条第（X）项,
header row 信息内容… and data rows; table 三 with its 3-row header and the rowspans of its group
labels; table 四 with 3 header rows and one data row of 15 cells). This module only adds what
HTML pages add: an encoding, Word-pasted markup, layout tables around the content, a table split
into two ``<table>`` elements, and portal chrome (nav, breadcrumbs, 索引号 box, sidebar, footer).
"""

from __future__ import annotations

import html

from xxgk.schemas.model import REQUESTS
from xxgk.synth.generate import PrintedDocument, PrintedTable, Span, printed_document
from xxgk.synth.report import SyntheticReport

#: Where table 三 is split when asked: inside the （三）不予公开 group, so the continuation
#: starts under two merged labels (三、本年度办理结果 and （三）不予公开), as Word splits it.
_SPLIT_BEFORE = "denied.process_info"


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def _positions(table: PrintedTable) -> list[list[tuple[int, Span]]]:
    """Each row's anchor spans with their starting column (merged cells from above skipped)."""
    taken: set[tuple[int, int]] = set()
    out: list[list[tuple[int, Span]]] = []
    for r, row in enumerate(table.rows):
        placed: list[tuple[int, Span]] = []
        c = 0
        for span in row:
            while (r, c) in taken:
                c += 1
            placed.append((c, span))
            for dr in range(span.rowspan):
                for dc in range(span.colspan):
                    taken.add((r + dr, c + dc))
            c += span.colspan
        out.append(placed)
    return out


def split_table(table: PrintedTable, cut: int) -> tuple[PrintedTable, PrintedTable]:
    """Two tables: rows before ``cut`` and the rest; a merged cell crossing the cut is clipped
    in the first part and continues as an empty merged cell in the second (Word's split)."""
    placed = _positions(table)
    first: list[list[Span]] = []
    carried: dict[int, int] = {}  # column -> rows of a merged cell still to cover after the cut
    for r in range(cut):
        row: list[Span] = []
        for c, span in placed[r]:
            if r + span.rowspan > cut:
                carried[c] = r + span.rowspan - cut
                span = Span(span.text, cut - r, span.colspan, span.key, span.header)
            row.append(span)
        first.append(row)
    second = [list(row) for row in table.rows[cut:]]
    if second:
        lead = [Span("", rowspan=carried[c]) for c in sorted(carried)]
        # Continuation cells come first in the row (group labels sit in the leftmost columns).
        second[0] = lead + second[0]
    return PrintedTable(table.name, first, table.ncols), PrintedTable(f"{table.name} (continued)", second, table.ncols)


class _Markup:
    """Cell markup: clean CMS HTML, or what Word's "save as web page" pastes into a CMS."""

    def __init__(self, word: bool) -> None:
        self.word = word

    @staticmethod
    def _spans(span: Span) -> str:
        out = ""
        if span.rowspan > 1:
            out += f' rowspan="{span.rowspan}"'
        if span.colspan > 1:
            out += f' colspan="{span.colspan}"'
        return out

    def cell(self, span: Span) -> str:
        attrs = self._spans(span)
        if not self.word:
            tag = "th" if span.header else "td"
            return f"<{tag}{attrs}>{html.escape(span.text).replace(chr(10), '<br>')}</{tag}>"
        if span.key is not None:  # a value: one run, &nbsp; for a blank, never split
            shown = html.escape(span.text) if span.text else "&nbsp;"
            return (
                f"<td{attrs} valign=center style='border-top:none;border-left:none;border-bottom:solid windowtext "
                "1.0pt;border-right:solid windowtext 1.0pt;padding:0cm 5.4pt 0cm 5.4pt'><p class=MsoNormal "
                "align=center style='text-align:center'><span lang=EN-US style='font-size:10.5pt;font-family:"
                f'"Times New Roman"\'>{shown}<o:p></o:p></span></p></td>'
            )
        lines = span.text.split("\n")
        runs = "<br>".join(self._runs(line) for line in lines) if span.text else ""
        return (
            f"<td{attrs} valign=center style='border:solid windowtext 1.0pt;mso-border-alt:solid windowtext .5pt;"
            "padding:0cm 5.4pt 0cm 5.4pt'><p class=MsoNormal align=center style='text-align:center'>"
            f"&nbsp;{runs}&nbsp;&nbsp;<o:p></o:p></p></td>"
        )

    @staticmethod
    def _runs(text: str) -> str:
        """A label the way Word saves it: split over <span>/<font> runs and conditional comments."""
        if len(text) < 3:
            return f"<span style='font-family:宋体'>{html.escape(text)}</span>"
        a, b = len(text) // 3, 2 * len(text) // 3
        return (
            f"<span style='font-family:宋体;mso-ascii-font-family:\"Times New Roman\"'>{html.escape(text[:a])}</span>"
            f"<span lang=EN-US>{html.escape(text[a:b])}</span>"
            f"<!--[if !supportLists]--><font face=宋体>{html.escape(text[b:])}</font><!--[endif]-->"
        )

    def table(self, table: PrintedTable) -> str:
        body = "".join("<tr>" + "".join(self.cell(s) for s in row) + "</tr>" for row in table.rows)
        if not self.word:
            return f'<table border="1" cellspacing="0" align="center"><tbody>{body}</tbody></table>'
        spacer = "".join("<td width=60 style='border:none'></td>" for _ in range(table.ncols))
        return (
            "<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 align=center "
            "style='border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt'><tbody>"
            f"{body}<![if !supportMisalignedColumns]><tr height=0>{spacer}</tr><![endif]></tbody></table>"
        )

    def paragraph(self, line: str) -> str:
        if self.word:
            text = html.escape(line)
            return f"<p class=MsoNormal style='text-indent:21.0pt'><span style='font-family:仿宋'>{text}</span></p>"
        return f'<p style="text-indent: 2em;">{html.escape(line)}</p>'

    def gap(self) -> str:
        return "<p class=MsoNormal><span lang=EN-US>&nbsp;<o:p></o:p></span></p>" if self.word else "<p>&nbsp;</p>"


def _requests_cut(table: PrintedTable) -> int:
    """Row index of table 三 before which a split puts the page break (see ``_SPLIT_BEFORE``)."""
    for r, row in enumerate(table.rows):
        if any(s.key is not None and s.key[1] == _SPLIT_BEFORE for s in row):
            return r
    return len(table.rows) // 2


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------


def _content(doc: PrintedDocument, m: _Markup, *, split: bool, nested: bool) -> str:
    parts: list[str] = []
    if m.word:
        parts.append(f"<p class=MsoNormal align=center style='text-align:center'><b>{html.escape(doc.title)}</b></p>")
    for block in doc.blocks:
        if isinstance(block, str):
            if block.strip():
                parts.append(m.paragraph(block))
            continue
        tables = [block]
        if split and block.name == REQUESTS:
            tables = list(split_table(block, _requests_cut(block)))
        rendered = [m.table(t) for t in tables]
        if nested:  # each table in a one-cell layout table, as some CMS editors wrap them
            rendered = [
                f'<table width="100%" border="0"><tr><td align="center">{t}</td></tr></table>' for t in rendered
            ]
        parts.append(m.gap().join(rendered))
    body = "".join(parts)
    if m.word:
        body = f"<div class=WordSection1 style='layout-grid:15.6pt'>{body}</div>"
    return body


def _chrome(doc: PrintedDocument, content: str, nested: bool) -> str:
    """Portal chrome: nav, breadcrumbs, the 索引号 box, a sidebar of links and a footer."""
    title = html.escape(doc.title)
    publisher = html.escape(doc.publisher)
    year = doc.year or 2020
    published = doc.published or f"{year + 1}-01-20"
    nav = "".join(
        f'<li><a href="/{i}/">{name}</a></li>'
        for i, name in enumerate(("首页", "政务公开", "政务服务", "互动交流", "走进本地", "专题专栏"))
    )
    sidebar = "".join(
        f'<li><a href="/nb/{y}.htm">{publisher}{y}年政府信息公开工作年度报告</a></li>'
        for y in range(year - 1, year - 4, -1)
    )
    meta_box = (
        f'<table class="xxgk_info"><tr><td>索引号：</td><td>000014349/{year + 1}-00012</td>'
        f"<td>发布机构：</td><td>{publisher}</td></tr><tr><td>发文日期：</td><td>{published}</td>"
        "<td>主题分类：</td><td>政府信息公开年报</td></tr></table>"
    )
    article = (
        f'<div class="article">{meta_box}<h1 class="article_title">{title}</h1>'
        f'<div class="article_info">来源：{publisher}办公室　发布时间：{published}</div>'
        f'<div class="article_content TRS_Editor">{content}</div></div>'
    )
    side = f'<div class="sidebar"><h3>相关链接</h3><ul>{sidebar}</ul></div>'
    if nested:
        main = (
            '<table width="1000" border="0" cellpadding="0" align="center"><tr>'
            f'<td width="240" valign="top">{side}</td><td valign="top">{article}</td></tr></table>'
        )
    else:
        main = f'<div class="main">{side}{article}</div>'
    return (
        f'<div class="header"><div class="logo">{publisher}</div><ul class="nav">{nav}</ul></div>'
        '<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; '
        '<a href="/zwgk/nb/">政府信息公开年报</a></div>'
        f"{main}"
        f'<div class="footer"><p>主办单位：{publisher}　承办单位：信息中心</p>'
        '<p>网站标识码：3500000001　<a href="https://beian.miit.gov.cn">闽ICP备00000000号</a></p>'
        '<script type="text/javascript">var _hmt = _hmt || []; /* 统计代码 */</script></div>'
    )


def _declaration(encoding: str) -> str:
    if encoding.lower().replace("-", "").replace("_", "") == "utf8":
        return f'<meta charset="{encoding}">'
    return f'<meta http-equiv="Content-Type" content="text/html; charset={encoding}">'


def render_html(
    report: SyntheticReport | PrintedDocument,
    *,
    encoding: str = "utf-8",
    word_markup: bool = False,
    nested_layout: bool = False,
    split_requests: bool = False,
    chrome: bool = True,
) -> bytes:
    """The report as the bytes of an HTML page, declared and encoded in ``encoding``.

    ``word_markup`` prints cells as Word does (runs, ``&nbsp;``, ``<o:p>``, conditional comments,
    a zero-height spacer row); ``nested_layout`` wraps the page and each table in layout tables;
    ``split_requests`` splits table 三 into two ``<table>`` elements; ``chrome`` adds the portal
    around the article. Characters the encoding lacks become numeric character references, as
    CMSs write them. Legacy and non-report ``PrintedDocument`` objects render the same way.
    """
    doc = printed_document(report) if isinstance(report, SyntheticReport) else report
    m = _Markup(word_markup)
    content = _content(doc, m, split=split_requests, nested=nested_layout)
    if chrome:
        body = _chrome(doc, content, nested_layout)
    elif nested_layout:
        body = f'<table width="100%" border="0"><tr><td>{content}</td></tr></table>'
    else:
        body = content
    title = html.escape(doc.title)
    page_title = f"{title}_政府信息公开年报_{html.escape(doc.publisher)}" if chrome else title
    word_head = (
        '<meta name=ProgId content=Word.Document><meta name=Generator content="Microsoft Word 15">'
        "<!--[if gte mso 9]><xml><w:WordDocument><w:View>Normal</w:View></w:WordDocument></xml><![endif]-->"
        "<style><!-- p.MsoNormal {margin:0cm;font-size:10.5pt;} --></style>"
        if word_markup
        else ""
    )
    page = (
        f"<!DOCTYPE html>\n<html><head>{_declaration(encoding)}<title>{page_title}</title>{word_head}</head>"
        f"<body>{body}</body></html>\n"
    )
    return page.encode(encoding, errors="xmlcharrefreplace")
