"""What a fetched file is, from its response's headers and its URL, and in which order a report's files are tried.

A report page's attachments come as ``P020240315.pdf``, ``2023年报.docx``, but also as
``download.jsp?id=12`` whose name and type only the response says (``Content-Disposition:
attachment; filename*=UTF-8''...docx``, ``Content-Type: application/msword``). The harvester
records that name and type with the archived bytes; extraction detects the format from the
content anyway, the name and type only order the candidates and name them in reports.
"""

from __future__ import annotations

from email.message import Message
from functools import lru_cache

from xxgk.harvest.discovery import IMAGE_EXTENSIONS
from xxgk.schemas.choice import file_order

#: Content types that name a file format (parameters and case ignored).
_TYPE_FORMATS = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-works": "wps",
    "application/kswps": "wps",
    "application/wps-office.wps": "wps",
    "application/kset": "et",
    "application/wps-office.et": "et",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "multipart/related": "mhtml",
    "message/rfc822": "mhtml",
    "text/markdown": "md",
    "text/plain": "txt",
}
_HTML_TYPES = ("text/html", "application/xhtml", "text/xml", "application/xml")
_EXT_FORMATS = {"htm": "html", "shtml": "html", "jhtml": "html", "mht": "mhtml", "jpeg": "jpg", "tiff": "tif"}
#: Content types that say nothing about the file (download handlers send them for everything).
_GENERIC_TYPES = ("application/octet-stream", "application/force-download", "application/x-download", "binary/octet-stream")

_IMAGE_FORMATS = {ext.lstrip(".") for ext in IMAGE_EXTENSIONS} | {"image", "png", "jpg", "gif", "bmp", "tif"}


def disposition_file_name(header: str | None) -> str | None:
    """The file name a ``Content-Disposition`` header gives (RFC 6266 ``filename*`` preferred), or None."""
    if not header:
        return None
    msg = Message()
    msg["content-disposition"] = header
    try:
        name = msg.get_filename()
    except (ValueError, LookupError):  # a malformed RFC 2231 value or an unknown charset
        return None
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().strip('"')
    return name or None


@lru_cache(maxsize=4096)  # a few content types × file names, asked many times a night
def format_of(content_type: str | None, name: str) -> str:
    """html, pdf, docx, xls, zip, png... from the Content-Type when it names a format, else the file extension."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype in _TYPE_FORMATS and not (ctype == "text/plain" and "." in name):
        return _TYPE_FORMATS[ctype]
    if any(ctype.startswith(t) for t in _HTML_TYPES):
        return "html"
    if ctype.startswith("image/"):
        sub = ctype.split("/", 1)[1]
        return _EXT_FORMATS.get(sub, sub)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext:
        return _EXT_FORMATS.get(ext, ext)
    return "html" if not ctype or ctype not in _GENERIC_TYPES else "bin"


def is_picture(fmt: str) -> bool:
    """True for an image format (a scanned page: read by OCR, the costliest and least certain reading)."""
    return fmt in _IMAGE_FORMATS


def candidate_order(fmt: str) -> int:
    """Rank of a file of format ``fmt`` among a report's attachments (lower is tried first; ``schemas.choice``)."""
    return file_order(fmt, picture=fmt in _IMAGE_FORMATS)


__all__ = ["candidate_order", "disposition_file_name", "format_of", "is_picture"]
