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

Run by hand: ``python -m harvest.portal --port 8765``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from synth.report import SyntheticReport

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
    """One report of a site: ``form`` html (tables in the page), pdf (page links a PDF only), html+pdf."""

    year: int
    seed: int
    form: str = "html"
    encoding: str = "utf-8"
    revision: int = 0
    word_markup: bool = False


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

    from harvest.discovery import find_year

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
    from harvest.registry import Source

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
    return f"{base}/P0{pub}0310{_doc_id(site, rep)}.pdf"


def portal_report(site: PortalSite, rep: PortalReport) -> SyntheticReport:
    """The synthetic report behind a portal page (a new revision draws new values)."""
    from synth.generate import generate_report

    return generate_report(rep.seed + 7919 * rep.revision, year=rep.year, publisher=site.publisher, defects=())


def _render_tables_html(report: SyntheticReport, *, word_markup: bool = False) -> str:
    """The report as HTML body content (headings, narrative, tables) from ``synth.html``."""
    from synth.html import render_html

    page = render_html(report, encoding="utf-8", chrome=False, word_markup=word_markup).decode("utf-8")
    lower = page.lower()
    start, end = lower.find("<body"), lower.rfind("</body>")
    if start != -1 and end != -1:
        page = page[page.index(">", start) + 1 : end]
    return page


def _render_pdf(report: SyntheticReport) -> bytes:
    """The report as a PDF attachment, from ``synth.pdf``."""
    from synth.pdf import render_pdf

    return render_pdf(report)


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
    """The served site: routes built lazily from the spec, faults, request log, revisions."""

    def __init__(self, spec: PortalSpec) -> None:
        self.spec = spec
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._fault_counts: dict[str, int] = {}
        self._cache: dict[tuple[str, int], tuple[str, bytes]] = {}
        self.base_url = ""
        self.other_base_url = ""
        self.epoch = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)

    # -- content -----------------------------------------------------------------------------
    def change_report(self, slug: str, year: int) -> None:
        """Publish a new revision of one report (new values, new ETag and Last-Modified)."""
        with self.lock:
            site = self.spec.site(slug)
            rep = next(r for r in site.reports if r.year == year)
            rep.revision += 1
        self._render(site, rep)

    def prerender(self) -> None:
        """Build every page and PDF now, so the first request is not slowed by rendering."""
        for site in self.spec.sites:
            for rep in site.reports:
                self._render(site, rep)

    def _render(self, site: PortalSite, rep: PortalReport) -> None:
        if site.layout == "changed":
            return
        self.route(report_path(site, rep))
        if rep.form in ("pdf", "html+pdf"):
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
                f'<li><a href="{s.listing_path}">{html.escape(s.publisher)}</a></li>' for s in self.spec.sites
            )
            return "text/html; charset=utf-8", _chrome("示例政务门户", f"<ul>{links}</ul>", "utf-8").encode(), 0
        for site in self.spec.sites:
            if not path.startswith(f"/{site.slug}/"):
                continue
            listing = self._listing(site, path)
            if listing is not None:
                return listing
            for rep in site.reports:
                if path == report_path(site, rep):
                    return self._report_page(site, rep)
                if path == attachment_path(site, rep) and rep.form in ("pdf", "html+pdf"):
                    return "application/pdf", self._pdf(site, rep), rep.revision
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

    def _report_page(self, site: PortalSite, rep: PortalReport) -> tuple[str, bytes, int]:
        key = (report_path(site, rep), rep.revision)
        with self.lock:
            cached = self._cache.get(key)
        if cached is None:
            report = portal_report(site, rep)
            title = portal_title(site, rep)
            pdf_name = attachment_path(site, rep).rsplit("/", 1)[-1]
            trs = site.layout == "trs"
            content = (
                f"<p>{html.escape(title)}全文详见附件。</p>"
                if rep.form == "pdf"
                else _render_tables_html(report, word_markup=rep.word_markup)
            )
            head_extra = ""
            if rep.form in ("pdf", "html+pdf"):
                if trs:  # TRS lists attachments in a script array filled in by JavaScript
                    head_extra = (
                        f'<script>var apps1 = [{{url:"./{pdf_name}",name:"{html.escape(title)}.pdf"}}];</script>'
                    )
                else:
                    content += f'<p>附件：<a href="{pdf_name}">{html.escape(title)}.pdf</a></p>'
            wrapper = "TRS_Editor" if trs else "article-content"
            body = f'<h1>{html.escape(title)}</h1><div class="{wrapper}">{content}</div>'
            charset = _CHARSET_LABEL.get(rep.encoding, rep.encoding)
            page = _chrome(f"{title}_{site.publisher}", body, charset, trs=trs, head_extra=head_extra)
            ctype = "text/html; charset=utf-8" if rep.encoding == "utf-8" else "text/html"
            cached = (ctype, page.encode(rep.encoding, errors="strict"))
            with self.lock:
                self._cache[key] = cached
        return cached[0], cached[1], rep.revision

    def _pdf(self, site: PortalSite, rep: PortalReport) -> bytes:
        key = (attachment_path(site, rep), rep.revision)
        with self.lock:
            cached = self._cache.get(key)
        if cached is None:
            cached = ("application/pdf", _render_pdf(portal_report(site, rep)))
            with self.lock:
                self._cache[key] = cached
        return cached[1]

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


