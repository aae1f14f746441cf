"""Page crops: the printed region of each failed or ambiguous cell, cut from the archived document.

A reader checking a red cell wants to see what the page printed there, not only what was read.
Cells that know where they were printed (``bbox`` in the grid's ``box_unit``: ``pt`` from the top-left
of a PDF page, ``px`` of a standalone image) are rendered at publish time from the archived bytes:
PDF pages with pypdfium2, images with Pillow. A cell without a box, a document whose bytes are not
at hand, or a page that cannot be rendered simply gets no crop. Sizes are bounded (pixels per crop,
crops per document) so a report with hundreds of failing cells cannot blow up the folder.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

_log = logging.getLogger("xxgk")

#: Most crops one document gets (failed-check cells first, then ambiguous ones).
MAX_CROPS_PER_DOCUMENT = 40
#: Largest crop in pixels; the scale shrinks to fit.
MAX_WIDTH_PX, MAX_HEIGHT_PX = 720, 240
#: Rendering scale for PDF points (2 = 144 dpi) and the context kept around a cell (points).
PDF_SCALE = 2.0
MARGIN_X_PT, MARGIN_Y_PT = 14.0, 6.0
MARGIN_PX = 12


def _cells(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The cells of a document entry worth a crop, failed-check cells first."""
    for check in doc.get("failed_checks", []):
        yield from check.get("cells", [])
    for check in doc.get("cross_year_checks", []):
        yield from check.get("cells", [])
    yield from doc.get("ambiguous_cells", [])


def _box(cell: dict[str, Any]) -> tuple[str, int | None, tuple[float, float, float, float]] | None:
    bbox, unit = cell.get("bbox"), cell.get("box_unit")
    if not bbox or len(bbox) != 4 or unit not in ("pt", "px"):
        return None
    if unit == "pt" and not cell.get("page"):
        return None
    x0, top, x1, bottom = (float(v) for v in bbox)
    if x1 <= x0 or bottom <= top:
        return None
    return unit, cell.get("page"), (x0, top, x1, bottom)


def wanted_crops(doc: dict[str, Any]) -> bool:
    """Whether any cell of this document entry could get a crop (so its bytes are worth reading)."""
    return any(_box(c) is not None for c in _cells(doc))


def _crop_name(sha: str, unit: str, page: int | None, box: tuple[float, float, float, float]) -> str:
    x0, top, x1, bottom = (round(v) for v in box)
    return f"{sha[:16]}-{unit}{page or 0}-{x0}-{top}-{x1}-{bottom}.png"


def _png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class _PdfPages:
    """One PDF opened once for all its crops."""

    def __init__(self, data: bytes) -> None:
        import pypdfium2 as pdfium

        self.pdf = pdfium.PdfDocument(data)

    def crop(self, page_no: int, box: tuple[float, float, float, float]) -> bytes:
        if not 1 <= page_no <= len(self.pdf):
            raise IndexError(f"no page {page_no}")
        page = self.pdf[page_no - 1]
        try:
            width, height = page.get_size()
            x0, top, x1, bottom = box
            left, right = max(0.0, x0 - MARGIN_X_PT), min(width, x1 + MARGIN_X_PT)
            upper, lower = max(0.0, top - MARGIN_Y_PT), min(height, bottom + MARGIN_Y_PT)
            if right <= left or lower <= upper:
                raise ValueError("box outside the page")
            scale = min(PDF_SCALE, MAX_WIDTH_PX / (right - left), MAX_HEIGHT_PX / (lower - upper))
            bitmap = page.render(scale=scale, crop=(left, height - lower, width - right, upper))
            return _png(bitmap.to_pil())
        finally:
            page.close()

    def close(self) -> None:
        self.pdf.close()


def _image_crop(data: bytes, box: tuple[float, float, float, float]) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        x0, top, x1, bottom = box
        region = (
            max(0, int(x0) - MARGIN_PX),
            max(0, int(top) - MARGIN_PX),
            min(image.width, int(x1) + MARGIN_PX),
            min(image.height, int(bottom) + MARGIN_PX),
        )
        if region[2] <= region[0] or region[3] <= region[1]:
            raise ValueError("box outside the image")
        piece = image.crop(region).convert("RGB")
        piece.thumbnail((MAX_WIDTH_PX, MAX_HEIGHT_PX))
        return _png(piece)


def render_crops(doc: dict[str, Any], data: bytes, folder: str) -> dict[str, bytes]:
    """PNG crops of a document entry's failed and ambiguous cells, by file name.

    Each cropped cell gets ``crop``: its file as linked from the report page (``folder/name``).
    Cells already given a crop share it. Rendering problems are logged and skipped.
    """
    import pypdfium2 as pdfium
    from PIL import UnidentifiedImageError

    out: dict[str, bytes] = {}
    pdf: _PdfPages | None = None
    failed: set[str] = set()
    try:
        for cell in _cells(doc):
            found = _box(cell)
            if found is None:
                continue
            unit, page, box = found
            name = _crop_name(doc["document_sha256"], unit, page, box)
            if name not in out and name not in failed:
                if len(out) >= MAX_CROPS_PER_DOCUMENT:
                    continue
                try:
                    if unit == "pt":
                        if pdf is None:
                            pdf = _PdfPages(data)
                        out[name] = pdf.crop(int(page or 0), box)
                    else:
                        out[name] = _image_crop(data, box)
                except (pdfium.PdfiumError, UnidentifiedImageError, OSError, ValueError, IndexError) as err:
                    failed.add(name)
                    _log.debug("no crop for %s %s: %s", doc["document_sha256"][:12], name, err)
                    continue
            if name in out:
                cell["crop"] = f"{folder}/{name}"
    finally:
        if pdf is not None:
            pdf.close()
    return out
