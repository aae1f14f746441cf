"""A fake government site on 127.0.0.1 for tests and the demo: listings, reports, faults.

``serve_portal(spec)`` starts a real HTTP server (threads, stdlib) serving sites built from
seeded synthetic reports (``synth.generate``): listing pages with pagination in the generic and
TRS styles, report pages in UTF-8 and GBK, report pages that only link a PDF, PDF attachments,
a site whose listing layout changed, robots.txt, ETag/Last-Modified with 304 answers, and
scripted faults per path (500/503, 429 with Retry-After, slow answers, connection resets, 404,
redirects to a second server on another loopback address). Content is stable across runs;
``Portal.change_report`` bumps one report's revision so exactly one document changes.

``demo_run_spec`` adds every document of the embedded sample set (``data/sample``), one site per
source, bytes unchanged: what ``xxgk run`` harvests by default.

``scale_spec`` builds the portal of the scale benchmark (``bench.scale``): N sources × Y years,
HTML pages with tables, PDF and text attachments in a fixed mix, each source on its own host
(its own loopback address, or its own port) so that per-host politeness applies per source as it
does between real sites. At that size pages are rendered lazily, looked up by slug, and kept in
an on-disk cache keyed by everything they are rendered from, so a restarted portal serves the
same bytes (and ETags) at once.

Run by hand: ``python -m harvest.portal --port 8765``; the scale portal:
``python -m harvest.portal --scale 1000x5 --port 28765 --cache data/bench/portal-cache``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import os
import random
import selectors
import socket
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from xxgk.synth.report import SyntheticReport

OTHER_HOST = "127.0.0.2"
#: The demo portal's port for ``xxgk run`` and ``python -m harvest.portal``: fixed, so that the
#: URLs (and with them the archive's validators and the published provenance) are the same from
#: one run to the next.
DEMO_PORT = 8765


# -- spec ---------------------------------------------------------------------------------------
@dataclass
class Fault:
    """What the portal does instead of answering normally, for the first ``times`` requests.

    ``action``: "500", "503", "429" (with ``retry_after``), "slow" (sleep ``seconds`` then
    answer), "reset" (close the connection with RST), "404", "redirect" (302 to ``target``;
    a target starting with ``other:`` goes to the second host). ``times`` None = every request.
    """

    action: str
    times: int | None = 1
    retry_after: float | None = None
    seconds: float = 0.0
    target: str | None = None


@dataclass
class PortalReport:
    """One report of a site.

    ``form``: html (tables in the page), pdf (the page links a PDF only), html+pdf (tables and a
    PDF), text (the page links a text export: ``text_form`` cells, layout or markdown, see
    ``synth.text``).
    """

    year: int
    seed: int
    form: str = "html"
    encoding: str = "utf-8"
    revision: int = 0
    word_markup: bool = False
    text_form: str = "cells"

    @property
    def has_attachment(self) -> bool:
        return self.form in ATTACHMENT_FORMS


#: Report forms whose page links an attachment.
ATTACHMENT_FORMS = ("pdf", "html+pdf", "text")


@dataclass
class ExtraLink:
    """A listing entry that is not a served report (a 404, a redirect, a robots-disallowed path)."""

    title: str
    path: str


@dataclass
class PortalSite:
    """A publisher's section: ``layout`` generic, trs or changed (a redesign with no anchors)."""

    slug: str
    publisher: str
    layout: str = "generic"
    page_size: int = 4
    encoding: str = "utf-8"
    reports: list[PortalReport] = field(default_factory=list)
    extra_links: list[ExtraLink] = field(default_factory=list)
    #: Where the site is served when it has a host of its own (``(address, port)``, port 0 = any);
    #: None: on the portal's main host. See ``Portal.site_url``.
    address: tuple[str, int] | None = None
    level: str = "other"

    @property
    def listing_dir(self) -> str:
        return {"trs": f"/{self.slug}/zwgk/zfxxgknb/", "changed": f"/{self.slug}/xxgk/ndbg/"}.get(
            self.layout, f"/{self.slug}/nb/"
        )

    @property
    def listing_path(self) -> str:
        return self.listing_dir + ("index.htm" if self.layout == "trs" else "index.html")


@dataclass
class PortalSpec:
    """The whole fake site: sites, faults by path, robots.txt disallows, extra static files by path."""

    sites: list[PortalSite] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    robots_disallow: list[str] = field(default_factory=list)
    static: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def site(self, slug: str) -> PortalSite:
        return next(s for s in self.sites if s.slug == slug)


def demo_spec(*, slow_seconds: float = 1.0, retry_after: float = 1.0) -> PortalSpec:
    """The demo portal: two harvestable sites with every fault, and one whose layout changed."""
    city = PortalSite(
        slug="city",
        publisher="示例市人民政府",
        layout="generic",
        page_size=4,
        reports=[
            PortalReport(2019, 101, "html", "gb18030"),
            PortalReport(2020, 102, "html", "utf-8"),
            PortalReport(2021, 103, "pdf", "utf-8"),
            PortalReport(2022, 104, "html", "gb18030", word_markup=True),
            PortalReport(2023, 105, "html", "utf-8"),
            PortalReport(2024, 106, "html+pdf", "utf-8"),
        ],
        extra_links=[
            ExtraLink("示例市2018年政府信息公开工作年度报告", "2018/t20190301_404.html"),
            ExtraLink("示例市2017年政府信息公开工作年度报告", "2017/t20180301_302.html"),
            ExtraLink("示例市2016年政府信息公开工作年度报告", "/city/private/2016/t20170301_1.html"),
        ],
    )
    county = PortalSite(
        slug="county",
        publisher="示例县人民政府",
        layout="trs",
        page_size=2,
        encoding="gb18030",
        reports=[
            PortalReport(2020, 201, "html", "gb18030"),
            PortalReport(2021, 202, "html", "gb18030"),
            PortalReport(2022, 203, "pdf", "utf-8"),
            PortalReport(2023, 204, "html", "utf-8"),
            PortalReport(2024, 205, "html", "gb18030"),
        ],
    )
    dept = PortalSite(slug="dept", publisher="示例市教育局", layout="changed")
    spec = PortalSpec(sites=[city, county, dept], robots_disallow=["/city/private/"])
    spec.faults = {
        "/city/nb/index_1.html": [Fault("429", retry_after=retry_after)],
        report_path(city, city.reports[1]): [Fault("500", times=2)],
        "/city/nb/2018/t20190301_404.html": [Fault("404", times=None)],
        "/city/nb/2017/t20180301_302.html": [Fault("redirect", times=None, target="other:/city/nb/2017/moved.html")],
        report_path(county, county.reports[1]): [Fault("reset")],
        report_path(county, county.reports[3]): [Fault("slow", seconds=slow_seconds)],
        "/county/zwgk/zfxxgknb/index_1.htm": [Fault("503")],
    }
    return spec


