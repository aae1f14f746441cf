"""The entry point: bytes of an HTML page → RawDocument, each stage in turn."""

from __future__ import annotations

from xxgk.extractors.base import ExtractionError, RawDocument
from xxgk.extractors.html.content import Page, read_content
from xxgk.extractors.html.decode import decode_html
from xxgk.extractors.html.parse import parse_html
from xxgk.extractors.html.title import find_title

FORMAT = "html"


def extract_html(
    data: bytes,
    *,
    http_charset: str | None = None,
    source_encoding: str | None = None,
) -> RawDocument:
    """Grids of the report's tables, its plain text and title, from the bytes of an HTML page.

    Tables are numbered among the content's statistical tables (``html table N``); layout
    tables and CMS metadata boxes give no grid, tables nested in layout tables do.
    """
    warnings: list[str] = []
    text, _encoding = decode_html(data, http_charset=http_charset, source_encoding=source_encoding, warnings=warnings)
    page = Page(parse_html(text, warnings))
    content_text, grids = read_content(page, page.content_root(), warnings)
    if not content_text and not grids:
        raise ExtractionError("failed", "; ".join(["HTML document has no text and no tables", *warnings]))
    return RawDocument(
        format=FORMAT, grids=grids, text=content_text, title=find_title(page, content_text), warnings=warnings
    )
