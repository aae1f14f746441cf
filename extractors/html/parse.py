"""Decoded text → an lxml tree, recovering from what libxml2 gives up on in real pages.

Parsing is lxml.html (libxml2) directly: BeautifulSoup over the same parser builds the same tree
but costs ~15x more (≈ 17 ms of a 108 KB page vs ≈ 1 ms), which alone used up the 25 ms budget
per 100 KB on Word-pasted pages. Comments (including Word's conditional ``<![if ...]>``) are
dropped by the parser.
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from xxgk.extractors.base import ExtractionError

_XML_DECL_TEXT_RE = re.compile(r"<\?xml[^>]*\?>")


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
