"""Harvest one source: listing pages → report links → report pages → attachments, all archived.

``harvest_source`` is the unit a flow task runs (one source, sequential inside, since every
request of a source goes to the same few hosts anyway); run sources in parallel threads that
share one ``Fetcher`` so per-host limits hold across them. Bytes are archived before they are
parsed; every request is logged; nothing that fails is turned into an empty success: the
returned ``SourceHarvest`` carries a status and the problems met.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from xxgk.harvest.adapters import adapter_for
from xxgk.harvest.archive import (
    KIND_ATTACHMENT,
    KIND_LISTING,
    KIND_REPORT,
    KIND_ROBOTS,
    FetchLogEntry,
    RawArchive,
    SourceState,
    UrlState,
    utc_now,
)
from xxgk.harvest.discovery import DOC_EXTENSIONS, Link, ListingParse, ReportPageParse, decode_page
from xxgk.harvest.fetch import Attempt, Fetcher, FetchError, FetchResult, charset_of, host_allowed
from xxgk.harvest.registry import Source
from xxgk.schemas import lexicon as lx

# SourceHarvest.status values.
HARVEST_OK = "ok"
HARVEST_PARTIAL = "partial"
HARVEST_EMPTY = "empty"
HARVEST_LAYOUT_CHANGED = "layout_changed"
HARVEST_FAILED = "failed"
HARVEST_STATUSES = (HARVEST_OK, HARVEST_PARTIAL, HARVEST_EMPTY, HARVEST_LAYOUT_CHANGED, HARVEST_FAILED)

# Problem kinds added by the harvester (fetch failures use harvest.fetch ERR_* kinds).
PROBLEM_LAYOUT = "layout_changed"
PROBLEM_EMPTY = "empty_listing"
PROBLEM_OFFSITE_LINK = "offsite_link"
PROBLEM_MAX_PAGES = "max_pages_reached"
PROBLEM_ARCHIVE_MISSING = "archive_missing"
PROBLEM_INTERNAL = "internal_error"

_HTML_TYPES = ("text/html", "application/xhtml", "text/xml", "application/xml")


@dataclass(slots=True)
class HarvestProblem:
    """Something that went wrong for one URL of a source, in words a report can show."""

    kind: str
    url: str
    detail: str
    status: int | None = None
    target: str | None = None
    year: int | None = None
    doc_kind: str | None = None


@dataclass(slots=True)
class ArchivedDoc:
    """A fetched URL as archived: its sha256 (also after a 304) and whether its bytes changed.

    ``status`` and ``fetched_at`` are those of the response that delivered the bytes (after a 304,
    the earlier 200); ``not_modified`` says this run's answer was a 304.
    """

    url: str
    final_url: str
    kind: str
    sha256: str
    status: int
    content_type: str | None
    charset: str | None
    size: int
    fetched_at: str
    changed: bool
    not_modified: bool
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def name(self) -> str:
        """A file name for format detection (last path segment of the final URL)."""
        return urlsplit(self.final_url).path.rsplit("/", 1)[-1] or "index.html"

    @property
    def format(self) -> str:
        """html, pdf, doc, docx, ... from the Content-Type, else the file extension."""
        ctype = (self.content_type or "").lower()
        if "pdf" in ctype:
            return "pdf"
        if any(t in ctype for t in _HTML_TYPES):
            return "html"
        ext = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""
        return {"htm": "html", "shtml": "html", "jhtml": "html"}.get(ext, ext or "html")

    @property
    def is_html(self) -> bool:
        ctype = (self.content_type or "").lower()
        if any(t in ctype for t in _HTML_TYPES):
            return True
        return not ctype and not self.name.lower().endswith(DOC_EXTENSIONS)


@dataclass(slots=True)
class HarvestedReport:
    """One report link of a source with its page and attachments as archived.

    ``page`` is None when the page could not be fetched (see ``problems``). When the listing
    links a file directly (a PDF), ``page`` is that file.
    """

    source_id: str
    url: str
    title: str
    year: int | None
    listing_url: str
    page: ArchivedDoc | None = None
    attachments: list[ArchivedDoc] = field(default_factory=list)
    has_tables: bool | None = None
    problems: list[HarvestProblem] = field(default_factory=list)

    @property
    def fetched(self) -> bool:
        return self.page is not None

    @property
    def changed(self) -> bool:
        """True when the page or any attachment has bytes not seen at this URL before."""
        return any(d.changed for d in self.documents)

    @property
    def documents(self) -> list[ArchivedDoc]:
        return [d for d in (self.page, *self.attachments) if d is not None]

    def candidates(self) -> list[ArchivedDoc]:
        """Documents to try as the report, best first.

        A page with report tables comes first; a page without them (a short notice linking the
        PDF) goes after its attachments, PDFs before other files.
        """
        atts = sorted(self.attachments, key=lambda d: (not d.name.lower().endswith(".pdf"), d.url))
        if self.page is None:
            return atts
        if not self.page.is_html or self.has_tables:
            return [self.page, *atts]
        return [*atts, self.page]


@dataclass(slots=True)
class SourceHarvest:
    """What harvesting one source gave: status, reports, listing pages, problems and request counts."""

    source_id: str
    publisher: str
    status: str
    reason: str
    started: str
    finished: str
    reports: list[HarvestedReport] = field(default_factory=list)
    listing_pages: list[ArchivedDoc] = field(default_factory=list)
    problems: list[HarvestProblem] = field(default_factory=list)
    recovered: list[HarvestProblem] = field(default_factory=list)
    requests: int = 0
    not_modified: int = 0

    @property
    def changed_reports(self) -> list[HarvestedReport]:
        return [r for r in self.reports if r.fetched and r.changed]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["changed_reports"] = len(self.changed_reports)
        return d


class _Run:
    """Mutable state of one source's harvest (kept off the public dataclasses)."""

    def __init__(self, source: Source, archive: RawArchive, fetcher: Fetcher, run_id: str | None) -> None:
        self.source = source
        self.archive = archive
        self.fetcher = fetcher
        self.run_id = run_id
        self.state = archive.load_state(source.source_id)
        self.new_state = SourceState(source.source_id, reports_last_run=self.state.reports_last_run)
        self.problems: list[HarvestProblem] = []
        self.recovered: list[HarvestProblem] = []
        self.requests = 0
        #: Fetch-log lines of this source, written in one append when the source is done (an
        #: append per request costs an open, a lock and a write each: 10 per source adds up).
        self.log_entries: list[FetchLogEntry] = []
        self.not_modified = 0

    # -- fetch + archive + log -------------------------------------------------------------
    def fetch(
        self, url: str, kind: str, *, year: int | None = None, parent: str | None = None, title: str = ""
    ) -> tuple[ArchivedDoc, bytes] | None:
        """Fetch ``url`` (conditionally when known), archive and log it; None after a problem."""
        prev = self.state.urls.get(url)
        if prev is not None and not self.archive.has(prev.sha256):
            prev = None  # validators without bytes are useless: fetch in full
        try:
            result = self.fetcher.get(
                url,
                allowed_hosts=self.source.allowed_hosts,
                etag=prev.etag if prev else None,
                last_modified=prev.last_modified if prev else None,
                delay_seconds=self.source.delay_seconds,
            )
        except FetchError as exc:
            self._log(exc.attempts, kind, url, year, parent, final=None, sha=None, error=exc)
            self.problems.append(
                HarvestProblem(exc.kind, url, exc.detail, exc.status, exc.target, year=year, doc_kind=kind)
            )
            return None
        self._note_recovered(result.attempts, url, kind, year)
        if result.not_modified:
            assert prev is not None  # a 304 only answers a conditional request
            self.not_modified += 1
            self._log(result.attempts, kind, url, year, parent, final=result, sha=prev.sha256, error=None)
            checked = utc_now()
            fetched_at = prev.fetched_at or checked
            status = prev.status or 200
            self.new_state.urls[url] = UrlState(
                sha256=prev.sha256,
                etag=result.etag or prev.etag,
                last_modified=result.last_modified or prev.last_modified,
                content_type=prev.content_type,
                charset=prev.charset,
                fetched_at=fetched_at,
                status=status,
                checked_at=checked,
            )
            data = self.archive.get(prev.sha256)
            # the bytes' provenance (status and time of the response that delivered them), so an
            # unchanged document is staged and published identically run after run
            doc = ArchivedDoc(
                url,
                result.final_url,
                kind,
                prev.sha256,
                status,
                prev.content_type,
                prev.charset,
                len(data),
                fetched_at,
                changed=False,
                not_modified=True,
                title=title,
                etag=result.etag or prev.etag,
                last_modified=result.last_modified or prev.last_modified,
            )
            return doc, data
        data = result.content or b""
        sha, _new = self.archive.put(data)  # stored before anything parses it
        self._log(result.attempts, kind, url, year, parent, final=result, sha=sha, error=None)
        changed = prev is None or prev.sha256 != sha
        now = utc_now()
        # same bytes served again in full (no validators honoured): keep when they were first fetched
        fetched_at = prev.fetched_at if prev is not None and not changed and prev.fetched_at else now
        self.new_state.urls[url] = UrlState(
            sha256=sha,
            etag=result.etag,
            last_modified=result.last_modified,
            content_type=result.content_type,
            charset=result.charset,
            fetched_at=fetched_at,
            status=result.status,
            checked_at=now,
        )
        doc = ArchivedDoc(
            url,
            result.final_url,
            kind,
            sha,
            result.status,
            result.content_type,
            result.charset,
            len(data),
            fetched_at,
            changed=changed,
            not_modified=False,
            title=title,
            etag=result.etag,
            last_modified=result.last_modified,
        )
        return doc, data

    # -- parsing, remembered per URL -------------------------------------------------------
    def parse_listing(self, adapter: Any, doc: ArchivedDoc, data: bytes) -> ListingParse:
        """The adapter's reading of a listing page; for bytes already read, what it read then."""
        cached = self._parsed(adapter, doc, "listing")
        if cached is not None:
            return ListingParse(
                report_links=[Link(*link) for link in cached["report_links"]],
                next_pages=list(cached["next_pages"]),
                layout_problem=cached["layout_problem"],
                links_seen=int(cached["links_seen"]),
            )
        parsed = adapter.parse_listing(_decode(doc, data, self.source), doc.final_url, self.source)
        record = {
            "report_links": [[link.url, link.title, link.year] for link in parsed.report_links],
            "next_pages": list(parsed.next_pages),
            "layout_problem": parsed.layout_problem,
            "links_seen": parsed.links_seen,
        }
        self._remember(adapter, doc, "listing", record)
        return parsed

    def parse_report_page(self, adapter: Any, doc: ArchivedDoc, data: bytes) -> ReportPageParse:
        """The adapter's reading of a report page; for bytes already read, what it read then."""
        cached = self._parsed(adapter, doc, "report")
        if cached is not None:
            return ReportPageParse(
                title=cached["title"],
                year=cached["year"],
                attachments=[Link(*link) for link in cached["attachments"]],
                has_tables=bool(cached["has_tables"]),
                table_count=int(cached["table_count"]),
            )
        parsed = adapter.parse_report_page(_decode(doc, data, self.source), doc.final_url, self.source)
        record = {
            "title": parsed.title,
            "year": parsed.year,
            "attachments": [[link.url, link.title, link.year] for link in parsed.attachments],
            "has_tables": parsed.has_tables,
            "table_count": parsed.table_count,
        }
        self._remember(adapter, doc, "report", record)
        return parsed

    def _parsed(self, adapter: Any, doc: ArchivedDoc, kind: str) -> dict[str, Any] | None:
        """What was read from exactly these bytes at this URL by this adapter's code, or None."""
        prev = self.state.urls.get(doc.url)
        entry = prev.parsed if prev is not None else None
        if not entry or entry.get("sha256") != doc.sha256 or entry.get("final_url") != doc.final_url:
            return None
        if entry.get("key") != parse_key(adapter, self.source, kind):
            return None
        current = self.new_state.urls.get(doc.url)
        if current is not None and current.sha256 == doc.sha256:
            current.parsed = entry  # carried over: the next run can use it again
        data = entry.get("data")
        return data if isinstance(data, dict) else None

    def _remember(self, adapter: Any, doc: ArchivedDoc, kind: str, data: dict[str, Any]) -> None:
        current = self.new_state.urls.get(doc.url)
        if current is not None and current.sha256 == doc.sha256:
            current.parsed = {
                "key": parse_key(adapter, self.source, kind),
                "sha256": doc.sha256,
                "final_url": doc.final_url,
                "data": data,
            }

    def _note_recovered(self, attempts: list[Attempt], url: str, kind: str, year: int | None) -> None:
        """Record faults that retries got past, so a report shows them even though the fetch worked."""
        failed = [a for a in attempts if a.error and a.purpose != "robots"]
        if failed:
            what = ", ".join(a.error or "" for a in failed)
            self.recovered.append(
                HarvestProblem(
                    "recovered",
                    url,
                    f"{what}; succeeded on attempt {len(failed) + 1}",
                    failed[-1].status,
                    year=year,
                    doc_kind=kind,
                )
            )

    def _log(
        self,
        attempts: list[Attempt],
        kind: str,
        url: str,
        year: int | None,
        parent: str | None,
        *,
        final: FetchResult | None,
        sha: str | None,
        error: FetchError | None,
    ) -> None:
        entries: list[FetchLogEntry] = []
        last_main = max((i for i, a in enumerate(attempts) if a.purpose != "robots"), default=-1)
        for i, a in enumerate(attempts):
            self.requests += 1
            robots = a.purpose == "robots"
            entry = FetchLogEntry(
                url=a.url,
                source_id=self.source.source_id,
                kind=KIND_ROBOTS if robots else kind,
                time=a.time,
                status=a.status,
                etag=a.headers.get("etag"),
                last_modified=a.headers.get("last-modified"),
                content_type=a.headers.get("content-type"),
                charset=charset_of(a.headers.get("content-type")),
                year=None if robots else year,
                parent_url=url if robots else parent,
                error=a.error,
                attempt=a.attempt,
                elapsed_ms=a.elapsed_ms,
                conditional=a.conditional,
                retry_after=a.retry_after,
                location=a.location,
                run_id=self.run_id,
            )
            if robots and a.content is not None:
                entry.sha256, _ = self.archive.put(a.content)
                entry.size = len(a.content)
            if i == last_main:
                if final is not None:
                    entry.final_url = final.final_url
                    entry.sha256 = sha
                    entry.size = len(final.content) if final.content is not None else None
                elif error is not None:
                    entry.error = f"{error.kind}: {error.detail}"
            entries.append(entry)
        if error is not None and last_main == -1:  # refused before any request (robots, host)
            entries.append(
                FetchLogEntry(
                    url=url,
                    source_id=self.source.source_id,
                    kind=kind,
                    year=year,
                    parent_url=parent,
                    error=f"{error.kind}: {error.detail}",
                    attempt=0,
                    run_id=self.run_id,
                )
            )
        self.log_entries.extend(entries)

    def flush_log(self) -> None:
        """Append this source's pending fetch-log lines to its log (one locked write)."""
        if self.log_entries:
            entries, self.log_entries = self.log_entries, []
            self.archive.append_log(entries)


