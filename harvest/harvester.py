"""Harvest one source: listing pages → report links → report pages → attachments, all archived.

``harvest_source`` is the unit a flow task runs (one source, sequential inside, since every
request of a source goes to the same few hosts anyway); run sources in parallel threads that
share one ``Fetcher`` so per-host limits hold across them. Bytes are archived before they are
parsed; every request is logged; nothing that fails is turned into an empty success: the
returned ``SourceHarvest`` carries a status and the problems met.

Result types live in ``harvest.results``, the per-source fetch/archive/log state in
``harvest.source_run``; every name is importable from here as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xxgk.harvest.adapters import adapter_for
from xxgk.harvest.archive import KIND_ATTACHMENT, KIND_LISTING, KIND_REPORT, RawArchive, utc_now
from xxgk.harvest.attachments import is_picture
from xxgk.harvest.discovery import Link
from xxgk.harvest.fetch import Fetcher, host_allowed
from xxgk.harvest.registry import Source
from xxgk.harvest.results import (
    HARVEST_EMPTY,
    HARVEST_FAILED,
    HARVEST_LAYOUT_CHANGED,
    HARVEST_OK,
    HARVEST_PARTIAL,
    HARVEST_STATUSES,
    PROBLEM_ARCHIVE_MISSING,
    PROBLEM_EMPTY,
    PROBLEM_INTERNAL,
    PROBLEM_LAYOUT,
    PROBLEM_LINKS_CAPPED,
    PROBLEM_MAX_PAGES,
    PROBLEM_OFFSITE_LINK,
    PROBLEM_REQUEST_BUDGET,
    ArchivedDoc,
    HarvestedReport,
    HarvestProblem,
    SourceHarvest,
)
from xxgk.harvest.revisit import REVALIDATE_DUE
from xxgk.harvest.source_run import SourceRun, adapter_fingerprint, parse_key
from xxgk.schemas.choice import Tried, best_index, is_decisive

__all__ = [
    "HARVEST_EMPTY",
    "HARVEST_FAILED",
    "HARVEST_LAYOUT_CHANGED",
    "HARVEST_OK",
    "HARVEST_PARTIAL",
    "HARVEST_STATUSES",
    "PROBLEM_ARCHIVE_MISSING",
    "PROBLEM_EMPTY",
    "PROBLEM_INTERNAL",
    "PROBLEM_LAYOUT",
    "PROBLEM_LINKS_CAPPED",
    "PROBLEM_MAX_PAGES",
    "PROBLEM_OFFSITE_LINK",
    "PROBLEM_REQUEST_BUDGET",
    "ArchivedDoc",
    "ChosenDocument",
    "ExtractedReport",
    "HarvestProblem",
    "HarvestedReport",
    "SourceHarvest",
    "adapter_fingerprint",
    "chosen_documents",
    "extract_report",
    "harvest_source",
    "harvest_sources",
    "parse_key",
    "reports_to_extract",
]


def harvest_source(
    source: Source,
    archive: RawArchive,
    fetcher: Fetcher,
    *,
    years: set[int] | None = None,
    fetch_attachments: bool = True,
    run_id: str | None = None,
    revalidate: str = REVALIDATE_DUE,
) -> SourceHarvest:
    """Discover, fetch and archive every report of ``source`` (optionally only ``years``).

    Listing pages and report pages are requested conditionally when the archive's state knows
    them; a 304 is read back from the archive, so discovery still sees every link and
    ``HarvestedReport.changed`` tells which reports need extracting again. Known report pages
    and attachments are asked about when ``revalidate`` and the revisit policy say so
    (``harvest.revisit``: ``all``, ``due`` or ``none``); the others are read from the archive.
    """
    started = utc_now()
    run = SourceRun(source, archive, fetcher, run_id, revalidate)
    try:
        return _harvest_source(run, started, years=years, fetch_attachments=fetch_attachments)
    finally:
        run.flush_log()  # also when the source failed midway: every request made is logged


def _harvest_source(run: SourceRun, started: str, *, years: set[int] | None, fetch_attachments: bool) -> SourceHarvest:
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
        report_links = parsed.report_links
        if len(report_links) > source.max_report_links:
            detail = (
                f"{len(report_links)} report links on one listing page; the first {source.max_report_links} "
                "taken (max_report_links)"
            )
            run.problems.append(HarvestProblem(PROBLEM_LINKS_CAPPED, page_url, detail))
            report_links = report_links[: source.max_report_links]
        for link in report_links:
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
    if not run.new_state.same_but_checked(run.state):
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
        not_due=run.not_due,
    )


def _harvest_report(
    run: SourceRun, adapter: Any, link: Link, listing_url: str, fetch_attachments: bool
) -> HarvestedReport:
    rep = HarvestedReport(run.source.source_id, link.url, link.title, link.year, listing_url)
    n_before = len(run.problems)
    listed = getattr(link, "date", None)
    got = run.fetch(link.url, KIND_REPORT, year=link.year, parent=listing_url, title=link.title, listed=listed)
    if got is not None:
        page, data = got
        rep.page = page
        if page.is_html:
            from xxgk.extractors.ocr.images import image_kind  # a header check: no OCR stack

            pictures: list[tuple[str, bytes, ArchivedDoc]] = []
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
                    got_att = run.fetch(
                        att.url,
                        KIND_ATTACHMENT,
                        year=rep.year,
                        parent=page.url,
                        title=att.title,
                        listed=listed,
                        parent_changed=page.changed or link.url in run.relisted,
                    )
                    if got_att is not None:
                        rep.attachments.append(got_att[0])
                        if is_picture(got_att[0].format) and image_kind(got_att[1]) is not None:
                            pictures.append((att.url, got_att[1], got_att[0]))
            if not parsed.has_tables and parsed.images:
                pack = table_image_pack(run, page, data, parsed.images, rep.year)
                if pack is not None:
                    rep.attachments.append(pack)
            if len(pictures) >= 2:
                # a report scanned one page per picture: no one picture holds all its tables, so
                # the pictures are also read together, with the page's text (a packed candidate)
                rep.attachments.append(_pack(run, page, data, pictures, "#scanned-pages", "scanned pages"))
    rep.problems = run.problems[n_before:]
    return rep


def table_image_pack(
    run: SourceRun, page: ArchivedDoc, data: bytes, urls: list[str], year: int | None
) -> ArchivedDoc | None:
    """A report page without tables but with images in its body: the images fetched (allowed
    hosts, limits, archived like every body) and packed with the page into one document for OCR
    (``extractors.ocr.bundle``); None when no image could be fetched."""
    from xxgk.extractors.ocr.bundle import MAX_IMAGES
    from xxgk.extractors.ocr.images import image_kind

    images: list[tuple[str, bytes, ArchivedDoc]] = []
    for url in urls[:MAX_IMAGES]:
        if not host_allowed(url, run.source.allowed_hosts):
            run.problems.append(
                HarvestProblem(PROBLEM_OFFSITE_LINK, url, "image outside allowed hosts", year=year, doc_kind=KIND_ATTACHMENT)
            )
            continue
        got = run.fetch(url, KIND_ATTACHMENT, year=year, parent=page.url, title="table image")
        if got is not None and image_kind(got[1]) is not None:
            images.append((url, got[1], got[0]))
    if not images:
        return None
    return _pack(run, page, data, images, "#table-images", "table images")


def _pack(
    run: SourceRun, page: ArchivedDoc, data: bytes, images: list[tuple[str, bytes, ArchivedDoc]], anchor: str, what: str
) -> ArchivedDoc:
    """The page and its images (as fetched, in order, at most ``MAX_IMAGES``) archived as one
    table-image pack, a candidate of its own (``url`` = the page's + ``anchor``)."""
    from xxgk.extractors.ocr.bundle import MAX_IMAGES, TableImagePage, pack

    images = images[:MAX_IMAGES]
    docs = [d for _, _, d in images]
    body = pack(TableImagePage(page.url, data, page.charset, tuple((url, img) for url, img, _ in images)))
    sha, _new = run.archive.put(body)
    return ArchivedDoc(
        f"{page.url}{anchor}",
        f"{page.final_url}{anchor}",
        KIND_ATTACHMENT,
        sha,
        page.status,
        "application/zip",
        None,
        len(body),
        max(d.fetched_at for d in (page, *docs)),
        changed=any(d.changed for d in (page, *docs)),
        not_modified=all(d.not_modified for d in (page, *docs)),
        title=f"{page.title} ({what})",
    )


def _source_status(
    source: Source,
    run: SourceRun,
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


@dataclass(slots=True)
class ExtractedReport:
    """The document chosen as the report and its extraction result; ``tried`` lists every document read.

    ``tried`` holds (url, status, reason) in the order read; documents after a decisive one
    (``schemas.choice``) are not read and not listed.
    """

    report: HarvestedReport
    document: ArchivedDoc
    result: Any
    tried: list[tuple[str, str, str]] = field(default_factory=list)


def extract_report(
    report: HarvestedReport, archive: RawArchive, extract: ExtractFn | None = None
) -> ExtractedReport | None:
    """Extract a harvested report from the archive, reading its candidates in order.

    The rule of ``schemas.choice``, as the flow applies it: the first candidate read ``ok`` or
    ``legacy`` is the report; else every candidate is read and the best kept (status, then facts),
    its reason naming what the others gave. None if nothing was fetched.
    """
    if extract is None:
        from xxgk.extractors import extract_document as extract
    tried: list[Tried] = []
    results: list[tuple[ArchivedDoc, Any]] = []
    for doc in report.candidates():
        data = archive.get(doc.sha256)
        result = extract(data, doc.name, http_charset=doc.charset)
        tried.append(Tried(doc.url, result.status, result.reason, len(result.facts)))
        results.append((doc, result))
        if is_decisive(result.status):
            break
    if not results:
        return None
    best = best_index(tried)
    doc, result = results[best]
    if not is_decisive(result.status) and len(tried) > 1:
        others = "; ".join(f"{t.label}: {t.status} ({t.reason})" for i, t in enumerate(tried) if i != best)
        result.reason = f"{result.reason} [tried: {others}]"
    return ExtractedReport(report, doc, result, [(t.label, t.status, t.reason) for t in tried])


def reports_to_extract(harvest: SourceHarvest, *, only_changed: bool = True) -> list[HarvestedReport]:
    """Reports whose documents were fetched and (by default) changed since the last run."""
    return [r for r in harvest.reports if r.fetched and (r.changed or not only_changed)]


@dataclass(slots=True, frozen=True)
class ChosenDocument:
    """A fetched report, its first candidate and the others in the order extraction tries them."""

    report: HarvestedReport
    document: ArchivedDoc
    alternatives: tuple[ArchivedDoc, ...] = ()


def chosen_documents(harvest: SourceHarvest, *, only_changed: bool = False) -> list[ChosenDocument]:
    """Each fetched report's documents in the order extraction reads them (``HarvestedReport.candidates``).

    ``document`` is the first candidate (the page when it holds report tables, else its best
    attachment), ``alternatives`` the rest: extraction reads on while no document settles the
    question (``schemas.choice``). The ``ArchivedDoc`` carries what extraction needs beyond the
    report's year: sha256 (the bytes in the raw archive), file name (format hints), HTTP charset
    and the fetch's provenance. By default unchanged reports are included too (staging reuses
    their results by sha256, so nothing is parsed again, and the published tables stay complete).
    """
    out: list[ChosenDocument] = []
    for rep in reports_to_extract(harvest, only_changed=only_changed):
        cands = rep.candidates()
        if cands:
            out.append(ChosenDocument(rep, cands[0], tuple(cands[1:])))
    return out


def harvest_sources(
    sources: list[Source],
    archive: RawArchive,
    fetcher: Fetcher,
    *,
    max_workers: int = 4,
    years: set[int] | None = None,
    run_id: str | None = None,
    revalidate: str = REVALIDATE_DUE,
) -> list[SourceHarvest]:
    """Harvest several sources in a bounded thread pool sharing ``fetcher`` (results in input order).

    An unexpected exception in one source becomes that source's ``failed`` result with the
    exception named, so one broken adapter cannot lose the other sources' harvests.
    """
    from concurrent.futures import ThreadPoolExecutor

    def one(src: Source) -> SourceHarvest:
        started = utc_now()
        try:
            return harvest_source(src, archive, fetcher, years=years, run_id=run_id, revalidate=revalidate)
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
