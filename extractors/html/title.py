"""The report's title: portal pages name the site, the column and the report in many places.

The evidence is ranked (a heading naming a 年度报告 beats the CMS meta, which beats the content's
first lines and the ``<title>``), so a sidebar column heading never wins over the report's own.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from xxgk.extractors.html.content import Page
from xxgk.extractors.html.markup import WS_RE
from xxgk.schemas import lexicon as lx

_TITLE_WORDS = (lx.ANNUAL_REPORT, lx.ANNUAL_REPORT_SHORT)
_YEAR_RE = re.compile(r"20\d\d")


def _text_of(el: HtmlElement) -> str:
    return WS_RE.sub(" ", " ".join(el.itertext())).strip()


def _title_segment(title: str) -> str:
    segments = [s.strip() for s in re.split(r"\s*[_|｜]\s*|\s+[-–—]\s+|——", title) if s.strip()]
    for word in _TITLE_WORDS:
        for seg in segments:
            if word in seg:
                return seg
    return segments[0] if segments else ""


def find_title(page: Page, content_text: str) -> str:
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
            return WS_RE.sub(" ", content).strip()
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
