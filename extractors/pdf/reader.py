"""The reader's entry point: ``extract_pdf``, from bytes to grids and text.

The guards on the bytes run first; PDFium's cheap text pass picks the table pages; only those are
read for characters and paths (PDFium, or pdfminer where PDFium loses glyphs or when asked) and
handed to the table finder page by page.
"""

from __future__ import annotations

import gc
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from xxgk.extractors.base import ExtractionError, RawDocument
from xxgk.extractors.pdf.container import check_container
from xxgk.extractors.pdf.content import PageContent, PageLimitError
from xxgk.extractors.pdf.page import page_grids
from xxgk.extractors.pdf.pages import OpenPage, choose_pages, close_pages, scan_pages
from xxgk.extractors.pdf.pdfium_page import PDFIUM_LOCK as _PDFIUM_LOCK
from xxgk.extractors.pdf.pdfium_page import open_document as _pdfium_open
from xxgk.extractors.pdf.pdfium_page import pdfium_content
from xxgk.extractors.pdf.plumber_page import pdfplumber_content
from xxgk.extractors.pdf.settings import DEFAULT_SETTINGS, PdfSettings
from xxgk.schemas.classify import find_title
from xxgk.schemas.grid import Grid
from xxgk.schemas.records import STATUS_FAILED

FORMAT = "pdf"


@contextmanager
def _gc_paused(enabled: bool) -> Iterator[None]:
    """pdfminer allocates ~10^5 small objects a page; generational GC passes over them cost ~30%."""
    was_enabled = gc.isenabled()
    if enabled and was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled and was_enabled:
            gc.enable()


def extract_pdf(data: bytes, *, settings: PdfSettings | None = None) -> RawDocument:
    """Grids (one per table and page) and text of a PDF report.

    A table continued on the next page comes out as two grids; the continuation has no header
    and may start with empty cells where merged labels continue (``meta['open_top']``). Every
    cell carries its page. Raises ExtractionError for documents that cannot be read.
    """
    settings = settings or DEFAULT_SETTINGS
    check_container(data, settings)
    warnings: list[str] = []
    with _PDFIUM_LOCK, _gc_paused(settings.pause_gc):
        doc = _pdfium_open(data)
        opened: dict[int, OpenPage] = {}  # table pages the cheap pass loaded, for the table pass
        try:
            pages = scan_pages(doc, settings, opened if settings.backend == "pdfium" else None)
            text = "\n".join(p.text for p in pages)
            title = find_title(text)
            chosen = choose_pages(pages, text, settings, warnings)
            pictures = tuple(p.pictures for p in pages)
            if not chosen:
                return RawDocument(FORMAT, [], text, title, warnings, pictures)
            if settings.backend == "pdfium":
                grids = _grids_pdfium(doc, data, chosen, settings, warnings, opened)
            else:
                grids = _grids_pdfplumber(data, chosen, settings, warnings)
        finally:
            close_pages(opened)
            doc.close()
    return RawDocument(FORMAT, grids, text, title, warnings, pictures)


def _grids_pdfium(
    doc: Any,
    data: bytes,
    chosen: list[int],
    settings: PdfSettings,
    warnings: list[str],
    opened: dict[int, OpenPage] | None = None,
) -> list[Grid]:
    """Table pages read by PDFium (``opened``: those the cheap pass left open); a page where
    PDFium lost glyphs is read again with pdfminer."""
    import pypdfium2 as pdfium

    grids: list[Grid] = []
    reread: list[int] = []
    carry: dict[str, list[float]] = {}
    for number in chosen:
        if number - 1 not in chosen:
            carry.clear()
        try:
            content = pdfium_content(doc, number, settings, opened.pop(number, None) if opened else None)
        except (pdfium.PdfiumError, PageLimitError) as exc:
            warnings.append(f"p.{number}: page skipped: {exc}")
            continue
        if content.lost_glyphs:
            warnings.append(
                f"p.{number}: {content.lost_glyphs} text object(s) of a non-embedded font that PDFium cannot "
                "place; page read with pdfminer"
            )
            reread.append(number)
            continue
        grids.extend(_safe_page_grids(content, settings, warnings, carry))
    if reread:
        grids.extend(_grids_pdfplumber(data, reread, settings, warnings))
        grids.sort(key=lambda g: (g.page or 0, _table_index(g.locator)))
    return grids


def _safe_page_grids(
    content: PageContent, settings: PdfSettings, warnings: list[str], carry: dict[str, list[float]]
) -> list[Grid]:
    """``page_grids``, with an unexpected failure on one page reported as a warning (the page's
    tables then count as missing, so the report is partial), never as a crash of the run."""
    try:
        return page_grids(content, settings, warnings, carry)
    except Exception as exc:  # geometry no rule foresaw; named in the warning, the page's tables missing
        warnings.append(f"p.{content.number}: table extraction failed: {type(exc).__name__}: {exc}")
        carry.clear()
        return []


def _table_index(locator: str) -> int:
    m = re.search(r"table (\d+)$", locator)
    return int(m.group(1)) if m else 0


def _grids_pdfplumber(data: bytes, chosen: list[int], settings: PdfSettings, warnings: list[str]) -> list[Grid]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise ExtractionError(STATUS_FAILED, f"encrypted PDF: {type(exc).__name__}") from exc
    except Exception as exc:  # pdfminer raises many types on damaged input; name it, never hide it
        raise ExtractionError(STATUS_FAILED, f"corrupt PDF (pdfminer): {type(exc).__name__}: {exc}") from exc
    grids: list[Grid] = []
    carry: dict[str, list[float]] = {}
    with pdf:
        for number in chosen:
            if number - 1 not in chosen:
                carry.clear()
            page = pdf.pages[number - 1]
            try:
                content = pdfplumber_content(page, number)
            except Exception as exc:  # one damaged page: report it, keep the others
                warnings.append(f"p.{number}: page content unreadable (pdfminer): {type(exc).__name__}: {exc}")
                continue
            finally:
                page.close()
            grids.extend(_safe_page_grids(content, settings, warnings, carry))
    return grids
