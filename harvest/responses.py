"""Reading one HTTP response off the wire within the fetcher's limits.

Split from ``harvest.fetch``: the fetcher decides what to send and when; this module decides
how much of an answer is read and what is kept of its headers.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from xxgk.harvest.fetch_types import (
    ERR_HTTP,
    ERR_TOO_LARGE,
    REDIRECTS,
    RETRY_STATUSES,
    Attempt,
    FetchConfig,
    FetchError,
    Transient,
    parse_retry_after,
)


@dataclass(slots=True)
class Response:
    """One hop's answer: status, lower-cased headers and the body (None when not read)."""

    url: str
    status: int
    headers: dict[str, str]
    content: bytes | None


def read_response(resp: httpx.Response, url: str, record: Attempt, config: FetchConfig) -> Response:
    """The answer of an open streamed response; ``Transient`` for a retryable status, ``FetchError`` past a cap."""
    cap = config.max_bytes
    status = resp.status_code
    hdrs = {k.lower(): v for k, v in resp.headers.items()}
    record.status = status
    record.headers = keep_headers(hdrs)
    if status in RETRY_STATUSES:
        ra = parse_retry_after(hdrs.get("retry-after"))
        record.retry_after = ra
        record.error = f"HTTP {status}"
        drain(resp)
        raise Transient(ERR_HTTP, f"HTTP {status}", status=status, retry_after=ra)
    if status in REDIRECTS:
        record.location = hdrs.get("location")
        drain(resp)
        return Response(url, status, hdrs, None)
    if not 200 <= status < 300:
        drain(resp)
        return Response(url, status, hdrs, None)
    declared = hdrs.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        record.error = f"Content-Length {declared} > cap {cap}"
        raise FetchError(ERR_TOO_LARGE, url, record.error, status=status)
    buf = bytearray()
    for chunk in resp.iter_bytes():
        buf += chunk
        if len(buf) > cap:
            record.error = f"body exceeds cap {cap} bytes"
            raise FetchError(ERR_TOO_LARGE, url, record.error, status=status)
    content = bytes(buf)
    if record.purpose == "robots":
        record.content = content
    return Response(url, status, hdrs, content)


#: A body not wanted (a 304, a redirect, an error page) up to this size is read off the connection
#: so that the connection can be reused; a longer one is dropped with its connection.
DRAIN_LIMIT = 64 * 1024


def drain(resp: httpx.Response) -> None:
    """Read an unwanted body (at most ``DRAIN_LIMIT`` bytes) so httpx can put the connection back in its pool.

    httpx closes the connection of a response closed unread, even a 304 that has no body: every
    conditional request of a nightly run would then open a new connection.
    """
    seen = 0
    for chunk in resp.iter_raw():
        seen += len(chunk)
        if seen > DRAIN_LIMIT:
            return


_KEEP = ("etag", "last-modified", "content-type", "content-length", "location", "retry-after", "content-encoding")


def keep_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers worth logging and keeping (validators, type, length, redirect target, retry wait)."""
    return {k: headers[k] for k in _KEEP if k in headers}
