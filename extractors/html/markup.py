"""What an HTML page shows as text: the tag classes, whitespace rules and the one text walk.

Cells, the report's content and its title are all read through ``walk_text``, so a page's
text is the same whichever stage asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml.html import HtmlElement

#: Elements whose content the page does not show as text.
SKIP_TAGS = frozenset(
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
#: Whitespace a page shows as one space (HTML's, no-break, ideographic, thin and zero-width).
WS_RE = re.compile(r"[ \t\r\n\f\v\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")
_LINE_WS_RE = re.compile(r"[ \r\f\v\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")
_TAB_RE = re.compile(r" ?\t ?")
_HIDDEN_RE = re.compile(r"display\s*:\s*none|mso-hide\s*:\s*all", re.I)


def _is_hidden(el: HtmlElement) -> bool:
    style = el.get("style")
    return (style is not None and bool(_HIDDEN_RE.search(style))) or el.get("hidden") is not None


def clean_lines(parts: list[str], sep: str = "\n") -> str:
    """Collapse whitespace inside each line, drop empty lines: what the page shows."""
    lines = (_TAB_RE.sub("\t", _LINE_WS_RE.sub(" ", line)).strip() for line in "".join(parts).split("\n"))
    return sep.join(line for line in lines if line)


def walk_text(
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
        if not isinstance(tag, str) or tag in SKIP_TAGS or (in_cell and _is_hidden(item)):
            if tail:
                parts.append(WS_RE.sub(" ", tail))
            continue
        if tag == "br" or (tag == "table" and on_table is not None and on_table(item)):
            parts.append("\n")
            if tail:
                parts.append(WS_RE.sub(" ", tail))
            continue
        block = tag in _BLOCK_TAGS or (in_cell and tag in ("td", "th"))
        if tail:
            stack.append(WS_RE.sub(" ", tail))
        if block:
            stack.append("\n")
        stack.extend(reversed(item))
        if item.text:
            stack.append(WS_RE.sub(" ", item.text))
        if block:
            stack.append("\n")
        elif tag in ("td", "th"):
            stack.append("\t")