def _decode(doc: ArchivedDoc, data: bytes, source: Source) -> str:
    return decode_page(data, doc.charset, source.encoding).text


_fingerprints: dict[type, str] = {}
_fingerprints_lock = threading.Lock()


def adapter_fingerprint(adapter: Any) -> str:
    """A hash of the code that reads pages for ``adapter``: ``harvest.discovery`` and every module of its class.

    Part of the key under which a page's reading is remembered, so changing an adapter (or the
    generic discovery under it) makes every page be read again by the new code.
    """
    cls = type(adapter)
    with _fingerprints_lock:
        known = _fingerprints.get(cls)
    if known is not None:
        return known
    files = {Path(__file__).with_name("discovery.py"), Path(lx.__file__)}
    for klass in cls.__mro__:
        if klass is object:
            continue
        try:
            files.add(Path(inspect.getfile(klass)))
        except (TypeError, OSError):  # a class defined interactively: its name must do
            continue
    digest = hashlib.sha256(f"{cls.__module__}.{cls.__qualname__}".encode())
    for path in sorted(files):
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(str(path).encode())
    value = digest.hexdigest()[:16]
    with _fingerprints_lock:
        _fingerprints[cls] = value
    return value


def parse_key(adapter: Any, source: Source, kind: str) -> str:
    """What a remembered reading of a page depends on besides its bytes and URL: adapter code, source settings."""
    settings = [
        source.adapter,
        source.encoding,
        source.report_title_pattern,
        source.report_url_pattern,
        source.exclude_title_pattern,
        source.layout_selector,
    ]
    digest = hashlib.sha256(json.dumps(settings, ensure_ascii=False).encode("utf-8")).hexdigest()[:12]
    return f"{kind}:{adapter_fingerprint(adapter)}:{digest}"


