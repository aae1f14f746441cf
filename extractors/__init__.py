"""From the bytes of one document to its canonical facts, checks and status.

``extract_document`` is the one entry point: it detects the format from the content (never
from the file name alone), runs the format's extractor to get grids, maps them onto the
canonical keys, evaluates the identities and decides the report status. Any document that
cannot be read gets a status and a reason instead of an exception.
"""

from __future__ import annotations

from xxgk.extractors.base import ExtractionError, RawDocument, check_grid_size
from xxgk.extractors.ocr.bundle import is_pack
from xxgk.extractors.ocr.images import image_kind
from xxgk.extractors.sniff import ENCRYPTED, OFFICE_FORMATS, OLE_OTHER, office_format
from xxgk.schemas.checks import derive_subtotals, run_checks
from xxgk.schemas.classify import foreign_text_reason, identify, legacy_reason, listing_reason, looks_like_report
from xxgk.schemas.labels import fold_label, row_printed
from xxgk.schemas.mapping import map_grids
from xxgk.schemas.model import TABLES
from xxgk.schemas.records import (
    STATUS_FAILED,
    STATUS_LEGACY,
    STATUS_NEEDS_OCR,
    STATUS_NOT_A_REPORT,
    STATUS_OK,
    STATUS_PARTIAL,
    DocumentResult,
)
from xxgk.schemas.soft_checks import narrative_checks
from xxgk.schemas.values import UNPARSEABLE

#: Bumped whenever a change can alter what is extracted from the same bytes; staged results
#: are keyed by (document sha256, EXTRACTOR_VERSION), so a bump re-extracts everything.
EXTRACTOR_VERSION = "1.3.2"

#: ``*-ocr``: read by OCR (``extractors.ocr``): a scanned PDF, an image file, a report page whose
#: tables are images (harvested as a ``table-images`` pack: ``extractors.ocr.bundle``);
#: ``pdf+ocr``: a text PDF with tables printed as pictures, those read by OCR.
OCR_FORMATS = ("pdf-ocr", "pdf+ocr", "image-ocr", "html-ocr")
FORMATS = ("pdf", "html", "markdown", "text", *OFFICE_FORMATS, *OCR_FORMATS)


def detect_format(data: bytes, name: str = "") -> str:
    """pdf, html, markdown, text, an office format (``extractors.sniff``), image (PNG, JPEG, GIF,
    TIFF, BMP, WebP) or table-images (a report page packed with its table images)."""
    head = data[:4096].lstrip()
    if head.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if is_pack(data):  # a ZIP too: asked before the office sniffer
        return "table-images"
    office = office_format(data)  # OLE2, ZIP packages, RTF, MHTML, Word XML: by content
    if office is not None:
        return office
    if image_kind(data) is not None:
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
        from xxgk.extractors.ocr.pdf_regions import with_image_tables
        from xxgk.extractors.pdf import extract_pdf

        try:
            raw = extract_pdf(data)
        except ExtractionError as err:
            if err.status != STATUS_NEEDS_OCR:
                raise
            return _read_by_ocr(data, name, fmt, err.reason)
        return with_image_tables(data, raw)
    if fmt == "image":
        return _read_by_ocr(data, name, fmt, "")
    if fmt == "table-images":
        return _read_table_image_page(data)
    if fmt == "html":
        from xxgk.extractors.html import extract_html

        return extract_html(data, http_charset=http_charset, source_encoding=encoding)
    if fmt in ("markdown", "text"):
        from xxgk.extractors.text import extract_text

        return extract_text(data, encoding=encoding, http_charset=http_charset)
    if fmt in (*OFFICE_FORMATS, ENCRYPTED, OLE_OTHER):
        from xxgk.extractors.office import read_office

        return read_office(fmt, data, detect=detect_format, read=read_document)
    raise ExtractionError(STATUS_FAILED, f"unsupported format: {fmt} (not yet read by xxgk)")


def _read_by_ocr(data: bytes, name: str, fmt: str, why: str) -> RawDocument:
    """A scanned PDF (``why``: the text reader's reason) or an image file, read by OCR; what OCR
    cannot read stays ``needs_ocr`` with both reasons."""
    from xxgk.extractors.ocr import read_image_document, read_scanned_pdf
    from xxgk.extractors.ocr.engine import OcrUnavailable

    try:
        return read_scanned_pdf(data) if fmt == "pdf" else read_image_document(data, name or "image")
    except ExtractionError as err:
        raise ExtractionError(err.status, f"{why}; OCR: {err.reason}" if why else err.reason) from err
    except OcrUnavailable as exc:
        raise ExtractionError(STATUS_NEEDS_OCR, f"{why}; OCR unavailable: {exc}" if why else f"OCR unavailable: {exc}") from exc


def _read_table_image_page(data: bytes) -> RawDocument:
    """A report page whose tables are images: its text from the HTML, its tables by OCR."""
    from xxgk.extractors.html import extract_html
    from xxgk.extractors.ocr import read_table_images
    from xxgk.extractors.ocr.bundle import unpack
    from xxgk.extractors.ocr.engine import OcrUnavailable

    page = unpack(data)
    try:
        html = extract_html(page.page, http_charset=page.charset)
    except ExtractionError as err:
        html = RawDocument("html", [], "", "", [f"page: {err.status}: {err.reason}"])
    names = [url for url, _ in page.images]
    try:
        ocr = read_table_images([body for _, body in page.images], names=names, fmt="html-ocr", read_text=False)
    except OcrUnavailable as exc:
        raise ExtractionError(STATUS_NEEDS_OCR, f"report page with {len(names)} table image(s); OCR unavailable: {exc}") from exc
    except ExtractionError as err:
        raise ExtractionError(err.status, f"report page with {len(names)} table image(s): {err.reason}") from err
    warnings = [*html.warnings, *ocr.warnings]
    return RawDocument("html-ocr", html.grids + ocr.grids, html.text or ocr.text, html.title or ocr.title, warnings)


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
    foreign = foreign_text_reason(raw.text)
    if foreign is not None:
        result.status = STATUS_NOT_A_REPORT
        result.reason = foreign
        return result
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
