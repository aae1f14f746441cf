"""The served site: pages rendered lazily from the spec, faults counted per path, requests logged.

``Portal.route`` answers a path with (content type, body, revision) or None (404);
``Portal.change_report`` publishes a new revision of one report, so exactly one document changes
between two harvests; ``Portal.next_fault`` says what a path does instead of answering.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from xxgk.demo.pages import (
    CHARSET_LABEL,
    attachment_path,
    attachment_paths,
    attachment_type,
    cache_key,
    chrome,
    portal_report,
    portal_title,
    render_attachment,
    render_report_page,
    report_path,
    write_atomic,
)
from xxgk.demo.spec import Fault, PortalReport, PortalSite, PortalSpec
from xxgk.synth.report import SyntheticReport


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
            for path in attachment_paths(site, rep):
                self.route(path)

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
            return "text/html; charset=utf-8", chrome("示例政务门户", f"<ul>{links}</ul>", "utf-8").encode(), 0
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
            if rep.has_attachment and path in attachment_paths(site, rep):
                return attachment_type(path), self._attachment(site, rep, path), rep.revision
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
            return "text/html; charset=utf-8", chrome(f"{site.publisher}-年度报告", body, "utf-8").encode(), 0
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
        charset = CHARSET_LABEL.get(site.encoding, site.encoding)
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
        page = chrome(f"政府信息公开年报_{site.publisher}", body, charset)
        ctype = "text/html" if site.encoding != "utf-8" else "text/html; charset=utf-8"
        return ctype, page.encode(site.encoding), 0

    # -- rendering, cached --------------------------------------------------------------------
    def _cached(
        self, kind: str, site: PortalSite, rep: PortalReport, render: Callable[[], bytes], path: str | None = None
    ) -> bytes:
        """The bytes of one rendered page or attachment: from memory, or the disk cache, or rendered now."""
        path = path or (attachment_path(site, rep) if kind == "attachment" else report_path(site, rep))
        ext = path.rsplit(".", 1)[-1] if kind == "attachment" and path != attachment_path(site, rep) else ""
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
        key = cache_key(kind, site, rep, ext)
        file = self.cache_dir / key[:2] / key
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            data = render()
            write_atomic(file, data)
            with self.lock:
                self.counts["rendered"] += 1
        else:
            with self.lock:
                self.counts["cache_hits"] += 1
        return data

    def _report_page(self, site: PortalSite, rep: PortalReport) -> tuple[str, bytes, int]:
        ctype = "text/html; charset=utf-8" if rep.encoding == "utf-8" else "text/html"
        return ctype, self._cached("page", site, rep, lambda: render_report_page(site, rep)), rep.revision

    def _attachment(self, site: PortalSite, rep: PortalReport, path: str | None = None) -> bytes:
        return self._cached("attachment", site, rep, lambda: render_attachment(site, rep, path), path)

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
