"""The cheap pass over every page (PDFium's text layer), and the choice of the pages worth running
the table finder on; a document with none gets the status that says why (scanned, not a report)."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

from xxgk.extractors.base import ExtractionError, PagePictures
from xxgk.extractors.pdf.pdfium_calls import pdfium_calls
from xxgk.extractors.pdf.pdfium_page import IDENTITY, Matrix, compose, display_transform
from xxgk.extractors.pdf.printed import TABLE_MARKERS, marker_hits, norm
from xxgk.extractors.pdf.settings import DEFAULT_SETTINGS, PdfSettings
from xxgk.schemas import lexicon as lx
from xxgk.schemas.records import STATUS_FAILED, STATUS_NEEDS_OCR, STATUS_NOT_A_REPORT
from xxgk.schemas.values import is_bare_number


@dataclass(slots=True)
class PageScan:
    """What the cheap pass learns about one page."""

    number: int
    text: str
    chars: int
    hits: int
    pictures: PagePictures

    @property
    def images(self) -> int:
        return len(self.pictures.boxes)


#: Pages with table labels that ``scan_pages`` leaves open for the table pass, at most: loading a
#: page and its text layer again costs about a millisecond each.
KEEP_OPEN = 32

#: A page left open by the cheap pass: the pypdfium2 page and its text page (see ``scan_pages``).
OpenPage = tuple[Any, Any]


def scan_pages(
    doc: Any, settings: PdfSettings = DEFAULT_SETTINGS, keep: dict[int, OpenPage] | None = None
) -> list[PageScan]:
    """Text, character count, image count and table-label hits of every page of an open pypdfium2 document.

    With ``keep``, pages that print table labels (up to ``KEEP_OPEN``) stay open there by number,
    for the table pass (``pdfium_content``); the caller closes what it does not use (``close_pages``).
    """
    import pypdfium2 as pdfium

    markers = TABLE_MARKERS + settings.extra_markers
    n_pages = len(doc)
    if n_pages == 0:
        raise ExtractionError(STATUS_FAILED, "corrupt PDF: no pages")
    if n_pages > settings.max_pages:
        raise ExtractionError(STATUS_FAILED, f"too many pages: {n_pages} > limit {settings.max_pages}")
    pages: list[PageScan] = []
    for i in range(n_pages):
        try:
            page = doc[i]
        except pdfium.PdfiumError as exc:
            raise ExtractionError(STATUS_FAILED, f"corrupt PDF: page {i + 1} cannot be loaded ({exc})") from exc
        textpage = None
        kept = False
        try:
            textpage = page.get_textpage()
            n_chars = textpage.count_chars()
            if n_chars > settings.max_page_chars:
                raise ExtractionError(
                    STATUS_FAILED, f"page {i + 1} has {n_chars} characters > limit {settings.max_page_chars}"
                )
            text = textpage.get_text_range(0, n_chars) if n_chars > 0 else ""
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            pictures = page_pictures(page, i + 1, max(n_chars, 0), settings.max_page_objects)
            hits = marker_hits(text, markers) if text else 0
            if keep is not None and hits and len(keep) < KEEP_OPEN:
                keep[i + 1] = (page, textpage)
                kept = True
        finally:
            if not kept:
                if textpage is not None:
                    textpage.close()
                page.close()
        pages.append(PageScan(i + 1, text, max(n_chars, 0), hits, pictures))
    return pages


def close_pages(pages: dict[int, OpenPage]) -> None:
    """Close the pages ``scan_pages`` left open (text page first)."""
    for page, textpage in pages.values():
        textpage.close()
        page.close()
    pages.clear()


def page_pictures(page: Any, number: int, chars: int, max_objects: int) -> PagePictures:
    """The boxes of a loaded page's pictures (also inside form XObjects, three levels deep); the
    walk stops after ``max_objects`` objects (the table reader skips such a page with a warning)."""
    import pypdfium2.raw as c

    calls = pdfium_calls()
    get_type, get_bounds = calls.obj_get_type, calls.obj_get_bounds
    FORM, IMAGE = c.FPDF_PAGEOBJ_FORM, c.FPDF_PAGEOBJ_IMAGE
    width, height = page.get_size()
    xf = display_transform(page.get_rotation(), page.get_mediabox())
    boxes: list[tuple[float, float, float, float]] = []
    matrix = c.FS_MATRIX()
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    bound_refs = tuple(ctypes.byref(v) for v in (left, bottom, right, top))

    seen = 0

    def walk(get_object: Any, parent: Any, count: int, outer: Matrix, depth: int) -> None:
        nonlocal seen
        for k in range(count):
            obj = get_object(parent, k)
            seen += 1
            if seen > max_objects:
                return
            kind = get_type(obj)
            if kind == FORM and depth < 3:
                c.FPDFPageObj_GetMatrix(obj, matrix)
                inner = compose(outer, (matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f))
                walk(c.FPDFFormObj_GetObject, obj, c.FPDFFormObj_CountObjects(obj), inner, depth + 1)
            elif kind == IMAGE and get_bounds(obj, *bound_refs):
                a, b, cc, d, e, f = outer
                corners = [
                    xf(a * x + cc * y + e, b * x + d * y + f)
                    for x in (left.value, right.value)
                    for y in (bottom.value, top.value)
                ]
                xs, ys = [p[0] for p in corners], [p[1] for p in corners]
                boxes.append((max(0.0, min(xs)), max(0.0, min(ys)), min(width, max(xs)), min(height, max(ys))))

    raw = page.raw
    walk(calls.page_get_object, raw, c.FPDFPage_CountObjects(raw), IDENTITY, 0)
    return PagePictures(number, (float(width), float(height)), chars, tuple(boxes))


def table_pages(pages: list[PageScan], settings: PdfSettings = DEFAULT_SETTINGS) -> list[int]:
    """Numbers of the pages worth running the table finder on.

    A page qualifies with ``min_marker_hits`` distinct table labels, or with one when the page
    before it qualified (a table continued over a page break may carry a single label).
    """
    if settings.all_pages:
        return [p.number for p in pages if p.text.strip()]
    chosen: list[int] = []
    previous = False
    for p in pages:
        ok = p.hits >= settings.min_marker_hits or (previous and (p.hits >= 1 or starts_with_values(p.text)))
        if ok:
            chosen.append(p.number)
        previous = ok
    return chosen


def starts_with_values(text: str) -> bool:
    """True when one of the first lines of a page is a row of numbers: a table cut by the page break."""
    lines = [ln for ln in text.split("\n") if ln.strip()][:4]
    return any(sum(1 for tok in ln.split() if is_bare_number(tok)) >= 3 for ln in lines)


def choose_pages(pages: list[PageScan], text: str, settings: PdfSettings, warnings: list[str]) -> list[int]:
    """Table pages, or the status that explains why there are none (scanned, not a report)."""
    image_pages = [p.number for p in pages if not p.text.strip() and p.images]
    blank_pages = [p.number for p in pages if not p.text.strip()]
    if len(blank_pages) == len(pages):
        if image_pages:
            raise ExtractionError(
                STATUS_NEEDS_OCR, f"image-only PDF (scanned): none of {len(pages)} page(s) has a text layer"
            )
        raise ExtractionError(
            STATUS_NEEDS_OCR, f"no text layer and no images on {len(pages)} page(s) (text drawn as outlines?)"
        )
    if image_pages:
        warnings.append(f"pages without a text layer (images only): {', '.join(map(str, image_pages))}")
    chosen = table_pages(pages, settings)
    if chosen:
        return chosen
    if image_pages:
        raise ExtractionError(
            STATUS_NEEDS_OCR,
            f"no table text found; page(s) {', '.join(map(str, image_pages))} are images without a text layer",
        )
    if lx.REPORT_SUBJECT not in norm(text):
        raise ExtractionError(STATUS_NOT_A_REPORT, f"no {lx.REPORT_SUBJECT} report text and no table labels in the PDF")
    warnings.append("no page carries the labels of the statistical tables")
    return []