@contextlib.contextmanager
def serve_portal(
    spec: PortalSpec | None = None, host: str = "127.0.0.1", port: int = 0, *, other_host: str = OTHER_HOST
) -> Iterator[tuple[Portal, str]]:
    """Serve ``spec`` (default ``demo_spec()``) on loopback; yields (portal, base_url).

    A second server on ``other_host`` (another loopback address) stands for "another host" in
    redirect tests; ``portal.requests`` records every request with the host label (main/other).
    """
    if not (host.startswith("127.") or host == "localhost") or not other_host.startswith("127."):
        raise ValueError("the portal only binds loopback addresses")
    portal = Portal(spec or demo_spec())
    portal.prerender()
    main = _PortalHTTPServer((host, port), portal, "main")
    servers = [main]
    try:
        other = _PortalHTTPServer((other_host, 0), portal, "other")
    except OSError:  # only 127.0.0.1 configured (macOS): redirects there are refused unsent anyway
        portal.other_base_url = f"http://{other_host}:9"
    else:
        servers.append(other)
        portal.other_base_url = f"http://{other_host}:{other.server_address[1]}"
    portal.base_url = f"http://{host}:{main.server_address[1]}"
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True) for s in servers]
    for t in threads:
        t.start()
    try:
        yield portal, portal.base_url
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


def portal_sources(base_url: str) -> list[Any]:
    """The registry's demo-portal sources resolved to ``base_url`` (from ``data/sources.yaml``)."""
    from harvest.registry import load_sources

    return [s for s in load_sources(portal_url=base_url) if s.portal]


def main(argv: list[str] | None = None, *, wait: Callable[[], None] | None = None) -> None:
    """``python -m harvest.portal --port 8765``: serve the demo portal until interrupted."""
    parser = argparse.ArgumentParser(description="Serve the fake government portal on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEMO_PORT)
    parser.add_argument("--no-faults", action="store_true", help="serve without injected faults")
    args = parser.parse_args(argv)
    spec, _samples = demo_run_spec(faults=not args.no_faults)
    with serve_portal(spec, args.host, args.port) as (portal, base):
        print(f"portal at {base}/ (other host {portal.other_base_url}); listings:")
        for site in spec.sites:
            print(f"  {base}{site.listing_path}  [{site.layout}] {site.publisher}")
        with contextlib.suppress(KeyboardInterrupt):
            (wait or (lambda: threading.Event().wait()))()


if __name__ == "__main__":
    main()
