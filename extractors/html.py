"""HTML report pages → grids and text.

Reports are published as CMS pages (often GBK, with portal chrome around the article) or as
fragments pasted from Word (labels split over ``<span>``/``<font>``/``<o:p>``, ``&nbsp;`` padding,
merged cells). This module decodes the bytes, finds the report's content among the chrome and
turns every statistical ``<table>`` into a :class:`schemas.grid.Grid` with merged cells expanded.
It knows nothing of canonical keys: ``schemas.mapping`` reads the grids.

Parsing is lxml.html (libxml2) directly: BeautifulSoup over the same parser builds the same tree
but costs ~15x more (≈ 17 ms of a 108 KB page vs ≈ 1 ms), which alone used up the 25 ms budget
per 100 KB on Word-pasted pages. Comments (including Word's conditional ``<![if ...]>``) are
dropped by the parser. Bytes become text by the one charset policy, ``extractors.decoding``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from xxgk.extractors.base import MAX_GRID_CELLS, ExtractionError, RawDocument, grid_size_reason
from xxgk.extractors.decoding import decode_bytes
from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Cell, Grid

FORMAT = "html"

# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def decode_html(
    data: bytes,
    *,
    http_charset: str | None = None,
    source_encoding: str | None = None,
    warnings: list[str] | None = None,
) -> tuple[str, str]:
    """Decode an HTML page by the charset policy of ``extractors.decoding``; returns (text, encoding).

    ``source_encoding`` is the per-source override, ``http_charset`` the declared charset; the
    page's own ``<meta>`` is read. What was ignored or replaced is appended to ``warnings``; an
    empty or mostly undecodable page raises ``ExtractionError("failed", ...)``.
    """
    if not data or not data.strip():
        raise ExtractionError("failed", "empty HTML document")
    decoded = decode_bytes(data, declared=http_charset, override=source_encoding, what="HTML")
    if warnings is not None:
        warnings.extend(decoded.notes)
    return decoded.text, decoded.encoding


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

#: A table cell holding more text than this is a page-layout cell wrapping prose, not a statistic.
_LAYOUT_CELL_CHARS = 300
#: The content root is the deepest element holding at least this share of the page's non-link CJK text.
_CONTENT_SHARE = 0.5
#: A table with less than this share of its CJK text outside links is a table of links.
_LINK_TABLE_SHARE = 0.3
_TITLE_WORDS = (lx.ANNUAL_REPORT, lx.ANNUAL_REPORT_SHORT)
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
        if sum(1 for label in lx.METADATA_LABELS if label in text) >= 2:
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
    return any(m in text for m in lx.TABLE_ONLY_WORDS)


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
        if lx.ANNUAL_REPORT in text:
            return text
    for meta in page.metas:
        key = (meta.get("name") or meta.get("property") or "").lower()
        content = meta.get("content") or ""
        if key in ("articletitle", "og:title", "title") and lx.ANNUAL_REPORT in content:
            return _WS_RE.sub(" ", content).strip()
    for line in content_text.split("\n")[:20]:
        if lx.ANNUAL_REPORT in line and len(line) <= 80:
            return line.strip()
    for text in headings:
        if lx.ANNUAL_REPORT_SHORT in text and _YEAR_RE.search(text):
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
