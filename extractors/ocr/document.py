"""A scanned document read page by page: grids of its ruled tables and its text.

Pages that hold a ruled table are read in full; pages without one are read for their text
only among the first ``OcrSettings.text_pages`` (title, publisher, 总体情况). Later pages of a
scanned PDF are first rendered at ``probe_dpi`` and looked at for ruling lines, which costs a
few milliseconds, so a long narrative costs no recognition. After all pages, the identities
proofread the grids (``proofread``). Limits turn into a ``needs_ocr`` status with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from xxgk.extractors.base import ExtractionError, RawDocument
from xxgk.extractors.ocr.settings import DEFAULT_OCR_SETTINGS, OcrSettings
from xxgk.schemas.classify import find_title
from xxgk.schemas.grid import Grid
from xxgk.schemas.records import STATUS_FAILED, STATUS_NEEDS_OCR

FORMAT_PDF = "pdf-ocr"
FORMAT_IMAGE = "image-ocr"


@dataclass(slots=True)
class TableRead:
    """One table as read, kept so the proofreader can read its cells again."""

    grid: Grid
    frame: Any
    readings: list[Any]
    reader: Any
    page_number: int | None
    dpi: float | None
    origin: tuple[float, float]


@dataclass(slots=True)
class PagesRead:
    """What the pages gave: tables, text per page, warnings."""

    tables: list[TableRead] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pages_read: int = 0


class Deadline:
    """The OCR time budget of one document."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()

    def check(self, where: str) -> None:
        spent = time.monotonic() - self.start
        if spent > self.seconds:
            raise ExtractionError(
                STATUS_NEEDS_OCR, f"OCR time limit: {self.seconds:g} s per document reached ({spent:.0f} s, {where})"
            )


def read_page(
    image: Any,
    *,
    dpi: float,
    page_number: int | None,
    settings: OcrSettings,
    locator: str,
    points: bool,
    origin: tuple[float, float] = (0.0, 0.0),
    want_text: bool = True,
    deskew: bool = True,
) -> tuple[list[TableRead], str, list[str]]:
    """Tables and text of one page image (or of a region of a page: ``origin`` in points).

    ``points``: cell boxes in PDF points (pixel / dpi × 72 + origin), else in image pixels.
    This is also the entry point for an image-only table region inside a text PDF: render the
    region, pass its dpi and its top-left corner in page points.
    """
    from xxgk.extractors.ocr.engine import get_engine
    from xxgk.extractors.ocr.geometry import find_tables, prepare_page
    from xxgk.extractors.ocr.reading import PageReader, assign_lines, detect_lines, read_cells, read_text_lines, to_grid

    page = prepare_page(image, dpi / 72.0, deskew=deskew)
    frames = find_tables(page)
    warnings = [f"{locator}: {note}" for f in frames for note in f.notes]
    if not frames and not want_text:
        return [], "", warnings
    engine = get_engine(settings.threads)
    # detection places text lines; on a table page read only for its tables, the cells are found
    # from their own ink, so detection is needed only for the text around them
    lines = detect_lines(engine, page, settings.det_scale) if want_text else []
    pieces, outside = assign_lines(lines, frames, page.scale)
    reader = PageReader(engine, page, settings.low_confidence, frames)
    tables: list[TableRead] = []
    for i, frame in enumerate(frames):
        readings = read_cells(reader, frame, {j: p for (f, j), p in pieces.items() if f == i})
        name = f"{locator} table {i + 1}"
        grid = to_grid(frame, readings, page, page_number=page_number, locator=name, dpi=dpi if points else None, origin=origin)
        tables.append(TableRead(grid, frame, readings, reader, page_number, dpi if points else None, origin))
    # the text around the tables of a later page (headings, notes) is not needed by the mapper,
    # which finds tables by their labels: recognising it would double the cost of a table page
    text = read_text_lines(reader, outside) if want_text else ""
    return tables, text, warnings


def _read_all(
    pages: Iterable[tuple[int, Callable[[], tuple[Any, float]], bool]],
    settings: OcrSettings,
    deadline: Deadline,
    locator: str,
    points: bool,
) -> PagesRead:
    """Pages given as (number, render, is_text_page) read in order."""
    out = PagesRead()
    for number, render, text_page in pages:
        deadline.check(f"before page {number}")
        image, dpi = render()
        tables, text, warnings = read_page(
            image,
            dpi=dpi,
            page_number=number,
            settings=settings,
            locator=f"{locator} p.{number}",
            points=points,
            want_text=text_page,
        )
        out.tables += tables
        out.texts.append(text)
        out.warnings += warnings
        out.pages_read += 1
    deadline.check("after the last page")
    return out


def _finish(read: PagesRead, fmt: str, settings: OcrSettings, extra_warnings: list[str]) -> RawDocument:
    from xxgk.extractors.ocr.proofread import proofread

    warnings = list(extra_warnings) + read.warnings
    if read.tables:
        warnings += proofread(read.tables, settings)
    grids = [t.grid for t in read.tables]
    text = "\n".join(t for t in read.texts if t)
    if not grids and not text.strip():
        raise ExtractionError(STATUS_NEEDS_OCR, "OCR found no text and no ruled table on any page")
    return RawDocument(fmt, grids, text, find_title(text), warnings)