# -- the embedded sample set as portal sites ----------------------------------------------------
#: The sample set's directory and manifest (``synth.sample`` writes them; read here without it).
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
SAMPLE_MANIFEST = "manifest.yaml"
_SAMPLE_DOC_ID = 3000


@dataclass(frozen=True)
class SampleDocument:
    """One file of the sample set as the portal serves it.

    ``page_path`` is what the listing links; ``document_path`` serves the file's bytes unchanged
    (the page itself for HTML, else an attachment of a short notice page). ``listing_title`` is
    what the listing shows: the document's title, or for a document that is not a report a report
    title (a mislabelled link, as portals have: discovery takes it, extraction must reject it).
    """

    source_id: str
    publisher: str
    file: str
    year: int | None
    link_year: int
    kind: str
    format: str
    title: str
    listing_title: str
    page_path: str
    document_path: str
    sha256: str


def _sample_content_type(fmt: str, data: bytes) -> str:
    if fmt == "pdf":
        return "application/pdf"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:  # a GBK page: no charset in the header, as many real portals
        return "text/html" if fmt == "html" else "text/plain"
    return "text/html; charset=utf-8" if fmt == "html" else "text/plain; charset=utf-8"


def add_sample_set(spec: PortalSpec, sample_dir: Path | None = None) -> list[SampleDocument]:
    """Serve every document of the sample set from ``spec``: one site per source, bytes unchanged.

    Each source of ``manifest.yaml`` becomes a generic-CMS site ``/<source_id>/nb/`` whose
    listing links one page per document: an HTML document is the page itself; a PDF, text or
    Markdown document is the attachment of a notice page that has no tables (so the harvester
    must follow the attachment). Returns the served documents in manifest order.
    """
    import yaml

    from xxgk.harvest.discovery import find_year

    directory = sample_dir or SAMPLE_DIR
    entries = yaml.safe_load((directory / SAMPLE_MANIFEST).read_text(encoding="utf-8"))["documents"]
    sites: dict[str, PortalSite] = {}
    served: list[SampleDocument] = []
    for n, entry in enumerate(entries):
        file = str(entry["file"])
        data = (directory / file).read_bytes()
        sid, publisher, title = str(entry["source_id"]), str(entry["publisher"]), str(entry.get("title") or file)
        year = entry.get("year")
        link_year = int(year) if year is not None else find_year(title) or 2000
        kind = str(entry.get("kind") or "report")
        listing_title = title if kind != "not_a_report" else f"{publisher}{link_year}年政府信息公开工作年度报告"
        site = sites.get(sid)
        if site is None:
            site = sites[sid] = PortalSite(slug=sid, publisher=publisher, layout="generic", page_size=4)
            spec.sites.append(site)
        fmt = str(entry.get("format") or Path(file).suffix.lstrip("."))
        page_rel = f"{link_year}/t{link_year + 1}0320_{_SAMPLE_DOC_ID + n}.html"
        page_path = site.listing_dir + page_rel
        if fmt == "html":
            document_path = page_path
        else:
            document_path = f"{site.listing_dir}{link_year}/{file}"
            body = (
                f'<h1>{html.escape(listing_title)}</h1><div class="article-content">'
                f"<p>{html.escape(listing_title)}全文详见附件。</p>"
                f'<p>附件：<a href="{html.escape(file)}">{html.escape(file)}</a></p></div>'
            )
            page = _chrome(f"{listing_title}_{publisher}", body, "utf-8").encode("utf-8")
            spec.static[page_path] = ("text/html; charset=utf-8", page)
        spec.static[document_path] = (_sample_content_type(fmt, data), data)
        site.extra_links.append(ExtraLink(listing_title, page_rel))
        served.append(
            SampleDocument(
                source_id=sid,
                publisher=publisher,
                file=file,
                year=int(year) if year is not None else None,
                link_year=link_year,
                kind=kind,
                format=fmt,
                title=title,
                listing_title=listing_title,
                page_path=page_path,
                document_path=document_path,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    return served


def sample_sources(base_url: str, documents: list[SampleDocument]) -> list[Any]:
    """A registry ``Source`` per sample-set site served at ``base_url`` (generic CMS, no faults)."""
    from xxgk.harvest.registry import Source

    netloc = base_url.split("://", 1)[-1].rstrip("/")
    out: dict[str, Any] = {}
    for doc in documents:
        if doc.source_id not in out:
            out[doc.source_id] = Source(
                source_id=doc.source_id,
                publisher=doc.publisher,
                listing_urls=(f"{base_url.rstrip('/')}/{doc.source_id}/nb/index.html",),
                adapter="generic",
                allowed_hosts=(netloc,),
                layout_selector="ul.nb-list",
                portal=True,
                notes="embedded sample set (data/sample) on the demo portal",
            )
    return list(out.values())


def demo_run_spec(
    sample_dir: Path | None = None, *, faults: bool = True, slow_seconds: float = 1.0, retry_after: float = 0.5
) -> tuple[PortalSpec, list[SampleDocument]]:
    """What ``xxgk run`` serves by default: the sample set plus the demo sites and their faults."""
    spec = demo_spec(slow_seconds=slow_seconds, retry_after=retry_after)
    if not faults:
        spec.faults = {}
    return spec, add_sample_set(spec, sample_dir)


# -- paths and pages ----------------------------------------------------------------------------
def _doc_id(site: PortalSite, rep: PortalReport) -> int:
    return 1000 + rep.seed


def report_path(site: PortalSite, rep: PortalReport) -> str:
    pub = rep.year + 1
    if site.layout == "trs":
        return f"{site.listing_dir}{pub}03/t{pub}0310_{_doc_id(site, rep)}.htm"
    return f"{site.listing_dir}{rep.year}/t{pub}0315_{_doc_id(site, rep)}.html"


def attachment_path(site: PortalSite, rep: PortalReport) -> str:
    pub = rep.year + 1
    base = report_path(site, rep).rsplit("/", 1)[0]
    if rep.form == "text":
        ext = "md" if rep.text_form == "markdown" else "txt"
        return f"{base}/W0{pub}0310{_doc_id(site, rep)}.{ext}"
    return f"{base}/P0{pub}0310{_doc_id(site, rep)}.pdf"


def portal_report(site: PortalSite, rep: PortalReport) -> SyntheticReport:
    """The synthetic report behind a portal page (a new revision draws new values)."""
    from xxgk.synth.generate import generate_report

    return generate_report(rep.seed + 7919 * rep.revision, year=rep.year, publisher=site.publisher, defects=())


def _render_tables_html(report: SyntheticReport, *, word_markup: bool = False) -> str:
    """The report as HTML body content (headings, narrative, tables) from ``synth.html``."""
    from xxgk.synth.html import render_html

    page = render_html(report, encoding="utf-8", chrome=False, word_markup=word_markup).decode("utf-8")
    lower = page.lower()
    start, end = lower.find("<body"), lower.rfind("</body>")
    if start != -1 and end != -1:
        page = page[page.index(">", start) + 1 : end]
    return page


def _render_pdf(report: SyntheticReport) -> bytes:
    """The report as a PDF attachment, from ``synth.pdf``."""
    from xxgk.synth.pdf import render_pdf

    return render_pdf(report)


def _render_text(report: SyntheticReport, form: str) -> bytes:
    """The report as a text export (UTF-8), from ``synth.text``."""
    from xxgk.synth.text import render_text

    return render_text(report, form)


_ATTACHMENT_TYPES = {"pdf": "application/pdf", "txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8"}


def _attachment_type(path: str) -> str:
    return _ATTACHMENT_TYPES.get(path.rsplit(".", 1)[-1], "application/octet-stream")


_FINGERPRINT: str | None = None


def render_fingerprint() -> str:
    """A hash of the code that renders pages (``synth``, ``schemas``, this module): part of every cache key.

    A change to a renderer changes the key, so a disk cache never serves bytes an older renderer made.
    """
    global _FINGERPRINT
    if _FINGERPRINT is None:
        root = Path(__file__).resolve().parents[1]
        digest = hashlib.sha256()
        for path in sorted([*(root / "synth").glob("*.py"), *(root / "schemas").glob("*.py"), Path(__file__)]):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        _FINGERPRINT = digest.hexdigest()[:16]
    return _FINGERPRINT


def _chrome(title: str, body: str, charset: str, *, trs: bool = False, head_extra: str = "") -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    art = f'<meta name="ArticleTitle" content="{html.escape(title)}">' if trs else ""
    nav = (
        '<div class="header"><a href="/">首页</a> <a href="/city/nb/index.html">政府信息公开</a>'
        ' <a href="/news/1.html">关于印发2023年政务公开工作要点的通知</a></div>'
    )
    return (
        f"<!DOCTYPE html><html><head>{meta}{art}<title>{html.escape(title)}</title>{head_extra}</head>"
        f"<body>{nav}{body}<div class='footer'>主办单位：示例人民政府 备案号：示ICP备00000000号</div></body></html>"
    )


_CHARSET_LABEL = {"gb18030": "gb2312", "utf-8": "utf-8"}


class Portal:
    """The served site: pages rendered lazily from the spec, faults, request log, revisions.

    ``cache_dir``: rendered report pages and attachments are kept there (one file per page, keyed
    by what it is rendered from and ``render_fingerprint()``) instead of in memory, so a large
    portal starts at once and a restarted one serves identical bytes without rendering again.
    ``record_requests``: keep every request in ``requests`` (tests); counters are kept always.
    """

    def __init__(self, spec: PortalSpec, *, cache_dir: Path | str | None = None, record_requests: bool = True) -> None:
        self.spec = spec
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.record_requests = record_requests
        self.counts: dict[str, int] = {"requests": 0, "not_modified": 0, "rendered": 0, "cache_hits": 0}
        self.in_flight = 0
        self.max_in_flight = 0
        self._fault_counts: dict[str, int] = {}
        self._cache: dict[tuple[str, int], tuple[str, bytes]] = {}
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._sites = {s.slug: s for s in spec.sites}
        self.base_url = ""
        self.other_base_url = ""
        #: slug → base URL of sites served on a host of their own (filled in by ``serve_portal``).
        self.site_urls: dict[str, str] = {}
        self.epoch = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)

    def site_url(self, slug: str) -> str:
        """The base URL a site is served at: its own host when it has one, else the main host."""
        return self.site_urls.get(slug, self.base_url)

    # -- content -----------------------------------------------------------------------------
    def change_report(self, slug: str, year: int) -> None:
        """Publish a new revision of one report (new values, new ETag and Last-Modified)."""
        with self.lock:
            site = self.spec.site(slug)
            rep = next(r for r in site.reports if r.year == year)
            rep.revision += 1
        self._render(site, rep)

    def prerender(self) -> None:
        """Build every page and attachment now, so the first request is not slowed by rendering."""
        for site in self.spec.sites:
            for rep in site.reports:
                self._render(site, rep)

    def _render(self, site: PortalSite, rep: PortalReport) -> None:
        if site.layout == "changed":
            return
        self.route(report_path(site, rep))
        if rep.has_attachment:
            self.route(attachment_path(site, rep))

    def expected_reports(self) -> dict[tuple[str, int], SyntheticReport]:
        """(site slug, year) → the synthetic report each served report is drawn from."""
        return {
            (s.slug, r.year): portal_report(s, r) for s in self.spec.sites if s.layout != "changed" for r in s.reports
        }

    def route(self, path: str) -> tuple[str, bytes, int] | None:
        """(content type, body, revision) for a path, or None for 404."""
        if path in self.spec.static:
            ctype, body = self.spec.static[path]
            return ctype, body, 0
        if path == "/robots.txt":
            lines = ["User-agent: *", *[f"Disallow: {p}" for p in self.spec.robots_disallow], ""]
            return "text/plain", "\n".join(lines).encode(), 0
        if path in ("/", "/index.html"):
            links = "".join(
                f'<li><a href="{self.site_url(s.slug)}{s.listing_path}">{html.escape(s.publisher)}</a></li>'
                for s in self.spec.sites
            )
            return "text/html; charset=utf-8", _chrome("示例政务门户", f"<ul>{links}</ul>", "utf-8").encode(), 0
        slug = path.split("/", 2)[1] if path.count("/") >= 2 else ""
        site = self._sites.get(slug)
        if site is None or site.slug != slug:  # the spec changed since: look the site up again
            site = next((s for s in self.spec.sites if s.slug == slug), None)
            if site is None:
                return None
            self._sites[slug] = site
        listing = self._listing(site, path)
        if listing is not None:
            return listing
        for rep in site.reports:
            if path == report_path(site, rep):
                return self._report_page(site, rep)
            if rep.has_attachment and path == attachment_path(site, rep):
                return _attachment_type(path), self._attachment(site, rep), rep.revision
        return None

    def _pages(self, site: PortalSite) -> list[list[tuple[str, str, str]]]:
        """Listing entries (title, href relative to the listing dir, date) split into pages."""
        entries: list[tuple[str, str, str]] = []
        for rep in sorted(site.reports, key=lambda r: -r.year):
            title = portal_title(site, rep)
            entries.append((title, report_path(site, rep)[len(site.listing_dir) :], f"{rep.year + 1}-03-15"))
            if rep.year == max(r.year for r in site.reports):
                entries.append((title + "解读", f"{rep.year}/jd_{rep.seed}.html", f"{rep.year + 1}-03-16"))
        for extra in site.extra_links:
            entries.append((extra.title, extra.path, "2019-03-01"))
        entries.append((f"关于印发{site.publisher}政务公开工作要点的通知", "tz/1.html", "2024-04-01"))
        size = max(1, site.page_size)
        return [entries[i : i + size] for i in range(0, len(entries), size)] or [[]]

    def _listing(self, site: PortalSite, path: str) -> tuple[str, bytes, int] | None:
        if not path.startswith(site.listing_dir):
            return None
        name = path[len(site.listing_dir) :]
        ext = "htm" if site.layout == "trs" else "html"
        if site.layout == "changed":
            if name not in ("index.html", ""):
                return None
            body = (
                '<div id="app" class="ndbg-app" data-api="/api/ndbg/list?page=1"></div>'
                '<script src="/static/js/chunk-vendors.js"></script><script src="/static/js/app.js"></script>'
                "<noscript>请开启JavaScript以浏览年度报告栏目</noscript>"
            )
            return "text/html; charset=utf-8", _chrome(f"{site.publisher}-年度报告", body, "utf-8").encode(), 0
        pages = self._pages(site)
        index = 0
        if name in (f"index.{ext}", ""):
            index = 0
        elif name.startswith("index_") and name.endswith(f".{ext}") and name[6 : -len(ext) - 1].isdigit():
            index = int(name[6 : -len(ext) - 1])
        else:
            return None
        if index >= len(pages):
            return None
        items = "".join(
            f'<li><a href="{html.escape(href)}" title="{html.escape(t)}" target="_blank">'
            f"{html.escape(t if len(t) <= 20 else t[:18] + '...')}</a><span>{d}</span></li>"
            for t, href, d in pages[index]
        )
        charset = _CHARSET_LABEL.get(site.encoding, site.encoding)
        if site.layout == "trs":
            pager = f'<script language="JavaScript">var countPage = {len(pages)};createPageHTML(countPage, {index}, "index", "htm");</script>'
            body = f'<div class="xxgk_list"><ul class="list">{items}</ul></div><div class="page">{pager}</div>'
        else:
            links = [
                f'<a href="{"index.html" if i == 0 else f"index_{i}.html"}">{i + 1}</a>' for i in range(len(pages))
            ]
            if index + 1 < len(pages):
                links.append(f'<a href="index_{index + 1}.html">下一页</a>')
            body = f'<ul class="nb-list">{items}</ul><div class="pagination">{" ".join(links)}</div>'
        page = _chrome(f"政府信息公开年报_{site.publisher}", body, charset)
        ctype = "text/html" if site.encoding != "utf-8" else "text/html; charset=utf-8"
        return ctype, page.encode(site.encoding), 0

    # -- rendering, cached --------------------------------------------------------------------
    def _cached(self, kind: str, site: PortalSite, rep: PortalReport, render: Callable[[], bytes]) -> bytes:
        """The bytes of one rendered page or attachment: from memory, or the disk cache, or rendered now."""
        path = attachment_path(site, rep) if kind == "attachment" else report_path(site, rep)
        if self.cache_dir is None:
            key = (path, rep.revision)
            with self.lock:
                cached = self._cache.get(key)
            if cached is None:
                cached = ("", render())
                with self.lock:
                    self._cache[key] = cached
                    self.counts["rendered"] += 1
            return cached[1]
        file = self.cache_dir / cache_key(kind, site, rep)[:2] / cache_key(kind, site, rep)
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            data = render()
            _write_atomic(file, data)
            with self.lock:
                self.counts["rendered"] += 1
        else:
            with self.lock:
                self.counts["cache_hits"] += 1
        return data

    def _report_page(self, site: PortalSite, rep: PortalReport) -> tuple[str, bytes, int]:
        ctype = "text/html; charset=utf-8" if rep.encoding == "utf-8" else "text/html"
        return ctype, self._cached("page", site, rep, lambda: render_report_page(site, rep)), rep.revision

    def _attachment(self, site: PortalSite, rep: PortalReport) -> bytes:
        return self._cached("attachment", site, rep, lambda: render_attachment(site, rep))

    def _pdf(self, site: PortalSite, rep: PortalReport) -> bytes:
        return self._attachment(site, rep)

    # -- faults -------------------------------------------------------------------------------
    def next_fault(self, path: str) -> Fault | None:
        faults = self.spec.faults.get(path)
        if not faults:
            return None
        with self.lock:
            n = self._fault_counts.get(path, 0)
            self._fault_counts[path] = n + 1
        used = 0
        for f in faults:
            if f.times is None or n < used + f.times:
                return f
            used += f.times
        return None

    def last_modified(self, revision: int) -> str:
        return format_datetime(self.epoch + timedelta(days=revision), usegmt=True)


def portal_title(site: PortalSite, rep: PortalReport) -> str:
    return f"{site.publisher}{rep.year}年政府信息公开工作年度报告"


def render_report_page(site: PortalSite, rep: PortalReport) -> bytes:
    """The bytes of a report page: the tables in the page, or a notice linking the attachment."""
    title = portal_title(site, rep)
    att_name = attachment_path(site, rep).rsplit("/", 1)[-1]
    trs = site.layout == "trs"
    if rep.form in ("pdf", "text"):
        content = f"<p>{html.escape(title)}全文详见附件。</p>"
    else:
        content = _render_tables_html(portal_report(site, rep), word_markup=rep.word_markup)
    head_extra = ""
    if rep.form in ("pdf", "html+pdf") and trs:  # TRS lists PDFs in a script array filled in by JavaScript
        head_extra = f'<script>var apps1 = [{{url:"./{att_name}",name:"{html.escape(title)}.pdf"}}];</script>'
    elif rep.has_attachment:
        ext = att_name.rsplit(".", 1)[-1]
        content += f'<p>附件：<a href="{att_name}">{html.escape(title)}.{ext}</a></p>'
    wrapper = "TRS_Editor" if trs else "article-content"
    body = f'<h1>{html.escape(title)}</h1><div class="{wrapper}">{content}</div>'
    charset = _CHARSET_LABEL.get(rep.encoding, rep.encoding)
    page = _chrome(f"{title}_{site.publisher}", body, charset, trs=trs, head_extra=head_extra)
    return page.encode(rep.encoding, errors="strict")


def render_attachment(site: PortalSite, rep: PortalReport) -> bytes:
    """The bytes of a report's attachment: its PDF, or its text export."""
    report = portal_report(site, rep)
    return _render_text(report, rep.text_form) if rep.form == "text" else _render_pdf(report)


def cache_key(kind: str, site: PortalSite, rep: PortalReport) -> str:
    """The disk-cache key of a rendered page or attachment: a hash of everything it is rendered from."""
    parts = [
        kind,
        site.slug,
        site.publisher,
        site.layout,
        rep.year,
        rep.seed,
        rep.form,
        rep.encoding,
        rep.revision,
        rep.word_markup,
        rep.text_form,
        render_fingerprint(),
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename: a concurrent reader sees all of the file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# -- HTTP ----------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    server: _PortalHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        portal = self.server.portal
        with portal.lock:
            portal.in_flight += 1
            portal.max_in_flight = max(portal.max_in_flight, portal.in_flight)
        try:
            self._get(portal)
        finally:
            with portal.lock:
                portal.in_flight -= 1

    def _get(self, portal: Portal) -> None:
        path = self.path.split("?", 1)[0]
        record = {
            "host": self.server.label,
            "path": path,
            "time": time.time(),
            "user_agent": self.headers.get("User-Agent"),
            "if_none_match": self.headers.get("If-None-Match"),
            "if_modified_since": self.headers.get("If-Modified-Since"),
        }
        with portal.lock:
            portal.counts["requests"] += 1
            if portal.record_requests:
                portal.requests.append(record)
        fault = portal.next_fault(path) if self.server.label == "main" else None
        record["fault"] = fault.action if fault else None
        if fault is not None:
            if fault.action == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if fault.action == "slow":
                time.sleep(fault.seconds)
            elif fault.action in ("500", "503", "404", "429"):
                extra = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                self._send(int(fault.action), "text/html; charset=utf-8", b"<h1>error</h1>", extra)
                return
            elif fault.action == "redirect":
                target = fault.target or "/"
                if target.startswith("other:"):
                    target = portal.other_base_url + target[len("other:") :]
                self._send(302, "text/html", b"", {"Location": target})
                return
        if self.server.label != "main":
            self._send(200, "text/html; charset=utf-8", b"<html><body>other host</body></html>", {})
            return
        routed = portal.route(path)
        if routed is None:
            self._send(404, "text/html; charset=utf-8", b"<h1>404</h1>", {})
            return
        ctype, body, revision = routed
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers = {"ETag": etag, "Last-Modified": portal.last_modified(revision)}
        if self.headers.get("If-None-Match") == etag:
            with portal.lock:
                portal.counts["not_modified"] += 1
            self._send(304, None, b"", headers)
            return
        self._send(200, ctype, body, headers)

    def _send(self, status: int, ctype: str | None, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                self.send_header(k, v)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _PortalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], portal: Portal, label: str) -> None:
        super().__init__(addr, _Handler)
        self.portal = portal
        self.label = label

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client that timed out
        return


class _MultiHostServer:
    """Many listening sockets (one per site host) served by one accept loop, a thread per connection.

    A ``ThreadingHTTPServer`` per host would cost a polling thread each; a thousand sites on a
    thousand hosts share this one selector instead. Connections are handled by ``_Handler`` as
    on the main server (label "main": faults apply).
    """

    label = "main"
    #: An idle keep-alive connection is closed after this many seconds (bounds idle threads).
    idle_timeout = 30.0

    def __init__(self, portal: Portal, addresses: list[tuple[str, int]]) -> None:
        self.portal = portal
        self.selector = selectors.DefaultSelector()
        self.sockets: list[socket.socket] = []
        self.bound: dict[tuple[str, int], tuple[str, int]] = {}
        self._stop = threading.Event()
        try:
            for address in addresses:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self.sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                sock.listen(64)
                sock.setblocking(False)
                self.selector.register(sock, selectors.EVENT_READ)
                self.bound[address] = sock.getsockname()[:2]
        except OSError:
            self.close()
            raise

    def serve_forever(self) -> None:
        while not self._stop.is_set():
            for key, _events in self.selector.select(timeout=0.1):
                try:
                    conn, client = key.fileobj.accept()  # type: ignore[union-attr]
                except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                    continue
                except OSError:  # closed while shutting down
                    return
                conn.setblocking(True)
                conn.settimeout(self.idle_timeout)
                threading.Thread(target=self._handle, args=(conn, client), daemon=True).start()

    def _handle(self, conn: socket.socket, client: Any) -> None:
        try:
            _Handler(conn, client, self)  # type: ignore[arg-type]
        except OSError:  # the client went away or idled out
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_WR)
            conn.close()

    def shutdown(self) -> None:
        self._stop.set()

    def close(self) -> None:
        with contextlib.suppress(KeyError, ValueError):
            for sock in self.sockets:
                with contextlib.suppress(KeyError, ValueError):
                    self.selector.unregister(sock)
        for sock in self.sockets:
            sock.close()
        self.selector.close()


