"""Characters and painted paths of one page through PDFium's C API (pypdfium2): the fast reader.

PDFium (pypdfium2) is not thread-safe, not even across documents: callers hold ``PDFIUM_LOCK``.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from xxgk.extractors.base import ExtractionError
from xxgk.extractors.pdf.content import Char, PageContent, PageLimitError, PaintedPath
from xxgk.extractors.pdf.pdfium_calls import pdfium_calls
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


_UNSEEN = object()

#: What the characters of one text object share: their font's advances at the object's size (a
#: dict shared by every object of that font and size, filled as characters come; 0 where the font
#: does not say), the font handle, the size (a ``c_float``, as PDFium takes it), the box's lower
#: and upper edge above the baseline, and the text matrix's linear part.
_ObjectMetrics = tuple[dict[str, float], Any, Any, float, float, float, float, float, float]


class _PdfMetrics:
    """Character boxes of non-embedded fonts from the PDF's own metrics, as pdfminer draws them.

    A font that is not embedded is drawn with whatever font the machine offers (PDFium substitutes
    one from the system's font folders). PDFium's boxes (loose and tight) take in the substitute's
    glyph outlines, so the same file gave other boxes, other words and other cells where a CJK font
    was installed. The origin, the advance (``/W``, ``/Widths``) and the descent (``/FontDescriptor``)
    come from the file: the box runs from the origin over the advance, from the descent up one
    font size, in the character's text matrix. Embedded fonts keep PDFium's boxes (their glyphs are
    in the file). Where the metrics cannot be read the caller keeps PDFium's boxes.

    ``objects`` (text object address -> ``_ObjectMetrics`` or None for "keep PDFium's box") is
    looked up by the caller once per character; ``add_object`` fills it on an object's first
    character.
    """

    def __init__(self, raw_tp: Any) -> None:
        import pypdfium2.raw as c

        self.c = c
        self.calls = pdfium_calls()
        self.raw_tp = raw_tp
        self.fonts: dict[int, tuple[Any, float] | None] = {}
        self.objects: dict[int | None, _ObjectMetrics | None] = {}
        self.widths: dict[tuple[int, float], dict[str, float]] = {}
        self.matrix = c.FS_MATRIX()
        self.matrix_ref = ctypes.byref(self.matrix)
        self.value = ctypes.c_float()

    def _font(self, key: int) -> tuple[Any, float] | None:
        """A non-embedded font (handle) and its descent per point, or None (embedded / unknown)."""
        if key not in self.fonts:
            c = self.c
            found: tuple[Any, float] | None = None
            font = ctypes.cast(key, c.FPDF_FONT)
            if not c.FPDFFont_GetIsEmbedded(font) and c.FPDFFont_GetDescent(font, 1.0, self.value):
                found = (font, self.value.value)
            self.fonts[key] = found
        return self.fonts[key]

    def add_object(self, key: int | None, index: int) -> _ObjectMetrics | None:
        """The metrics of the text object (address ``key``) that character ``index`` belongs to."""
        shared: _ObjectMetrics | None = None
        calls, raw_tp = self.calls, self.raw_tp
        font_address = calls.text_obj_get_font(ctypes.c_void_p(key)) if key else None
        found = self._font(font_address) if font_address else None
        size = calls.text_get_font_size(raw_tp, index)
        if found is not None and size > 0 and calls.text_get_matrix(raw_tp, index, self.matrix_ref):
            font, descent = found
            m = self.matrix
            widths = self.widths.setdefault((font_address or 0, size), {})
            c_size = ctypes.c_float(size)
            shared = (widths, font, c_size, descent * size, (descent + 1.0) * size, m.a, m.b, m.c, m.d)
        self.objects[key] = shared
        return shared


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


def pdfium_content(
    doc: Any, number: int, settings: PdfSettings = DEFAULT_SETTINGS, opened: tuple[Any, Any] | None = None
) -> PageContent:
    """Characters (loose boxes) and paths (with nested form XObjects) of one page via PDFium's C API.

    ``opened``: the page and its text page, when the cheap pass left them open (closed here).
    """
    page, textpage = opened if opened is not None else (doc[number - 1], None)
    try:
        xf = display_transform(page.get_rotation(), page.get_mediabox())
        paths, embedded, lost = _page_paths(page, xf, settings)
        if textpage is None:
            textpage = page.get_textpage()
        # the file's metrics only where a font is not embedded (PDFium's boxes are exact otherwise)
        metrics = _PdfMetrics(textpage.raw) if not all(embedded.values()) else None
        chars = _page_chars(textpage, xf, metrics)
        return PageContent(number, chars, paths, lost)
    finally:
        if textpage is not None:
            textpage.close()
        page.close()


def _page_paths(page: Any, xf: Any, settings: PdfSettings) -> tuple[list[PaintedPath], dict[int, bool], int]:
    """The painted paths of a page (form XObjects four levels deep), whether each font of its text
    objects is embedded, and how many text objects PDFium cannot place (lost glyphs)."""
    import pypdfium2.raw as c

    calls = pdfium_calls()
    get_type, get_matrix, get_bounds = calls.obj_get_type, calls.obj_get_matrix, calls.obj_get_bounds
    get_font, draw_mode = calls.text_obj_get_font, calls.path_get_draw_mode
    stroke_color, fill_color = calls.obj_get_stroke_color, calls.obj_get_fill_color
    count_segments, get_segment = calls.path_count_segments, calls.path_get_segment
    get_point, segment_type, segment_close = calls.segment_get_point, calls.segment_get_type, calls.segment_get_close
    TEXT, FORM, PATH, MOVETO = c.FPDF_PAGEOBJ_TEXT, c.FPDF_PAGEOBJ_FORM, c.FPDF_PAGEOBJ_PATH, c.FPDF_SEGMENT_MOVETO

    byref = ctypes.byref
    paths: list[PaintedPath] = []
    fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
    modes = (byref(fill_mode), byref(stroke))
    px, py = ctypes.c_float(), ctypes.c_float()
    point_refs = (byref(px), byref(py))
    cr, cg, cb, ca = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    colour_refs = (byref(cr), byref(cg), byref(cb), byref(ca))
    fs_matrix = c.FS_MATRIX()
    matrix_ref = byref(fs_matrix)
    bl, bb, br, bt = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    bound_refs = (byref(bl), byref(bb), byref(br), byref(bt))
    embedded: dict[int, bool] = {}
    lost = 0
    visited = 0
    limit = settings.max_page_objects

    def walk(get_object: Any, parent: Any, count: int, outer: Matrix, depth: int) -> None:
        nonlocal lost, visited
        for k in range(count):
            obj = get_object(parent, k)
            visited += 1
            if visited > limit:
                raise PageLimitError(f"more than {limit} drawing objects")
            kind = get_type(obj)
            if kind == TEXT:
                # PDFium gives a glyph of a non-embedded font no extent; a text object
                # holding only that glyph has an empty box and its text is dropped.
                key = get_font(obj) or 0
                if key not in embedded:
                    embedded[key] = bool(c.FPDFFont_GetIsEmbedded(ctypes.cast(key, c.FPDF_FONT)))
                if not embedded[key] and get_bounds(obj, *bound_refs) and br.value - bl.value <= 0.01:
                    lost += 1
                continue
            if kind == FORM and depth < 4:
                c.FPDFPageObj_GetMatrix(obj, fs_matrix)
                m = compose(outer, (fs_matrix.a, fs_matrix.b, fs_matrix.c, fs_matrix.d, fs_matrix.e, fs_matrix.f))
                walk(c.FPDFFormObj_GetObject, obj, c.FPDFFormObj_CountObjects(obj), m, depth + 1)
                continue
            if kind != PATH:
                continue
            draw_mode(obj, *modes)
            filled, stroked = fill_mode.value != 0, bool(stroke.value)
            if stroked:
                stroke_color(obj, *colour_refs)
                stroked = not _is_white((cr.value, cg.value, cb.value, ca.value))
            if filled:
                fill_color(obj, *colour_refs)
                filled = not _is_white((cr.value, cg.value, cb.value, ca.value))
            if not (filled or stroked):
                continue  # white cell backgrounds: never rules
            get_matrix(obj, matrix_ref)
            a, b, cc, d, e, f = compose(
                outer, (fs_matrix.a, fs_matrix.b, fs_matrix.c, fs_matrix.d, fs_matrix.e, fs_matrix.f)
            )
            subpaths: list[list[tuple[float, float]]] = []
            for s in range(count_segments(obj)):
                seg = get_segment(obj, s)
                get_point(seg, *point_refs)
                x, y = px.value, py.value
                point = xf(a * x + cc * y + e, b * x + d * y + f)
                if segment_type(seg) == MOVETO or not subpaths:
                    subpaths.append([point])
                else:
                    subpaths[-1].append(point)
                if segment_close(seg) and subpaths[-1][0] != point:
                    subpaths[-1].append(subpaths[-1][0])
            paths.append(PaintedPath(subpaths, stroked, filled))

    raw_page = page.raw
    walk(calls.page_get_object, raw_page, c.FPDFPage_CountObjects(raw_page), IDENTITY, 0)
    return paths, embedded, lost


def _page_chars(textpage: Any, xf: Any, metrics: _PdfMetrics | None) -> list[Char]:
    """The characters of a page's text layer with their boxes in display space."""
    import pypdfium2.raw as c

    calls = pdfium_calls()
    get_unicode, get_text_object = calls.text_get_unicode, calls.text_get_text_object
    get_origin, loose_box, glyph_box = (
        calls.text_get_char_origin,
        calls.text_get_loose_char_box,
        calls.text_get_char_box,
    )
    byref = ctypes.byref
    chars: list[Char] = []
    n = textpage.count_chars()
    text = textpage.get_text_range(0, n) if n > 0 else ""
    per_char = len(text) != n  # surrogate pairs shift indices: ask char by char
    rect = c.FS_RECTF()
    rect_ref = byref(rect)
    tl, tr, tb, tt = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    glyph_refs = (byref(tl), byref(tr), byref(tb), byref(tt))
    ox, oy = ctypes.c_double(), ctypes.c_double()
    origin_refs = (byref(ox), byref(oy))
    glyph_width, width = calls.font_get_glyph_width, ctypes.c_float()
    width_ref = byref(width)
    raw_tp = textpage.raw
    objects = metrics.objects if metrics is not None else {}
    for i in range(max(n, 0)):
        ch = chr(get_unicode(raw_tp, i) or 32) if per_char else text[i]
        if ch.isspace() or ch == "\x00":
            continue
        shared = None
        if metrics is not None:
            key = get_text_object(raw_tp, i)
            shared = objects.get(key, _UNSEEN)
            if shared is _UNSEEN:
                shared = metrics.add_object(key, i)
        if shared is not None:
            widths = shared[0]
            advance = widths.get(ch)
            if advance is None:
                advance = widths[ch] = width.value if glyph_width(shared[1], ord(ch), shared[2], width_ref) else 0.0
            if advance <= 0 or not get_origin(raw_tp, i, *origin_refs):
                shared = None
        if shared is not None:
            _, _, _, bottom, top, ma, mb, mc, md = shared
            x, y = ox.value, oy.value
            xs = (x + mc * bottom, x + ma * advance + mc * bottom, x + mc * top, x + ma * advance + mc * top)
            ys = (y + md * bottom, y + mb * advance + md * bottom, y + md * top, y + mb * advance + md * top)
            left, right, upper, lower = min(xs), max(xs), max(ys), min(ys)
        else:
            if not loose_box(raw_tp, i, rect_ref):
                continue
            left, right, upper, lower = rect.left, rect.right, rect.top, rect.bottom
            # PDFium's loose box ignores the text matrix for some vertical-writing glyphs
            # (a 199-pt box for a 10-pt character); the tight glyph box is right there.
            if glyph_box(raw_tp, i, *glyph_refs):
                tw, th = tr.value - tl.value, tt.value - tb.value
                cx, cy = (tl.value + tr.value) / 2, (tb.value + tt.value) / 2
                oversized = right - left > 3 * tw + 8 and upper - lower > 3 * th + 8
                if oversized or not (left <= cx <= right and lower <= cy <= upper):
                    half = max(tw, th) / 2
                    left, right, upper, lower = cx - half, cx + half, cy + half, cy - half
        ax, ay = xf(left, upper)
        bx, by = xf(right, lower)
        x0, x1 = (ax, bx) if ax <= bx else (bx, ax)
        top_, bottom_ = (ay, by) if ay <= by else (by, ay)
        chars.append({"text": ch, "x0": x0, "x1": x1, "top": top_, "bottom": bottom_, "size": bottom_ - top_})
    return chars