def harvest_source(
    source: Source,
    archive: RawArchive,
    fetcher: Fetcher,
    *,
    years: set[int] | None = None,
    fetch_attachments: bool = True,
    run_id: str | None = None,
) -> SourceHarvest:
    """Discover, fetch and archive every report of ``source`` (optionally only ``years``).

    Listing pages and report pages are requested conditionally when the archive's state knows
    them; a 304 is read back from the archive, so discovery still sees every link and
    ``HarvestedReport.changed`` tells which reports need extracting again.
    """
    started = utc_now()
    run = _Run(source, archive, fetcher, run_id)
    try:
        return _harvest_source(run, started, years=years, fetch_attachments=fetch_attachments)
    finally:
        run.flush_log()  # also when the source failed midway: every request made is logged


def _harvest_source(run: _Run, started: str, *, years: set[int] | None, fetch_attachments: bool) -> SourceHarvest:
    source, archive = run.source, run.archive
    adapter = adapter_for(source.adapter)
    listing_docs: list[ArchivedDoc] = []
    links: dict[str, tuple[Link, str]] = {}
    layout_problems = 0
    queue = list(source.listing_urls)
    seen_pages: set[str] = set(queue)
    fetched_pages = 0
    while queue:
        page_url = queue.pop(0)
        if fetched_pages >= source.max_pages:
            run.problems.append(
                HarvestProblem(PROBLEM_MAX_PAGES, page_url, f"stopped after {source.max_pages} listing pages")
            )
            break
        got = run.fetch(page_url, KIND_LISTING)
        if got is None:
            continue
        fetched_pages += 1
        doc, data = got
        listing_docs.append(doc)
        parsed = run.parse_listing(adapter, doc, data)
        if parsed.layout_problem:
            layout_problems += 1
            run.problems.append(HarvestProblem(PROBLEM_LAYOUT, page_url, parsed.layout_problem))
        elif not parsed.report_links and not parsed.next_pages:
            run.problems.append(
                HarvestProblem(
                    PROBLEM_EMPTY, page_url, f"no report links among {parsed.links_seen} links and no further pages"
                )
            )
        for link in parsed.report_links:
            if not host_allowed(link.url, source.allowed_hosts):
                run.problems.append(
                    HarvestProblem(
                        PROBLEM_OFFSITE_LINK,
                        link.url,
                        f"report link outside allowed hosts ({link.title})",
                        year=link.year,
                        doc_kind=KIND_REPORT,
                    )
                )
                continue
            links.setdefault(link.url, (link, page_url))
        for nxt in parsed.next_pages:
            if nxt not in seen_pages and host_allowed(nxt, source.allowed_hosts):
                seen_pages.add(nxt)
                queue.append(nxt)

    reports: list[HarvestedReport] = []
    for link, listing_url in links.values():
        if years is not None and link.year not in years:
            continue
        reports.append(_harvest_report(run, adapter, link, listing_url, fetch_attachments))

    status, reason = _source_status(source, run, listing_docs, reports, links, layout_problems)
    run.new_state.last_run = utc_now()
    if listing_docs:
        run.new_state.reports_last_run = len(links)
    # keep validators of URLs not visited this run (e.g. a years-filtered run)
    for url, st in run.state.urls.items():
        run.new_state.urls.setdefault(url, st)
    run.flush_log()  # the requests are on record before the validators they produced
    archive.save_state(run.new_state)
    return SourceHarvest(
        source_id=source.source_id,
        publisher=source.publisher,
        status=status,
        reason=reason,
        started=started,
        finished=utc_now(),
        reports=reports,
        listing_pages=listing_docs,
        problems=run.problems,
        recovered=run.recovered,
        requests=run.requests,
        not_modified=run.not_modified,
    )