#: Above this many reports a portal renders lazily instead of up front (``serve_portal(prerender=None)``).
PRERENDER_LIMIT = 60


@contextlib.contextmanager
def serve_portal(
    spec: PortalSpec | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    other_host: str = OTHER_HOST,
    prerender: bool | None = None,
    cache_dir: Path | str | None = None,
    record_requests: bool = True,
) -> Iterator[tuple[Portal, str]]:
    """Serve ``spec`` (default ``demo_spec()``) on loopback; yields (portal, base_url).

    A second server on ``other_host`` (another loopback address) stands for "another host" in
    redirect tests; ``portal.requests`` records every request with the host label (main/other).
    Sites with an ``address`` are served on that host of their own (``portal.site_url(slug)``).
    ``prerender`` (default: when the spec has at most ``PRERENDER_LIMIT`` reports) renders every
    page before the first request; ``cache_dir`` keeps rendered pages on disk (see ``Portal``).
    """
    spec = spec or demo_spec()
    addresses = sorted({s.address for s in spec.sites if s.address is not None})
    hosts = [host, other_host, *(a for a, _p in addresses)]
    if not all(h.startswith("127.") or h == "localhost" for h in hosts):
        raise ValueError("the portal only binds loopback addresses")
    portal = Portal(spec, cache_dir=cache_dir, record_requests=record_requests)
    if prerender if prerender is not None else sum(len(s.reports) for s in spec.sites) <= PRERENDER_LIMIT:
        portal.prerender()
    main = _PortalHTTPServer((host, port), portal, "main")
    servers: list[Any] = [main]
    try:
        other = _PortalHTTPServer((other_host, 0), portal, "other")
    except OSError:  # only 127.0.0.1 configured (macOS): redirects there are refused unsent anyway
        portal.other_base_url = f"http://{other_host}:9"
    else:
        servers.append(other)
        portal.other_base_url = f"http://{other_host}:{other.server_address[1]}"
    portal.base_url = f"http://{host}:{main.server_address[1]}"
    multi: _MultiHostServer | None = None
    try:
        if addresses:
            multi = _MultiHostServer(portal, addresses)
            for site in spec.sites:
                if site.address is not None:
                    bound_host, bound_port = multi.bound[site.address]
                    portal.site_urls[site.slug] = f"http://{bound_host}:{bound_port}"
    except OSError:
        for s in servers:
            s.server_close()
        raise
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True) for s in servers]
    if multi is not None:
        threads.append(threading.Thread(target=multi.serve_forever, daemon=True))
    for t in threads:
        t.start()
    try:
        yield portal, portal.base_url
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
        if multi is not None:
            multi.shutdown()
            threads[-1].join(timeout=5)
            multi.close()


