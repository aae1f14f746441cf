"""PDF extractor: the report's ruled tables as grids, plus the document text.

Reading every page with pdfplumber costs ~50 ms a page, almost all of it pdfminer building
characters. So the text layer of every page is first read through pypdfium2 (~2 ms a page),
the pages that hold the statistical tables are located from their labels, and pdfplumber's
table finder (its edge merging, intersections, cells and tables) runs on those pages only, fed
with characters and paths read through PDFium's C API (or, as the slow reference reader and
where PDFium cannot place a non-embedded font's glyphs, through pdfminer).

Ruling lines are taken from real strokes only (lines, stroked or hair-thin rectangles, straight
path segments): WPS paints a white filled rectangle behind every cell, and those fills would
split merged cells (行政诉讼 over ten columns) if they counted as rules. A table cut by a page
break has no closing rule, so each cluster of rules is closed along its outer frame before the
cells are found. Merged cells are expanded into span copies; wrapped, vertical and letter-spaced
labels are rebuilt into one text per cell. Tables without rules are read from word positions.
One grid is emitted per table and page; the mapper continues a table from one grid to the next.
See docs/formats/pdf.md.

Unreadable documents raise ``ExtractionError`` with a status and a reason: encrypted, corrupt
or truncated files are ``failed``, image-only files ``needs_ocr``, PDFs without any report text
``not_a_report``; oversized files and decompression bombs stop at the limits of ``PdfSettings``.
"""

from __future__ import annotations

import bisect
import gc
import io
import itertools
import re
import threading
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from xxgk.extractors.base import ExtractionError, RawDocument
from xxgk.schemas.classify import find_title
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.model import PROACTIVE_BLOCK_CAPTIONS, SPECS, TABLE_HEADINGS
from xxgk.schemas.records import STATUS_FAILED, STATUS_NEEDS_OCR, STATUS_NOT_A_REPORT
from xxgk.schemas.values import looks_like_value

#: PDFium (pypdfium2) is not thread-safe, not even across documents: two PDFs read in two threads
#: crashed the process (SIGSEGV) in a 300-document run. One PDF at a time per process; parallel
#: extraction is the process pool's job (threads gain nothing on CPU-bound parsing anyway).
_PDFIUM_LOCK = threading.Lock()

FORMAT = "pdf"

Edge = dict[str, Any]
BACKENDS = ("pdfium", "pdfplumber")
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class PdfSettings:
    """Limits and table-finder settings of the PDF extractor (validated; pdfplumber's TableSettings is the model).

    Limits: ``max_bytes`` of the file, ``max_pages``, ``max_page_chars`` (characters on one page),
    ``max_inflated_bytes`` (all Flate streams inflated: decompression bombs) fail the document;
    ``max_page_objects`` (drawing objects on one table page) skips that page with a warning.
    Tolerances are in PDF points: ``snap``/``join``/``intersection``/``edge_min_length`` as in
    pdfplumber; ``thin_rect`` is the thickness under which a filled rectangle counts as a ruling
    line (Word draws rules that way); ``text_x/y_tolerance`` group characters into words and
    lines. ``min_marker_hits`` is how many distinct table labels a page's text needs to be read as
    a table page (a page right after a table page needs one, or a first line of numbers).
    ``word_fallback`` reads pages without rules from word positions, splitting words into cells
    at gaps wider than ``word_gap_em`` character heights. ``all_pages`` runs the table finder on
    every page. ``backend`` chooses who reads characters and paths of the table pages: ``pdfium``
    (PDFium's C API, fast) or ``pdfplumber`` (pdfminer, ~20× slower, the reference reader); both
    feed pdfplumber's table finder. ``pause_gc`` pauses the cyclic GC during a document (pdfminer
    allocates heavily). ``extra_markers`` adds label cores that mark table pages.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_pages: int = 300
    max_page_chars: int = 200_000
    max_inflated_bytes: int = 256 * 1024 * 1024
    max_page_objects: int = 100_000
    snap_tolerance: float = 3.0
    join_tolerance: float = 3.0
    intersection_tolerance: float = 3.0
    edge_min_length: float = 3.0
    thin_rect: float = 2.0
    text_x_tolerance: float = 3.0
    text_y_tolerance: float = 3.0
    min_marker_hits: int = 2
    word_fallback: bool = True
    word_gap_em: float = 0.6
    all_pages: bool = False
    pause_gc: bool = True
    backend: str = "pdfium"
    extra_markers: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in (
            "max_bytes",
            "max_pages",
            "max_page_chars",
            "max_inflated_bytes",
            "max_page_objects",
            "min_marker_hits",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"PdfSettings.{name} must be a positive integer, got {value!r}")
        for name in (
            "snap_tolerance",
            "join_tolerance",
            "intersection_tolerance",
            "edge_min_length",
            "thin_rect",
            "text_x_tolerance",
            "text_y_tolerance",
            "word_gap_em",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"PdfSettings.{name} must be a non-negative number, got {value!r}")
        if self.word_gap_em == 0:
            raise ValueError("PdfSettings.word_gap_em must be > 0")
        if self.backend not in BACKENDS:
            raise ValueError(f"PdfSettings.backend must be one of {BACKENDS}, got {self.backend!r}")
        if not all(isinstance(m, str) and m for m in self.extra_markers):
            raise ValueError("PdfSettings.extra_markers must be non-empty strings")


DEFAULT_SETTINGS = PdfSettings()


# --- text helpers ------------------------------------------------------------------------------

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])[ \t\u00a0]+(?=[{_CJK}])")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_WS_ALL = re.compile(r"\s+")


def clean_pdf_text(text: str | None) -> str:
    """One cell's text as a reader sees it: wrapped lines joined, spaces inside CJK text dropped.

    PDF producers justify CJK labels by spacing characters apart (``总 计``) and wrap them over
    lines (``只计这一情 形，不`` / ``计其他情形``); vertical labels put one character per line. All
    of these read as one string. A space survives only between two Latin words.
    """
    if not text:
        return ""
    out = ""
    for raw_line in text.split("\n"):
        line = _SPACES.sub(" ", raw_line).strip()
        if not line:
            continue
        if out and out[-1].isascii() and out[-1].isalpha() and line[0].isascii() and line[0].isalpha():
            out += " "
        out += line
    return _CJK_GAP.sub("", out)


def _norm(text: str) -> str:
    """Matching form of page text or labels: NFKC, no whitespace."""
    return _WS_ALL.sub("", unicodedata.normalize("NFKC", text))


def _label_core(label: str) -> str:
    core = _norm(label)
    core = re.sub(r"^(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\d+\.)", "", core)
    core = re.sub(r"\(.*$", "", core)
    return core[:6]


def _build_markers() -> tuple[str, ...]:
    """Label cores that show a page holds one of the statistical tables (typos survive: prefixes)."""
    markers: set[str] = set()
    for heading in TABLE_HEADINGS.values():
        markers.add(_norm(heading.split("、", 1)[1]))
    for caption in PROACTIVE_BLOCK_CAPTIONS.values():
        markers.add(_norm(caption))
    for spec in SPECS.values():
        for row in spec.rows:
            for label in row.labels.values():
                core = _label_core(label)
                if len(core) >= 4:
                    markers.add(core)
        for col in spec.columns:
            for label in col.labels.values():
                core = _label_core(label)
                if len(core) >= 4:
                    markers.add(core)
    markers.update(("信息内容", "申请人情况", "法人或其他组织", "未经复议直接起诉", "复议后起诉"))
    return tuple(sorted(markers))


MARKERS = _build_markers()
_HEADING_KEYS = tuple(_norm(h.split("、", 1)[1]) for h in TABLE_HEADINGS.values())


def marker_hits(page_text: str, markers: tuple[str, ...] = MARKERS) -> int:
    """How many distinct table labels a page's text contains."""
    norm = _norm(page_text)
    return sum(1 for m in markers if m in norm)


