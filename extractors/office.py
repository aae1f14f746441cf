"""The readers of office documents and containers, by the format ``extractors.sniff`` named.

DOCX is read directly (``extractors.docx``); DOC, WPS, RTF, ODT and Word 2003 XML are first
converted to DOCX by LibreOffice (``extractors.converter``); spreadsheets are read by
``extractors.sheets``; MHTML goes to the HTML reader; a zip archive to the reader of the report
inside it. Every failure is an ``ExtractionError`` with a status and a reason.
"""

from __future__ import annotations

from collections.abc import Callable

from xxgk.extractors.base import ExtractionError, RawDocument
from xxgk.extractors.sniff import (
    CONVERTED_FORMATS,
    DOCX,
    ENCRYPTED,
    MHTML,
    OLE_OTHER,
    SHEET_FORMATS,
    ZIP,
)
from xxgk.schemas.records import STATUS_FAILED

READABLE = (DOCX, *CONVERTED_FORMATS, *SHEET_FORMATS, MHTML, ZIP)


def read_office(
    fmt: str,
    data: bytes,
    *,
    detect: Callable[[bytes, str], str],
    read: Callable[[bytes, str], RawDocument],
) -> RawDocument:
    """Grids and text of an office document or container; ``detect``/``read`` read zip members."""
    if fmt == DOCX:
        from xxgk.extractors.docx import extract_docx

        return extract_docx(data)
    if fmt in CONVERTED_FORMATS:
        from xxgk.extractors.converter import to_docx
        from xxgk.extractors.docx import extract_docx

        return extract_docx(to_docx(data, fmt), fmt=fmt)
    if fmt in SHEET_FORMATS:
        from xxgk.extractors.sheets import extract_sheets

        return extract_sheets(data, fmt)
    if fmt == MHTML:
        from xxgk.extractors.mhtml import extract_mhtml

        return extract_mhtml(data)
    if fmt == ZIP:
        from xxgk.extractors.archive import extract_zip

        return extract_zip(data, detect, read)
    if fmt == ENCRYPTED:
        raise ExtractionError(STATUS_FAILED, "password-protected (encrypted) Office document: unreadable without its password")
    if fmt == OLE_OTHER:
        from xxgk.extractors.sniff import describe_ole

        raise ExtractionError(STATUS_FAILED, describe_ole(data))
    raise ExtractionError(STATUS_FAILED, f"unsupported format: {fmt}")


__all__ = ["READABLE", "read_office"]
