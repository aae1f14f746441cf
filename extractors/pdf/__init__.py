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

The package, one module per stage (each imports only the stages before it):
``settings`` (PdfSettings), ``printed`` (cell text cleaning, the printed words that locate tables),
``container`` (guards on the bytes), ``pages`` (the cheap scan, the choice of table pages),
``content`` / ``pdfium_page`` / ``plumber_page`` (characters and paths of a page from PDFium or
pdfminer), ``rules`` (ruling edges, frame closing, pdfplumber's cells), ``chars`` (characters into
lines, words, cell texts), ``cells`` (cells → Grid), ``word_pieces`` / ``word_tables`` (the
word-position fallback), ``page`` (the tables of one page), ``reader`` (``extract_pdf``).

Unreadable documents raise ``ExtractionError`` with a status and a reason: encrypted, corrupt
or truncated files are ``failed``, image-only files ``needs_ocr``, PDFs without any report text
``not_a_report``; oversized files and decompression bombs stop at the limits of ``PdfSettings``.
"""

from __future__ import annotations

from xxgk.extractors.pdf.cells import grid_from_cells, is_data_table
from xxgk.extractors.pdf.chars import cell_text, text_lines, words_of
from xxgk.extractors.pdf.container import check_container, check_inflated_size
from xxgk.extractors.pdf.content import PageContent, PageLimitError, PaintedPath
from xxgk.extractors.pdf.page import page_grids
from xxgk.extractors.pdf.pages import (
    PageScan,
    choose_pages,
    page_pictures,
    scan_pages,
    starts_with_values,
    table_pages,
)
from xxgk.extractors.pdf.pdfium_page import PDFIUM_LOCK, open_document, pdfium_content
from xxgk.extractors.pdf.plumber_page import pdfplumber_content
from xxgk.extractors.pdf.printed import TABLE_MARKERS, clean_pdf_text, marker_hits
from xxgk.extractors.pdf.reader import FORMAT, extract_pdf
from xxgk.extractors.pdf.rules import BBox, Edge, close_frames, find_cell_groups, merge_rules, ruling_edges
from xxgk.extractors.pdf.settings import BACKENDS, DEFAULT_SETTINGS, PdfSettings
from xxgk.extractors.pdf.word_tables import grids_from_words

#: The earlier name of ``TABLE_MARKERS``.
MARKERS = TABLE_MARKERS

__all__ = [
    "BACKENDS",
    "DEFAULT_SETTINGS",
    "FORMAT",
    "MARKERS",
    "PDFIUM_LOCK",
    "TABLE_MARKERS",
    "BBox",
    "Edge",
    "PageContent",
    "PageLimitError",
    "PageScan",
    "PaintedPath",
    "PdfSettings",
    "cell_text",
    "check_container",
    "check_inflated_size",
    "choose_pages",
    "clean_pdf_text",
    "close_frames",
    "extract_pdf",
    "find_cell_groups",
    "grid_from_cells",
    "grids_from_words",
    "is_data_table",
    "marker_hits",
    "merge_rules",
    "open_document",
    "page_grids",
    "page_pictures",
    "pdfium_content",
    "pdfplumber_content",
    "ruling_edges",
    "scan_pages",
    "starts_with_values",
    "table_pages",
    "text_lines",
    "words_of",
]
