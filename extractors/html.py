"""HTML report pages → grids and text.

Reports are published as CMS pages (often GBK, with portal chrome around the article) or as
fragments pasted from Word (labels split over ``<span>``/``<font>``/``<o:p>``, ``&nbsp;`` padding,
merged cells). This module decodes the bytes, finds the report's content among the chrome and
turns every statistical ``<table>`` into a :class:`schemas.grid.Grid` with merged cells expanded.
It knows nothing of canonical keys: ``schemas.mapping`` reads the grids.

Parsing is lxml.html (libxml2) directly: BeautifulSoup over the same parser builds the same tree
but costs ~15x more (≈ 17 ms of a 108 KB page vs ≈ 1 ms), which alone used up the 25 ms budget
per 100 KB on Word-pasted pages. Comments (including Word's conditional ``<![if ...]>``) are
dropped by the parser. Declared charsets are read with BeautifulSoup's ``EncodingDetector``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

import lxml.etree
import lxml.html
from bs4.dammit import EncodingDetector
from lxml.html import HtmlElement

from xxgk.extractors.base import MAX_GRID_CELLS, ExtractionError, RawDocument, grid_size_reason
from xxgk.schemas.grid import Cell, Grid

FORMAT = "html"

# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------

#: Every GB-family label decodes as gb18030, the superset: pages declared gb2312 routinely
#: contain GBK-only characters (e.g. rare surnames, 〇) that a strict gb2312 codec rejects.
_GB_FAMILY = {
    "gb2312",
    "gbk",
    "gb18030",
    "gb_2312",
    "gb_2312-80",
    "x-gbk",
    "x-gb2312",
    "cp936",
    "ms936",
    "csgb2312",
    "chinese",
    "iso-ir-58",
    "euc-cn",
    "euccn",
    "936",
    "windows-936",
}
#: Single-byte Western charsets: servers send them as a default; a Chinese report cannot be in one.
_WESTERN = {"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)
#: Share of replaced characters (among non-ASCII ones) above which a page is undecodable.
_MAX_REPLACED_SHARE = 0.05


def normalise_charset(name: str | bytes | None) -> str | None:
    """Python codec name for a declared charset, GB family mapped to gb18030; None if unknown."""
    if name is None:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    label = name.strip().strip("\"'").lower()
    if "charset=" in label:  # a whole Content-Type value was passed
        label = label.split("charset=", 1)[1].split(";")[0].strip().strip("\"'")
    if not label:
        return None
    if label in _GB_FAMILY:
        return "gb18030"
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return None
    if codec in {"gbk", "gb2312", "gb18030"}:
        return "gb18030"
    if codec == "utf-8-sig":
        return "utf-8"
    return codec


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _meta_charset(data: bytes) -> str | None:
    """The charset the page declares (``<?xml encoding>`` or the first ``<meta>``), via BeautifulSoup.

    Pages pasted together from a CMS template and a Word export carry two declarations, the
    second inside ``<body>``; the first one, in the head, is the one the browser used.
    """
    declared = EncodingDetector.find_declared_encoding(data, is_html=True, search_entire_document=True)
    enc = normalise_charset(declared)
    if enc is not None and enc.startswith(("utf-16", "utf-32")):
        return "utf-8"  # a meta can only be read at all if the page is ASCII-compatible
    return enc


def decode_html(
    data: bytes,
    *,
    http_charset: str | None = None,
    source_encoding: str | None = None,
    warnings: list[str] | None = None,
) -> tuple[str, str]:
    """Decode an HTML page; returns (text, encoding_used).

    Order: BOM, HTTP charset, ``<meta>`` (head first), the per-source setting, then detection
    restricted to utf-8/gb18030 (generic detectors misread short GBK pages as Korean). A
    declaration is used only if the bytes decode strictly under it; when a legacy charset is
    declared but the bytes are valid UTF-8 with non-ASCII content, UTF-8 wins (GB text is
    practically never valid UTF-8, while mis-declared UTF-8 pages are common). Replacement
    characters are a last resort and always reported in ``warnings``; a page that would be
    mostly replaced raises ``ExtractionError("failed", ...)``.
    """
    notes: list[str] = [] if warnings is None else warnings
    if not data or not data.strip():
        raise ExtractionError("failed", "empty HTML document")

    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            text = _strict(data, codec)
            if text is None:
                text = data.decode(codec, errors="replace")
                _check_replaced(text, name, notes)
            return text.lstrip("\ufeff"), name

    has_non_ascii = not data.isascii()
    utf8_text = _strict(data, "utf-8") if has_non_ascii else None
    candidates = (
        ("HTTP charset", normalise_charset(http_charset), http_charset),
        ("<meta> charset", _meta_charset(data), None),
        ("source setting", normalise_charset(source_encoding), source_encoding),
    )
    for origin, enc, given in candidates:
        if enc is None:
            if given:
                notes.append(f"{origin} {given!r} is not a known encoding; ignored")
            continue
        if enc in _WESTERN and has_non_ascii:
            notes.append(f"{origin} {enc} ignored: a Chinese report cannot be in a single-byte Western charset")
            continue
        if enc != "utf-8" and utf8_text is not None:
            notes.append(f"{origin} says {enc} but the bytes are valid UTF-8; decoded as utf-8")
            return utf8_text, "utf-8"
        text = _strict(data, enc)
        if text is not None:
            return text, enc
        notes.append(f"{origin} {enc} does not decode the page; trying the next source of the encoding")

    if not has_non_ascii:
        return data.decode("ascii"), "ascii"
    if utf8_text is not None:
        return utf8_text, "utf-8"
    text = _strict(data, "gb18030")
    if text is not None:
        return text, "gb18030"

    # Last resort: the candidate that loses the fewest characters, loudly.
    best = min(
        ((data.decode(enc, errors="replace"), enc) for enc in ("utf-8", "gb18030")),
        key=lambda pair: pair[0].count("\ufffd"),
    )
    _check_replaced(best[0], best[1], notes)
    return best


def _check_replaced(text: str, encoding: str, notes: list[str]) -> None:
    replaced = text.count("\ufffd")
    non_ascii = sum(1 for ch in text if ord(ch) > 127) or 1
    if replaced / non_ascii > _MAX_REPLACED_SHARE:
        raise ExtractionError(
            "failed",
            f"undecodable HTML: {replaced} of {non_ascii} non-ASCII characters invalid even as {encoding}",
        )
    notes.append(f"{replaced} undecodable byte sequence(s) replaced with U+FFFD while decoding as {encoding}")


# --------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------

_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "head",
        "title",
        "meta",
        "link",
        "iframe",
        "object",
        "embed",
        "select",
        "option",
        "textarea",
        "svg",
        "math",
        "xml",
        "input",
    }
)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "tr",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "caption",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "nav",
        "blockquote",
        "pre",
        "hr",
        "center",
        "form",
        "address",
        "figure",
        "figcaption",
        "body",
        "fieldset",
        "legend",
        "details",
        "summary",
    }
)
_WS_RE = re.compile(r"[ \t\r\n\f\v\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")
_LINE_WS_RE = re.compile(r"[ \r\f\v\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")
_TAB_RE = re.compile(r" ?\t ?")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_HIDDEN_RE = re.compile(r"display\s*:\s*none|mso-hide\s*:\s*all", re.I)
_ZERO_HEIGHT_RE = re.compile(r"(?:^|;)\s*height\s*:\s*0(?:\.0+)?\s*(?:pt|px|cm|mm|in)?\s*(?:;|$)", re.I)
_SPAN_RE = re.compile(r"\s*(\d+)")
_MAX_COLSPAN = 1000
_MAX_ROWSPAN = 65534

#: Words that only the statistical tables of a report print (national and pre-2019 formats).
_REPORT_MARKERS = (
    "信息内容",
    "第二十条",
    "本年新收",
    "上年结转",
    "申请人情况",
    "自然人",
    "法人或其他组织",
    "予以公开",
    "不予公开",
    "结转下年度",
    "本年制发",
    "本年新制作",
    "处理决定",
    "行政复议",
    "行政诉讼",
    "当面申请",
    "同意公开",
    "历年累计",
    "指标名称",
)
#: Labels of the metadata box a CMS prints above an article (索引号/发布机构/...).
_METADATA_LABELS = (
    "索引号",
    "发布机构",
    "发文机关",
    "发文日期",
    "成文日期",
    "发布日期",
    "生效日期",
    "废止日期",
    "文号",
    "主题分类",
    "组配分类",
    "体裁分类",
    "信息分类",
    "主题词",
    "关键词",
    "信息来源",
    "公开方式",
    "公开范围",
    "有效性",
    "所属机构",
    "内容概述",
    "公开时限",
)
#: A table cell holding more text than this is a page-layout cell wrapping prose, not a statistic.
_LAYOUT_CELL_CHARS = 300
#: The content root is the deepest element holding at least this share of the page's non-link CJK text.
_CONTENT_SHARE = 0.5
#: A table with less than this share of its CJK text outside links is a table of links.
_LINK_TABLE_SHARE = 0.3
_TITLE_WORDS = ("年度报告", "年报")
_YEAR_RE = re.compile(r"20\d\d")
_XML_DECL_TEXT_RE = re.compile(r"<\?xml[^>]*\?>")


def _is_hidden(el: HtmlElement) -> bool:
    style = el.get("style")
    return (style is not None and bool(_HIDDEN_RE.search(style))) or el.get("hidden") is not None


def _clean_lines(parts: list[str], sep: str = "\n") -> str:
    """Collapse whitespace inside each line, drop empty lines: what the page shows."""
    lines = (_TAB_RE.sub("\t", _LINE_WS_RE.sub(" ", line)).strip() for line in "".join(parts).split("\n"))
    return sep.join(line for line in lines if line)


def _span(value: str | None, limit: int, zero: int) -> int:
    """A rowspan/colspan the way browsers read it: leading digits, junk → 1, 0 → ``zero``."""
    if value is None:
        return 1
    m = _SPAN_RE.match(value)
    if not m:
        return 1
    n = int(m.group(1))
    if n == 0:
        return zero
    return min(n, limit)


def _walk(
    root: HtmlElement,
    parts: list[str],
    *,
    in_cell: bool,
    on_table: Callable[[HtmlElement], bool] | None = None,
) -> None:
    """Append the text ``root`` shows to ``parts``: blocks and ``<br>`` as line breaks.

    In a cell, hidden runs are dropped and nested cells are lines; in the content, cells are
    tab-separated and ``on_table`` may take over a table (returns True when it did).
    Iterative, so pathological nesting cannot hit the recursion limit.
    """
    stack: list[HtmlElement | str] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        tag = item.tag
        tail = item.tail if item is not root else None
        if not isinstance(tag, str) or tag in _SKIP_TAGS or (in_cell and _is_hidden(item)):
            if tail:
                parts.append(_WS_RE.sub(" ", tail))
            continue
        if tag == "br" or (tag == "table" and on_table is not None and on_table(item)):
            parts.append("\n")
            if tail:
                parts.append(_WS_RE.sub(" ", tail))
            continue
        block = tag in _BLOCK_TAGS or (in_cell and tag in ("td", "th"))
        if tail:
            stack.append(_WS_RE.sub(" ", tail))
        if block:
            stack.append("\n")
        stack.extend(reversed(item))
        if item.text:
            stack.append(_WS_RE.sub(" ", item.text))
        if block:
            stack.append("\n")
        elif tag in ("td", "th"):
            stack.append("\t")


def cell_text(td: HtmlElement) -> str:
    """The text a cell shows: Word runs joined, ``<br>``/``<p>`` as line breaks, hidden text dropped."""
    if len(td) == 0:  # no markup inside: the common case outside Word pastes
        return _WS_RE.sub(" ", td.text).strip() if td.text else ""
    parts: list[str] = []
    _walk(td, parts, in_cell=True)
    return _clean_lines(parts)


def _own_rows(container: HtmlElement) -> list[tuple[HtmlElement, list[HtmlElement]]]:
    """The rows of a table as (row element, cells), not those of nested tables.

    Rows sit directly under the table or under thead/tbody/tfoot (or a stray wrapper such as
    ``<form>``); a run of ``<td>`` with no ``<tr>`` is one implied row, as browsers read it.
    """
    rows: list[tuple[HtmlElement, list[HtmlElement]]] = []
    loose: list[HtmlElement] = []
    for child in container:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP_TAGS:
            continue
        if tag in ("td", "th"):
            loose.append(child)
            continue
        if loose:
            rows.append((container, loose))
            loose = []
        if tag == "tr":
            rows.append((child, _own_cells(child)))
        elif tag not in ("table", "caption", "colgroup", "col"):
            rows.extend(_own_rows(child))
    if loose:
        rows.append((container, loose))
    return rows


def _own_cells(tr: HtmlElement) -> list[HtmlElement]:
    """The cells of a row, looking through stray wrappers (``<tr><div><td>``) but not into cells."""
    cells: list[HtmlElement] = []
    for child in tr:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag in ("td", "th"):
            cells.append(child)
        elif tag not in ("table", "tr") and tag not in _SKIP_TAGS:
            cells.extend(_own_cells(child))
    return cells


def _is_spacer_row(tr: HtmlElement, cells: list[HtmlElement]) -> bool:
    """Word's zero-height row (``supportMisalignedColumns``) that only fixes column widths."""
    height = tr.get("height")
    style = tr.get("style")
    zero = (height is not None and height.strip() in ("0", "0px")) or (
        style is not None and bool(_ZERO_HEIGHT_RE.search(style))
    )
    return zero and all(not cell_text(c) for c in cells)


