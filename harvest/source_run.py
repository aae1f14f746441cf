"""The mutable state of one source's harvest: fetch, archive, log, and page readings remembered per URL.

Split from ``harvest.harvester``: ``SourceRun`` does one URL at a time (conditional GET, archive
before parse, a fetch-log line per request); ``harvest.harvester`` walks a source with it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import threading
from pathlib import Path
from typing import Any

from xxgk.harvest.archive import (
    KIND_LISTING,
    KIND_REPORT,
    KIND_ROBOTS,
    FetchLogEntry,
    RawArchive,
    SourceState,
    UrlState,
    utc_now,
)
from xxgk.harvest.attachments import disposition_file_name
from xxgk.harvest.discovery import Link, ListingParse, ReportPageParse, decode_page
from xxgk.harvest.fetch import Attempt, Fetcher, FetchError, FetchResult, charset_of
from xxgk.harvest.registry import Source
from xxgk.harvest.results import PROBLEM_REQUEST_BUDGET, ArchivedDoc, HarvestProblem
from xxgk.harvest.revisit import ASKED_ENTRY_CHANGED, REVALIDATE_DUE, decide, entry_key, schedule
from xxgk.schemas import lexicon as lx

#: Validators are saved every this many URLs fetched (and at the end of the source).
STATE_SAVE_EVERY = 25


class SourceRun:
    """Mutable state of one source's harvest (kept off the public dataclasses)."""

    def __init__(
        self,
        source: Source,
        archive: RawArchive,
        fetcher: Fetcher,
        run_id: str | None,
        revalidate: str = REVALIDATE_DUE,
    ) -> None:
        self.source = source
        self.revalidate = revalidate
        #: known report pages and attachments not asked about this run (``harvest.revisit``)
        self.not_due = 0
        #: report pages asked about because their listing entry changed (a re-listed report): their
        #: attachments are asked too, the new revision may be only there (a notice page linking a PDF)
        self.relisted: set[str] = set()
        self.archive = archive
        self.fetcher = fetcher
        self.run_id = run_id
        self.state = archive.load_state(source.source_id)
        self.new_state = SourceState(source.source_id, reports_last_run=self.state.reports_last_run)
        self.problems: list[HarvestProblem] = []
        self.recovered: list[HarvestProblem] = []
        self.requests = 0
        #: This source's fetch log, appended as each request is answered (a kill loses none).
        self.log = archive.open_log(source.source_id)
        self.not_modified = 0
        #: The problem saying the request budget ran out (its detail counts the URLs skipped since).
        self.budget_problem: HarvestProblem | None = None
        self.skipped = 0
        self._fetched_since_save = 0

    # -- fetch + archive + log -------------------------------------------------------------
    def fetch(
        self,
        url: str,
        kind: str,
        *,
        year: int | None = None,
        parent: str | None = None,
        title: str = "",
        listed: str | None = None,
        parent_changed: bool = False,
    ) -> tuple[ArchivedDoc, bytes] | None:
        """Fetch ``url`` (conditionally when known), archive and log it; None after a problem.

        A known report page or attachment that the revisit policy says is not due is not asked
        about: its archived bytes come back as they are (``harvest.revisit``).

        Past the source's request budget (``Source.max_requests``) nothing is requested: one
        ``request_budget_reached`` problem counts the URLs left unfetched. Every
        ``STATE_SAVE_EVERY`` URLs the validators so far are saved, so a run killed midway leaves
        the state of what it fetched beside its fetch log.
        """
        prev = self.state.urls.get(url)
        if prev is not None and not self.archive.has(prev.sha256):
            prev = None  # validators without bytes are useless: fetch in full
        entry = entry_key(title, listed) if kind == KIND_REPORT else None
        if kind != KIND_LISTING:
            decision = decide(self.revalidate, prev, entry=entry, parent_changed=parent_changed)
            if decision.ask and decision.why == ASKED_ENTRY_CHANGED:
                self.relisted.add(url)
            if not decision.ask:
                assert prev is not None
                return self._not_asked(url, kind, prev, title)
        if self.requests >= self.source.max_requests:
            self._over_budget(url, kind, year)
            return None
        got = self._fetch(url, kind, prev, year=year, parent=parent, title=title)
        if got is not None and kind != KIND_LISTING:
            new = self.new_state.urls[url]
            schedule(url, new, prev, changed=got[0].changed, settings=self.source.revisit, listed=listed, entry=entry)
        self._fetched_since_save += 1
        if self._fetched_since_save >= STATE_SAVE_EVERY:
            self.save_state()
        return got

    def _over_budget(self, url: str, kind: str, year: int | None) -> None:
        self.skipped += 1
        if self.budget_problem is None:
            self.budget_problem = HarvestProblem(PROBLEM_REQUEST_BUDGET, url, "", year=year, doc_kind=kind)
            self.problems.append(self.budget_problem)
        self.budget_problem.detail = (
            f"request budget of {self.source.max_requests} requests for this run reached (max_requests); "
            f"{self.skipped} URL(s) not fetched"
        )

    def state_now(self) -> SourceState:
        """The validators fetched so far, with those of URLs not (yet) visited this run kept."""
        merged = SourceState(
            self.new_state.source_id,
            urls=dict(self.new_state.urls),
            reports_last_run=self.new_state.reports_last_run,
            last_run=self.new_state.last_run or self.state.last_run,
        )
        for url, st in self.state.urls.items():
            merged.urls.setdefault(url, st)
        return merged

    def save_state(self) -> None:
        """Save ``state_now()`` (after the log lines of the requests it comes from)."""
        self._fetched_since_save = 0
        self.archive.save_state(self.state_now())

    def _not_asked(self, url: str, kind: str, prev: UrlState, title: str) -> tuple[ArchivedDoc, bytes]:
        """A known document not due this run: its archived bytes and provenance, no request."""
        self.not_due += 1
        self.new_state.urls[url] = prev
        data = self.archive.get(prev.sha256)
        doc = ArchivedDoc(
            url,
            prev.final_url or url,
            kind,
            prev.sha256,
            prev.status or 200,
            prev.content_type,
            prev.charset,
            len(data),
            prev.fetched_at or prev.checked_at or "",
            changed=False,
            not_modified=False,
            title=title,
            etag=prev.etag,
            last_modified=prev.last_modified,
            file_name=prev.file_name,
        )
        return doc, data

    def _fetch(
        self, url: str, kind: str, prev: UrlState | None, *, year: int | None, parent: str | None, title: str
    ) -> tuple[ArchivedDoc, bytes] | None:
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
                final_url=result.final_url,
                file_name=prev.file_name,
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
                file_name=prev.file_name,
            )
            return doc, data
        data = result.content or b""
        sha, _new = self.archive.put(data)  # stored before anything parses it
        self._log(result.attempts, kind, url, year, parent, final=result, sha=sha, error=None)
        changed = prev is None or prev.sha256 != sha
        now = utc_now()
        file_name = disposition_file_name(result.headers.get("content-disposition"))
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
            final_url=result.final_url,
            file_name=file_name,
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
            file_name=file_name,
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
            "report_links": [[link.url, link.title, link.year, link.date] for link in parsed.report_links],
            "next_pages": list(parsed.next_pages),
            "layout_problem": parsed.layout_problem,
            "links_seen": parsed.links_seen,
        }
        self._remember(adapter, doc, "listing", record)
        return parsed

    def parse_report_page(self, adapter: Any, doc: ArchivedDoc, data: bytes) -> ReportPageParse:
        """The adapter's reading of a report page; for bytes already read, what it read then."""
        cached = self._parsed(adapter, doc, "report")
        if cached is not None and "images" in cached:
            return ReportPageParse(
                title=cached["title"],
                year=cached["year"],
                attachments=[Link(*link) for link in cached["attachments"]],
                has_tables=bool(cached["has_tables"]),
                table_count=int(cached["table_count"]),
                images=list(cached["images"]),
            )
        parsed = adapter.parse_report_page(_decode(doc, data, self.source), doc.final_url, self.source)
        record = {
            "title": parsed.title,
            "year": parsed.year,
            "attachments": [[link.url, link.title, link.year] for link in parsed.attachments],
            "has_tables": parsed.has_tables,
            "table_count": parsed.table_count,
            "images": parsed.images,
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
                note=a.note,
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
        self.log.write(entries)

    def flush_log(self) -> None:
        """Close this source's fetch log (every line is already written; a later line reopens it)."""
        self.log.close()


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