def _harvest_report(run: _Run, adapter: Any, link: Link, listing_url: str, fetch_attachments: bool) -> HarvestedReport:
    rep = HarvestedReport(run.source.source_id, link.url, link.title, link.year, listing_url)
    n_before = len(run.problems)
    got = run.fetch(link.url, KIND_REPORT, year=link.year, parent=listing_url, title=link.title)
    if got is not None:
        page, data = got
        rep.page = page
        if page.is_html:
            parsed = run.parse_report_page(adapter, page, data)
            rep.has_tables = parsed.has_tables
            if rep.year is None:
                rep.year = parsed.year
            if fetch_attachments or not parsed.has_tables:
                for att in parsed.attachments:
                    if not host_allowed(att.url, run.source.allowed_hosts):
                        run.problems.append(
                            HarvestProblem(
                                PROBLEM_OFFSITE_LINK,
                                att.url,
                                "attachment outside allowed hosts",
                                year=rep.year,
                                doc_kind=KIND_ATTACHMENT,
                            )
                        )
                        continue
                    got_att = run.fetch(att.url, KIND_ATTACHMENT, year=rep.year, parent=page.url, title=att.title)
                    if got_att is not None:
                        rep.attachments.append(got_att[0])
    rep.problems = run.problems[n_before:]
    return rep