class CellBudget:
    """How many grid positions a page may still expand into (``MAX_GRID_CELLS`` for all its tables)."""

    def __init__(self, limit: int = MAX_GRID_CELLS) -> None:
        self.limit = limit
        self.left = limit

    def take(self, n: int, locator: str) -> None:
        """Spend ``n`` positions before they are allocated; ExtractionError(failed) past the bound."""
        self.left -= n
        if self.left < 0:
            raise ExtractionError("failed", grid_size_reason(f"{locator} (rowspan/colspan)", self.limit))


def table_to_grid(
    table: HtmlElement, locator: str, warnings: list[str] | None = None, budget: CellBudget | None = None
) -> Grid:
    """Expand one ``<table>`` into a grid: every merged cell copied into each position it covers.

    Copies carry ``span_of`` = the anchor (row, col). Rowspans running past the last row are
    clipped (browsers do the same); rows with no cell at all are dropped and the rest renumbered;
    a position no cell covers (ragged markup) gets an empty cell with a note, never a value.
    Every position a cell asks for (overlapping ones too) is taken from ``budget`` before it is
    expanded, so a few KB of spans cannot expand into GBs (the page fails naming the bound).
    """
    notes: list[str] = [] if warnings is None else warnings
    budget = budget or CellBudget()
    trs = [cells for tr, cells in _own_rows(table) if not (cells and _is_spacer_row(tr, cells))]
    nrows = len(trs)
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    texts: dict[tuple[int, int], str] = {}
    for r, cells in enumerate(trs):
        c = 0
        for td in cells:
            while (r, c) in owner:
                c += 1
            rowspan = _span(td.get("rowspan"), _MAX_ROWSPAN, nrows - r)
            colspan = _span(td.get("colspan"), _MAX_COLSPAN, 1)
            if r + rowspan > nrows:
                notes.append(f"{locator}: rowspan {rowspan} at row {r} col {c} runs past the table end; clipped")
                rowspan = nrows - r
            budget.take(rowspan * colspan, locator)
            texts[(r, c)] = cell_text(td)
            for dr in range(rowspan):
                for dc in range(colspan):
                    pos = (r + dr, c + dc)
                    if pos in owner:
                        notes.append(f"{locator}: cells overlap at row {pos[0]} col {pos[1]}; kept the first")
                        continue
                    owner[pos] = (r, c)
            c += colspan

    widths: dict[int, int] = {}
    for r, c in owner:
        widths[r] = max(widths.get(r, 0), c + 1)
    kept = sorted(widths)
    renumber = {old: new for new, old in enumerate(kept)}
    rows: list[list[Cell]] = []
    for old_r in kept:
        new_r = renumber[old_r]
        row: list[Cell] = []
        for c in range(widths[old_r]):
            anchor = owner.get((old_r, c))
            if anchor is None:
                row.append(Cell("", new_r, c, note="no cell at this position in the source table"))
                continue
            span_of = None if anchor == (old_r, c) else (renumber[anchor[0]], anchor[1])
            row.append(Cell(texts[anchor], new_r, c, span_of=span_of))
        rows.append(row)
    return Grid(rows=rows, locator=locator)