# --- guards on the raw bytes -------------------------------------------------------------------

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


def _check_container(data: bytes, settings: PdfSettings) -> None:
    if len(data) > settings.max_bytes:
        raise ExtractionError(STATUS_FAILED, f"file too large: {len(data)} bytes > limit {settings.max_bytes}")
    if b"%PDF-" not in data[:1024]:
        raise ExtractionError(STATUS_FAILED, "not a PDF file: no %PDF- header")
    if b"%%EOF" not in data[-8192:]:
        raise ExtractionError(STATUS_FAILED, "truncated PDF: no %%EOF marker at the end of the file")
    check_inflated_size(data, settings.max_inflated_bytes)


# --- page content: characters and paths, from either backend ---------------------------------


@dataclass(slots=True)
class PageScan:
    """What the cheap pass learns about one page."""

    number: int
    text: str
    chars: int
    images: int
    hits: int


@dataclass(slots=True)
class PaintedPath:
    """One painted path in display coordinates (origin top-left): its subpaths as point lists."""

    subpaths: list[list[tuple[float, float]]]
    stroked: bool
    filled: bool
    invisible: bool = False


@dataclass(slots=True)
class PageContent:
    """The characters and paths of one page, whichever library read them."""

    number: int
    chars: list[dict[str, Any]]
    paths: list[PaintedPath]
    lost_glyphs: int = 0


Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _compose(outer: Matrix, inner: Matrix) -> Matrix:
    """The matrix that applies ``inner`` first, then ``outer``."""
    a1, b1, c1, d1, e1, f1 = outer
    a2, b2, c2, d2, e2, f2 = inner
    return (
        a2 * a1 + b2 * c1,
        a2 * b1 + b2 * d1,
        c2 * a1 + d2 * c1,
        c2 * b1 + d2 * d1,
        e2 * a1 + f2 * c1 + e1,
        e2 * b1 + f2 * d1 + f1,
    )


def _display_transform(rotation: int, box: tuple[float, float, float, float]) -> Any:
    """Map PDF page space (y up) to display space (y down, /Rotate applied) for a page box."""
    left, bottom, right, top = box
    if rotation == 90:
        return lambda x, y: (y - bottom, x - left)
    if rotation == 180:
        return lambda x, y: (right - x, y - bottom)
    if rotation == 270:
        return lambda x, y: (top - y, right - x)
    return lambda x, y: (x - left, top - y)


def _is_white(rgba: tuple[int, int, int, int]) -> bool:
    r, g, b, a = rgba
    return a == 0 or (r >= 242 and g >= 242 and b >= 242)


def _pdfium_open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            raise ExtractionError(STATUS_FAILED, "encrypted PDF: a password is required to open it") from exc
        raise ExtractionError(STATUS_FAILED, f"corrupt PDF: {msg}") from exc


