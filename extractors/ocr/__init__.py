"""Scanned reports read by offline OCR: scanned PDFs, image files, table images.

Pages are rendered (pypdfium2) or decoded, deskewed, their ruled tables found by morphology
(merged cells included) and read with RapidOCR on ONNX Runtime, using the models shipped in
the ``rapidocr`` wheel (nothing is downloaded). The result is the same ``RawDocument`` of
grids and text as every other form, mapped by the shared mapper. Cells that cannot be read
with certainty are ``ambiguous``, with their readings in the note; every OCR cell carries its
page, box and confidence.

Importing this package is cheap: OpenCV, ONNX Runtime and RapidOCR are imported by the
functions that need them, so text-layer PDFs and HTML never load them.

Entry points: ``read_scanned_pdf`` (format ``pdf-ocr``), ``read_image_document`` (format
``image-ocr``), ``read_table_images`` (several images as one document: the ``<img>`` tables
of a report page), ``read_page`` (one rendered page or page region: for image-only table
regions inside text PDFs), ``OcrSettings`` (limits).
"""

from __future__ import annotations

from typing import Any

from xxgk.extractors.ocr.settings import DEFAULT_OCR_SETTINGS, OcrSettings


def read_scanned_pdf(data: bytes, **kwargs: Any) -> Any:
    """See ``extractors.ocr.document.read_scanned_pdf``."""
    from xxgk.extractors.ocr.document import read_scanned_pdf as read

    return read(data, **kwargs)


def read_image_document(data: bytes, name: str = "image", **kwargs: Any) -> Any:
    """See ``extractors.ocr.document.read_image_document``."""
    from xxgk.extractors.ocr.document import read_image_document as read

    return read(data, name, **kwargs)


def read_table_images(images: list[bytes], **kwargs: Any) -> Any:
    """See ``extractors.ocr.document.read_table_images``."""
    from xxgk.extractors.ocr.document import read_table_images as read

    return read(images, **kwargs)


def read_page(image: Any, **kwargs: Any) -> Any:
    """See ``extractors.ocr.document.read_page``."""
    from xxgk.extractors.ocr.document import read_page as read

    return read(image, **kwargs)


__all__ = [
    "DEFAULT_OCR_SETTINGS",
    "OcrSettings",
    "read_image_document",
    "read_page",
    "read_scanned_pdf",
    "read_table_images",
]
