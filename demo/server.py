"""Serving the portal over HTTP on loopback: one threaded server per host, faults applied per request.

``serve_portal(spec)`` yields ``(portal, base_url)`` while a real HTTP/1.1 server answers on
127.0.0.1 (ETag / Last-Modified, 304 answers, the spec's faults), a second one on another loopback
address stands for "another host" in redirect tests, and sites with a host of their own share one
accept loop (``_MultiHostServer``: a thousand hosts, one selector).
"""

from __future__ import annotations

import contextlib
import hashlib
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from xxgk.demo.portal import Portal
from xxgk.demo.sites import demo_spec
from xxgk.demo.spec import OTHER_HOST, PortalSpec


class _Handler(BaseHTTPRequestHandler):
    server: _PortalHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        portal = self.server.portal
        with portal.lock:
            portal.in_flight += 1
            portal.max_in_flight = max(portal.max_in_flight, portal.in_flight)
        try:
            self._get(portal)
        finally:
            with portal.lock:
                portal.in_flight -= 1

    def _get(self, portal: Portal) -> None:
        path = self.path.split("?", 1)[0]
        record = {
            "host": self.server.label,
            "path": path,
            "time": time.time(),
            "user_agent": self.headers.get("User-Agent"),
            "if_none_match": self.headers.get("If-None-Match"),
            "if_modified_since": self.headers.get("If-Modified-Since"),
        }
        with portal.lock:
            portal.counts["requests"] += 1
            if portal.record_requests:
                portal.requests.append(record)
        fault = portal.next_fault(path) if self.server.label == "main" else None
        record["fault"] = fault.action if fault else None
        if fault is not None:
            if fault.action == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if fault.action == "slow":
                time.sleep(fault.seconds)
            elif fault.action in ("500", "503", "404", "429"):
                extra = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                self._send(int(fault.action), "text/html; charset=utf-8", b"<h1>error</h1>", extra)
                return
            elif fault.action == "redirect":
                target = fault.target or "/"
                if target.startswith("other:"):
                    target = portal.other_base_url + target[len("other:") :]
                self._send(302, "text/html", b"", {"Location": target})
                return
        if self.server.label != "main":
            self._send(200, "text/html; charset=utf-8", b"<html><body>other host</body></html>", {})
            return
        routed = portal.route(path)
        if routed is None:
            self._send(404, "text/html; charset=utf-8", b"<h1>404</h1>", {})
            return
        ctype, body, revision = routed
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers = {"ETag": etag, "Last-Modified": portal.last_modified(revision)}
        if self.headers.get("If-None-Match") == etag:
            with portal.lock:
                portal.counts["not_modified"] += 1
            self._send(304, None, b"", headers)
            return
        self._send(200, ctype, body, headers)

    def _send(self, status: int, ctype: str | None, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                self.send_header(k, v)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _PortalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], portal: Portal, label: str) -> None:
        super().__init__(addr, _Handler)
        self.portal = portal
        self.label = label

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client that timed out
        return


