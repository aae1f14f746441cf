"""Hanweb jcms (大汉) sites: listing entries hidden in a ``<script type="text/xml">`` datastore.

The listing HTML carries its entries as ``<record><![CDATA[<li><a href=...>…</a></li>]]></record>``
inside a script (or a ``dataproxy.jsp`` response returns the same XML), so an HTML parser sees no
anchors there. Article URLs look like ``/art/2024/1/30/art_1229_123456.html``. Further pages come
from ``dataproxy.jsp?startrecord=…&endrecord=…&perpage=…`` URLs (POSTed by the page), which registry
entries may list directly as listing URLs where the host answers GET (unverified).
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from xxgk.harvest.discovery import GenericAdapter, absolute, anchor_title, soup_of

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)


class HanwebAdapter(GenericAdapter):
    """Hanweb jcms: read anchors out of datastore records as well as the page itself."""

    name = "hanweb"

    def candidate_anchors(self, soup: BeautifulSoup, html: str, url: str) -> list[tuple[str, str]]:
        out = super().candidate_anchors(soup, html, url)
        for rec in _RECORD.finditer(html):
            for a in soup_of(rec.group(1)).find_all("a"):
                target = absolute(url, a.get("href"))
                if target:
                    out.append((target, anchor_title(a)))
        return out
