"""From the bytes of one document to its canonical facts, checks and status.

``extract_document`` is the one entry point: it detects the format from the content (never
from the file name alone), runs the format's extractor to get grids, maps them onto the
canonical keys, evaluates the identities and decides the report status. Any document that
cannot be read gets a status and a reason instead of an exception.
"""

from __future__ import annotations

from xxgk.extractors.base import ExtractionError, RawDocument, check_grid_size
from xxgk.extractors.sniff import ENCRYPTED, OFFICE_FORMATS, OLE_OTHER, office_format
from xxgk.schemas.checks import derive_subtotals, run_checks
from xxgk.schemas.classify import identify, legacy_reason, listing_reason, looks_like_report
from xxgk.schemas.labels import fold_label, row_printed
from xxgk.schemas.mapping import map_grids
from xxgk.schemas.model import TABLES
from xxgk.schemas.records import (
    STATUS_FAILED,
    STATUS_LEGACY,
    STATUS_NOT_A_REPORT,
    STATUS_OK,
    STATUS_PARTIAL,
    DocumentResult,
)
from xxgk.schemas.soft_checks import narrative_checks
from xxgk.schemas.values import UNPARSEABLE

#: Bumped whenever a change can alter what is extracted from the same bytes; staged results
#: are keyed by (document sha256, EXTRACTOR_VERSION), so a bump re-extracts everything.
EXTRACTOR_VERSION = "1.1.0"

FORMATS = ("pdf", "html", "markdown", "text", *OFFICE_FORMATS)


def detect_format(data: bytes, name: str = "") -> str:
    """pdf, html, markdown, text, an office format (``extractors.sniff``), or image."""
    head = data[:4096].lstrip()
    if head.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    office = office_format(data)  # OLE2, ZIP packages, RTF, MHTML, Word XML: by content
    if office is not None:
        return office
    if head[:8] in (b"\x89PNG\r\n\x1a\n",) or head.startswith(b"\xff\xd8\xff") or head.startswith(b"GIF8"):
        return "image"
    lower = head.lower()
    if lower.startswith((b"<!doctype", b"<html", b"<?xml")) or any(
        tag in lower for tag in (b"<table", b"<body", b"<div", b"<p>", b"<p ", b"<meta")
    ):
        return "html"
    sample = data[:65536]
    pipe_rows = sum(1 for line in sample.splitlines() if line.strip().startswith(b"|") and line.strip().endswith(b"|"))
    if pipe_rows >= 3 or name.lower().endswith(".md"):
        return "markdown"
    return "text"


def read_document(
    data: bytes, name: str = "", *, http_charset: str | None = None, encoding: str | None = None
) -> RawDocument:
    """Grids and text of a document, by its detected format; raises ExtractionError if unreadable."""
    raw = _read_format(data, name, http_charset=http_charset, encoding=encoding)
    check_grid_size(raw.grids)  # whatever the reader, the mapper never gets unbounded grids
    return raw


def _read_format(data: bytes, name: str, *, http_charset: str | None, encoding: str | None) -> RawDocument:
    fmt = detect_format(data, name)
    if not data.strip():
        raise ExtractionError(STATUS_FAILED, "empty document")
    if fmt == "pdf":
        from xxgk.extractors.pdf import extract_pdf

        return extract_pdf(data)
    if fmt == "html":
        from xxgk.extractors.html import extract_html

        return extract_html(data, http_charset=http_charset, source_encoding=encoding)
    if fmt in ("markdown", "text"):
        from xxgk.extractors.text import extract_text

        return extract_text(data, encoding=encoding or http_charset)
    if fmt in (*OFFICE_FORMATS, ENCRYPTED, OLE_OTHER):
        from xxgk.extractors.office import read_office

        return read_office(fmt, data, detect=detect_format, read=read_document)
    raise ExtractionError(STATUS_FAILED, f"unsupported format: {fmt} (not yet read by xxgk)")


