"""Reading one HTTP response off the wire within the fetcher's limits.

Split from ``harvest.fetch``: the fetcher decides what to send and when; this module decides
how much of an answer is read and what is kept of its headers. Three limits are held here:

- **size after decoding**: the raw bytes are read (``iter_raw``) and every ``Content-Encoding``
  layer is undone by a streaming decompressor that never returns more than a block at a time
  and counts what each layer produces, so a few KB of ``gzip, gzip`` cannot expand past
  ``max_bytes`` in memory (httpx decodes a chunk through every layer before a caller can count);
- **total time**: a per-thread deadline that every socket operation of the request sees
  (``DeadlineBackend``), so neither a dripped header nor a dripped body outlives
  ``max_fetch_seconds`` however patient each single read is;
- **declared length**: a body followed by bytes its ``Content-Length`` did not announce is
  refused (``length_mismatch``) and its connection dropped; the reader would otherwise see a
  silently truncated document, and the next request on the connection the surplus.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from xxgk.harvest.fetch_types import (
    ERR_DECODE,
    ERR_HTTP,
    ERR_LENGTH_MISMATCH,
    ERR_TOO_LARGE,
    REDIRECTS,
    RETRY_STATUSES,
    Attempt,
    FetchConfig,
    FetchError,
    Transient,
    parse_retry_after,
)

#: Most bytes one decompression step returns: what a hostile stream can make the decoder hold.
DECODE_BLOCK = 256 * 1024

_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


@dataclass(slots=True)
class Response:
    """One hop's answer: status, lower-cased headers and the body (None when not read)."""

    url: str
    status: int
    headers: dict[str, str]
    content: bytes | None


# -- total deadline ------------------------------------------------------------------------


class DeadlineExceeded(httpcore.ReadTimeout):
    """The request's total deadline passed (httpx reports it as a read timeout; the fetcher as ``deadline``)."""


_deadline = threading.local()


@dataclass(slots=True)
class Deadline:
    """When this thread's request must be done (``time.monotonic`` seconds)."""

    at: float

    def passed(self) -> bool:
        return time.monotonic() >= self.at


@contextlib.contextmanager
def request_deadline(seconds: float) -> Iterator[Deadline]:
    """Every socket operation of this thread inside the block ends by ``seconds`` from now."""
    previous = getattr(_deadline, "at", None)
    deadline = Deadline(time.monotonic() + seconds)
    _deadline.at = deadline.at
    try:
        yield deadline
    finally:
        _deadline.at = previous


