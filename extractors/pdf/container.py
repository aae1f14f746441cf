"""Guards on the raw bytes, before any parser runs: size, header, end marker, inflated size."""

from __future__ import annotations

import re
import zlib

from xxgk.extractors.base import ExtractionError
from xxgk.extractors.pdf.settings import DEFAULT_SETTINGS, PdfSettings
from xxgk.schemas.records import STATUS_FAILED

_STREAM = re.compile(rb"stream\r?\n")
_OBJ = re.compile(rb"(\d+)\s+\d+\s+obj\b")
_CONTENTS = re.compile(rb"/Contents\s*(\[[^\]]*\]|\d+\s+\d+\s+R)")
_REF = re.compile(rb"(\d+)\s+\d+\s+R")


def stream_sizes(data: bytes, limit: int) -> dict[int, int]:
    """Decoded bytes of every stream a text reader would decode, by object number; raises past ``limit`` in all.

    Flate streams are inflated (output counted, not kept) and stop the count past ``limit``:
    pdfminer and PDFium inflate streams in full, so a small file whose streams expand to
    gigabytes (a decompression bomb) would exhaust memory inside them. Unfiltered streams count
    their raw length. Image streams are skipped: nothing here decodes images.
    """
    sizes: dict[int, int] = {}
    total = 0
    pos = 0
    while True:
        m = _STREAM.search(data, pos)
        if m is None:
            return sizes
        start = m.end()
        pos = start
        if m.start() >= 3 and data[m.start() - 3 : m.start()] == b"end":
            continue
        head = data[max(0, m.start() - 512) : m.start()]
        numbers = _OBJ.findall(head)
        number = int(numbers[-1]) if numbers else -1
        dict_start = head.rfind(b"<<")
        head = head[dict_start:] if dict_start >= 0 else head
        end = data.find(b"endstream", start)
        if b"/Image" in head:
            pos = end if end >= 0 else pos
            continue
        chunk = data[start : end if end >= 0 else len(data)]
        size = _inflated(chunk, limit - total) if b"Fl" in head else (len(chunk) if b"/Filter" not in head else 0)
        sizes[number] = sizes.get(number, 0) + size
        total += size
        if total > limit:
            raise ExtractionError(
                STATUS_FAILED,
                f"decompression limit: streams inflate beyond {limit} bytes (a decompression bomb or an oversized document)",
            )
        if end >= 0:
            pos = end


def _inflated(chunk: bytes, budget: int) -> int:
    """Bytes ``chunk`` inflates to, counted up to just past ``budget``; 0 for a damaged stream."""
    inflater = zlib.decompressobj()
    size = 0
    try:
        while chunk and not inflater.eof and size <= budget:
            out = inflater.decompress(chunk, 1 << 20)
            size += len(out)
            chunk = inflater.unconsumed_tail
            if not out and not chunk:
                break
    except zlib.error:
        pass  # a damaged stream is the parsers' business; they report it
    return size


def check_inflated_size(data: bytes, limit: int) -> int:
    """Total decoded bytes of the streams a text reader decodes (``stream_sizes``); raises past ``limit``."""
    return sum(stream_sizes(data, limit).values())


def check_page_content(data: bytes, sizes: dict[int, int], limit: int) -> None:
    """Refuse a page whose content streams decode to more than ``limit`` bytes.

    PDFium parses a page's whole content when the page is loaded, about 14 bytes of memory per
    byte of dense text operators (64 MiB of content took 930 MB; 150 MiB aborted the process
    under a 1 GiB limit), well inside the document's inflate limit. ``/Contents`` is a stream or
    an array of streams, written in the page or as an indirect array object.
    """
    for m in _CONTENTS.finditer(data):
        refs = [int(n) for n in _REF.findall(m.group(1))]
        if len(refs) == 1 and refs[0] not in sizes:
            array = re.search(rb"\b%d\s+\d+\s+obj\s*(\[[^\]]*\])" % refs[0], data)
            refs = [int(n) for n in _REF.findall(array.group(1))] if array else refs
        content = sum(sizes.get(n, 0) for n in set(refs))
        if content > limit:
            raise ExtractionError(
                STATUS_FAILED,
                f"page content limit: a page's content streams decode to {content} bytes > limit {limit} "
                f"(a content bomb: PDFium would need about {content * 14 >> 20} MiB to load the page)",
            )


def check_container(data: bytes, settings: PdfSettings = DEFAULT_SETTINGS) -> None:
    """Refuse, before any parser runs, what is too large, not a PDF, cut short, or a decompression bomb."""
    if len(data) > settings.max_bytes:
        raise ExtractionError(STATUS_FAILED, f"file too large: {len(data)} bytes > limit {settings.max_bytes}")
    if b"%PDF-" not in data[:1024]:
        raise ExtractionError(STATUS_FAILED, "not a PDF file: no %PDF- header")
    if b"%%EOF" not in data[-8192:]:
        raise ExtractionError(STATUS_FAILED, "truncated PDF: no %%EOF marker at the end of the file")
    sizes = stream_sizes(data, settings.max_inflated_bytes)
    check_page_content(data, sizes, settings.max_page_content_bytes)
