"""The embedded sample set (``data/sample``) as portal sites: what ``xxgk run`` harvests by default.

Each source of the sample set's manifest becomes a generic-CMS site whose listing links one page
per document, bytes served unchanged: an HTML document is the page itself; a PDF, text or Markdown
document is the attachment of a notice page without tables (so the harvester must follow it).
``demo_run_spec`` adds them to the demo sites (``demo.sites``) and their faults.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xxgk.demo.pages import chrome
from xxgk.demo.sites import demo_spec
from xxgk.demo.spec import ExtraLink, PortalSite, PortalSpec

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
            page = chrome(f"{listing_title}_{publisher}", body, "utf-8").encode("utf-8")
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
