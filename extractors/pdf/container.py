"""Guards on the raw bytes, before any parser runs: size, header, end marker, inflated size."""

from __future__ import annotations

import re
import zlib

from xxgk.extractors.base import ExtractionError
from xxgk.extractors.pdf.settings import DEFAULT_SETTINGS, PdfSettings
from xxgk.schemas.records import STATUS_FAILED

_STREAM = re.compile(rb"stream\r?\n")


def check_inflated_size(data: bytes, limit: int) -> int:
    """Inflate every Flate stream that a text reader would decode and stop past ``limit`` bytes.

    pdfminer and PDFium inflate streams in full, so a small file whose streams expand to
    gigabytes (a decompression bomb) would exhaust memory inside them. Image streams are skipped:
    nothing here decodes images. Returns the inflated total; raises ExtractionError past the limit.
    """
    total = 0
    pos = 0
    while True:
        m = _STREAM.search(data, pos)
        if m is None:
            return total
        start = m.end()
        pos = start
        if m.start() >= 3 and data[m.start() - 3 : m.start()] == b"end":
            continue
        head = data[max(0, m.start() - 512) : m.start()]
        dict_start = head.rfind(b"<<")
        head = head[dict_start:] if dict_start >= 0 else head
        if b"Fl" not in head or b"/Image" in head:
            continue
        end = data.find(b"endstream", start)
        chunk = data[start : end if end >= 0 else len(data)]
        inflater = zlib.decompressobj()
        try:
            while chunk and not inflater.eof:
                out = inflater.decompress(chunk, 1 << 20)
                total += len(out)
                if total > limit:
                    raise ExtractionError(
                        STATUS_FAILED,
                        f"decompression limit: streams inflate beyond {limit} bytes "
                        f"(a decompression bomb or an oversized document)",
                    )
                chunk = inflater.unconsumed_tail
                if not out and not chunk:
                    break
        except zlib.error:
            pass  # a damaged stream is the parsers' business; they report it
        if end >= 0:
            pos = end


def check_container(data: bytes, settings: PdfSettings = DEFAULT_SETTINGS) -> None:
    """Refuse, before any parser runs, what is too large, not a PDF, cut short, or a decompression bomb."""
    if len(data) > settings.max_bytes:
        raise ExtractionError(STATUS_FAILED, f"file too large: {len(data)} bytes > limit {settings.max_bytes}")
    if b"%PDF-" not in data[:1024]:
        raise ExtractionError(STATUS_FAILED, "not a PDF file: no %PDF- header")
    if b"%%EOF" not in data[-8192:]:
        raise ExtractionError(STATUS_FAILED, "truncated PDF: no %%EOF marker at the end of the file")
    check_inflated_size(data, settings.max_inflated_bytes)