def _source_status(
    source: Source,
    run: _Run,
    listing_docs: list[ArchivedDoc],
    reports: list[HarvestedReport],
    links: dict[str, tuple[Link, str]],
    layout_problems: int,
) -> tuple[str, str]:
    if not listing_docs:
        kinds = sorted({p.kind for p in run.problems}) or ["nothing fetched"]
        return HARVEST_FAILED, f"no listing page could be fetched ({', '.join(kinds)})"
    if not links:
        if layout_problems:
            return HARVEST_LAYOUT_CHANGED, next(p.detail for p in run.problems if p.kind == PROBLEM_LAYOUT)
        if run.state.reports_last_run:
            detail = f"listing yields no report links; the last run found {run.state.reports_last_run}"
            run.problems.append(HarvestProblem(PROBLEM_LAYOUT, source.listing_urls[0], detail))
            return HARVEST_LAYOUT_CHANGED, detail
        return HARVEST_EMPTY, f"{len(listing_docs)} listing page(s) fetched, no link looks like an annual report"
    failed = [r for r in reports if not r.fetched]
    if run.problems:
        kinds: dict[str, int] = {}
        for p in run.problems:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        summary = ", ".join(f"{k}×{n}" for k, n in sorted(kinds.items()))
        return HARVEST_PARTIAL, f"{len(reports) - len(failed)}/{len(reports)} reports fetched; problems: {summary}"
    return HARVEST_OK, f"{len(reports)} reports fetched"