# --------------------------------------------------------------------------------------------
# Finding the content
# --------------------------------------------------------------------------------------------


def _element_text(el: HtmlElement) -> str:
    return "".join(el.itertext())


def _non_link_text(el: HtmlElement) -> str:
    """The text of ``el`` outside links, scripts and styles: menus are links, reports are not."""
    parts: list[str] = []
    stack: list[HtmlElement | str] = [el]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        if item is not el and item.tail:
            stack.append(item.tail)
        if not isinstance(item.tag, str) or item.tag in _SKIP_TAGS or item.tag == "a":
            continue
        stack.extend(reversed(item))
        if item.text:
            stack.append(item.text)
    return "".join(parts)


class _Page:
    """One pass over the parsed page: CJK text per element, the tables and title candidates.

    Per-element answers are keyed by ``id()``; ``self.elements`` keeps every lxml proxy alive
    for the page's lifetime, which is what makes those ids stable.
    """

    def __init__(self, doc: HtmlElement) -> None:
        self.doc = doc
        body = doc.find("body")
        self.body: HtmlElement = body if body is not None else doc
        self.elements: list[HtmlElement] = [el for el in doc.iter() if isinstance(el.tag, str)]
        self.totals: dict[int, int] = {}
        self.tables: list[HtmlElement] = []
        self.headings: list[HtmlElement] = []
        self.metas: list[HtmlElement] = []
        self._nesting: set[int] = set()
        self._layout: dict[int, bool] = {}
        self._text: dict[int, str] = {}
        totals = self.totals
        for el in self.elements:
            tag = el.tag
            if tag == "table":
                self.tables.append(el)
            elif tag == "meta":
                self.metas.append(el)
            elif tag in ("h1", "h2", "h3") or (
                tag in ("div", "p", "span", "td", "strong") and "title" in (el.get("class") or "").lower()
            ):
                self.headings.append(el)
            if el.text and tag not in _SKIP_TAGS:
                n = len(_CJK_RE.findall(el.text))
                if n:
                    totals[id(el)] = totals.get(id(el), 0) + n
            if el.tail:
                n = len(_CJK_RE.findall(el.tail))
                parent = el.getparent()
                if n and parent is not None:
                    totals[id(parent)] = totals.get(id(parent), 0) + n
        # Children before parents; links, scripts and styles do not pass their text up.
        for el in reversed(self.elements):
            if el.tag in _SKIP_TAGS or el.tag == "a":
                continue
            n = totals.get(id(el), 0)
            parent = el.getparent()
            if n and parent is not None:
                totals[id(parent)] = totals.get(id(parent), 0) + n
        for table in self.tables:
            for parent in table.iterancestors("table"):
                self._nesting.add(id(parent))
                break

    def table_text(self, table: HtmlElement) -> str:
        """The table's text outside links, whitespace removed (what report markers are looked for in)."""
        key = id(table)
        if key not in self._text:
            self._text[key] = _WS_RE.sub("", _non_link_text(table))
        return self._text[key]

    def is_layout(self, table: HtmlElement) -> bool:
        """A table that arranges the page (wraps tables or prose) rather than printing statistics."""
        key = id(table)
        if key not in self._layout:
            self._layout[key] = self._classify_layout(table)
        return self._layout[key]

    def _classify_layout(self, table: HtmlElement) -> bool:
        if id(table) in self._nesting:
            return True
        cells = [c for _tr, row in _own_rows(table) for c in row]
        if len(cells) <= 1:
            return True
        for c in cells:
            text = _element_text(c)
            if len(text) > _LAYOUT_CELL_CHARS and len(_WS_RE.sub("", text)) > _LAYOUT_CELL_CHARS:
                return True
        return False

    def is_report_table(self, table: HtmlElement) -> bool:
        return not self.is_layout(table) and _has_marker(self.table_text(table))

    def is_chrome(self, table: HtmlElement) -> bool:
        """Portal furniture in table form: the CMS box of 索引号/发布机构/发文日期 above an
        article, or a table of links (navigation, related reports). Never one with report labels."""
        text = self.table_text(table)
        if _has_marker(text):
            return False
        if sum(1 for label in _METADATA_LABELS if label in text) >= 2:
            return True
        cjk = len(_CJK_RE.findall(_element_text(table)))
        return cjk > 0 and self.totals.get(id(table), 0) < _LINK_TABLE_SHARE * cjk

    def content_root(self) -> HtmlElement:
        """The element holding the report: descend while one child holds most of the page's prose.

        Links do not count (navigation is mostly links). The descent never enters a statistical
        table, and the root is widened to include every table that prints report labels, so a
        report whose tables sit in a sibling container is not cut in half.
        """
        totals = self.totals
        node = self.body
        whole = totals.get(id(node), 0)
        while whole:
            best: HtmlElement | None = None
            best_n = 0
            for child in node:
                if isinstance(child.tag, str) and child.tag not in _SKIP_TAGS:
                    n = totals.get(id(child), 0)
                    if n > best_n:
                        best, best_n = child, n
            if best is None or best_n < _CONTENT_SHARE * whole:
                break
            if best.tag == "table" and not self.is_layout(best):
                break
            node = best
        outside = [
            t
            for t in self.tables
            if t is not node and not any(p is node for p in t.iterancestors()) and self.is_report_table(t)
        ]
        if outside:
            node = _lowest_common_ancestor([node, *outside])
        return node


