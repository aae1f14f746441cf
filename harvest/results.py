"""What harvesting a source gives back: statuses, problems, archived documents, reports.

Split from ``harvest.harvester`` (which re-exports every name here).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from xxgk.harvest.attachments import candidate_order, format_of, is_picture
from xxgk.harvest.discovery import file_name_of

#: ``file_name_of`` remembered per URL: a night asks every known document's name and format several
#: times (candidates, staging keys, provenance), ~10 per source (``bench.scale``).
_url_file_name = lru_cache(maxsize=1 << 16)(file_name_of)

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
PROBLEM_LINKS_CAPPED = "report_links_capped"
PROBLEM_REQUEST_BUDGET = "request_budget_reached"

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
    #: The name the response's Content-Disposition gave the file (download handlers), if any.
    file_name: str | None = None

    @property
    def name(self) -> str:
        """A file name for format hints: Content-Disposition's, else the one the final URL names."""
        return (
            self.file_name
            or _url_file_name(self.final_url)
            or urlsplit(self.final_url).path.rsplit("/", 1)[-1]
            or "index.html"
        )

    @property
    def format(self) -> str:
        """html, pdf, doc, docx, xlsx, zip, png ... from the Content-Type, else the file extension."""
        return format_of(self.content_type, self.name)

    @property
    def is_html(self) -> bool:
        ctype = (self.content_type or "").lower()
        if any(t in ctype for t in _HTML_TYPES):
            return True
        return not ctype and self.file_name is None and _url_file_name(self.final_url) is None


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
        files) goes after its attachments but before pictures (OCR costs most). Attachments go
        structured files first (Word, WPS, spreadsheets: exact cells), then PDFs, archives, text,
        pictures (``candidate_order``), in the page's order within a kind.
        """
        atts = sorted(self.attachments, key=lambda d: candidate_order(d.format))
        if self.page is None:
            return atts
        if not self.page.is_html or self.has_tables:
            return [self.page, *atts]
        files = [d for d in atts if not is_picture(d.format)]
        return [*files, self.page, *atts[len(files) :]]


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
    #: known report pages and attachments not asked about this run (``harvest.revisit``: not due)
    not_due: int = 0

    @property
    def changed_reports(self) -> list[HarvestedReport]:
        return [r for r in self.reports if r.fetched and r.changed]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["changed_reports"] = len(self.changed_reports)
        return d
