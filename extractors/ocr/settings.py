"""Settings and limits of the OCR reader (validated, like ``PdfSettings``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OcrSettings:
    """Limits and knobs of the OCR path.

    Limits (past one, the document is ``needs_ocr`` with a reason naming the limit, never an
    exception): ``max_pages`` per document, ``max_page_pixels`` per page (checked from the image
    header or the PDF page size before anything is decoded: decompression bombs), ``max_seconds``
    of OCR per document, ``min_scan_dpi`` (a scan coarser than this is not read: its digits are
    a few pixels tall). ``dpi`` renders scanned PDF pages; ``probe_dpi`` is the cheap render that
    finds the pages holding ruled tables. ``text_pages``: pages without a table are read for
    their text only among the first ``text_pages`` pages (title, publisher, 总体情况); the text
    of later table-free pages is not recognised (named in a warning). ``det_scale`` is the scale
    at which text detection runs (recognition always reads the full-resolution crop).
    ``low_confidence``: a cell read below it is read a second time, differently preprocessed;
    readings that disagree make the cell ``ambiguous``. ``threads``: ONNX Runtime threads per
    session (0: its default, one per core).
    """

    dpi: int = 200
    probe_dpi: int = 36
    max_pages: int = 60
    max_page_pixels: int = 40_000_000
    max_seconds: float = 180.0
    min_scan_dpi: int = 100
    text_pages: int = 1
    det_scale: float = 0.5
    low_confidence: float = 0.92
    threads: int = 0

    def __post_init__(self) -> None:
        for name in ("dpi", "probe_dpi", "max_pages", "max_page_pixels", "min_scan_dpi"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"OcrSettings.{name} must be a positive integer, got {value!r}")
        for name in ("text_pages", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"OcrSettings.{name} must be a non-negative integer, got {value!r}")
        if not 72 <= self.dpi <= 600:
            raise ValueError(f"OcrSettings.dpi must be in 72..600, got {self.dpi}")
        if self.probe_dpi > self.dpi:
            raise ValueError("OcrSettings.probe_dpi must not exceed dpi")
        if not isinstance(self.max_seconds, int | float) or isinstance(self.max_seconds, bool) or self.max_seconds <= 0:
            raise ValueError(f"OcrSettings.max_seconds must be > 0, got {self.max_seconds!r}")
        if not 0.1 <= self.det_scale <= 1.0:
            raise ValueError(f"OcrSettings.det_scale must be in 0.1..1, got {self.det_scale!r}")
        if not 0.0 <= self.low_confidence <= 1.0:
            raise ValueError(f"OcrSettings.low_confidence must be in 0..1, got {self.low_confidence!r}")


DEFAULT_OCR_SETTINGS = OcrSettings()

__all__ = ["DEFAULT_OCR_SETTINGS", "OcrSettings"]