# -- extraction over harvested reports ---------------------------------------------------------

ExtractFn = Callable[..., Any]
_ACCEPT = ("ok", "partial", "legacy")


@dataclass(slots=True)
class ExtractedReport:
    """The document chosen as the report and its extraction result; ``tried`` lists the others."""

    report: HarvestedReport
    document: ArchivedDoc
    result: Any
    tried: list[tuple[str, str, str]] = field(default_factory=list)


def extract_report(
    report: HarvestedReport, archive: RawArchive, extract: ExtractFn | None = None
) -> ExtractedReport | None:
    """Extract a harvested report from the archive, falling back from page to attachments.

    The first candidate (``HarvestedReport.candidates``) whose status is ok/partial/legacy wins;
    when none does, the candidate with the most facts is returned with every attempt in ``tried``
    (so a page without tables and an unreadable PDF show both reasons). None if nothing was fetched.
    """
    if extract is None:
        from xxgk.extractors import extract_document as extract
    tried: list[tuple[str, str, str]] = []
    results: list[tuple[ArchivedDoc, Any]] = []
    for doc in report.candidates():
        data = archive.get(doc.sha256)
        result = extract(data, doc.name, http_charset=doc.charset)
        tried.append((doc.url, result.status, result.reason))
        if result.status in _ACCEPT:
            return ExtractedReport(report, doc, result, tried)
        results.append((doc, result))
    if not results:
        return None
    doc, result = max(results, key=lambda dr: len(dr[1].facts))
    if len(tried) > 1:
        others = "; ".join(f"{u}: {s} ({r})" for u, s, r in tried)
        result.reason = f"{result.reason} [tried: {others}]"
    return ExtractedReport(report, doc, result, tried)


