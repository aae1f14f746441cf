"""Finding the report among the portal chrome, and reading its text and grids in one pass.

CMS pages wrap a report in menus, link lists and metadata boxes, often laid out with tables.
``Page`` counts the CJK text outside links per element once, so the content root, layout
tables and chrome tables are each decided from those counts rather than by walking again.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from xxgk.extractors.html.markup import SKIP_TAGS, WS_RE, clean_lines, walk_text
from xxgk.extractors.html.tables import CellBudget, own_rows, table_to_grid
from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Grid

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
#: A table cell holding more text than this is a page-layout cell wrapping prose, not a statistic.
_LAYOUT_CELL_CHARS = 300
#: The content root is the deepest element holding at least this share of the page's non-link CJK text.
_CONTENT_SHARE = 0.5
#: A table with less than this share of its CJK text outside links is a table of links.
_LINK_TABLE_SHARE = 0.3


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
        if not isinstance(item.tag, str) or item.tag in SKIP_TAGS or item.tag == "a":
            continue
        stack.extend(reversed(item))
        if item.text:
            stack.append(item.text)
    return "".join(parts)


class Page:
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
            if el.text and tag not in SKIP_TAGS:
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
            if el.tag in SKIP_TAGS or el.tag == "a":
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
            self._text[key] = WS_RE.sub("", _non_link_text(table))
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
        cells = [c for _tr, row in own_rows(table) for c in row]
        if len(cells) <= 1:
            return True
        for c in cells:
            text = _element_text(c)
            if len(text) > _LAYOUT_CELL_CHARS and len(WS_RE.sub("", text)) > _LAYOUT_CELL_CHARS:
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
                if isinstance(child.tag, str) and child.tag not in SKIP_TAGS:
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


def read_content(page: Page, root: HtmlElement, warnings: list[str]) -> tuple[str, list[Grid]]:
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
        before = clean_lines(parts[-40:]).rsplit("\n", 1)[-1]
        if before:
            grid.meta["preceding_text"] = before[:200]
        grids.append(grid)
        parts.append("\n")
        for row in grid.rows:
            parts.append("\t".join(c.text.replace("\n", " ") for c in row if not c.is_span_copy))
            parts.append("\n")
        return True

    walk_text(root, parts, in_cell=False, on_table=take_table)
    return clean_lines(parts), grids