def portal_sources(base_url: str) -> list[Any]:
    """The registry's demo-portal sources resolved to ``base_url`` (from ``data/sources.yaml``)."""
    from xxgk.harvest.registry import load_sources

    return [s for s in load_sources(portal_url=base_url) if s.portal]


# -- the scale benchmark's portal ---------------------------------------------------------------
#: Share of reports per form in a scale portal: HTML pages with tables, PDF attachments, text exports.
SCALE_MIX = (0.6, 0.3, 0.1)
#: Share of HTML reports that also attach their PDF (the page is the report; the PDF is fetched too).
SCALE_HTML_WITH_PDF = 0.1
SCALE_PORT = 28765
_TEXT_FORMS = ("cells", "layout", "markdown")
_LEVEL_OF_KIND = {"city_gov": "city", "district_gov": "county", "department": "department", "town": "township"}


def loopback_aliases_work() -> bool:
    """Whether addresses of 127.0.0.0/8 other than 127.0.0.1 can be bound (Linux: yes; macOS: no)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.1.1", 0))
    except OSError:
        return False
    return True


def scale_address(index: int, port: int, hosts: str) -> tuple[str, int]:
    """Host of the ``index``-th scale site: its own loopback address on ``port``, or its own port.

    ``addresses``: 127.0.1.1, 127.0.1.2, ... (250 per third octet; up to 63,500 sites), every one on
    the same port. ``ports``: 127.0.0.1 on ``port + 1 + index`` (``port`` 0: any free port).
    """
    if hosts == "addresses":
        if index >= 250 * 254:
            raise ValueError(f"too many sites for one address each: {index + 1}")
        return f"127.0.{1 + index // 250}.{1 + index % 250}", port
    if hosts == "ports":
        return "127.0.0.1", (port + 1 + index) if port else 0
    raise ValueError(f"hosts must be 'addresses' or 'ports', not {hosts!r}")


def scale_source_id(index: int) -> str:
    return f"scale-{index:05d}"


def scale_spec(
    sources: int = 1000,
    years: tuple[int, ...] = (2020, 2021, 2022, 2023, 2024),
    *,
    seed: int = 0,
    mix: tuple[float, float, float] = SCALE_MIX,
    port: int = SCALE_PORT,
    hosts: str = "addresses",
) -> PortalSpec:
    """``sources`` sites × ``years`` reports, each site on a host of its own; the same for the same seed.

    Reports are HTML pages with tables, PDF attachments of a notice page, or text exports
    (cells/layout/markdown) attached likewise, in the shares of ``mix`` exactly (shuffled by
    ``seed``); sites alternate generic and TRS layouts, UTF-8 and GBK pages and page sizes.
    """
    from xxgk.synth.generate import random_publisher

    rng = random.Random(f"xxgk-scale:{seed}")
    n = sources * len(years)
    n_html, n_pdf = round(n * mix[0]), round(n * mix[1])
    forms = ["html"] * n_html + ["pdf"] * n_pdf + ["text"] * (n - n_html - n_pdf)
    rng.shuffle(forms)
    names: set[str] = set()
    sites: list[PortalSite] = []
    for i in range(sources):
        for _attempt in range(40):
            publisher = random_publisher(rng)
            if publisher.name not in names:
                break
        name = publisher.name if publisher.name not in names else f"{publisher.name}（{i}）"
        names.add(name)
        trs = rng.random() < 0.3
        encoding = "gb18030" if rng.random() < 0.4 else "utf-8"
        site = PortalSite(
            slug=scale_source_id(i),
            publisher=name,
            layout="trs" if trs else "generic",
            page_size=rng.choice((4, 6, 10, 15)),
            encoding=encoding,
            address=scale_address(i, port, hosts),
            level=_LEVEL_OF_KIND.get(publisher.kind, "other"),
        )
        for j, year in enumerate(years):
            form = forms[i * len(years) + j]
            if form == "html" and rng.random() < SCALE_HTML_WITH_PDF:
                form = "html+pdf"
            site.reports.append(
                PortalReport(
                    year,
                    seed=100_000 + i * 16 + j,
                    form=form,
                    encoding=encoding if rng.random() < 0.8 else "utf-8",
                    word_markup=form.startswith("html") and rng.random() < 0.3,
                    text_form=_TEXT_FORMS[rng.randrange(len(_TEXT_FORMS))],
                )
            )
        sites.append(site)
    return PortalSpec(sites=sites)


def scale_registry(portal: Portal, *, delay_seconds: float | None = None) -> dict[str, Any]:
    """A sources registry (``data/sources.yaml`` format) for the scale portal's sites as served now."""
    entries: list[dict[str, Any]] = []
    for site in portal.spec.sites:
        base = portal.site_url(site.slug)
        entry: dict[str, Any] = {
            "source_id": site.slug,
            "publisher": site.publisher,
            "level": site.level,
            "adapter": "trs" if site.layout == "trs" else "generic",
            "listing_urls": [base + site.listing_path],
            "allowed_hosts": [base.split("://", 1)[1]],
        }
        if site.layout != "trs":
            entry["layout_selector"] = "ul.nb-list"
        if delay_seconds is not None:
            entry["delay_seconds"] = delay_seconds
        entry["notes"] = "scale benchmark site on the local portal (harvest.portal.scale_spec)"
        entries.append(entry)
    return {"sources": entries}