def _has_marker(text: str) -> bool:
    return any(m in text for m in _REPORT_MARKERS)


def _lowest_common_ancestor(nodes: list[HtmlElement]) -> HtmlElement:
    paths = [list(reversed([node, *node.iterancestors()])) for node in nodes]
    common = paths[0][0]
    for level in zip(*paths, strict=False):
        if all(n is level[0] for n in level):
            common = level[0]
        else:
            break
    return common


# --------------------------------------------------------------------------------------------
# Text and grids of the content, in one pass
# --------------------------------------------------------------------------------------------


def _content(page: _Page, root: HtmlElement, warnings: list[str]) -> tuple[str, list[Grid]]:
    """Plain text of the content (paragraphs as lines, table rows tab-separated) and its grids."""
    parts: list[str] = []
    grids: list[Grid] = []
    budget = CellBudget()

    def take_table(table: HtmlElement) -> bool:
        if page.is_layout(table):
            return False  # walked as blocks; its nested tables come through here
        if page.is_chrome(table):
            return True  # consumed: no grid, no text
        grid = table_to_grid(table, f"html table {len(grids) + 1}", warnings, budget)
        before = _clean_lines(parts[-40:]).rsplit("\n", 1)[-1]
        if before:
            grid.meta["preceding_text"] = before[:200]
        grids.append(grid)
        parts.append("\n")
        for row in grid.rows:
            parts.append("\t".join(c.text.replace("\n", " ") for c in row if not c.is_span_copy))
            parts.append("\n")
        return True

    _walk(root, parts, in_cell=False, on_table=take_table)
    return _clean_lines(parts), grids


