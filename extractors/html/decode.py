"""HTML bytes → text by the one charset policy (``extractors.decoding``), reading the page's ``<meta>``."""

from __future__ import annotations

from xxgk.extractors.base import ExtractionError
from xxgk.extractors.decoding import decode_bytes


def decode_html(
    data: bytes,
    *,
    http_charset: str | None = None,
    source_encoding: str | None = None,
    warnings: list[str] | None = None,
) -> tuple[str, str]:
    """Decode an HTML page by the charset policy of ``extractors.decoding``; returns (text, encoding).

    ``source_encoding`` is the per-source override, ``http_charset`` the declared charset; the
    page's own ``<meta>`` is read. What was ignored or replaced is appended to ``warnings``; an
    empty or mostly undecodable page raises ``ExtractionError("failed", ...)``.
    """
    if not data or not data.strip():
        raise ExtractionError("failed", "empty HTML document")
    decoded = decode_bytes(data, declared=http_charset, override=source_encoding, what="HTML")
    if warnings is not None:
        warnings.extend(decoded.notes)
    return decoded.text, decoded.encoding
