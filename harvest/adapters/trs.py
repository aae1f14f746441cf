"""TRS WCM (拓尔思) sites, e.g. www.pingtan.gov.cn, many 区/县 portals.

Quirks handled (see docs/sources.md):
- listings are static pages ``index.htm``, ``index_1.htm`` … announced only by a script call
  ``createPageHTML(pageCount, currentPage, "index", "htm")`` (newer templates:
  ``createPageHTML('div_id', pageCount, currentPage, 'index', 'shtml', records)``, and the count
  may be a ``var``), so there is no "下一页" anchor to follow;
- some listings write their entries with ``document.write`` from script variables; article URLs
  have the form ``./YYYYMM/tYYYYMMDD_<id>.htm(l)``;
- the article body sits in ``div.TRS_Editor``; attachments (the 全真版 PDF) are listed in script
  arrays ``apps``/``apps1`` (``{url: "...", name: "..."}``) filled in by JavaScript.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from xxgk.harvest.discovery import GenericAdapter, Link, absolute, clean_text, find_year

_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_ARTICLE_URL = re.compile(r"""["'](\.{0,2}/?(?:[\w-]+/)*\d{6}/t\d{8}_\d+\.s?html?)["']""")
_QUOTED = re.compile(r"""["']([^"'<>]{6,200})["']""")
_JS_ATTACHMENT = re.compile(
    r"""["']?url["']?\s*:\s*["']([^"']+?\.(?:pdf|docx?|wps|xlsx?|ofd))["']"""
    r"""(?:\s*,\s*["']?name["']?\s*:\s*["']([^"']*)["'])?""",
    re.I,
)


def _args(arglist: str, html: str) -> list[str | int]:
    out: list[str | int] = []
    for raw in arglist.split(","):
        a = raw.strip()
        if not a:
            continue
        if a[0] in "\"'":
            out.append(a.strip("\"'"))
        elif a.lstrip("-").isdigit():
            out.append(int(a))
        else:  # a variable: look for `var name = 12`
            m = re.search(rf"\b{re.escape(a)}\s*=\s*(\d+)", html)
            out.append(int(m.group(1)) if m else a)
    return out


def trs_page_urls(html: str, url: str) -> list[str]:
    """The listing pages announced by ``createPageHTML`` (all of them, page 0 = ``index.htm``)."""
    m = _CREATE_PAGE.search(html)
    if not m:
        return []
    args = _args(m.group(1), html)
    if args and isinstance(args[0], str) and len(args) >= 5:  # ('div', count, current, prefix, suffix, ...)
        args = args[1:]
    if len(args) < 4 or not isinstance(args[0], int) or not isinstance(args[2], str) or not isinstance(args[3], str):
        return []
    count, prefix, suffix = args[0], args[2], args[3]
    return [urljoin(url, f"{prefix}.{suffix}" if i == 0 else f"{prefix}_{i}.{suffix}") for i in range(min(count, 500))]


class TrsAdapter(GenericAdapter):
    """TRS WCM: script pagination, script-written listings, ``TRS_Editor`` body, script attachments."""

    name = "trs"

    def next_pages(self, soup: BeautifulSoup, html: str, url: str) -> list[str]:
        pages = [p for p in trs_page_urls(html, url) if p != url]
        return list(dict.fromkeys([*pages, *super().next_pages(soup, html, url)]))

    def candidate_anchors(self, soup: BeautifulSoup, html: str, url: str) -> list[tuple[str, str]]:
        out = super().candidate_anchors(soup, html, url)
        for script in soup.find_all("script"):
            text = script.string or script.get_text()
            for m in _ARTICLE_URL.finditer(text):
                target = absolute(url, m.group(1))
                if not target:
                    continue
                # the title is the next quoted string near the URL (document.write templates)
                window = text[m.end() : m.end() + 400]
                titles = [clean_text(q.group(1)) for q in _QUOTED.finditer(window)]
                titles = [t for t in titles if find_year(t) is not None]
                if titles:
                    out.append((target, titles[0]))
        return out

    def content_root(self, soup: BeautifulSoup) -> Tag:
        for sel in ("div.TRS_Editor", "div.trs_editor_view", "div.article_content", "div#zoom"):
            el = soup.select_one(sel)
            if el is not None:
                return el
        return soup

    def attachments(self, soup: BeautifulSoup, html: str, url: str) -> list[Link]:
        found = {a.url: a for a in super().attachments(soup, html, url)}
        for script in soup.find_all("script"):
            text = script.string or script.get_text()
            for m in _JS_ATTACHMENT.finditer(text):
                target = absolute(url, m.group(1).replace("\\/", "/"))
                if target and target not in found:
                    name = clean_text(m.group(2) or "")
                    found[target] = Link(target, name, find_year(name))
        return list(found.values())