def _text_of(el: HtmlElement) -> str:
    return _WS_RE.sub(" ", " ".join(el.itertext())).strip()


def _title_segment(title: str) -> str:
    segments = [s.strip() for s in re.split(r"\s*[_|｜]\s*|\s+[-–—]\s+|——", title) if s.strip()]
    for word in _TITLE_WORDS:
        for seg in segments:
            if word in seg:
                return seg
    return segments[0] if segments else ""


def _find_title(page: _Page, content_text: str) -> str:
    """The report's title, best evidence first.

    A heading (h1–h3 or a ``*title*`` class, not a link) naming a 年度报告; the CMS's
    ArticleTitle/og:title meta; a short early line of the content naming a 年度报告; a heading
    naming a year's 年报; the ``<title>`` segment naming one (the rest is the site name).
    Column headings such as 政府信息公开年报 in a sidebar carry no year and lose to all of these.
    """
    headings = [
        _text_of(el)
        for el in page.headings
        if not any(p.tag == "a" for p in el.iterancestors()) and el.find(".//a") is None
    ]
    headings = [h for h in headings if len(h) <= 120]
    for text in headings:
        if "年度报告" in text:
            return text
    for meta in page.metas:
        key = (meta.get("name") or meta.get("property") or "").lower()
        content = meta.get("content") or ""
        if key in ("articletitle", "og:title", "title") and "年度报告" in content:
            return _WS_RE.sub(" ", content).strip()
    for line in content_text.split("\n")[:20]:
        if "年度报告" in line and len(line) <= 80:
            return line.strip()
    for text in headings:
        if "年报" in text and _YEAR_RE.search(text):
            return text
    title = page.doc.find(".//title")
    if title is not None:
        return _title_segment(_text_of(title))
    return ""