def scan_pages(doc: Any, settings: PdfSettings = DEFAULT_SETTINGS) -> list[PageScan]:
    """Text, character count, image count and table-label hits of every page of an open pypdfium2 document."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    markers = MARKERS + settings.extra_markers
    n_pages = len(doc)
    if n_pages == 0:
        raise ExtractionError(STATUS_FAILED, "corrupt PDF: no pages")
    if n_pages > settings.max_pages:
        raise ExtractionError(STATUS_FAILED, f"too many pages: {n_pages} > limit {settings.max_pages}")
    pages: list[PageScan] = []
    for i in range(n_pages):
        try:
            page = doc[i]
        except pdfium.PdfiumError as exc:
            raise ExtractionError(STATUS_FAILED, f"corrupt PDF: page {i + 1} cannot be loaded ({exc})") from exc
        try:
            textpage = page.get_textpage()
            try:
                n_chars = textpage.count_chars()
                if n_chars > settings.max_page_chars:
                    raise ExtractionError(
                        STATUS_FAILED, f"page {i + 1} has {n_chars} characters > limit {settings.max_page_chars}"
                    )
                text = textpage.get_text_range(0, n_chars) if n_chars > 0 else ""
            finally:
                textpage.close()
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            images = 0
            if not text.strip():
                images = sum(1 for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3))
        finally:
            page.close()
        pages.append(PageScan(i + 1, text, max(n_chars, 0), images, marker_hits(text, markers) if text else 0))
    return pages


def table_pages(pages: list[PageScan], settings: PdfSettings = DEFAULT_SETTINGS) -> list[int]:
    """Numbers of the pages worth running the table finder on.

    A page qualifies with ``min_marker_hits`` distinct table labels, or with one when the page
    before it qualified (a table continued over a page break may carry a single label).
    """
    if settings.all_pages:
        return [p.number for p in pages if p.text.strip()]
    chosen: list[int] = []
    previous = False
    for p in pages:
        ok = p.hits >= settings.min_marker_hits or (previous and (p.hits >= 1 or _starts_with_values(p.text)))
        if ok:
            chosen.append(p.number)
        previous = ok
    return chosen


_VALUE_TOKEN = re.compile(r"^[-+]?[\d０-９][\d０-９,.，]*$")


def _starts_with_values(text: str) -> bool:
    """True when one of the first lines of a page is a row of numbers: a table cut by the page break."""
    lines = [ln for ln in text.split("\n") if ln.strip()][:4]
    return any(sum(1 for tok in ln.split() if _VALUE_TOKEN.match(tok)) >= 3 for ln in lines)


class PageLimitError(ValueError):
    """A page too big to read (drawing objects beyond ``max_page_objects``): skipped with a warning."""


def pdfium_content(doc: Any, number: int, settings: PdfSettings = DEFAULT_SETTINGS) -> PageContent:
    """Characters (loose boxes) and paths (with nested form XObjects) of one page via PDFium's C API."""
    import ctypes

    import pypdfium2.raw as c

    page = doc[number - 1]
    try:
        xf = _display_transform(page.get_rotation(), page.get_mediabox())
        textpage = page.get_textpage()
        chars: list[dict[str, Any]] = []
        try:
            n = textpage.count_chars()
            text = textpage.get_text_range(0, n) if n > 0 else ""
            per_char = len(text) != n  # surrogate pairs shift indices: ask char by char
            rect = c.FS_RECTF()
            tl, tr, tb, tt = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
            raw_tp = textpage.raw
            for i in range(max(n, 0)):
                ch = chr(c.FPDFText_GetUnicode(raw_tp, i) or 32) if per_char else text[i]
                if ch.isspace() or ch == "\x00":
                    continue
                if not c.FPDFText_GetLooseCharBox(raw_tp, i, rect):
                    continue
                left, right, upper, lower = rect.left, rect.right, rect.top, rect.bottom
                # PDFium's loose box ignores the text matrix for some vertical-writing glyphs
                # (a 199-pt box for a 10-pt character); the tight glyph box is right there.
                if c.FPDFText_GetCharBox(raw_tp, i, tl, tr, tb, tt):
                    tw, th = tr.value - tl.value, tt.value - tb.value
                    cx, cy = (tl.value + tr.value) / 2, (tb.value + tt.value) / 2
                    oversized = right - left > 3 * tw + 8 and upper - lower > 3 * th + 8
                    if oversized or not (left <= cx <= right and lower <= cy <= upper):
                        half = max(tw, th) / 2
                        left, right, upper, lower = cx - half, cx + half, cy + half, cy - half
                ax, ay = xf(left, upper)
                bx, by = xf(right, lower)
                x0, x1 = (ax, bx) if ax <= bx else (bx, ax)
                top, bottom = (ay, by) if ay <= by else (by, ay)
                chars.append({"text": ch, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "size": bottom - top})
        finally:
            textpage.close()

        paths: list[PaintedPath] = []
        fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
        px, py = ctypes.c_float(), ctypes.c_float()
        cr, cg, cb, ca = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
        fs_matrix = c.FS_MATRIX()

        embedded: dict[int, bool] = {}
        lost = 0
        bl, bb, br, bt = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()

        visited = 0

        def walk(objects: Iterator[Any], outer: Matrix, depth: int) -> None:
            nonlocal lost, visited
            for obj in objects:
                visited += 1
                if visited > settings.max_page_objects:
                    raise PageLimitError(f"more than {settings.max_page_objects} drawing objects")
                kind = c.FPDFPageObj_GetType(obj)
                if kind == c.FPDF_PAGEOBJ_TEXT:
                    # PDFium gives a glyph of a non-embedded font no extent; a text object
                    # holding only that glyph has an empty box and its text is dropped.
                    font = c.FPDFTextObj_GetFont(obj)
                    key = ctypes.cast(font, ctypes.c_void_p).value or 0
                    if key not in embedded:
                        embedded[key] = bool(c.FPDFFont_GetIsEmbedded(font))
                    if (
                        not embedded[key]
                        and c.FPDFPageObj_GetBounds(obj, bl, bb, br, bt)
                        and br.value - bl.value <= 0.01
                    ):
                        lost += 1
                    continue
                if kind == c.FPDF_PAGEOBJ_FORM and depth < 4:
                    c.FPDFPageObj_GetMatrix(obj, fs_matrix)
                    m = _compose(outer, (fs_matrix.a, fs_matrix.b, fs_matrix.c, fs_matrix.d, fs_matrix.e, fs_matrix.f))
                    count = c.FPDFFormObj_CountObjects(obj)
                    walk((c.FPDFFormObj_GetObject(obj, k) for k in range(count)), m, depth + 1)
                    continue
                if kind != c.FPDF_PAGEOBJ_PATH:
                    continue
                c.FPDFPath_GetDrawMode(obj, fill_mode, stroke)
                filled, stroked = fill_mode.value != 0, bool(stroke.value)
                if stroked:
                    c.FPDFPageObj_GetStrokeColor(obj, cr, cg, cb, ca)
                    stroked = not _is_white((cr.value, cg.value, cb.value, ca.value))
                if filled:
                    c.FPDFPageObj_GetFillColor(obj, cr, cg, cb, ca)
                    filled = not _is_white((cr.value, cg.value, cb.value, ca.value))
                if not (filled or stroked):
                    continue  # white cell backgrounds: never rules
                c.FPDFPageObj_GetMatrix(obj, fs_matrix)
                a, b, cc, d, e, f = _compose(
                    outer, (fs_matrix.a, fs_matrix.b, fs_matrix.c, fs_matrix.d, fs_matrix.e, fs_matrix.f)
                )
                subpaths: list[list[tuple[float, float]]] = []
                for k in range(c.FPDFPath_CountSegments(obj)):
                    seg = c.FPDFPath_GetPathSegment(obj, k)
                    c.FPDFPathSegment_GetPoint(seg, px, py)
                    x, y = px.value, py.value
                    point = xf(a * x + cc * y + e, b * x + d * y + f)
                    if c.FPDFPathSegment_GetType(seg) == c.FPDF_SEGMENT_MOVETO or not subpaths:
                        subpaths.append([point])
                    else:
                        subpaths[-1].append(point)
                    if c.FPDFPathSegment_GetClose(seg) and subpaths[-1][0] != point:
                        subpaths[-1].append(subpaths[-1][0])
                paths.append(PaintedPath(subpaths, stroked, filled))

        raw_page = page.raw
        walk((c.FPDFPage_GetObject(raw_page, k) for k in range(c.FPDFPage_CountObjects(raw_page))), _IDENTITY, 0)
        return PageContent(number, chars, paths, lost)
    finally:
        page.close()


def _colour_is_white(color: Any) -> bool:
    if color is None:
        return False
    values = color if isinstance(color, list | tuple) else (color,)
    if not values or not all(isinstance(v, int | float) for v in values):
        return False
    if len(values) == 4:  # CMYK
        return all(v <= 0.05 for v in values)
    return all(v >= 0.95 for v in values)


def pdfplumber_content(page: Any, number: int) -> PageContent:
    """Characters and paths of one page via pdfplumber/pdfminer (the slow, reference reader)."""
    objects = page.objects
    chars = [
        {
            "text": ch["text"],
            "x0": ch["x0"],
            "x1": ch["x1"],
            "top": ch["top"],
            "bottom": ch["bottom"],
            "size": ch["bottom"] - ch["top"],
        }
        for ch in objects.get("char", [])
        if ch["text"].strip()
    ]
    paths: list[PaintedPath] = []
    for kind in ("line", "rect", "curve"):
        for obj in objects.get(kind, []):
            stroked = bool(obj.get("stroke")) and not _colour_is_white(obj.get("stroking_color"))
            filled = bool(obj.get("fill")) and not _colour_is_white(obj.get("non_stroking_color"))
            if not (stroked or filled):
                continue
            subpaths: list[list[tuple[float, float]]] = []
            for op in obj.get("path") or []:
                if op[0] == "m" or not subpaths:
                    subpaths.append([op[-1]] if len(op) > 1 else [])
                elif op[0] in ("l", "c", "v", "y"):
                    subpaths[-1].append(op[-1])
                elif op[0] == "h" and subpaths[-1]:
                    subpaths[-1].append(subpaths[-1][0])
            if not subpaths:
                subpaths = [list(obj.get("pts") or [])]
            paths.append(PaintedPath([s for s in subpaths if s], stroked, filled))
    return PageContent(number, chars, paths)