def _bounded(timeout: float | None) -> float | None:
    """``timeout`` shortened to what is left of this thread's deadline; raises once it is spent."""
    at = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("total request deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read and write is bounded by the thread's request deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend with the thread's request deadline applied to every operation."""

    def __init__(self, backend: httpcore.NetworkBackend | None = None) -> None:
        self._backend = backend or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(host, port, _bounded(timeout), local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._backend.connect_unix_socket(path, _bounded(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def deadline_transport(**kwargs: Any) -> httpx.HTTPTransport:
    """An ``httpx.HTTPTransport`` whose connections obey ``request_deadline``.

    httpx takes no network backend, so the one of the pool it builds is wrapped in place;
    ``tests/test_hostile_server.py`` fails if an httpx/httpcore upgrade moves it.
    """
    transport = httpx.HTTPTransport(**kwargs)
    pool = transport._pool  # no public way to give httpx a network backend
    pool._network_backend = DeadlineBackend(pool._network_backend)
    return transport


# -- content decoding ----------------------------------------------------------------------


def content_codings(header: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` header in the order they were applied (identity dropped)."""
    if not header:
        return []
    return [c.strip().lower() for c in header.split(",") if c.strip() and c.strip().lower() != "identity"]


class _Layer:
    """Undo one content coding, a block at a time, counting what it produces against ``cap``."""

    def __init__(self, coding: str, cap: int, url: str) -> None:
        if coding not in _WBITS:
            raise FetchError(ERR_DECODE, url, f"unsupported Content-Encoding {coding!r} (asked for gzip, deflate)")
        self.coding = coding
        self.cap = cap
        self.url = url
        self.produced = 0
        self.started = False
        self._obj = zlib.decompressobj(_WBITS[coding])

    def decode(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            yield from self._feed(chunk)
        yield from self._count(self._obj.flush())
        if self.started and not self._obj.eof:
            raise FetchError(ERR_DECODE, self.url, f"{self.coding} body ends before its compressed stream does")

    def _feed(self, data: bytes) -> Iterator[bytes]:
        full = False
        while data:
            self.started = True
            try:
                out = self._obj.decompress(data, DECODE_BLOCK)
            except zlib.error as exc:
                if self.coding == "deflate" and not self.produced:
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
                    self.coding = "raw deflate"
                    continue
                raise FetchError(ERR_DECODE, self.url, f"{self.coding} content decoding failed: {exc}") from exc
            data = self._obj.unconsumed_tail
            full = len(out) == DECODE_BLOCK
            yield from self._count(out)
            if self._obj.eof:
                rest = self._obj.unused_data
                if not rest or self.coding not in ("gzip", "x-gzip"):
                    return  # trailing bytes after a deflate stream are ignored, as browsers do
                self._obj = zlib.decompressobj(_WBITS[self.coding])  # another gzip member follows
                data = rest + data
        while full:  # all input consumed, but zlib may still hold output when the last step filled a block
            out = self._obj.decompress(b"", DECODE_BLOCK)
            full = len(out) == DECODE_BLOCK
            yield from self._count(out)

    def _count(self, out: bytes) -> Iterator[bytes]:
        if not out:
            return
        self.produced += len(out)
        if self.produced > self.cap:
            raise FetchError(
                ERR_TOO_LARGE, self.url, f"{self.coding} layer decodes to more than {self.cap} bytes (cap)"
            )
        yield out


def decoded_body(raw: Iterable[bytes], codings: list[str], cap: int, url: str) -> Iterator[bytes]:
    """The body with every coding undone, innermost last; each layer's output bounded by ``cap``."""
    stream: Iterable[bytes] = raw
    for coding in reversed(codings):
        stream = _Layer(coding, cap, url).decode(stream)
    yield from stream


# -- declared length -------------------------------------------------------------------------


def bytes_past_body(resp: httpx.Response) -> int:
    """How many bytes the server sent after the body its headers delimited (0 when none seen).

    Looks in the HTTP/1.1 parser's buffer (bytes already read off the socket) and peeks the
    socket itself (plain HTTP only: under TLS the socket holds records, not bytes of HTTP).
    """
    seen = 0
    h11_state = _h11_state(resp)
    if h11_state is not None:
        data, _closed = h11_state.trailing_data
        seen += len(data)
    network = resp.extensions.get("network_stream")
    if resp.url.scheme == "http" and network is not None:
        sock = network.get_extra_info("socket")
        if isinstance(sock, socket.socket) and sock.fileno() >= 0:
            ready, _, _ = select.select([sock], [], [], 0)  # recv would wait out the socket timeout
            if ready:
                with contextlib.suppress(BlockingIOError, InterruptedError, OSError):
                    seen += len(sock.recv(1, socket.MSG_PEEK))
    return seen


def _h11_state(resp: httpx.Response) -> Any:
    """The HTTP/1.1 parser under a response (httpx → httpcore → h11), or None when the chain differs."""
    node: Any = resp.stream
    for _ in range(8):
        state = getattr(node, "_h11_state", None)
        if state is not None:
            return state
        node = next(
            (getattr(node, a) for a in ("_stream", "_httpcore_stream", "_connection") if hasattr(node, a)), None
        )
        if node is None:
            return None
    return None


def drop_connection(resp: httpx.Response) -> None:
    """Close the response's connection so the pool never reuses it (its next bytes are not a response)."""
    network = resp.extensions.get("network_stream")
    if network is not None:
        network.close()


# -- one response ------------------------------------------------------------------------------


def read_response(resp: httpx.Response, url: str, record: Attempt, config: FetchConfig) -> Response:
    """The answer of an open streamed response; ``Transient`` for a retryable status, ``FetchError`` past a limit.

    robots.txt (``record.purpose == "robots"``) is read up to ``robots_max_bytes`` and the rest
    ignored (noted on the record); any other body past ``max_bytes`` fails with ``too_large``.
    """
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
    robots = record.purpose == "robots"
    cap = config.robots_max_bytes if robots else config.max_bytes
    try:
        content = _read_body(resp, url, hdrs, cap, config, robots=robots, record=record)
    except FetchError as exc:
        record.error = exc.detail
        exc.status = status
        raise
    if robots:
        record.content = content
    return Response(url, status, hdrs, content)


def _read_body(
    resp: httpx.Response,
    url: str,
    hdrs: dict[str, str],
    cap: int,
    config: FetchConfig,
    *,
    robots: bool,
    record: Attempt,
) -> bytes:
    codings = content_codings(hdrs.get("content-encoding"))
    if len(codings) > config.max_content_codings:
        raise FetchError(
            ERR_DECODE, url, f"{len(codings)} stacked content codings ({', '.join(codings)}); at most "
            f"{config.max_content_codings} are decoded",
        )  # fmt: skip
    declared = hdrs.get("content-length", "")
    if not robots and declared.isdigit() and int(declared) > cap:
        raise FetchError(ERR_TOO_LARGE, url, f"Content-Length {declared} > cap {cap}")
    buf = bytearray()
    try:
        for piece in decoded_body(resp.iter_raw(), codings, cap, url):
            buf += piece
            if len(buf) > cap:
                raise FetchError(ERR_TOO_LARGE, url, f"body exceeds cap {cap} bytes")
    except FetchError as exc:
        if not (robots and exc.kind == ERR_TOO_LARGE):
            raise
        record.note = f"robots.txt longer than {cap} bytes: the rest ignored"
        return bytes(buf[:cap])
    if declared.isdigit():
        extra = bytes_past_body(resp)
        if extra:
            drop_connection(resp)
            raise FetchError(
                ERR_LENGTH_MISMATCH,
                url,
                f"the server sent more bytes than its Content-Length {declared} declared; body not trusted",
            )
    return bytes(buf)


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