def read_scanned_pdf(data: bytes, *, settings: OcrSettings | None = None) -> RawDocument:
    """A PDF without a usable text layer, read by OCR (format ``pdf-ocr``, boxes in points)."""
    import pypdfium2 as pdfium

    from xxgk.extractors.ocr.geometry import has_ruled_table, prepare_page
    from xxgk.extractors.ocr.images import page_infos, render_page
    from xxgk.extractors.pdf import PDFIUM_LOCK

    settings = settings or DEFAULT_OCR_SETTINGS
    deadline = Deadline(settings.max_seconds)
    # PDFium is not thread-safe: every call into it holds the extractor's lock, but the
    # recognition between two renders does not, so other documents' PDFs are not held up
    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise ExtractionError(STATUS_FAILED, f"corrupt PDF: {exc}") from exc
    try:
        with PDFIUM_LOCK:
            infos = page_infos(doc, settings)
        scanned = [i.scan_dpi for i in infos if i.scan_dpi is not None]
        if scanned and max(scanned) < settings.min_scan_dpi:
            raise ExtractionError(
                STATUS_NEEDS_OCR,
                f"scan resolution {max(scanned):.0f} dpi is below the OCR minimum of {settings.min_scan_dpi} dpi",
            )
        plan: list[tuple[int, Callable[[], tuple[Any, float]], bool]] = []
        skipped: list[int] = []
        for info in infos:
            text_page = info.number <= settings.text_pages
            if not text_page:
                deadline.check(f"probing page {info.number}")
                with PDFIUM_LOCK:
                    low = render_page(doc, info.number, settings.probe_dpi)
                probe = prepare_page(low, settings.probe_dpi / 72.0)
                if not has_ruled_table(probe.ink, probe.scale):
                    skipped.append(info.number)
                    continue

            def render(number: int = info.number) -> tuple[Any, float]:
                with PDFIUM_LOCK:
                    return render_page(doc, number, settings.dpi), float(settings.dpi)

            plan.append((info.number, render, text_page))
        read = _read_all(plan, settings, deadline, "ocr", points=True)
    finally:
        with PDFIUM_LOCK:
            doc.close()
    warnings = [f"scanned PDF read by OCR: {read.pages_read} of {len(infos)} page(s) recognised"]
    if skipped:
        warnings.append(
            f"page(s) {_ranges(skipped)}: no ruled table; their text was not recognised "
            f"(OCR reads text on the first {settings.text_pages} page(s) and on table pages)"
        )
    return _finish(read, FORMAT_PDF, settings, warnings)


def read_image_document(data: bytes, name: str = "image", *, settings: OcrSettings | None = None) -> RawDocument:
    """An image file (PNG, JPEG, GIF, TIFF, BMP, WebP; every frame a page) read by OCR (boxes in pixels)."""
    return read_table_images([data], settings=settings, names=[name], fmt=FORMAT_IMAGE)


def read_table_images(
    images: list[bytes],
    *,
    settings: OcrSettings | None = None,
    names: list[str] | None = None,
    fmt: str = FORMAT_IMAGE,
    read_text: bool = True,
) -> RawDocument:
    """Several image files read as one document, in order (a report page whose tables are
    ``<img>`` elements, or a scan delivered as one file per page). Each image (or TIFF frame) is
    one page of the result, numbered from 1; cell boxes are in pixels of their image. Text
    around the tables is recognised on the first ``settings.text_pages`` page(s) when
    ``read_text`` (a report page's own HTML already gives its text)."""
    from xxgk.extractors.ocr.images import decode_image, guess_dpi

    settings = settings or DEFAULT_OCR_SETTINGS
    deadline = Deadline(settings.max_seconds)
    names = names or [f"image {i + 1}" for i in range(len(images))]
    rasters = []
    for data, name in zip(images, names, strict=True):
        rasters += decode_image(data, settings, name)
        if len(rasters) > settings.max_pages:
            raise ExtractionError(STATUS_NEEDS_OCR, f"{len(rasters)}+ pages > OCR page limit {settings.max_pages}")
    plan = []
    for number, raster in enumerate(rasters, start=1):

        def render(r: Any = raster) -> tuple[Any, float]:
            return r.image, guess_dpi(r)

        plan.append((number, render, read_text and number <= settings.text_pages))
    read = _read_all(plan, settings, deadline, "image", points=False)
    return _finish(read, fmt, settings, [f"image(s) read by OCR: {read.pages_read} page(s)"])


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    for n in numbers:
        if out and "-" not in out[-1] and int(out[-1]) == n - 1:
            out[-1] = f"{out[-1]}-{n}"
        elif out and "-" in out[-1] and int(out[-1].split("-")[1]) == n - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


__all__ = ["FORMAT_IMAGE", "FORMAT_PDF", "read_image_document", "read_page", "read_scanned_pdf", "read_table_images"]