def _fill_chunk(args: tuple[PortalSpec, list[tuple[int, int]], str]) -> int:
    spec, items, cache_dir = args
    portal = Portal(spec, cache_dir=cache_dir, record_requests=False)
    for site_ix, rep_ix in items:
        site = spec.sites[site_ix]
        portal._render(site, site.reports[rep_ix])
    return portal.counts["rendered"]


def fill_cache(spec: PortalSpec, cache_dir: Path | str, workers: int = 2) -> int:
    """Render every page and attachment of ``spec`` into the disk cache (in ``workers`` processes).

    Pages already cached are skipped; returns how many were rendered now. A portal serving from
    a filled cache renders nothing while it is measured.
    """
    from concurrent.futures import ProcessPoolExecutor

    items = [(i, j) for i, site in enumerate(spec.sites) for j in range(len(site.reports))]
    chunks = [items[k : k + 200] for k in range(0, len(items), 200)]
    if workers <= 1 or len(chunks) <= 1:
        return sum(_fill_chunk((spec, chunk, str(cache_dir))) for chunk in chunks)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_fill_chunk, [(spec, chunk, str(cache_dir)) for chunk in chunks]))


def _parse_scale(text: str) -> tuple[int, tuple[int, ...]]:
    """``1000x5`` → 1000 sources × the 5 report years up to 2024."""
    sources, _, years = text.lower().partition("x")
    n_years = int(years or 5)
    if int(sources) < 1 or not 1 <= n_years <= 6:
        raise argparse.ArgumentTypeError("--scale SOURCESxYEARS with 1-6 years (reports 2019-2024)")
    return int(sources), tuple(range(2025 - n_years, 2025))


