"""Polite, bounded HTTP fetching for harvesting: one ``Fetcher`` shared by every source of a run.

What it guarantees, so callers never re-implement it:

- timeouts on connect and read; retries with exponential backoff (tenacity) on connection errors,
  timeouts, 408, 429 and 5xx; ``Retry-After`` honoured (capped); no retry on other 4xx;
- per host: at most ``per_host_concurrency`` requests at a time (default 1) and ``delay_seconds``
  between requests (raised to the robots.txt ``Crawl-delay`` when larger); robots.txt obeyed
  (RFC 9309: 4xx = no rules, 5xx or unreachable = everything disallowed for this run);
- an identifying User-Agent; a size cap on bodies (``Content-Length`` and streamed bytes);
- redirects followed by hand, each hop checked against the source's allowed hosts (and robots);
- conditional GET (If-None-Match / If-Modified-Since) when validators are passed in.

Every HTTP request made, including retries, redirect hops and robots.txt, is returned as an
``Attempt`` so the caller can log it. Failures raise ``FetchError`` with a ``kind`` a report can
show; nothing is turned into an empty body.

Limits, records and errors live in ``harvest.fetch_types``, response reading in
``harvest.responses``, robots.txt rules in ``harvest.robots``; every public name is importable
from here as before.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from xxgk.harvest.archive import utc_now
from xxgk.harvest.fetch_types import (
    DEFAULT_USER_AGENT,
    ERR_BAD_URL,
    ERR_CONNECTION,
    ERR_DEADLINE,
    ERR_DECODE,
    ERR_HOST_NOT_ALLOWED,
    ERR_HTTP,
    ERR_LENGTH_MISMATCH,
    ERR_OFFSITE,
    ERR_ROBOTS,
    ERR_ROBOTS_UNAVAILABLE,
    ERR_TIMEOUT,
    ERR_TOO_LARGE,
    ERR_TOO_MANY_REDIRECTS,
    REDIRECTS,
    ROBOTS_AGENT,
    Attempt,
    FetchConfig,
    FetchError,
    FetchResult,
    Transient,
    charset_of,
    host_allowed,
    parse_retry_after,
    url_origin,
)
from xxgk.harvest.responses import Response, deadline_transport, read_response, request_deadline
from xxgk.harvest.robots import RobotsRules, parse_robots

__all__ = [
    "DEFAULT_USER_AGENT",
    "ERR_BAD_URL",
    "ERR_CONNECTION",
    "ERR_DEADLINE",
    "ERR_DECODE",
    "ERR_HOST_NOT_ALLOWED",
    "ERR_HTTP",
    "ERR_LENGTH_MISMATCH",
    "ERR_OFFSITE",
    "ERR_ROBOTS",
    "ERR_ROBOTS_UNAVAILABLE",
    "ERR_TIMEOUT",
    "ERR_TOO_LARGE",
    "ERR_TOO_MANY_REDIRECTS",
    "ROBOTS_AGENT",
    "Attempt",
    "FetchConfig",
    "FetchError",
    "FetchResult",
    "Fetcher",
    "charset_of",
    "host_allowed",
    "parse_retry_after",
]


@dataclass(slots=True)
class _HostClient:
    """One host's HTTP client and how many requests are using it now."""

    client: httpx.Client
    active: int = 0


class _HostGate:
    """At most N requests in flight to one host, and a minimum gap between their starts' ends."""

    def __init__(self, concurrency: int) -> None:
        self.slots = threading.BoundedSemaphore(max(1, concurrency))
        self.lock = threading.Lock()
        self.next_at = 0.0


