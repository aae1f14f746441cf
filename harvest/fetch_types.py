"""What the fetcher is configured with and what it answers: limits, request records, errors, URL rules.

Split from ``harvest.fetch`` (which re-exports every name here) so the fetcher itself stays short.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

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
ERR_DEADLINE = "deadline"
ERR_LENGTH_MISMATCH = "length_mismatch"

REDIRECTS = (301, 302, 303, 307, 308)
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
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
    #: Longest wait a server's ``Retry-After`` can impose before a retry (longer asks wait this long).
    max_retry_after: float = 120.0
    delay_seconds: float = 1.0
    #: Longest robots.txt ``Crawl-delay`` obeyed (a site asking 100000 s would never be read).
    max_crawl_delay: float = 30.0
    #: Total time one request may take, headers and body (a server dripping 1 byte a second
    #: passes every read timeout); past it the fetch fails with ``deadline`` and is not retried.
    max_fetch_seconds: float = 300.0
    per_host_concurrency: int = 1
    #: Largest body, after every content coding is undone (each layer of a stacked
    #: ``Content-Encoding`` is counted against it as it is decoded).
    max_bytes: int = 64 * 1024 * 1024
    #: How much of a robots.txt is read; the rest is ignored (RFC 9309 allows a 500 KiB limit).
    robots_max_bytes: int = 500 * 1024
    #: Most content codings one response may stack (``gzip, gzip`` is two); more are refused.
    max_content_codings: int = 2
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
            "max_fetch_seconds": 30.0,
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
            "max_fetch_seconds": 20.0,
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
    #: Something worth knowing about an answer that is still used (a robots.txt cut at its limit).
    note: str | None = None


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


class Transient(Exception):
    """A failure worth retrying; carries what the retry wait needs."""

    def __init__(self, kind: str, detail: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


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


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased: the key of per-host state."""
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc.lower()}"