def serve_scale(
    sources: int,
    years: tuple[int, ...],
    *,
    seed: int = 0,
    port: int = SCALE_PORT,
    hosts: str | None = None,
    cache_dir: Path | str | None = None,
    registry: Path | str | None = None,
    delay_seconds: float | None = None,
    fill_workers: int = 0,
    wait: Callable[[], None] | None = None,
    out: Any = None,
) -> None:
    """Serve the scale portal until ``wait`` returns (default: until interrupted).

    Writes the sources registry to ``registry`` and then prints one JSON line (``ready``, base
    URL, sites, host mode, seconds to start) to ``out`` (default stdout) once every host listens.
    ``fill_workers`` > 0 fills the disk cache first (see ``fill_cache``).
    """
    start = time.perf_counter()
    mode = hosts or ("addresses" if loopback_aliases_work() else "ports")
    spec = scale_spec(sources, years, seed=seed, port=port, hosts=mode)
    rendered = fill_cache(spec, cache_dir, fill_workers) if cache_dir is not None and fill_workers > 0 else 0
    stream = out or sys.stdout
    with serve_portal(spec, port=0, prerender=False, cache_dir=cache_dir, record_requests=False) as (portal, base):
        if registry is not None:
            import yaml

            doc = scale_registry(portal, delay_seconds=delay_seconds)
            _write_atomic(Path(registry), yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8"))
        ready = {
            "ready": True,
            "base_url": base,
            "sites": len(spec.sites),
            "reports": sum(len(s.reports) for s in spec.sites),
            "hosts": mode,
            "rendered_into_cache": rendered,
            "start_seconds": round(time.perf_counter() - start, 3),
            "pid": os.getpid(),
        }
        print(json.dumps(ready), file=stream, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            (wait or _until_terminated)()
        print(json.dumps({"stopped": True, **portal.counts}), file=stream, flush=True)


def _until_terminated() -> None:
    """Block until SIGTERM or SIGINT (a benchmark stops its portal with SIGTERM and reads the counts)."""
    import signal

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


def main(argv: list[str] | None = None, *, wait: Callable[[], None] | None = None) -> None:
    """``python -m harvest.portal --port 8765``: serve the demo portal (or ``--scale``) until interrupted."""
    parser = argparse.ArgumentParser(description="Serve the fake government portal on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help=f"default {DEMO_PORT} ({SCALE_PORT} with --scale)")
    parser.add_argument("--no-faults", action="store_true", help="serve without injected faults")
    scale = parser.add_argument_group("scale portal (bench.scale)")
    scale.add_argument("--scale", type=_parse_scale, metavar="SOURCESxYEARS", help="e.g. 1000x5")
    scale.add_argument("--seed", type=int, default=0)
    scale.add_argument("--hosts", choices=("addresses", "ports"), help="one loopback address or one port per site")
    scale.add_argument("--cache", type=Path, help="disk cache of rendered pages (stable bytes across restarts)")
    scale.add_argument("--fill-cache", type=int, default=0, metavar="WORKERS", help="render everything first")
    scale.add_argument("--registry", type=Path, help="write a sources registry for the sites here")
    scale.add_argument("--delay", type=float, help="delay_seconds written into the registry entries")
    args = parser.parse_args(argv)
    if args.scale is not None:
        n_sources, years = args.scale
        serve_scale(
            n_sources,
            years,
            seed=args.seed,
            port=SCALE_PORT if args.port is None else args.port,
            hosts=args.hosts,
            cache_dir=args.cache,
            registry=args.registry,
            delay_seconds=args.delay,
            fill_workers=args.fill_cache,
            wait=wait,
        )
        return
    spec, _samples = demo_run_spec(faults=not args.no_faults)
    with serve_portal(spec, args.host, DEMO_PORT if args.port is None else args.port) as (portal, base):
        print(f"portal at {base}/ (other host {portal.other_base_url}); listings:")
        for site in spec.sites:
            print(f"  {base}{site.listing_path}  [{site.layout}] {site.publisher}")
        with contextlib.suppress(KeyboardInterrupt):
            (wait or (lambda: threading.Event().wait()))()


if __name__ == "__main__":
    main()
