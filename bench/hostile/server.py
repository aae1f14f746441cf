"""A hostile HTTP server on loopback: every way a server can try to exhaust or fool the harvester.

Each path is one trick (``ROUTES``); ``/listing.html`` links one good report and every trick as
annual-report links, so one harvest meets them all. robots.txt behaviour is chosen per server
(``robots=``), since a client reads it once per host.

    with HostileServer(robots="huge") as server:
        server.url("/gzip2")            # 'Content-Encoding: gzip, gzip' of 1 GiB of zeros (~2 KB sent)

Written with raw socket writes where a well-behaved HTTP library would refuse to lie
(Content-Length shorter or longer than the body, headers dripped a byte at a time).
"""

from __future__ import annotations

import functools
import struct
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from xxgk.synth.generate import generate_report, report_title
from xxgk.synth.html import render_html

#: Decoded size of the compression bombs (the fetcher's cap is 64 MiB by default).
BOMB_BYTES = 1 << 30
#: Size of the huge robots.txt (the issue measured 60 MB read whole: 16 s, 734 MB).
HUGE_ROBOTS_BYTES = 60 * 1000 * 1000
GOOD_SEED = 14
GOOD_YEAR = 2022


@functools.lru_cache(maxsize=4)
def gzip_zeros(size: int) -> bytes:
    """A gzip member of ``size`` zero bytes, built from one repeated deflate block (fast for GiBs)."""
    block = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    repeat = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)  # identical for every later block
    final = comp.flush()
    blocks, rest = divmod(size, len(block))
    if rest or blocks < 1:
        raise ValueError("size must be a positive multiple of 1 MiB")
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + first + repeat * (blocks - 1) + final + struct.pack("<II", crc, size & 0xFFFFFFFF)