# --- ruling lines ------------------------------------------------------------------------------


def _edge(orientation: str, x0: float, top: float, x1: float, bottom: float, kind: str) -> Edge:
    return {
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "doctop": top,
        "width": x1 - x0,
        "height": bottom - top,
        "orientation": orientation,
        "object_type": kind,
    }


def ruling_edges(paths: list[PaintedPath], settings: PdfSettings = DEFAULT_SETTINGS) -> list[Edge]:
    """Horizontal and vertical rules of a page.

    A stroked path contributes its axis-parallel segments; a filled subpath counts only when it
    is hair-thin (Word paints rules as thin filled rectangles). Filled cell backgrounds (WPS
    paints one behind every cell) and anything white are not rules.
    """
    edges: list[Edge] = []
    slack = 1.0
    for path in paths:
        for sub in path.subpaths:
            if len(sub) < 2:
                continue
            if path.stroked:
                for (ax, ay), (bx, by) in itertools.pairwise(sub):
                    if abs(ay - by) <= slack and abs(ax - bx) > 0:
                        y = (ay + by) / 2
                        edges.append(_edge("h", min(ax, bx), y, max(ax, bx), y, "stroke"))
                    elif abs(ax - bx) <= slack and abs(ay - by) > 0:
                        x = (ax + bx) / 2
                        edges.append(_edge("v", x, min(ay, by), x, max(ay, by), "stroke"))
            elif path.filled:
                xs = [p[0] for p in sub]
                ys = [p[1] for p in sub]
                x0, x1, top, bottom = min(xs), max(xs), min(ys), max(ys)
                w, h = x1 - x0, bottom - top
                if w <= settings.thin_rect and h > w:
                    x = (x0 + x1) / 2
                    edges.append(_edge("v", x, top, x, bottom, "fill"))
                elif h <= settings.thin_rect and w > h:
                    y = (top + bottom) / 2
                    edges.append(_edge("h", x0, y, x1, y, "fill"))
    return [e for e in edges if (e["width"] if e["orientation"] == "h" else e["height"]) >= settings.edge_min_length]


def _touches(v: Edge, h: Edge, tol: float) -> bool:
    return v["top"] - tol <= h["top"] <= v["bottom"] + tol and h["x0"] - tol <= v["x0"] <= h["x1"] + tol


def _covers(spans: list[tuple[float, float]], start: float, end: float, tol: float) -> bool:
    """True when the segments, drawn one cell at a time, together run from ``start`` to ``end``."""
    reach = start + tol
    for a, b in sorted(spans):
        if a > reach:
            return False
        reach = max(reach, b + tol)
    return reach >= end


def close_frames(edges: list[Edge], tol: float) -> tuple[list[Edge], list[dict[str, Any]]]:
    """Give every cluster of crossing rules a complete outer frame.

    A table cut by a page break lacks its bottom rule on the first page and, over merged label
    cells, its top rule on the next: the cells along that side would have no corners and vanish.
    Returns the edges with the missing sides added, and per cluster its bbox and which sides
    were open (so the grid can say it continues).
    """
    hs = [e for e in edges if e["orientation"] == "h"]
    vs = [e for e in edges if e["orientation"] == "v"]
    n = len(hs) + len(vs)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for j, v in enumerate(vs):
        for i, h in enumerate(hs):
            if _touches(v, h, tol):
                a, b = find(i), find(len(hs) + j)
                if a != b:
                    parent[a] = b
    clusters: dict[int, list[int]] = {}
    for i in range(n):
        clusters.setdefault(find(i), []).append(i)
    added: list[Edge] = []
    frames: list[dict[str, Any]] = []
    for members in clusters.values():
        c_h = [hs[i] for i in members if i < len(hs)]
        c_v = [vs[i - len(hs)] for i in members if i >= len(hs)]
        if len(c_h) < 2 or len(c_v) < 2:
            continue
        x0 = min(min(e["x0"] for e in c_h), min(e["x0"] for e in c_v))
        x1 = max(max(e["x1"] for e in c_h), max(e["x0"] for e in c_v))
        top = min(min(e["top"] for e in c_h), min(e["top"] for e in c_v))
        bottom = max(max(e["top"] for e in c_h), max(e["bottom"] for e in c_v))
        open_sides: list[str] = []

        def covered_h(y: float, c_h: list[Edge] = c_h, x0: float = x0, x1: float = x1) -> bool:
            spans = [(e["x0"], e["x1"]) for e in c_h if abs(e["top"] - y) <= tol]
            return _covers(spans, x0, x1, tol)

        def covered_v(x: float, c_v: list[Edge] = c_v, top: float = top, bottom: float = bottom) -> bool:
            spans = [(e["top"], e["bottom"]) for e in c_v if abs(e["x0"] - x) <= tol]
            return _covers(spans, top, bottom, tol)

        if not covered_h(top):
            added.append(_edge("h", x0, top, x1, top, "frame"))
            open_sides.append("top")
        if not covered_h(bottom):
            added.append(_edge("h", x0, bottom, x1, bottom, "frame"))
            open_sides.append("bottom")
        if not covered_v(x0):
            added.append(_edge("v", x0, top, x0, bottom, "frame"))
            open_sides.append("left")
        if not covered_v(x1):
            added.append(_edge("v", x1, top, x1, bottom, "frame"))
            open_sides.append("right")
        frames.append({"bbox": (x0, top, x1, bottom), "open": open_sides})
    return edges + added, frames


def merge_rules(edges: list[Edge], settings: PdfSettings = DEFAULT_SETTINGS) -> list[Edge]:
    """pdfplumber's snap and join: rules drawn one cell side at a time become whole lines."""
    from pdfplumber.table import merge_edges

    if not edges:
        return []
    merged = merge_edges(
        edges,
        snap_x_tolerance=settings.snap_tolerance,
        snap_y_tolerance=settings.snap_tolerance,
        join_x_tolerance=settings.join_tolerance,
        join_y_tolerance=settings.join_tolerance,
    )
    return [e for e in merged if (e["width"] if e["orientation"] == "h" else e["height"]) >= settings.edge_min_length]


def find_cell_groups(edges: list[Edge], settings: PdfSettings = DEFAULT_SETTINGS) -> list[list[BBox]]:
    """pdfplumber's own pipeline from rules to tables: snap and join, intersect, cells, groups."""
    from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells

    merged = merge_rules(edges, settings)
    if not merged:
        return []
    intersections = edges_to_intersections(merged, settings.intersection_tolerance, settings.intersection_tolerance)
    cells = intersections_to_cells(intersections)
    return cells_to_tables(cells)


# --- cells → grid ------------------------------------------------------------------------------


