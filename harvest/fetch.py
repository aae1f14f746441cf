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
"""

from __future__ import annotations

import contextlib
import re
import ssl
import threading
import time
import urllib.robotparser
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from xxgk.harvest.archive import utc_now

DEFAULT_USER_AGENT = "xxgk-harvester/0.1 (+open government information annual reports research; batch, polite)"
ROBOTS_AGENT = "xxgk-harvester"

# FetchError kinds.
ERR_HTTP = "http_status"
ERR_TIMEOUT = "timeout"
ERR_CONNECTION = "connection"
ERR_OFFSITE = "offsite_redirect"
ERR_HOST_NOT_ALLOWED = "host_not_allowed"
ERR_TOO_MANY_REDIRECTS = "too_many_redirects"
ERR_ROBOTS = "robots_disallowed"
ERR_ROBOTS_UNAVAILABLE = "robots_unavailable"
ERR_TOO_LARGE = "too_large"
ERR_BAD_URL = "bad_url"
ERR_DECODE = "decode"

_REDIRECTS = (301, 302, 303, 307, 308)
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)


@dataclass(frozen=True)
class FetchConfig:
    """Limits and manners of the fetcher; ``FetchConfig.for_tests()`` shrinks every wait."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_attempts: int = 4
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    backoff_jitter: float = 1.0
    max_retry_after: float = 120.0
    delay_seconds: float = 1.0
    per_host_concurrency: int = 1
    max_bytes: int = 64 * 1024 * 1024
    max_redirects: int = 5
    #: Hosts whose connections are kept open at once (one small connection pool per host, the
    #: least recently used closed beyond this). It only has to cover the sources harvested at once.
    max_open_hosts: int = 256
    obey_robots: bool = True

    @classmethod
    def for_demo(cls, **overrides: object) -> FetchConfig:
        """For the local demo portal: short waits, and a read timeout its slow fault exceeds.

        Every site of the demo portal is one host, so the politeness delay serialises the whole
        harvest: 20 ms keeps a first demo run at ~2-3 s for ~120 requests.
        """
        base: dict[str, object] = {
            "connect_timeout": 2.0,
            "read_timeout": 0.5,
            "backoff_initial": 0.1,
            "backoff_max": 1.0,
            "backoff_jitter": 0.2,
            "max_retry_after": 5.0,
            "delay_seconds": 0.02,
        }
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]

    @classmethod
    def for_tests(cls, **overrides: object) -> FetchConfig:
        """Short timeouts and no politeness delay, for tests against a local server."""
        base: dict[str, object] = {
            "connect_timeout": 2.0,
            "read_timeout": 2.0,
            "max_attempts": 3,
            "backoff_initial": 0.01,
            "backoff_max": 0.05,
            "backoff_jitter": 0.0,
            "max_retry_after": 2.0,
            "delay_seconds": 0.0,
        }
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]


@dataclass(slots=True)
class Attempt:
    """One HTTP request as sent and answered (or not); ``purpose`` is "robots" for robots.txt."""

    url: str
    time: str
    status: int | None = None
    error: str | None = None
    elapsed_ms: float = 0.0
    retry_after: float | None = None
    location: str | None = None
    conditional: bool = False
    attempt: int = 1
    purpose: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


@dataclass(slots=True)
class FetchResult:
    """The final answer for one URL: 2xx with its body, or 304 (``not_modified``, no body)."""

    url: str
    final_url: str
    status: int
    content: bytes | None
    headers: dict[str, str]
    attempts: list[Attempt]

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def charset(self) -> str | None:
        return charset_of(self.content_type)


