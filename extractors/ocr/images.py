"""Pages as pixels: image files decoded and PDF pages rendered, within the limits.

Every size is checked before anything is decoded: an image's header gives its size (Pillow
reads only the header on ``open``), a PDF page's size and its image objects' pixel sizes come
from PDFium without rendering. Past a limit the document is ``needs_ocr`` with a reason that
names the limit (``ExtractionError``), never an exception that stops the batch.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from xxgk.extractors.base import ExtractionError
from xxgk.extractors.ocr.settings import OcrSettings
from xxgk.schemas.records import STATUS_FAILED, STATUS_NEEDS_OCR

#: Magic bytes of the image formats the OCR path reads (``extractors.detect_format`` → "image").
IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
)
A4_WIDTH_IN = 595.0 / 72.0
_PIL_LOCK = threading.Lock()


def image_kind(data: bytes) -> str | None:
    """png, jpeg, gif, tiff, bmp or webp from the first bytes; None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    for magic, kind in IMAGE_MAGIC:
        if data.startswith(magic):
            if kind == "bmp" and len(data) >= 26 and int.from_bytes(data[2:6], "little") not in (0, len(data)):
                # "BM" also starts text; a BMP header states the file size (some writers put 0)
                continue
            return kind
    return None


@dataclass(slots=True)
class PageRaster:
    """One page as a grey image, with its resolution when known (dots per inch)."""

    number: int
    image: Any
    dpi: float | None


@contextmanager
def _pil_limit(pixels: int) -> Iterator[None]:
    """Pillow's own decompression-bomb guard set to our limit while we decode."""
    from PIL import Image

    with _PIL_LOCK, warnings.catch_warnings():
        # Pillow only warns between the limit and twice it; the explicit size check that follows
        # every open turns that range into a status too
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = pixels
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _dpi_of(img: Any) -> float | None:
    """Resolution recorded in an image file (JFIF, pHYs, TIFF tags), when plausible."""
    dpi = img.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else None
    except (TypeError, ValueError, IndexError):
        value = None
    if value is not None and 72 <= value <= 1200:
        return value
    return None


def decode_image(data: bytes, settings: OcrSettings, name: str = "image") -> list[PageRaster]:
    """Every frame of an image file (a multi-page TIFF is a scanned document) as grey pages."""
    import numpy as np
    from PIL import Image, ImageSequence, UnidentifiedImageError

    with _pil_limit(settings.max_page_pixels):
        try:
            img = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise ExtractionError(STATUS_NEEDS_OCR, f"{name}: pixel limit: {exc}") from exc
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise ExtractionError(STATUS_FAILED, f"{name}: unreadable image: {exc}") from exc
        frames = getattr(img, "n_frames", 1)
        if frames > settings.max_pages:
            raise ExtractionError(
                STATUS_NEEDS_OCR, f"{name}: {frames} frames > OCR page limit {settings.max_pages}"
            )
        pages: list[PageRaster] = []
        try:
            for i, frame in enumerate(ImageSequence.Iterator(img), start=1):
                w, h = frame.size
                if w * h > settings.max_page_pixels:
                    raise ExtractionError(
                        STATUS_NEEDS_OCR,
                        f"{name}: page {i} is {w}x{h} = {w * h} pixels > OCR pixel limit {settings.max_page_pixels}",
                    )
                grey = frame.convert("L")
                pages.append(PageRaster(i, np.asarray(grey, dtype=np.uint8).copy(), _dpi_of(img)))
        except (OSError, ValueError, SyntaxError) as exc:
            raise ExtractionError(STATUS_FAILED, f"{name}: damaged image data: {exc}") from exc
    return pages


def guess_dpi(raster: PageRaster) -> float:
    """The page's resolution: recorded, else from an A4-like page width, else 150 dpi."""
    if raster.dpi:
        return raster.dpi
    h, w = raster.image.shape[:2]
    if 1.3 <= h / max(1, w) <= 1.5 and w >= 900:
        return w / A4_WIDTH_IN
    return 150.0


# --- PDF pages -------------------------------------------------------------------------------


@dataclass(slots=True)
class PdfPageInfo:
    """Size and scan resolution of one PDF page, read without rendering it."""

    number: int
    width_pt: float
    height_pt: float
    image_pixels: int  # pixels of the largest image on the page
    scan_dpi: float | None  # resolution of that image over the page width


def page_infos(doc: Any, settings: OcrSettings) -> list[PdfPageInfo]:
    """Page sizes and their largest images' resolution; raises ``needs_ocr`` past a limit."""
    import pypdfium2.raw as pdfium_c

    n = len(doc)
    if n > settings.max_pages:
        raise ExtractionError(STATUS_NEEDS_OCR, f"{n} pages > OCR page limit {settings.max_pages}")
    infos = []
    for i in range(n):
        page = doc[i]
        try:
            width, height = page.get_size()
            biggest = 0
            biggest_w = 0
            for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
                try:
                    w, h = obj.get_px_size()
                except Exception:  # an image PDFium cannot describe: it renders what it can
                    continue
                if w * h > biggest:
                    biggest, biggest_w = w * h, w
            pixels = int(width / 72 * settings.dpi) * int(height / 72 * settings.dpi)
            if pixels > settings.max_page_pixels:
                raise ExtractionError(
                    STATUS_NEEDS_OCR,
                    f"page {i + 1}: {width:.0f}x{height:.0f} pt is {pixels} pixels at {settings.dpi} dpi "
                    f"> OCR pixel limit {settings.max_page_pixels}",
                )
            if biggest > settings.max_page_pixels:
                raise ExtractionError(
                    STATUS_NEEDS_OCR,
                    f"page {i + 1}: an image of {biggest} pixels > OCR pixel limit {settings.max_page_pixels}",
                )
            dpi = biggest_w / (width / 72) if biggest and width else None
            infos.append(PdfPageInfo(i + 1, float(width), float(height), biggest, dpi))
        finally:
            page.close()
    return infos


def render_page(doc: Any, number: int, dpi: float) -> Any:
    """A grey rendering of one PDF page (numpy uint8)."""
    import numpy as np

    page = doc[number - 1]
    try:
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        array = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
        bitmap.close()
    finally:
        page.close()
    return array.reshape(array.shape[0], array.shape[1], -1)[:, :, 0]


__all__ = [
    "IMAGE_MAGIC",
    "PageRaster",
    "PdfPageInfo",
    "decode_image",
    "guess_dpi",
    "image_kind",
    "page_infos",
    "render_page",
]
