"""Unchecked copies of the PDFium C functions the page reader calls once per character, path
segment or page object.

pypdfium2's bindings check and convert every argument (``argtypes``) and wrap every returned
handle in a new ctypes object: about 0.3 µs a call, at some 10^4 calls a page most of the reader's
own time. A copy made here calls the same C function without that: its arguments must already be
what C expects (ctypes handles, ``ctypes.byref`` for out-parameters, Python ints only for C
``int`` parameters, never a float or an unsigned long), or the process crashes. Copies are made
once, on first use.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import cache
from typing import Any


def _unchecked(fn: Any, restype: Any) -> Any:
    """``fn`` (a pypdfium2 function) called without argument conversion, returning ``restype``."""
    copy = ctypes.CFUNCTYPE(restype)(ctypes.cast(fn, ctypes.c_void_p).value)
    copy.argtypes = None
    return copy


@dataclass(frozen=True, slots=True)
class PdfiumCalls:
    """The hot calls of the page reader (names as in PDFium, without the ``FPDF`` prefix)."""

    page_get_object: Any  # (FPDF_PAGE, int) -> FPDF_PAGEOBJECT
    obj_get_type: Any  # (FPDF_PAGEOBJECT) -> int
    obj_get_matrix: Any  # (FPDF_PAGEOBJECT, byref FS_MATRIX) -> bool
    obj_get_bounds: Any  # (FPDF_PAGEOBJECT, 4 x byref c_float) -> bool
    obj_get_stroke_color: Any  # (FPDF_PAGEOBJECT, 4 x byref c_uint) -> bool
    obj_get_fill_color: Any  # (FPDF_PAGEOBJECT, 4 x byref c_uint) -> bool
    text_obj_get_font: (
        Any  # (FPDF_PAGEOBJECT or its address as c_void_p) -> address of the FPDF_FONT (int, None for none)
    )
    path_get_draw_mode: Any  # (FPDF_PAGEOBJECT, byref c_int, byref c_int) -> bool
    path_count_segments: Any  # (FPDF_PAGEOBJECT) -> int
    path_get_segment: Any  # (FPDF_PAGEOBJECT, int) -> FPDF_PATHSEGMENT
    segment_get_point: Any  # (FPDF_PATHSEGMENT, byref c_float, byref c_float) -> bool
    segment_get_type: Any  # (FPDF_PATHSEGMENT) -> int
    segment_get_close: Any  # (FPDF_PATHSEGMENT) -> bool
    text_get_unicode: Any  # (FPDF_TEXTPAGE, int) -> unsigned int
    text_get_text_object: Any  # (FPDF_TEXTPAGE, int) -> address of the FPDF_PAGEOBJECT (int, None for none)
    text_get_char_origin: Any  # (FPDF_TEXTPAGE, int, byref c_double, byref c_double) -> bool
    text_get_loose_char_box: Any  # (FPDF_TEXTPAGE, int, byref FS_RECTF) -> bool
    text_get_char_box: Any  # (FPDF_TEXTPAGE, int, 4 x byref c_double) -> bool
    text_get_font_size: Any  # (FPDF_TEXTPAGE, int) -> float
    text_get_matrix: Any  # (FPDF_TEXTPAGE, int, byref FS_MATRIX) -> bool
    font_get_glyph_width: Any  # (FPDF_FONT, int code point, c_float size, byref c_float) -> bool


@cache
def pdfium_calls() -> PdfiumCalls:
    """The unchecked copies (made once per process)."""
    import pypdfium2.raw as c

    def same(fn: Any) -> Any:
        return _unchecked(fn, fn.restype)

    address = ctypes.c_void_p
    return PdfiumCalls(
        page_get_object=same(c.FPDFPage_GetObject),
        obj_get_type=same(c.FPDFPageObj_GetType),
        obj_get_matrix=same(c.FPDFPageObj_GetMatrix),
        obj_get_bounds=same(c.FPDFPageObj_GetBounds),
        obj_get_stroke_color=same(c.FPDFPageObj_GetStrokeColor),
        obj_get_fill_color=same(c.FPDFPageObj_GetFillColor),
        text_obj_get_font=_unchecked(c.FPDFTextObj_GetFont, address),
        path_get_draw_mode=same(c.FPDFPath_GetDrawMode),
        path_count_segments=same(c.FPDFPath_CountSegments),
        path_get_segment=same(c.FPDFPath_GetPathSegment),
        segment_get_point=same(c.FPDFPathSegment_GetPoint),
        segment_get_type=same(c.FPDFPathSegment_GetType),
        segment_get_close=same(c.FPDFPathSegment_GetClose),
        text_get_unicode=same(c.FPDFText_GetUnicode),
        text_get_text_object=_unchecked(c.FPDFText_GetTextObject, address),
        text_get_char_origin=same(c.FPDFText_GetCharOrigin),
        text_get_loose_char_box=same(c.FPDFText_GetLooseCharBox),
        text_get_char_box=same(c.FPDFText_GetCharBox),
        text_get_font_size=same(c.FPDFText_GetFontSize),
        text_get_matrix=same(c.FPDFText_GetMatrix),
        font_get_glyph_width=same(c.FPDFFont_GetGlyphWidth),
    )