def _dedupe(chars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop characters painted twice at the same spot (fake bold), which would read ``总总计计``."""
    kept: list[dict[str, Any]] = []
    for ch in chars:
        if any(k["text"] == ch["text"] and abs(k["x0"] - ch["x0"]) < 1 and abs(k["top"] - ch["top"]) < 1 for k in kept):
            continue
        kept.append(ch)
    return kept


def text_lines(chars: list[dict[str, Any]], x_tolerance: float, y_tolerance: float) -> list[list[dict[str, Any]]]:
    """Group characters into lines (by vertical centre), each sorted left to right."""
    lines: list[list[dict[str, Any]]] = []
    centres: list[float] = []
    for ch in sorted(chars, key=lambda c: ((c["top"] + c["bottom"]) / 2, c["x0"])):
        mid = (ch["top"] + ch["bottom"]) / 2
        if lines and mid - centres[-1] <= y_tolerance:
            lines[-1].append(ch)
            continue
        lines.append([ch])
        centres.append(mid)
    return [sorted(line, key=lambda c: c["x0"]) for line in lines]


def cell_text(chars: list[dict[str, Any]], settings: PdfSettings = DEFAULT_SETTINGS) -> str:
    """The text of one cell's characters: lines top to bottom, gaps as spaces, then ``clean_pdf_text``."""
    if not chars:
        return ""
    out: list[str] = []
    for line in text_lines(_dedupe(chars), settings.text_x_tolerance, settings.text_y_tolerance):
        parts: list[str] = []
        last_x1: float | None = None
        for ch in line:
            if last_x1 is not None and ch["x0"] > last_x1 + settings.text_x_tolerance:
                parts.append(" ")
            parts.append(ch["text"])
            last_x1 = ch["x1"]
        out.append("".join(parts))
    return clean_pdf_text("\n".join(out))


def words_of(chars: list[dict[str, Any]], settings: PdfSettings = DEFAULT_SETTINGS) -> list[dict[str, Any]]:
    """Words: runs of characters on one line with gaps under ``text_x_tolerance``."""
    words: list[dict[str, Any]] = []
    for line in text_lines(chars, settings.text_x_tolerance, settings.text_y_tolerance):
        current: list[dict[str, Any]] = []
        for ch in line:
            if current and ch["x0"] > current[-1]["x1"] + settings.text_x_tolerance:
                words.append(_word(current))
                current = []
            current.append(ch)
        if current:
            words.append(_word(current))
    return words


def _word(chars: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "text": "".join(c["text"] for c in chars),
        "x0": min(c["x0"] for c in chars),
        "x1": max(c["x1"] for c in chars),
        "top": min(c["top"] for c in chars),
        "bottom": max(c["bottom"] for c in chars),
        "size": max(c["size"] for c in chars),
    }


def grid_from_cells(
    cells: list[BBox],
    chars: list[dict[str, Any]],
    page_no: int,
    locator: str,
    settings: PdfSettings = DEFAULT_SETTINGS,
) -> Grid:
    """Expand one table's cell boxes into a full grid: span copies for merged cells, text per cell."""
    xs = sorted({c[0] for c in cells} | {c[2] for c in cells})
    ys = sorted({c[1] for c in cells} | {c[3] for c in cells})
    col_of = {x: i for i, x in enumerate(xs)}
    row_of = {y: i for i, y in enumerate(ys)}
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    owner: list[list[int]] = [[-1] * n_cols for _ in range(n_rows)]
    spans: list[tuple[int, int, int, int]] = []
    for idx, (x0, top, x1, bottom) in enumerate(cells):
        r0, r1, c0, c1 = row_of[top], row_of[bottom], col_of[x0], col_of[x1]
        spans.append((r0, r1, c0, c1))
        for r in range(r0, r1):
            for c in range(c0, c1):
                if owner[r][c] < 0:
                    owner[r][c] = idx
    buckets: list[list[dict[str, Any]]] = [[] for _ in cells]
    tx0, ttop, tx1, tbottom = xs[0], ys[0], xs[-1], ys[-1]
    for ch in chars:
        hx = (ch["x0"] + ch["x1"]) / 2
        vy = (ch["top"] + ch["bottom"]) / 2
        if not (tx0 <= hx < tx1 and ttop <= vy < tbottom):
            continue
        c = bisect.bisect_right(xs, hx) - 1
        r = bisect.bisect_right(ys, vy) - 1
        if 0 <= r < n_rows and 0 <= c < n_cols and owner[r][c] >= 0:
            buckets[owner[r][c]].append(ch)
    texts = [cell_text(b, settings) for b in buckets]
    rows: list[list[Cell]] = []
    for r in range(n_rows):
        row: list[Cell] = []
        for c in range(n_cols):
            idx = owner[r][c]
            if idx < 0:
                row.append(Cell("", r, c, page_no, note="no cell drawn here"))
                continue
            r0, _, c0, _ = spans[idx]
            if (r0, c0) == (r, c):
                row.append(Cell(texts[idx], r, c, page_no))
            else:
                row.append(Cell(texts[idx], r, c, page_no, span_of=(r0, c0)))
        rows.append(row)
    return Grid(rows=rows, locator=locator, page=page_no)


def _is_data_table(grid: Grid) -> bool:
    """A table has a row of two or more cells and some text; ruled prose boxes are one cell wide.

    A fragment cut off by a page break may be a single row whose values are all blank
    (行政事业性收费 with nothing printed), so empty cells count as cells.
    """
    if not grid.rows or len(grid.rows[0]) < 2 or not any(c.text for row in grid.rows for c in row):
        return False
    return any(len({c.span_of or (c.row, c.col) for c in row}) >= 2 for row in grid.rows)


# --- word-position fallback --------------------------------------------------------------------


@dataclass(slots=True)
class _Piece:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float

    @property
    def mid(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


def _join(pieces: list[_Piece]) -> _Piece:
    pieces = sorted(pieces, key=lambda p: (p.top, p.x0))
    return _Piece(
        clean_pdf_text("\n".join(p.text for p in pieces)),
        min(p.x0 for p in pieces),
        max(p.x1 for p in pieces),
        min(p.top for p in pieces),
        max(p.bottom for p in pieces),
        max(p.size for p in pieces),
    )


def _vertical_stacks(pieces: list[_Piece]) -> list[_Piece]:
    """Rebuild labels printed one character per line (三/、/本/年…) into one piece each."""
    singles = sorted(
        (p for p in pieces if len(p.text) == 1 and not p.text.isascii() and not _is_value(p)),
        key=lambda p: (p.centre, p.top),
    )
    used: set[int] = set()
    stacks: list[_Piece] = []
    for i, p in enumerate(singles):
        if id(p) in used:
            continue
        chain = [p]
        for q in singles[i + 1 :]:
            if id(q) in used or abs(q.centre - p.centre) > max(2.0, p.size * 0.3):
                continue
            if -chain[-1].size * 0.2 <= q.top - chain[-1].bottom <= chain[-1].size * 0.6:
                chain.append(q)
        if len(chain) >= 3:
            used.update(id(c) for c in chain)
            stacks.append(_join(chain))
    return [p for p in pieces if id(p) not in used] + stacks


def _lines(pieces: list[_Piece], tol: float) -> list[list[_Piece]]:
    """Pieces grouped into lines by vertical centre, each line left to right."""
    lines: list[list[_Piece]] = []
    mids: list[float] = []
    for p in sorted(pieces, key=lambda p: (p.mid, p.x0)):
        if lines and p.mid - mids[-1] <= tol:
            lines[-1].append(p)
            continue
        lines.append([p])
        mids.append(p.mid)
    return [sorted(line, key=lambda p: p.x0) for line in lines]


def _phrases(line: list[_Piece], settings: PdfSettings) -> list[_Piece]:
    """Words of one line joined into cell texts at gaps narrower than ``word_gap_em``; values stay apart."""
    out: list[_Piece] = []
    for p in line:
        if out:
            last = out[-1]
            gap = p.x0 - last.x1
            if gap < settings.word_gap_em * max(last.size, p.size) and not (_is_value(last) or _is_value(p)):
                out[-1] = _Piece(
                    clean_pdf_text(last.text + " " + p.text),
                    last.x0,
                    p.x1,
                    min(last.top, p.top),
                    max(last.bottom, p.bottom),
                    max(last.size, p.size),
                )
                continue
        out.append(p)
    return out


def _is_value(p: _Piece) -> bool:
    return bool(p.text) and looks_like_value(p.text)


_PAGE_NUMBER = re.compile(r"^(?:[-—–－]+\d+[-—–－]+|第\d+页(?:共\d+页)?|\d+/\d+)$")


def grids_from_words(
    words: list[dict[str, Any]],
    page_no: int,
    first_index: int,
    settings: PdfSettings = DEFAULT_SETTINGS,
    carry: dict[str, list[float]] | None = None,
) -> list[Grid]:
    """Tables without rules, read from word positions.

    Value tokens fix the rows (one row per line of values) and the value columns (clusters of
    their horizontal centres). Text fragments stacked in one cell (wrapped labels, 商业/企业) are
    joined first; label text left of the values is attached to the nearest row of values, so a
    label wrapped around its centred values, or a group label centred beside its rows, lands on
    one row. Text over the value columns makes header rows. A table heading starts a new grid.
    """
    pieces = [
        _Piece(clean_pdf_text(w["text"]), w["x0"], w["x1"], w["top"], w["bottom"], float(w.get("size") or 10.0))
        for w in words
        if clean_pdf_text(w["text"])
    ]
    if not pieces:
        return []
    pieces = _vertical_stacks(pieces)
    size = sorted(p.size for p in pieces)[len(pieces) // 2]
    lines = _lines(pieces, size * 0.5)
    lines = [line for line in lines if len(line) > 3 or not _PAGE_NUMBER.match("".join(p.text for p in line))]

    regions: list[list[list[_Piece]]] = [[]]
    for line in lines:
        if _is_section_heading(line):
            regions.append([])
            continue
        regions[-1].append(line)

    grids: list[Grid] = []
    for i, region in enumerate(regions):
        if i > 0 and carry is not None:
            carry.clear()  # a section heading ends the table
        locator = f"pdf p.{page_no} table {first_index + len(grids)}"
        grid = _word_table(region, size, settings, page_no, locator, carry)
        if grid is not None:
            grids.append(grid)
    return grids


_SECTION = re.compile(r"^[一二三四五六七八九十]+、.*(?:情况|事项)")


def _is_section_heading(line: list[_Piece]) -> bool:
    """A report section heading (二、主动公开政府信息情况, 五、…改进情况): a table ends there.

    Row labels of table 三 also start with 一、/二、/四、 but never end in 情况 or 事项.
    """
    if any(_is_value(p) for p in line):
        return False
    joined = _norm("".join(p.text for p in line))
    return any(h in joined for h in _HEADING_KEYS) or bool(_SECTION.match(joined))


def _stack_fragments(pieces: list[_Piece], size: float, anchored: dict[int, int]) -> list[tuple[_Piece, int | None]]:
    """Join fragments printed one under another inside one cell (wrapped lines, 商业/企业).

    ``anchored`` maps pieces printed on a line of values to that row; two anchored pieces are
    two rows, never one cell. Returns each joined block with its row, if one of its parts had one.
    """
    blocks: list[tuple[_Piece, int | None]] = []
    for p in sorted(pieces, key=lambda p: p.top):
        row = anchored.get(id(p))
        for i in range(len(blocks) - 1, -1, -1):
            last, last_row = blocks[i]
            overlap = min(p.x1, last.x1) - max(p.x0, last.x0)
            if overlap > 0 and -size * 0.2 <= p.top - last.bottom <= size * 0.35:
                if row is not None and last_row is not None:
                    continue
                blocks[i] = (_join([last, p]), row if row is not None else last_row)
                break
        else:
            blocks.append((p, row))
    return blocks


def _merge_header_lines(rows: list[dict[str, Any]], size: float) -> list[dict[str, Any]]:
    """Header lines that are one printed header row: a label spanning two header rows is centred
    between them (自然人 beside 法人或其他组织 / 商业企业), so its line falls between the lines of
    the rows it belongs to. Adjacent header lines whose texts do not overlap horizontally are one
    row; a block caption (第二十条第（X）项) spans the table and stays a row of its own."""
    out: list[dict[str, Any]] = []
    for r in rows:
        prev = out[-1] if out else None
        if prev is not None and prev["header"] and r["header"]:
            mine, theirs = r["labels"] + r["values"], prev["labels"] + prev["values"]
            apart = all(min(p.x1, q.x1) <= max(p.x0, q.x0) for p in mine for q in theirs)
            close = min(p.top for p in mine) - max(p.bottom for p in theirs) <= size * 1.5
            captions = any("第二十条" in p.text for p in mine + theirs)
            if apart and close and not captions:
                out[-1] = {
                    "mid": prev["mid"],
                    "labels": prev["labels"] + r["labels"],
                    "values": prev["values"] + r["values"],
                    "header": True,
                }
                continue
        out.append(r)
    return out


def _clusters(xs: list[float], gap: float) -> list[float]:
    """Centres of runs of sorted positions no more than ``gap`` apart."""
    runs: list[list[float]] = []
    for x in sorted(xs):
        if runs and x - runs[-1][-1] <= gap:
            runs[-1].append(x)
        else:
            runs.append([x])
    return [sum(r) / len(r) for r in runs]


def _word_table(
    lines: list[list[_Piece]],
    size: float,
    settings: PdfSettings,
    page_no: int,
    locator: str,
    carry: dict[str, list[float]] | None = None,
) -> Grid | None:
    anchors = [line for line in lines if any(_is_value(p) for p in line)]
    # Lines of values that read as table rows (prose with a year in it does not).
    tabular = [
        a
        for a in anchors
        if sum(1 for p in a if _is_value(p)) >= 2
        or all(p.x1 <= min(v.x0 for v in a if _is_value(v)) for p in a if not _is_value(p))
    ]
    if not tabular:
        return None
    values = [p for a in tabular for p in a if _is_value(p)]
    edge = min(v.x0 for v in values) + 1.0  # labels end left of here
    low = min(p.top for a in tabular for p in a) - size * 1.6
    high = max(p.bottom for a in tabular for p in a) + size * 1.6
    if not any(not _is_value(p) and p.x1 <= edge and low <= p.mid <= high for line in lines for p in line):
        edge = float("-inf")  # rows without labels (table 四): everything is header or value

    # Rows of values, then every text fragment: label text joins a row, the rest is header.
    rows: list[dict[str, Any]] = [
        {
            "mid": sum(p.mid for p in a) / len(a),
            "top": min(p.top for p in a),
            "labels": [],
            "values": [p for p in a if _is_value(p)],
            "header": False,
        }
        for a in tabular
    ]
    row_of_line = {id(a): i for i, a in enumerate(tabular)}
    anchored: dict[int, int] = {}
    texts: list[_Piece] = []
    for line in lines:
        row = row_of_line.get(id(line))
        words = [p for p in line if not (row is not None and _is_value(p))]
        left = _phrases([p for p in words if p.x1 <= edge], settings)
        for p in left:
            if row is not None:
                anchored[id(p)] = row
        texts.extend(left)
        texts.extend(p for p in words if p.x1 > edge)
    header: list[_Piece] = []
    for block, row in _stack_fragments(texts, size, anchored):
        if block.x1 <= edge:
            if row is None:
                nearest = min(range(len(rows)), key=lambda i: abs(rows[i]["mid"] - block.mid))
                if abs(rows[nearest]["mid"] - block.mid) <= size * 1.6:
                    row = nearest
            if row is not None:
                rows[row]["labels"].append(block)
                continue
        header.append(block)

    wide = sum(1 for r in rows if len(r["values"]) >= 3)
    labelled = sum(1 for r in rows if r["labels"])
    if not (wide >= 1 or labelled >= 3):
        # A short block (第二十条第（八）项 alone) is a table when its text names table labels.
        region_text = "".join(p.text for line in lines for p in line if not _is_value(p))
        if not (labelled >= 1 and marker_hits(region_text) >= 1):
            return None

    # Header lines: those reaching down to the first row of values, and those between rows.
    # After the last row of values only lines naming table labels count (a row left blank,
    # the caption and header of a block whose rows start on the next page), not prose.
    first_top, last_mid = rows[0]["top"], rows[-1]["mid"]
    header_lines = _lines(header, size * 0.5)
    trailing: set[int] = set()
    bottom = max(p.bottom for p in rows[-1]["values"] + rows[-1]["labels"])
    for line in sorted((h for h in header_lines if h[0].mid > last_mid), key=lambda h: h[0].mid):
        if min(p.top for p in line) - bottom > size * 2 or not marker_hits("".join(p.text for p in line)):
            break
        trailing.add(id(line))
        bottom = max(p.bottom for p in line)
    # The last line of column headers above the first row: label lines below it are rows.
    column_heads = [h[0].mid for h in header_lines if h[0].mid < rows[0]["mid"] and any(p.x1 > edge for p in h)]
    last_head = max(column_heads, default=float("-inf"))
    reach = first_top
    for line in sorted(header_lines, key=lambda h: -h[0].mid):
        mid = line[0].mid
        if mid > last_mid and id(line) not in trailing:
            continue  # text after the table
        above = mid < rows[0]["mid"]
        if above:
            if reach - max(p.bottom for p in line) > size * 2:
                continue  # prose above the table
            reach = min(reach, min(p.top for p in line))
        over_values = [p for p in line if p.x1 > edge]
        # A line of labels alone between rows of values, or between the column headers and the
        # first row of values, is a row whose cells are all blank.
        rows.append(
            {
                "mid": mid,
                "labels": [p for p in line if p.x1 <= edge],
                "values": over_values,
                "header": bool(over_values) or (above and mid < last_head),
            }
        )
    rows = _merge_header_lines(sorted(rows, key=lambda r: r["mid"]), size)

    # Sections: a run of header rows starts one; value columns are found per section, so a
    # block of table 二 with one value column is not spread over the columns of the block above.
    sections: list[list[dict[str, Any]]] = []
    for r in rows:
        if not sections or (r["header"] and not sections[-1][-1]["header"]):
            sections.append([])
        sections[-1].append(r)
    section_cols: list[list[float]] = []
    for sec in sections:
        xs = [p.centre for r in sec if not r["header"] for p in r["values"]]
        # Column headers with nothing printed under them name columns too (a column left
        # blank in every row keeps its place); group headers over several columns do not.
        heads = [p for r in sec if r["header"] for p in r["values"]]
        xs += [
            h.centre
            for h in heads
            if not any(o is not h and o.top >= h.bottom - 1 and min(o.x1, h.x1) > max(o.x0, h.x0) for o in heads)
        ]
        section_cols.append(_clusters(xs, max(6.0, size * 0.6)) or [0.0])
    # A table continued from the previous page keeps its columns: blank cells of the
    # continuation must not shift the values left.
    if carry and carry.get("cols") and not sections[0][0]["header"]:
        previous = carry["cols"]
        cols = section_cols[0]
        if len(cols) < len(previous) and all(min(abs(x - y) for y in previous) <= size for x in cols):
            section_cols[0] = list(previous)
    if carry is not None:
        carry["cols"] = section_cols[-1]
    n_values = max(len(c) for c in section_cols)

    # Label columns: where a row prints labels side by side (三、本年度办理结果 | （三）不予公开 |
    # 1.属于国家秘密), the left edges of all but the first piece start new columns. Centred
    # labels of one column start anywhere inside it, so nearby edges are one boundary.
    edges: list[float] = []
    for r in rows:
        if not r["header"]:
            edges += sorted(p.x0 for p in r["labels"])[1:]
    sub_cols: list[float] = [float("-inf")]
    for x in sorted(edges):
        if len(sub_cols) == 1 or x - sub_cols[-1] > size * 4:
            sub_cols.append(x - size / 2)
    n_label = len(sub_cols)
    out: list[list[Cell]] = []
    for sec, cols in zip(sections, section_cols, strict=True):
        bounds = [(a + b) / 2 for a, b in itertools.pairwise(cols)]
        for r in sec:
            r_idx = len(out)
            label_texts = [""] * n_label
            for p in sorted(r["labels"], key=lambda p: (p.top, p.x0)):
                k = max(bisect.bisect_right(sub_cols, p.x0) - 1, 0)
                label_texts[k] = clean_pdf_text(label_texts[k] + "\n" + p.text) if label_texts[k] else p.text
            slots = [""] * len(cols)
            for p in sorted(r["values"], key=lambda p: (p.top, p.x0)):
                c = bisect.bisect_right(bounds, p.centre)
                slots[c] = clean_pdf_text(slots[c] + "\n" + p.text) if slots[c] else p.text
            cells = [Cell(t, r_idx, c_idx, page_no) for c_idx, t in enumerate(label_texts + slots)]
            if r["header"]:
                # A header label is centred over the columns it spans: carry it to the right
                # over the empty header cells, as span copies (the ruled grid has them).
                for c_idx in range(n_label + 1, len(cells)):
                    prev = cells[c_idx - 1]
                    if not cells[c_idx].text and prev.text:
                        cells[c_idx] = Cell(prev.text, r_idx, c_idx, page_no, span_of=prev.span_of or (r_idx, prev.col))
            # A section with fewer value columns: its last column spans the rest, as ruled.
            last = cells[-1]
            for extra in range(len(cells), n_label + n_values):
                cells.append(Cell(last.text, r_idx, extra, page_no, span_of=(r_idx, last.col)))
            out.append(cells)
    grid = Grid(rows=out, locator=locator, page=page_no)
    grid.meta["method"] = "words"
    placed = [p for r in rows for p in r["labels"] + r["values"]]
    box = (
        min(p.x0 for p in placed),
        min(p.top for p in placed),
        max(p.x1 for p in placed),
        max(p.bottom for p in placed),
    )
    grid.meta["bbox"] = ",".join(f"{v:.1f}" for v in box)
    return grid


# --- the extractor -----------------------------------------------------------------------------


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


def page_grids(
    content: PageContent,
    settings: PdfSettings,
    warnings: list[str],
    carry: dict[str, list[float]] | None = None,
) -> list[Grid]:
    """Every report-like table of one page: ruled tables, else (optionally) word-position tables.

    ``carry`` passes the columns of a word-position table on to the next page.
    """
    page_no = content.number
    edges = merge_rules(ruling_edges(content.paths, settings), settings)
    edges, frames = close_frames(edges, settings.intersection_tolerance)
    grids: list[Grid] = []
    for cells in find_cell_groups(edges, settings):
        grid = grid_from_cells(cells, content.chars, page_no, f"pdf p.{page_no} table {len(grids) + 1}", settings)
        if not _is_data_table(grid):
            continue
        bbox = (min(c[0] for c in cells), min(c[1] for c in cells), max(c[2] for c in cells), max(c[3] for c in cells))
        grid.meta["method"] = "rules"
        grid.meta["bbox"] = ",".join(f"{v:.1f}" for v in bbox)
        for frame in frames:
            fx0, ftop, fx1, fbottom = frame["bbox"]
            if abs(fx0 - bbox[0]) > 4 or abs(fx1 - bbox[2]) > 4:
                continue
            if "top" in frame["open"] and abs(ftop - bbox[1]) <= 4:
                grid.meta["open_top"] = "1"
            if "bottom" in frame["open"] and abs(fbottom - bbox[3]) <= 4:
                grid.meta["open_bottom"] = "1"
        grids.append(grid)
    if grids and carry is not None:
        carry.clear()
    if not settings.word_fallback:
        return grids
    if not grids:
        word_grids = grids_from_words(words_of(content.chars, settings), page_no, 1, settings, carry)
        if word_grids:
            warnings.append(f"p.{page_no}: no ruled table; {len(word_grids)} table(s) read from word positions")
        return word_grids
    # Text outside the ruled tables: an unruled table may share the page with ruled ones.
    boxes = [tuple(float(v) for v in g.meta["bbox"].split(",")) for g in grids]
    outside = [
        ch
        for ch in content.chars
        if not any(
            b[0] - 1 <= (ch["x0"] + ch["x1"]) / 2 <= b[2] + 1 and b[1] - 1 <= (ch["top"] + ch["bottom"]) / 2 <= b[3] + 1
            for b in boxes
        )
    ]
    if marker_hits("".join(ch["text"] for ch in outside)) < 2:
        return grids
    word_grids = grids_from_words(words_of(outside, settings), page_no, 1, settings, None)
    if not word_grids:
        return grids
    warnings.append(
        f"p.{page_no}: {len(word_grids)} table(s) without rules beside ruled ones, read from word positions"
    )
    grids = sorted(grids + word_grids, key=lambda g: float(g.meta["bbox"].split(",")[1]))
    for i, grid in enumerate(grids, start=1):
        grid.locator = f"pdf p.{page_no} table {i}"
    return grids


def extract_pdf(data: bytes, *, settings: PdfSettings | None = None) -> RawDocument:
    """Grids (one per table and page) and text of a PDF report.

    A table continued on the next page comes out as two grids; the continuation has no header
    and may start with empty cells where merged labels continue (``meta['open_top']``). Every
    cell carries its page. Raises ExtractionError for documents that cannot be read.
    """
    settings = settings or DEFAULT_SETTINGS
    _check_container(data, settings)
    warnings: list[str] = []
    with _PDFIUM_LOCK, _gc_paused(settings.pause_gc):
        doc = _pdfium_open(data)
        try:
            pages = scan_pages(doc, settings)
            text = "\n".join(p.text for p in pages)
            title = find_title(text)
            chosen = _choose_pages(pages, text, settings, warnings)
            if not chosen:
                return RawDocument(FORMAT, [], text, title, warnings)
            if settings.backend == "pdfium":
                grids = _grids_pdfium(doc, data, chosen, settings, warnings)
            else:
                grids = _grids_pdfplumber(data, chosen, settings, warnings)
        finally:
            doc.close()
    return RawDocument(FORMAT, grids, text, title, warnings)


def _choose_pages(pages: list[PageScan], text: str, settings: PdfSettings, warnings: list[str]) -> list[int]:
    """Table pages, or the status that explains why there are none (scanned, not a report)."""
    image_pages = [p.number for p in pages if not p.text.strip() and p.images]
    blank_pages = [p.number for p in pages if not p.text.strip()]
    if len(blank_pages) == len(pages):
        if image_pages:
            raise ExtractionError(
                STATUS_NEEDS_OCR, f"image-only PDF (scanned): none of {len(pages)} page(s) has a text layer"
            )
        raise ExtractionError(
            STATUS_NEEDS_OCR, f"no text layer and no images on {len(pages)} page(s) (text drawn as outlines?)"
        )
    if image_pages:
        warnings.append(f"pages without a text layer (images only): {', '.join(map(str, image_pages))}")
    chosen = table_pages(pages, settings)
    if chosen:
        return chosen
    if image_pages:
        raise ExtractionError(
            STATUS_NEEDS_OCR,
            f"no table text found; page(s) {', '.join(map(str, image_pages))} are images without a text layer",
        )
    if "政府信息公开" not in _norm(text):
        raise ExtractionError(STATUS_NOT_A_REPORT, "no 政府信息公开 report text and no table labels in the PDF")
    warnings.append("no page carries the labels of the statistical tables")
    return []


def _grids_pdfium(doc: Any, data: bytes, chosen: list[int], settings: PdfSettings, warnings: list[str]) -> list[Grid]:
    """Table pages read by PDFium; a page where PDFium lost glyphs is read again with pdfminer."""
    import pypdfium2 as pdfium

    grids: list[Grid] = []
    reread: list[int] = []
    carry: dict[str, list[float]] = {}
    for number in chosen:
        if number - 1 not in chosen:
            carry.clear()
        try:
            content = pdfium_content(doc, number, settings)
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