class _MultiHostServer:
    """Many listening sockets (one per site host) served by one accept loop, a thread per connection.

    A ``ThreadingHTTPServer`` per host would cost a polling thread each; a thousand sites on a
    thousand hosts share this one selector instead. Connections are handled by ``_Handler`` as
    on the main server (label "main": faults apply).
    """

    label = "main"
    #: An idle keep-alive connection is closed after this many seconds (bounds idle threads).
    idle_timeout = 30.0

    def __init__(self, portal: Portal, addresses: list[tuple[str, int]]) -> None:
        self.portal = portal
        self.selector = selectors.DefaultSelector()
        self.sockets: list[socket.socket] = []
        self.bound: dict[tuple[str, int], tuple[str, int]] = {}
        self._stop = threading.Event()
        try:
            for address in addresses:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self.sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                sock.listen(64)
                sock.setblocking(False)
                self.selector.register(sock, selectors.EVENT_READ)
                self.bound[address] = sock.getsockname()[:2]
        except OSError:
            self.close()
            raise

    def serve_forever(self) -> None:
        while not self._stop.is_set():
            for key, _events in self.selector.select(timeout=0.1):
                try:
                    conn, client = key.fileobj.accept()  # type: ignore[union-attr]
                except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                    continue
                except OSError:  # closed while shutting down
                    return
                conn.setblocking(True)
                conn.settimeout(self.idle_timeout)
                threading.Thread(target=self._handle, args=(conn, client), daemon=True).start()

    def _handle(self, conn: socket.socket, client: Any) -> None:
        try:
            _Handler(conn, client, self)  # type: ignore[arg-type]
        except OSError:  # the client went away or idled out
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_WR)
            conn.close()

    def shutdown(self) -> None:
        self._stop.set()

    def close(self) -> None:
        with contextlib.suppress(KeyError, ValueError):
            for sock in self.sockets:
                with contextlib.suppress(KeyError, ValueError):
                    self.selector.unregister(sock)
        for sock in self.sockets:
            sock.close()
        self.selector.close()


#: Above this many reports a portal renders lazily instead of up front (``serve_portal(prerender=None)``).
PRERENDER_LIMIT = 60


@contextlib.contextmanager
def serve_portal(
    spec: PortalSpec | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    other_host: str = OTHER_HOST,
    prerender: bool | None = None,
    cache_dir: Path | str | None = None,
    record_requests: bool = True,
) -> Iterator[tuple[Portal, str]]:
    """Serve ``spec`` (default ``demo_spec()``) on loopback; yields (portal, base_url).

    A second server on ``other_host`` (another loopback address) stands for "another host" in
    redirect tests; ``portal.requests`` records every request with the host label (main/other).
    Sites with an ``address`` are served on that host of their own (``portal.site_url(slug)``).
    ``prerender`` (default: when the spec has at most ``PRERENDER_LIMIT`` reports) renders every
    page before the first request; ``cache_dir`` keeps rendered pages on disk (see ``Portal``).
    """
    spec = spec or demo_spec()
    addresses = sorted({s.address for s in spec.sites if s.address is not None})
    hosts = [host, other_host, *(a for a, _p in addresses)]
    if not all(h.startswith("127.") or h == "localhost" for h in hosts):
        raise ValueError("the portal only binds loopback addresses")
    portal = Portal(spec, cache_dir=cache_dir, record_requests=record_requests)
    if prerender if prerender is not None else sum(len(s.reports) for s in spec.sites) <= PRERENDER_LIMIT:
        portal.prerender()
    main = _PortalHTTPServer((host, port), portal, "main")
    servers: list[Any] = [main]
    try:
        other = _PortalHTTPServer((other_host, 0), portal, "other")
    except OSError:  # only 127.0.0.1 configured (macOS): redirects there are refused unsent anyway
        portal.other_base_url = f"http://{other_host}:9"
    else:
        servers.append(other)
        portal.other_base_url = f"http://{other_host}:{other.server_address[1]}"
    portal.base_url = f"http://{host}:{main.server_address[1]}"
    multi: _MultiHostServer | None = None
    try:
        if addresses:
            multi = _MultiHostServer(portal, addresses)
            for site in spec.sites:
                if site.address is not None:
                    bound_host, bound_port = multi.bound[site.address]
                    portal.site_urls[site.slug] = f"http://{bound_host}:{bound_port}"
    except OSError:
        for s in servers:
            s.server_close()
        raise
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True) for s in servers]
    if multi is not None:
        threads.append(threading.Thread(target=multi.serve_forever, daemon=True))
    for t in threads:
        t.start()
    try:
        yield portal, portal.base_url
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
        if multi is not None:
            multi.shutdown()
            threads[-1].join(timeout=5)
            multi.close()


def portal_sources(base_url: str) -> list[Any]:
    """The registry's demo-portal sources resolved to ``base_url`` (from ``data/sources.yaml``)."""
    from xxgk.harvest.registry import load_sources

    return [s for s in load_sources(portal_url=base_url) if s.portal]
