"""Tables printed as pictures inside a PDF that has a text layer.

A report made in Word/WPS can carry a page that was scanned and inserted (no text layer, one big
image), or a table pasted as a picture among text. The text reader reads the text layer and
cannot see those tables; this module finds them and reads them by OCR, and the grids join the
text reader's. Finding them is cheap and needs no OCR import (PDFium's page objects: a page
without characters but with images, or an image covering a good part of a page); only a PDF that
has such an image pays for recognition. Called by ``extractors.read_document`` after the text
reader, so the PDF reader itself stays unaware of OCR.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xxgk.extractors.base import ExtractionError, PagePictures, RawDocument
from xxgk.extractors.ocr.settings import DEFAULT_OCR_SETTINGS, OcrSettings
from xxgk.schemas.grid import Grid
from xxgk.schemas.records import STATUS_NEEDS_OCR

#: An image on a text page is read as a possible table when it is at least this share of the
#: page's width and of its area (a seal, a logo or a QR code is far smaller).
MIN_WIDTH_SHARE = 0.4
MIN_AREA_SHARE = 0.08
FORMAT_MIXED = "pdf+ocr"


@dataclass(frozen=True, slots=True)
class ImageRegion:
    """Where a table may be printed as a picture: a page number and a box in points (top-left origin)."""

    page: int
    box: tuple[float, float, float, float]
    whole_page: bool


def image_regions(data: bytes, pictures: Iterable[PagePictures] | None = None) -> list[ImageRegion]:
    """Pages without a text layer that hold pictures, and large pictures on text pages.

    ``pictures``: what the PDF reader saw of each page (``RawDocument.pictures``); without it the
    file is opened and its pages loaded here."""
    if pictures is None:
        pictures = _page_pictures(data)
    out: list[ImageRegion] = []
    for page in pictures:
        if not page.boxes:
            continue
        width, height = page.size
        if page.chars == 0:
            out.append(ImageRegion(page.page, (0.0, 0.0, width, height), True))
            continue
        for x0, y0, x1, y1 in page.boxes:
            if (x1 - x0) >= MIN_WIDTH_SHARE * width and (x1 - x0) * (y1 - y0) >= MIN_AREA_SHARE * width * height:
                out.append(ImageRegion(page.page, (x0, y0, x1, y1), False))
    return out


def _page_pictures(data: bytes) -> list[PagePictures]:
    import pypdfium2 as pdfium

    from xxgk.extractors.pdf import DEFAULT_SETTINGS, PDFIUM_LOCK, page_pictures

    out: list[PagePictures] = []
    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return []
        try:
            for i in range(len(doc)):
                page = doc[i]
                try:
                    textpage = page.get_textpage()
                    chars = textpage.count_chars()
                    textpage.close()
                    out.append(page_pictures(page, i + 1, max(chars, 0), DEFAULT_SETTINGS.max_page_objects))
                finally:
                    page.close()
        finally:
            doc.close()
    return out


def with_image_tables(data: bytes, raw: RawDocument, *, settings: OcrSettings | None = None) -> RawDocument:
    """``raw`` (the text reader's result) with the tables of its picture regions added, read by OCR.

    Their cells are read and settled like every OCR cell; the identities' proofreading (which
    weighs a whole document's OCR tables) is not run on them: a mixed document's identities span
    text and picture tables."""
    regions = image_regions(data, raw.pictures)
    if not regions:
        return raw
    settings = settings or DEFAULT_OCR_SETTINGS
    try:
        grids, warnings = _read_regions(data, regions, settings)
    except ExtractionError as err:
        return RawDocument(raw.format, raw.grids, raw.text, raw.title, [*raw.warnings, f"picture regions not read: {err.reason}"])
    except (ImportError, RuntimeError) as exc:  # the OCR stack cannot run here (OcrUnavailable)
        return RawDocument(raw.format, raw.grids, raw.text, raw.title, [*raw.warnings, f"picture regions not read: {exc}"])
    fmt = FORMAT_MIXED if grids else raw.format
    return RawDocument(fmt, raw.grids + grids, raw.text, raw.title, [*raw.warnings, *warnings])


def _read_regions(data: bytes, regions: list[ImageRegion], settings: OcrSettings) -> tuple[list[Grid], list[str]]:
    import pypdfium2 as pdfium

    from xxgk.extractors.ocr.document import Deadline, read_page
    from xxgk.extractors.ocr.images import render_page
    from xxgk.extractors.pdf import PDFIUM_LOCK

    if len({r.page for r in regions}) > settings.max_pages:
        raise ExtractionError(STATUS_NEEDS_OCR, f"{len(regions)} picture regions > OCR page limit {settings.max_pages}")
    deadline = Deadline(settings.max_seconds)
    grids: list[Grid] = []
    warnings: list[str] = []
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(data)
    try:
        for region in regions:
            deadline.check(f"picture on page {region.page}")
            with PDFIUM_LOCK:
                image = render_page(doc, region.page, settings.dpi)
            f = settings.dpi / 72.0
            x0, y0, x1, y1 = region.box
            crop = image[int(y0 * f) : int(y1 * f) + 1, int(x0 * f) : int(x1 * f) + 1]
            where = f"ocr p.{region.page}" + ("" if region.whole_page else " picture")
            tables, _text, notes = read_page(
                crop,
                dpi=float(settings.dpi),
                page_number=region.page,
                settings=settings,
                locator=where,
                points=True,
                origin=(x0, y0),
                want_text=False,
            )
            grids += [t.grid for t in tables]
            warnings += notes
            kind = "page without a text layer" if region.whole_page else "picture on a text page"
            warnings.append(f"p.{region.page}: {kind} read by OCR: {len(tables)} table(s)")
    finally:
        with PDFIUM_LOCK:
            doc.close()
    return grids, warnings


__all__ = ["FORMAT_MIXED", "ImageRegion", "image_regions", "with_image_tables"]
