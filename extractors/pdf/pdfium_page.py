"""Characters and painted paths of one page through PDFium's C API (pypdfium2): the fast reader.

PDFium (pypdfium2) is not thread-safe, not even across documents: callers hold ``PDFIUM_LOCK``.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from typing import Any

from xxgk.extractors.base import ExtractionError
from xxgk.extractors.pdf.content import Char, PageContent, PageLimitError, PaintedPath
from xxgk.extractors.pdf.settings import DEFAULT_SETTINGS, PdfSettings
from xxgk.schemas.records import STATUS_FAILED

#: Two PDFs read in two threads crashed the process (SIGSEGV) in a 300-document run. One PDF at a
#: time per process; parallel extraction is the process pool's job (threads gain nothing on
#: CPU-bound parsing anyway).
PDFIUM_LOCK = threading.Lock()

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def compose(outer: Matrix, inner: Matrix) -> Matrix:
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


def display_transform(rotation: int, box: tuple[float, float, float, float]) -> Any:
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


class _PdfMetrics:
    """Character boxes of non-embedded fonts from the PDF's own metrics, as pdfminer draws them.

    A font that is not embedded is drawn with whatever font the machine offers (PDFium substitutes
    one from the system's font folders). PDFium's boxes (loose and tight) take in the substitute's
    glyph outlines, so the same file gave other boxes, other words and other cells where a CJK font
    was installed. The origin, the advance (``/W``, ``/Widths``) and the descent (``/FontDescriptor``)
    come from the file: the box runs from the origin over the advance, from the descent up one
    font size, in the character's text matrix. Embedded fonts keep PDFium's boxes (their glyphs are
    in the file). ``None`` when the metrics cannot be read: the caller falls back to PDFium's boxes.
    """

    def __init__(self) -> None:
        import pypdfium2.raw as c

        self.c = c
        self.fonts: dict[int, tuple[Any, float] | None] = {}
        #: per text object: its font and descent, font size and text matrix, or None (keep PDFium's box)
        self.objects: dict[int, tuple[Any, float, float, Matrix] | None] = {}
        self.advances: dict[tuple[int, str, float], float] = {}
        self.ox, self.oy = ctypes.c_double(), ctypes.c_double()
        self.matrix = c.FS_MATRIX()
        self.value = ctypes.c_float()

    def _font(self, font: Any) -> tuple[Any, float] | None:
        """A non-embedded font and its descent per point, or None (embedded / unknown)."""
        key = ctypes.cast(font, ctypes.c_void_p).value or 0
        if key not in self.fonts:
            c = self.c
            found: tuple[Any, float] | None = None
            if font and not c.FPDFFont_GetIsEmbedded(font) and c.FPDFFont_GetDescent(font, 1.0, self.value):
                found = (font, self.value.value)
            self.fonts[key] = found
        return self.fonts[key]

    def _object(self, raw_tp: Any, index: int) -> tuple[int, tuple[Any, float, float, Matrix] | None]:
        """The text object of a character with what its characters share (asked once per object)."""
        c = self.c
        obj = c.FPDFText_GetTextObject(raw_tp, index)
        if not obj:
            return 0, None
        key = ctypes.c_void_p.from_buffer(obj).value or 0
        if key in self.objects:
            return key, self.objects[key]
        shared: tuple[Any, float, float, Matrix] | None = None
        found = self._font(c.FPDFTextObj_GetFont(obj))
        size = c.FPDFText_GetFontSize(raw_tp, index)
        if found is not None and size > 0 and c.FPDFText_GetMatrix(raw_tp, index, self.matrix):
            m = self.matrix
            shared = (found[0], found[1], size, (m.a, m.b, m.c, m.d, m.e, m.f))
        self.objects[key] = shared
        return key, shared

    def box(self, raw_tp: Any, index: int, char: str) -> tuple[float, float, float, float] | None:
        """(left, right, upper, lower) in PDF page space, or None to keep PDFium's box."""
        key, shared = self._object(raw_tp, index)
        if shared is None:
            return None
        font, descent, size, (ma, mb, mc, md, _, _) = shared
        c = self.c
        ak = (key, char, size)
        advance = self.advances.get(ak)
        if advance is None:
            if not c.FPDFFont_GetGlyphWidth(font, ord(char), size, self.value):
                return None
            advance = self.advances[ak] = self.value.value
        if advance <= 0 or not c.FPDFText_GetCharOrigin(raw_tp, index, self.ox, self.oy):
            return None
        ox, oy = self.ox.value, self.oy.value
        bottom, top = descent * size, (descent + 1.0) * size
        xs = (ox + mc * bottom, ox + ma * advance + mc * bottom, ox + mc * top, ox + ma * advance + mc * top)
        ys = (oy + md * bottom, oy + mb * advance + md * bottom, oy + md * top, oy + mb * advance + md * top)
        return min(xs), max(xs), max(ys), min(ys)


def open_document(data: bytes) -> Any:
    """An open pypdfium2 document; encrypted and corrupt files raise ExtractionError (failed)."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            raise ExtractionError(STATUS_FAILED, "encrypted PDF: a password is required to open it") from exc
        raise ExtractionError(STATUS_FAILED, f"corrupt PDF: {msg}") from exc


def pdfium_content(doc: Any, number: int, settings: PdfSettings = DEFAULT_SETTINGS) -> PageContent:
    """Characters (loose boxes) and paths (with nested form XObjects) of one page via PDFium's C API."""
    import pypdfium2.raw as c

    page = doc[number - 1]
    try:
        xf = display_transform(page.get_rotation(), page.get_mediabox())
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
                    key = ctypes.c_void_p.from_buffer(font).value or 0
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
                    m = compose(outer, (fs_matrix.a, fs_matrix.b, fs_matrix.c, fs_matrix.d, fs_matrix.e, fs_matrix.f))
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
                a, b, cc, d, e, f = compose(
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
        walk((c.FPDFPage_GetObject(raw_page, k) for k in range(c.FPDFPage_CountObjects(raw_page))), IDENTITY, 0)
        textpage = page.get_textpage()
        chars: list[Char] = []
        try:
            n = textpage.count_chars()
            text = textpage.get_text_range(0, n) if n > 0 else ""
            per_char = len(text) != n  # surrogate pairs shift indices: ask char by char
            rect = c.FS_RECTF()
            tl, tr, tb, tt = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
            raw_tp = textpage.raw
            # the file's metrics only where a font is not embedded (PDFium's boxes are exact otherwise)
            metrics = _PdfMetrics() if not all(embedded.values()) else None
            for i in range(max(n, 0)):
                ch = chr(c.FPDFText_GetUnicode(raw_tp, i) or 32) if per_char else text[i]
                if ch.isspace() or ch == "\x00":
                    continue
                box = metrics.box(raw_tp, i, ch) if metrics is not None else None
                if box is not None:
                    left, right, upper, lower = box
                else:
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
        return PageContent(number, chars, paths, lost)
    finally:
        page.close()