def extract_document(
    data: bytes,
    name: str = "",
    *,
    http_charset: str | None = None,
    encoding: str | None = None,
) -> DocumentResult:
    """Facts, derived cells, unmapped rows, checks and status of one document."""
    try:
        raw = read_document(data, name, http_charset=http_charset, encoding=encoding)
    except ExtractionError as err:
        return DocumentResult(status=err.status, reason=err.reason, format=detect_format(data, name))
    return map_document(raw)


def _printed_text(raw: RawDocument) -> str:
    """Everything a document prints, folded like labels: its text and every cell of its grids."""
    cells = "\n".join(c.text for g in raw.grids for row in g.rows for c in row if c.text)
    return fold_label(raw.text + "\n" + cells)


def map_document(raw: RawDocument) -> DocumentResult:
    """The common second half of every format: keys, checks and the report status."""
    ident = identify(raw.text, raw.title)
    mapped = map_grids(raw.grids)
    result = DocumentResult(
        status=STATUS_OK,
        format=raw.format,
        title=ident.title,
        publisher=ident.publisher,
        year=ident.year,
        template_versions=dict(mapped.versions),
        unmapped=mapped.unmapped,
        grids=[g.texts() for g in raw.grids],
        grid_locators=[g.locator for g in raw.grids],
        grid_spans=[g.spans() for g in raw.grids],
        narrative=raw.text,
        warnings=list(raw.warnings) + mapped.warnings,
    )
    found = [t for t in TABLES if any(f.table == t for f in mapped.facts)]
    legacy = legacy_reason(raw.text, ident.year, len(found))
    if legacy is not None:
        result.status = STATUS_LEGACY
        result.reason = legacy
        result.template_versions = {t: "legacy" for t in TABLES}
        return result
    if not found:
        listing = listing_reason(raw.text)
        if listing is not None:
            result.status = STATUS_NOT_A_REPORT
            result.reason = listing
        elif not looks_like_report(raw.text):
            result.status = STATUS_NOT_A_REPORT
            result.reason = "no statistical table of the national format and no annual-report title"
        else:
            result.status = STATUS_FAILED
            result.reason = "an annual report, but none of its statistical tables was found"
        return result

    result.facts = mapped.facts
    result.checks = run_checks(mapped.facts, mapped.requests_layout) + narrative_checks(raw.text, mapped.facts)
    result.derived = derive_subtotals(mapped.facts, mapped.requests_layout)
    problems = [f"table {t} not found" for t in TABLES if t not in found]
    printed = _printed_text(raw)
    for table, cells in mapped.missing.items():
        if table not in found:
            continue
        with_facts = {f.row_key for f in mapped.facts if f.table == table}
        unprinted = sorted(
            {r for r, _ in cells if r not in with_facts and not row_printed(table, r, printed)},
            key=[r for r, _ in cells].index,
        )
        if unprinted:
            result.warnings.append(f"{table}: rows not printed in the document: {', '.join(unprinted)}")
        cells = [(r, c) for r, c in cells if r not in unprinted]
        if cells:
            shown = ", ".join(f"{r}.{c}" for r, c in cells[:6])
            more = f" (+{len(cells) - 6} more)" if len(cells) > 6 else ""
            problems.append(f"{table}: {len(cells)} cells missing: {shown}{more}")
    unparseable = [f for f in mapped.facts if f.value_status == UNPARSEABLE]
    if unparseable:
        result.warnings.append(
            f"{len(unparseable)} cells unparseable: "
            + ", ".join(f"{f.table}.{f.row_key}.{f.column_key}={f.raw_text!r}" for f in unparseable[:5])
        )
    if problems:
        result.status = STATUS_PARTIAL
        result.reason = "; ".join(problems)
    return result


__all__ = ["EXTRACTOR_VERSION", "ExtractionError", "RawDocument", "detect_format", "extract_document", "map_document"]
