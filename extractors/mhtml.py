"""MHTML (Word's "single file web page", often published with a .doc name) → the HTML reader.

The archive is a MIME ``multipart/related`` message: the page is its first ``text/html`` part,
quoted-printable or base64 encoded, with its charset in the part's Content-Type. The stdlib
``email`` parser decodes it; the page is then read exactly like any HTML report page.
"""

from __future__ import annotations

import email
import email.policy
from email.message import Message

from xxgk.extractors.base import ExtractionError, RawDocument
from xxgk.schemas.records import STATUS_FAILED

FORMAT = "mhtml"


def html_part(data: bytes) -> tuple[bytes, str | None]:
    """The bytes of the archive's page and the charset its part declares."""
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    parts: list[Message] = list(message.walk()) if message.is_multipart() else [message]
    for part in parts:
        if part.get_content_type() == "text/html":
            body = part.get_payload(decode=True)
            if isinstance(body, bytes) and body.strip():
                return body, part.get_content_charset()
    raise ExtractionError(STATUS_FAILED, "MHTML archive holds no text/html part")


def extract_mhtml(data: bytes) -> RawDocument:
    """Grids and text of the page inside an MHTML archive, read by the HTML reader."""
    from xxgk.extractors.html import extract_html

    body, charset = html_part(data)
    raw = extract_html(body, http_charset=charset)
    raw.format = FORMAT
    return raw


__all__ = ["FORMAT", "extract_mhtml", "html_part"]