def parse_html(text: str, warnings: list[str] | None = None) -> HtmlElement:
    """The lxml tree of a decoded page; ExtractionError when there is nothing to parse.

    libxml2 stops building the tree at a nesting depth of 256 (unclosed ``<font>`` runs in
    Word pastes get there) and says so only in its error log: the page is then parsed again
    without that limit, and if the parser still stops early a warning says content is missing.
    """
    notes: list[str] = [] if warnings is None else warnings
    # A unicode string may not carry an XML encoding declaration (XHTML pages): the bytes are
    # already decoded, so the declaration has nothing left to say.
    if "<?xml" in text[:1024]:
        text = _XML_DECL_TEXT_RE.sub("", text, count=1)
    fatal: list[str] = []
    for huge in (False, True):
        # One parser per call: lxml parsers must not be shared between threads.
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, huge_tree=huge)
        try:
            doc = lxml.html.document_fromstring(text, parser=parser)
        except (lxml.etree.ParserError, ValueError) as err:
            raise ExtractionError("failed", f"HTML document could not be parsed: {err}") from err
        fatal = [f"line {e.line}: {e.message}" for e in parser.error_log if e.level == lxml.etree.ErrorLevels.FATAL]
        if not fatal:
            return doc
    notes.append(f"HTML parser stopped early ({fatal[0]}); content after that point is missing")
    return doc


def extract_html(
    data: bytes,
    *,
    http_charset: str | None = None,
    source_encoding: str | None = None,
) -> RawDocument:
    """Grids of the report's tables, its plain text and title, from the bytes of an HTML page.

    Tables are numbered among the content's statistical tables (``html table N``); layout
    tables and CMS metadata boxes give no grid, tables nested in layout tables do.
    """
    warnings: list[str] = []
    text, _encoding = decode_html(data, http_charset=http_charset, source_encoding=source_encoding, warnings=warnings)
    page = _Page(parse_html(text, warnings))
    content_text, grids = _content(page, page.content_root(), warnings)
    if not content_text and not grids:
        raise ExtractionError("failed", "; ".join(["HTML document has no text and no tables", *warnings]))
    return RawDocument(
        format=FORMAT, grids=grids, text=content_text, title=_find_title(page, content_text), warnings=warnings
    )