def gzip_bytes(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return comp.compress(data) + comp.flush()


@functools.lru_cache(maxsize=1)
def good_report() -> bytes:
    """The one good report the hostile portal serves (its facts must come through intact)."""
    return render_html(generate_report(GOOD_SEED, year=GOOD_YEAR))


def good_facts_count() -> int:
    return len(generate_report(GOOD_SEED, year=GOOD_YEAR).expected_facts())


#: path → what it does (also the titles of the listing's links).
ROUTES = {
    "/report/good.html": "the good report",
    "/gzip2": "Content-Encoding: gzip, gzip; 1 GiB of zeros inside ~2 KB",
    "/gzip3": "three stacked gzip layers",
    "/gzip1": "one gzip layer of 1 GiB of zeros",
    "/drip": "body dripped one byte a second (Content-Length 100000)",
    "/drip-headers": "status line and headers dripped one byte a second",
    "/redirect-loop": "302 to itself, forever",
    "/lying-length": "Content-Length shorter than the body (the good report, cut short)",
    "/short-body": "Content-Length longer than the body, then the connection closes",
    "/retry-after": "503 with Retry-After: 100000",
    "/%2e%2e/%2e%2e/etc/passwd": "a traversal path",
    "/huge-listing.html": "a listing page of many report links",
}


class _Handler(BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            self.server.counts[path] += 1
        try:
            self._route(path)
        except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
            self.close_connection = True

    def _route(self, path: str) -> None:
        s = self.server
        if path == "/robots.txt":
            self._robots()
        elif path == "/listing.html":
            self._send(200, "text/html; charset=utf-8", s.listing())
        elif path == "/huge-listing.html":
            self._send(200, "text/html; charset=utf-8", s.huge_listing())
        elif path == "/report/good.html":
            self._send(200, "text/html; charset=utf-8", good_report())
        elif path == "/gzip1":
            self._send(200, "text/html", gzip_zeros(s.bomb_bytes), {"Content-Encoding": "gzip"})
        elif path == "/gzip2":
            self._send(200, "text/html", gzip_bytes(gzip_zeros(s.bomb_bytes)), {"Content-Encoding": "gzip, gzip"})
        elif path == "/gzip3":
            body = gzip_bytes(gzip_bytes(gzip_zeros(s.bomb_bytes)))
            self._send(200, "text/html", body, {"Content-Encoding": "gzip, gzip, gzip"})
        elif path == "/drip":
            self._raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
            self._drip(b"<" * 100000)
        elif path == "/drip-headers":
            self._drip(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Pad: " + b"a" * 100000 + b"\r\n\r\n")
        elif path == "/redirect-loop":
            self._send(302, "text/html", b"", {"Location": "/redirect-loop"})
        elif path == "/lying-length":
            body = good_report()
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body) // 2}\r\n\r\n"
            )
            self._raw(head.encode() + body)
        elif path == "/short-body":
            self._raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html>")
            self.close_connection = True
        elif path.startswith("/many/"):
            self._send(200, "text/html; charset=utf-8", b"<html><body><p>notice</p></body></html>")
        elif path == "/retry-after":
            self._send(503, "text/html", b"busy", {"Retry-After": "100000"})
        else:
            self._send(404, "text/html", b"<h1>404</h1>")

    def _robots(self) -> None:
        kind = self.server.robots
        if kind == "huge":
            head = b"User-agent: *\nDisallow: /blocked\n"
            tail = b"\nUser-agent: xxgk-harvester\nDisallow: /\n"  # read whole, it forbids everything
            pad = HUGE_ROBOTS_BYTES - len(head) - len(tail)
            line = b"# " + b"x" * 97 + b"\n"
            self._raw(
                f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {HUGE_ROBOTS_BYTES}\r\n\r\n".encode()
                + head
            )
            chunk = line * 640
            sent = 0
            while sent + len(chunk) <= pad:
                self.wfile.write(chunk)
                sent += len(chunk)
            self.wfile.write(b"#" * (pad - sent - 1) + b"\n" + tail)
        elif kind == "crawl_delay":
            self._send(200, "text/plain", b"User-agent: *\nCrawl-delay: 100000\nDisallow: /blocked\n")
        else:
            self._send(404, "text/plain", b"no robots")

    def _drip(self, data: bytes) -> None:
        for i in range(len(data)):
            if self.server.stopping.is_set():
                return
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(self.server.drip_interval)

    def _raw(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _send(self, status: int, ctype: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HostileServer(ThreadingHTTPServer):
    """The hostile portal on ``127.0.0.1:<free port>``, serving in a daemon thread while open."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        *,
        robots: str = "none",
        listing_links: int = 100_000,
        bomb_bytes: int = BOMB_BYTES,
        drip_interval: float = 1.0,
        tricks: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.robots = robots
        self.listing_links = listing_links
        self.bomb_bytes = bomb_bytes
        self.drip_interval = drip_interval
        self.tricks = tuple(ROUTES) if tricks is None else tricks
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def listing(self) -> bytes:
        """One good report link and one annual-report link per trick (distinct years)."""
        items = []
        for i, path in enumerate(self.tricks):
            year = GOOD_YEAR if path == "/report/good.html" else 2008 + i
            title = report_title("示例区人民政府", year)
            items.append(f'<li><a href="{path}">{title}</a></li>')
        return ("<html><body><ul>" + "".join(items) + "</ul></body></html>").encode()

    def huge_listing(self) -> bytes:
        """``listing_links`` distinct annual-report links on one page."""
        items = [
            f'<li><a href="/many/{i}.html">{report_title("示例区人民政府", 2000 + i % 25)}</a></li>'
            for i in range(self.listing_links)
        ]
        return ("<html><body><ul>" + "".join(items) + "</ul></body></html>").encode()

    def handle_error(self, request: Any, client_address: Any) -> None:
        return

    def __enter__(self) -> HostileServer:
        self._thread = threading.Thread(target=self.serve_forever, name="hostile-server", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
