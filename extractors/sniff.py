"""Office documents and containers recognised by their content, never by their extension.

Portals attach annual reports as .doc/.docx/.wps/.xls/.xlsx/.et/.rtf/.zip files, and the
extension often lies: a ``.doc`` may be Word's "save as web page" HTML, an MHTML archive, RTF
or Word 2003 XML; a ``.wps`` is usually a Word 97 binary written by WPS Office; an ``.et`` is an
Excel 97 binary or an XLSX. ``office_format`` looks inside: the directory of an OLE2 compound
file (``WordDocument``, ``Workbook``/``Book``, Works' ``CONTENTS``...), the member names of a
ZIP package, the RTF and MIME signatures. ``extractors.detect_format`` asks it first.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

import olefile

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive's end record

#: Formats this module can name, and which reader takes each (see ``extractors.office``).
DOCX = "docx"
DOC = "doc"
WPS = "wps"  # WPS Office (Kingsoft) writer file, or a Microsoft Works document
RTF = "rtf"
ODT = "odt"
WORDML = "wordml"  # Word 2003 XML ("<?mso-application progid="Word.Document"?>")
XLSX = "xlsx"
XLS = "xls"
ET = "et"  # WPS Office spreadsheet: an Excel 97 binary written by WPS
ODS = "ods"
MHTML = "mhtml"
ZIP = "zip"
#: OLE2 files that are no report format xxgk reads (PowerPoint, encrypted packages, ...).
OLE_OTHER = "ole2"
ENCRYPTED = "encrypted"

CONVERTED_FORMATS = (DOC, WPS, RTF, ODT, WORDML)
SHEET_FORMATS = (XLSX, XLS, ET, ODS)
OFFICE_FORMATS = (DOCX, *CONVERTED_FORMATS, *SHEET_FORMATS, MHTML, ZIP)

_MULTIPART_RELATED = re.compile(rb"content-type:\s*multipart/related", re.I)
_WORDML = re.compile(rb"<\?mso-application\s+progid=[\"']Word\.Document[\"']", re.I)


def office_format(data: bytes) -> str | None:
    """The office or container format of ``data``, or None when it is none of them."""
    head = data[:8]
    if head == OLE2_MAGIC:
        return ole_format(data)
    if head.startswith(ZIP_MAGICS):
        return zip_format(data)
    stripped = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{\\rtf"):
        return RTF
    if is_mhtml(stripped):
        return MHTML
    if stripped.startswith(b"<?xml") and _WORDML.search(data[:2048]):
        return WORDML
    return None


def ole_format(data: bytes) -> str:
    """doc, wps, xls, et, encrypted or ole2, from the streams of an OLE2 compound file.

    Word 97 binaries (``WordDocument``) are ``doc`` and Excel 97 binaries (``Workbook``, or
    ``Book`` for Excel 5) ``xls``, unless the summary information names WPS Office as the
    program that wrote them (``wps`` / ``et``): the bytes are read the same way, the name only
    says where they came from. Works documents (``CONTENTS``) are ``wps`` too. An OOXML file
    saved with a password is an OLE2 file holding ``EncryptedPackage``.
    """
    try:
        ole = olefile.OleFileIO(data)
    except (OSError, ValueError, IndexError, TypeError):  # olefile raises plain OSError on bad files
        return OLE_OTHER  # its reader says that the compound file is unreadable
    try:
        streams = {"/".join(path).lower() for path in ole.listdir(streams=True, storages=False)}
        by_wps = _written_by_wps(ole)
    finally:
        ole.close()
    if "encryptedpackage" in streams:
        return ENCRYPTED
    if "worddocument" in streams:
        return WPS if by_wps else DOC
    if "workbook" in streams or "book" in streams:
        return ET if by_wps else XLS
    if "contents" in streams:
        return WPS
    return OLE_OTHER


def describe_ole(data: bytes) -> str:
    """Why an OLE2 file is not read: damaged, or the streams it holds instead of a document."""
    try:
        with olefile.OleFileIO(data) as ole:
            streams = sorted("/".join(p) for p in ole.listdir())
    except (OSError, ValueError, IndexError, TypeError) as err:
        return f"damaged OLE2 compound file (truncated or corrupt: {err})"
    shown = ", ".join(repr(s) for s in streams[:6]) or "none"
    return f"OLE2 compound file that is no Word or Excel document (streams: {shown})"


def _written_by_wps(ole: olefile.OleFileIO) -> bool:
    """Whether the summary information names WPS Office (Kingsoft) as the creating program."""
    try:
        app = ole.get_metadata().creating_application
    except (OSError, ValueError, IndexError, TypeError, KeyError):
        return False
    if isinstance(app, bytes):
        app = app.decode("latin-1", "replace")
    return isinstance(app, str) and app.strip().upper().startswith(("WPS", "KINGSOFT"))


def zip_format(data: bytes) -> str:
    """docx, xlsx, odt, ods from a ZIP package's member names (or its mimetype); else zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            mimetype = b""
            if "mimetype" in names and zf.getinfo("mimetype").file_size < 200:
                mimetype = zf.read("mimetype").strip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, ValueError, NotImplementedError, EOFError):
        return ZIP  # the zip reader says why it cannot be opened
    if "word/document.xml" in names or _main_part(names, "word/"):
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    if "xl/workbook.bin" in names:
        return "xlsb"  # binary Excel 2007: not read (its cells cannot be bounded before loading)
    if mimetype == b"application/vnd.oasis.opendocument.text":
        return ODT
    if mimetype == b"application/vnd.oasis.opendocument.spreadsheet":
        return ODS
    return ZIP


def _main_part(names: set[str], folder: str) -> bool:
    """A Word package whose main part has another name (``word/document2.xml``)."""
    return "[Content_Types].xml" in names and any(n.startswith(folder) and n.endswith(".xml") for n in names)


def is_mhtml(head: bytes) -> bool:
    """MIME headers declaring ``multipart/related`` before any blank line: an MHTML archive
    (Word's "single file web page", often published with a .doc name)."""
    header_block = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    if len(header_block) == len(head) and len(head) >= 4096:
        header_block = head[:2048]
    return bool(_MULTIPART_RELATED.search(header_block)) and b"mime-version" in header_block.lower()


__all__ = [
    "CONVERTED_FORMATS",
    "DOC",
    "DOCX",
    "ENCRYPTED",
    "ET",
    "MHTML",
    "ODS",
    "ODT",
    "OFFICE_FORMATS",
    "OLE_OTHER",
    "RTF",
    "SHEET_FORMATS",
    "WORDML",
    "WPS",
    "XLS",
    "XLSX",
    "ZIP",
    "describe_ole",
    "is_mhtml",
    "office_format",
]