class FetchError(Exception):
    """A URL that could not be fetched; ``kind`` says why (see ERR_*), ``attempts`` what was sent."""

    def __init__(
        self,
        kind: str,
        url: str,
        detail: str,
        *,
        status: int | None = None,
        attempts: list[Attempt] | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(f"{kind}: {url}: {detail}")
        self.kind = kind
        self.url = url
        self.detail = detail
        self.status = status
        self.attempts = attempts or []
        self.target = target


class _Transient(Exception):
    """A failure worth retrying; carries what the retry wait needs."""

    def __init__(self, kind: str, detail: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


@dataclass(slots=True)
class _Resp:
    url: str
    status: int
    headers: dict[str, str]
    content: bytes | None


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


@dataclass(slots=True)
class _Robots:
    parser: urllib.robotparser.RobotFileParser | None
    disallow_all: bool = False
    reason: str = ""


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, lower-cased, or None."""
    if not content_type:
        return None
    m = _CHARSET.search(content_type)
    return m.group(1).lower() if m else None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))  # delta-seconds (decimals tolerated)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def host_allowed(url: str, allowed_hosts: tuple[str, ...] | list[str]) -> bool:
    """Whether ``url``'s host is one of ``allowed_hosts``.

    An entry ``host`` matches that host on any port, ``host:port`` only that port, ``*.suffix``
    any subdomain of suffix (and suffix itself). Only http and https are ever allowed.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    for entry in allowed_hosts:
        e = entry.lower().strip()
        if e.startswith("*."):
            if host == e[2:] or host.endswith(e[1:]):
                return True
        elif ":" in e:
            eh, _, ep = e.rpartition(":")
            if host == eh and ep.isdigit() and port == int(ep):
                return True
        elif host == e:
            return True
    return False


def _origin(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc.lower()}"


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
        self._robots: dict[str, _Robots] = {}
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
        origin = _origin(url)
        with self._lock:
            entry = self._clients.get(origin)
            if entry is None:
                entry = self._clients[origin] = _HostClient(self._new_client())
            self._clients.move_to_end(origin)
            entry.active += 1
            stale = self._evictable()
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
        return httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout),
            headers={"User-Agent": cfg.user_agent, "Accept-Encoding": "gzip, deflate"},
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0),
            trust_env=False,
            verify=self._ssl,
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
            if resp.status in _REDIRECTS:
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
                delay = max(delay, float(crawl_delay))
        return delay

    def _robots_for(self, url: str, allowed: tuple[str, ...], attempts: list[Attempt], delay: float) -> _Robots:
        origin = _origin(url)
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

    def _remembered_robots(self, origin: str) -> _Robots | None:
        """robots.txt of ``origin`` as remembered from an earlier run (still fresh), or None."""
        known = self.robots_memory.get(origin) if self.robots_memory is not None else None
        if known is None:
            return None
        status, text = known
        if 400 <= status < 500:
            return _Robots(None, reason=f"robots.txt HTTP {status}: no rules")
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        parser.parse(text.splitlines())
        return _Robots(parser)

    def _remember_robots(self, origin: str, robots: _Robots, attempts: list[Attempt]) -> None:
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

    def _fetch_robots(self, origin: str, allowed: tuple[str, ...], attempts: list[Attempt], delay: float) -> _Robots:
        """robots.txt of ``origin``, fetched with the same politeness delay as the request it guards.

        (The source's ``delay_seconds`` when it has one: a configured default longer than the
        source's own delay would otherwise hold every source's first real request.)
        """
        robots_url = origin + "/robots.txt"
        current = robots_url
        try:
            for _hop in range(self.config.max_redirects + 1):
                resp = self._request(current, {}, delay, attempts, purpose="robots")
                if resp.status in _REDIRECTS and resp.headers.get("location"):
                    target = urljoin(current, resp.headers["location"])
                    if not host_allowed(target, allowed):
                        return _Robots(None, reason=f"robots.txt redirected off-site to {target}: no rules")
                    current = target
                    continue
                break
            else:
                return _Robots(None, disallow_all=True, reason="robots.txt: too many redirects")
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return _Robots(None, reason=f"robots.txt HTTP {exc.status}: no rules")
            return _Robots(None, disallow_all=True, reason=f"robots.txt unreachable ({exc.kind}: {exc.detail})")
        if 400 <= resp.status < 500:
            return _Robots(None, reason=f"robots.txt HTTP {resp.status}: no rules")
        if not 200 <= resp.status < 300:
            return _Robots(None, disallow_all=True, reason=f"robots.txt HTTP {resp.status}")
        parser = urllib.robotparser.RobotFileParser(robots_url)
        text = (resp.content or b"").decode("utf-8", errors="replace")
        parser.parse(text.splitlines())
        return _Robots(parser)

    # -- one hop with retries --------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(exc.retry_after, self.config.max_retry_after)
        cfg = self.config
        return wait_exponential_jitter(multiplier=cfg.backoff_initial, max=cfg.backoff_max, jitter=cfg.backoff_jitter)(
            state
        )

    def _request(
        self, url: str, headers: dict[str, str], delay: float, attempts: list[Attempt], purpose: str = ""
    ) -> _Resp:
        counter = {"n": 0}
        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.config.max_attempts)),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, url, headers, delay, attempts, purpose, counter)
        except FetchError as exc:
            exc.attempts = exc.attempts or attempts
            raise
        except _Transient as exc:
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
    ) -> _Resp:
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

    def _send(self, url: str, headers: dict[str, str], record: Attempt) -> _Resp:
        cap = self.config.max_bytes
        try:
            with self._client(url) as client, client.stream("GET", url, headers=headers) as resp:
                status = resp.status_code
                hdrs = {k.lower(): v for k, v in resp.headers.items()}
                record.status = status
                record.headers = _keep_headers(hdrs)
                if status in _RETRY_STATUSES:
                    ra = parse_retry_after(hdrs.get("retry-after"))
                    record.retry_after = ra
                    record.error = f"HTTP {status}"
                    _drain(resp)
                    raise _Transient(ERR_HTTP, f"HTTP {status}", status=status, retry_after=ra)
                if status in _REDIRECTS:
                    record.location = hdrs.get("location")
                    _drain(resp)
                    return _Resp(url, status, hdrs, None)
                if not 200 <= status < 300:
                    _drain(resp)
                    return _Resp(url, status, hdrs, None)
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
                return _Resp(url, status, hdrs, content)
        except httpx.TimeoutException as exc:
            record.error = f"timeout ({type(exc).__name__})"
            raise _Transient(ERR_TIMEOUT, record.error) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            record.error = f"bad url: {exc}"
            raise FetchError(ERR_BAD_URL, url, record.error) from exc
        except httpx.DecodingError as exc:
            record.error = f"content decoding failed: {exc}"
            raise FetchError(ERR_DECODE, url, record.error) from exc
        except httpx.TransportError as exc:
            record.error = f"connection error ({type(exc).__name__}: {exc})"
            raise _Transient(ERR_CONNECTION, record.error) from exc


#: A body not wanted (a 304, a redirect, an error page) up to this size is read off the connection
#: so that the connection can be reused; a longer one is dropped with its connection.
_DRAIN_LIMIT = 64 * 1024


def _drain(resp: httpx.Response) -> None:
    """Read an unwanted body (at most ``_DRAIN_LIMIT`` bytes) so httpx can put the connection back in its pool.

    httpx closes the connection of a response closed unread, even a 304 that has no body: every
    conditional request of a nightly run would then open a new connection.
    """
    seen = 0
    for chunk in resp.iter_raw():
        seen += len(chunk)
        if seen > _DRAIN_LIMIT:
            return


_KEEP = ("etag", "last-modified", "content-type", "content-length", "location", "retry-after", "content-encoding")


def _keep_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: headers[k] for k in _KEEP if k in headers}