class Fetcher:
    """Thread-safe polite HTTP client; share one per run so per-host limits hold across sources.

    ``sleep`` and ``clock`` are injectable so tests can observe waits without timing them.
    """

    def __init__(
        self,
        config: FetchConfig | None = None,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        robots_memory: Any = None,
    ) -> None:
        self.config = config or FetchConfig()
        #: robots.txt answers kept between runs (``harvest.revisit.RobotsMemory``), or None
        self.robots_memory = robots_memory
        #: A client given by the caller serves every host; else each host gets its own (see ``_client``).
        self.client = client
        self._clients: OrderedDict[str, _HostClient] = OrderedDict()
        self._ssl: ssl.SSLContext | None = None
        self._sleep = sleep
        self._clock = clock
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, RobotsRules] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections this fetcher opened (a client passed in is the caller's to close)."""
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for entry in clients:
            entry.client.close()

    # -- connections, one small pool per host ----------------------------------------------
    @contextlib.contextmanager
    def _client(self, url: str) -> Iterator[httpx.Client]:
        """The HTTP client for ``url``'s host, held for one request.

        One httpx client (and connection pool) per host: httpx's pool looks at every pooled
        connection on every request (a poll() per idle one), so a single pool over a thousand hosts
        spends more time there than in the requests. Clients of hosts not used lately are closed
        beyond ``max_open_hosts``; a client in use is never closed under its request.
        """
        if self.client is not None:
            yield self.client
            return
        origin = url_origin(url)
        with self._lock:
            entry = self._clients.get(origin)
        spare = self._new_client() if entry is None else None  # made outside the lock every host's requests take
        with self._lock:
            entry = self._clients.get(origin)
            if entry is None and spare is not None:
                entry, spare = self._clients.setdefault(origin, _HostClient(spare)), None
            elif entry is None:  # evicted between the two looks
                entry = self._clients[origin] = _HostClient(self._new_client())
            self._clients.move_to_end(origin)
            entry.active += 1
            stale = self._evictable()
        if spare is not None:  # another thread made this host's client first
            spare.close()
        for old in stale:
            old.client.close()
        try:
            yield entry.client
        finally:
            with self._lock:
                entry.active -= 1

    def _evictable(self) -> list[_HostClient]:
        """Least recently used idle clients beyond ``max_open_hosts``, removed (call under the lock)."""
        out: list[_HostClient] = []
        excess = len(self._clients) - max(1, self.config.max_open_hosts)
        if excess <= 0:
            return out
        for origin in list(self._clients):
            if excess <= 0:
                break
            if self._clients[origin].active == 0:
                out.append(self._clients.pop(origin))
                excess -= 1
        return out

    def _new_client(self) -> httpx.Client:
        cfg = self.config
        size = max(1, cfg.per_host_concurrency)
        if self._ssl is None:  # one CA bundle load for every host (~15 ms per client otherwise, even for http)
            self._ssl = httpx.create_ssl_context()
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0)
        return httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout),
            headers={"User-Agent": cfg.user_agent, "Accept-Encoding": "gzip, deflate"},
            transport=deadline_transport(verify=self._ssl, limits=limits, trust_env=False),
            trust_env=False,
        )

    # -- public --------------------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        allowed_hosts: tuple[str, ...] | list[str] = (),
        etag: str | None = None,
        last_modified: str | None = None,
        delay_seconds: float | None = None,
    ) -> FetchResult:
        """GET ``url`` within ``allowed_hosts`` (default: its own host); raises ``FetchError``.

        With ``etag``/``last_modified`` the request is conditional and a 304 comes back as a
        result with ``not_modified`` True and no content.
        """
        allowed = tuple(allowed_hosts) or (urlsplit(url).netloc.lower(),)
        attempts: list[Attempt] = []
        if not host_allowed(url, allowed):
            raise FetchError(ERR_HOST_NOT_ALLOWED, url, f"host not in allowed hosts {list(allowed)}")
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(self.config.max_redirects + 1):
            delay = self._check_robots(current, allowed, attempts, delay_seconds)
            resp = self._request(current, headers, delay, attempts)
            if resp.status in REDIRECTS:
                location = resp.headers.get("location")
                if not location:
                    raise FetchError(
                        ERR_HTTP, current, "redirect without Location", status=resp.status, attempts=attempts
                    )
                target = urljoin(current, location.strip())
                if not host_allowed(target, allowed):
                    raise FetchError(
                        ERR_OFFSITE,
                        url,
                        f"redirect to {target} refused: host not in allowed hosts {list(allowed)}",
                        status=resp.status,
                        attempts=attempts,
                        target=target,
                    )
                current = target
                continue
            if resp.status == 304 or 200 <= resp.status < 300:
                return FetchResult(url, current, resp.status, resp.content, resp.headers, attempts)
            raise FetchError(ERR_HTTP, current, f"HTTP {resp.status}", status=resp.status, attempts=attempts)
        raise FetchError(
            ERR_TOO_MANY_REDIRECTS, url, f"more than {self.config.max_redirects} redirects", attempts=attempts
        )

    # -- robots --------------------------------------------------------------------------
    def _check_robots(
        self, url: str, allowed: tuple[str, ...], attempts: list[Attempt], delay_seconds: float | None
    ) -> float:
        """Raise if robots.txt forbids ``url``; return the politeness delay for its host."""
        delay = self.config.delay_seconds if delay_seconds is None else delay_seconds
        if not self.config.obey_robots:
            return delay
        robots = self._robots_for(url, allowed, attempts, delay)
        if robots.disallow_all:
            raise FetchError(ERR_ROBOTS_UNAVAILABLE, url, robots.reason, attempts=attempts)
        if robots.parser is not None:
            if not robots.parser.can_fetch(self.config.user_agent, url):
                raise FetchError(ERR_ROBOTS, url, "disallowed by robots.txt", attempts=attempts)
            crawl_delay = robots.parser.crawl_delay(self.config.user_agent)
            if crawl_delay:
                delay = max(delay, min(float(crawl_delay), self.config.max_crawl_delay))
        return delay

    def _robots_for(self, url: str, allowed: tuple[str, ...], attempts: list[Attempt], delay: float) -> RobotsRules:
        origin = url_origin(url)
        with self._lock:
            if origin in self._robots:
                return self._robots[origin]
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:
            with self._lock:
                if origin in self._robots:
                    return self._robots[origin]
            robots = self._remembered_robots(origin)
            if robots is None:
                robots = self._fetch_robots(origin, allowed, attempts, delay)
                self._remember_robots(origin, robots, attempts)
            with self._lock:
                self._robots[origin] = robots
            return robots

    def _remembered_robots(self, origin: str) -> RobotsRules | None:
        """robots.txt of ``origin`` as remembered from an earlier run (still fresh), or None."""
        known = self.robots_memory.get(origin) if self.robots_memory is not None else None
        if known is None:
            return None
        status, text = known
        if 400 <= status < 500:
            return RobotsRules(None, reason=f"robots.txt HTTP {status}: no rules")
        return parse_robots(origin + "/robots.txt", text.encode("utf-8"))

    def _remember_robots(self, origin: str, robots: RobotsRules, attempts: list[Attempt]) -> None:
        """Keep an answer that gives rules (2xx) or none (4xx) for the next runs; never an unreachable one."""
        if self.robots_memory is None or robots.disallow_all:
            return
        asked = [a for a in attempts if a.purpose == "robots"]
        last = asked[-1] if asked else None
        if last is None or last.status is None or not (200 <= last.status < 300 or 400 <= last.status < 500):
            return
        text = (last.content or b"").decode("utf-8", errors="replace") if 200 <= last.status < 300 else ""
        with contextlib.suppress(OSError):
            self.robots_memory.put(origin, last.status, text)

    def _fetch_robots(
        self, origin: str, allowed: tuple[str, ...], attempts: list[Attempt], delay: float
    ) -> RobotsRules:
        """robots.txt of ``origin``, fetched with the same politeness delay as the request it guards.

        (The source's ``delay_seconds`` when it has one: a configured default longer than the
        source's own delay would otherwise hold every source's first real request.)
        """
        robots_url = origin + "/robots.txt"
        current = robots_url
        try:
            for _hop in range(self.config.max_redirects + 1):
                resp = self._request(current, {}, delay, attempts, purpose="robots")
                if resp.status in REDIRECTS and resp.headers.get("location"):
                    target = urljoin(current, resp.headers["location"])
                    if not host_allowed(target, allowed):
                        return RobotsRules(None, reason=f"robots.txt redirected off-site to {target}: no rules")
                    current = target
                    continue
                break
            else:
                return RobotsRules(None, disallow_all=True, reason="robots.txt: too many redirects")
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return RobotsRules(None, reason=f"robots.txt HTTP {exc.status}: no rules")
            return RobotsRules(None, disallow_all=True, reason=f"robots.txt unreachable ({exc.kind}: {exc.detail})")
        if 400 <= resp.status < 500:
            return RobotsRules(None, reason=f"robots.txt HTTP {resp.status}: no rules")
        if not 200 <= resp.status < 300:
            return RobotsRules(None, disallow_all=True, reason=f"robots.txt HTTP {resp.status}")
        return parse_robots(robots_url, resp.content or b"")

    # -- one hop with retries --------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return min(exc.retry_after, self.config.max_retry_after)
        cfg = self.config
        return wait_exponential_jitter(multiplier=cfg.backoff_initial, max=cfg.backoff_max, jitter=cfg.backoff_jitter)(
            state
        )

    def _request(
        self, url: str, headers: dict[str, str], delay: float, attempts: list[Attempt], purpose: str = ""
    ) -> Response:
        counter = {"n": 0}
        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.config.max_attempts)),
            wait=self._wait,
            retry=retry_if_exception_type(Transient),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, url, headers, delay, attempts, purpose, counter)
        except FetchError as exc:
            exc.attempts = exc.attempts or attempts
            raise
        except Transient as exc:
            raise FetchError(
                exc.kind,
                url,
                f"{exc.detail}; gave up after {counter['n']} attempts",
                status=exc.status,
                attempts=attempts,
            ) from None

    def _gate(self, url: str) -> _HostGate:
        key = urlsplit(url).netloc.lower()
        with self._lock:
            gate = self._gates.get(key)
            if gate is None:
                gate = self._gates[key] = _HostGate(self.config.per_host_concurrency)
            return gate

    def _once(
        self,
        url: str,
        headers: dict[str, str],
        delay: float,
        attempts: list[Attempt],
        purpose: str,
        counter: dict[str, int],
    ) -> Response:
        counter["n"] += 1
        record = Attempt(url=url, time=utc_now(), conditional=bool(headers), attempt=counter["n"], purpose=purpose)
        attempts.append(record)
        gate = self._gate(url)
        with gate.slots:
            with gate.lock:
                wait = gate.next_at - self._clock()
            if wait > 0:
                self._sleep(wait)
            start = self._clock()
            record.time = utc_now()
            try:
                return self._send(url, headers, record)
            finally:
                record.elapsed_ms = round((self._clock() - start) * 1000, 1)
                with gate.lock:
                    gate.next_at = self._clock() + delay

    def _send(self, url: str, headers: dict[str, str], record: Attempt) -> Response:
        limit = self.config.max_fetch_seconds
        with request_deadline(limit) as deadline:
            try:
                with self._client(url) as client, client.stream("GET", url, headers=headers) as resp:
                    return read_response(resp, url, record, self.config)
            except httpx.TimeoutException as exc:
                if deadline.passed():  # a drip: retrying would only drip again
                    record.error = f"no complete answer within {limit:g} s (max_fetch_seconds)"
                    raise FetchError(ERR_DEADLINE, url, record.error) from exc
                record.error = f"timeout ({type(exc).__name__})"
                raise Transient(ERR_TIMEOUT, record.error) from exc
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                record.error = f"bad url: {exc}"
                raise FetchError(ERR_BAD_URL, url, record.error) from exc
            except httpx.DecodingError as exc:
                record.error = f"content decoding failed: {exc}"
                raise FetchError(ERR_DECODE, url, record.error) from exc
            except httpx.TransportError as exc:
                record.error = f"connection error ({type(exc).__name__}: {exc})"
                raise Transient(ERR_CONNECTION, record.error) from exc