def reports_to_extract(harvest: SourceHarvest, *, only_changed: bool = True) -> list[HarvestedReport]:
    """Reports whose documents were fetched and (by default) changed since the last run."""
    return [r for r in harvest.reports if r.fetched and (r.changed or not only_changed)]


@dataclass(slots=True, frozen=True)
class ChosenDocument:
    """A fetched report and the one of its documents that is the report (its first candidate)."""

    report: HarvestedReport
    document: ArchivedDoc


def chosen_documents(harvest: SourceHarvest, *, only_changed: bool = False) -> list[ChosenDocument]:
    """Each fetched report's best document: what extraction reads for it.

    The first candidate (``HarvestedReport.candidates``): the page when it holds report tables,
    else its PDF/DOC attachment. The ``ArchivedDoc`` carries what extraction needs beyond the
    report's year: sha256 (the bytes in the raw archive), file name (format hints), HTTP charset
    and the fetch's provenance. By default unchanged reports are included too (staging reuses
    their results by sha256, so nothing is parsed again, and the published tables stay complete).
    """
    out: list[ChosenDocument] = []
    for rep in reports_to_extract(harvest, only_changed=only_changed):
        cands = rep.candidates()
        if cands:
            out.append(ChosenDocument(rep, cands[0]))
    return out


def harvest_sources(
    sources: list[Source],
    archive: RawArchive,
    fetcher: Fetcher,
    *,
    max_workers: int = 4,
    years: set[int] | None = None,
    run_id: str | None = None,
) -> list[SourceHarvest]:
    """Harvest several sources in a bounded thread pool sharing ``fetcher`` (results in input order).

    An unexpected exception in one source becomes that source's ``failed`` result with the
    exception named, so one broken adapter cannot lose the other sources' harvests.
    """
    from concurrent.futures import ThreadPoolExecutor

    def one(src: Source) -> SourceHarvest:
        started = utc_now()
        try:
            return harvest_source(src, archive, fetcher, years=years, run_id=run_id)
        except Exception as exc:  # reported as the source's status, never swallowed
            detail = f"{PROBLEM_INTERNAL}: {type(exc).__name__}: {exc}"
            return SourceHarvest(
                src.source_id, src.publisher, HARVEST_FAILED, detail, started, utc_now(),
                problems=[HarvestProblem(PROBLEM_INTERNAL, src.listing_urls[0], detail)],
            )  # fmt: skip

    if max_workers <= 1 or len(sources) <= 1:
        return [one(s) for s in sources]
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="harvest") as pool:
        return list(pool.map(one, sources))
