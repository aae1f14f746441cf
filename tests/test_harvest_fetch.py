"""Fetch behaviours against a real local server (xxgk.demo): retries, limits, manners."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from xxgk.demo import Fault, Portal, PortalSpec, serve_portal
from xxgk.harvest.fetch import (
    ERR_CONNECTION,
    ERR_HOST_NOT_ALLOWED,
    ERR_HTTP,
    ERR_OFFSITE,
    ERR_ROBOTS,
    ERR_ROBOTS_UNAVAILABLE,
    ERR_TIMEOUT,
    ERR_TOO_LARGE,
    FetchConfig,
    Fetcher,
    FetchError,
    host_allowed,
    parse_retry_after,
)

HTML = "text/html; charset=utf-8"


def _spec(**faults: list[Fault]) -> PortalSpec:
    static = {f"/{name}": (HTML, f"<html><body>{name}</body></html>".encode()) for name in ("a", "b", "c", "d")}
    static["/big"] = ("application/pdf", b"%PDF-" + b"x" * 10_000)
    static["/private/x"] = (HTML, b"secret")
    return PortalSpec(faults={f"/{k}": v for k, v in faults.items()}, robots_disallow=["/private/"], static=static)


class Sleeps:
    """Records requested sleeps instead of sleeping (retry and politeness waits are observed, not timed)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def served() -> Iterator[tuple[Portal, str]]:
    spec = _spec(
        a=[Fault("500", times=2)],
        b=[Fault("429", retry_after=1.5)],
        c=[Fault("reset")],
    )
    with serve_portal(spec) as pb:
        yield pb


def _fetcher(sleeps: Sleeps | None = None, **cfg: object) -> Fetcher:
    return Fetcher(FetchConfig.for_tests(**cfg), sleep=sleeps or Sleeps())


def _main_paths(portal: Portal) -> list[str]:
    return [r["path"] for r in portal.requests if r["host"] == "main" and r["path"] != "/robots.txt"]


def test_retry_on_500_then_success(served: tuple[Portal, str]) -> None:
    portal, base = served
    sleeps = Sleeps()
    with _fetcher(sleeps) as f:
        res = f.get(base + "/a")
    assert res.status == 200 and res.content == b"<html><body>a</body></html>"
    assert [a.status for a in res.attempts if a.purpose != "robots"] == [500, 500, 200]
    assert len(sleeps.calls) == 2  # two backoff waits, no politeness wait (delay 0)
    assert _main_paths(portal) == ["/a", "/a", "/a"]


def test_500_exhausts_retries_and_is_reported() -> None:
    spec = _spec(a=[Fault("500", times=None)])
    with serve_portal(spec) as (_, base), _fetcher() as f, pytest.raises(FetchError) as ei:
        f.get(base + "/a")
    assert ei.value.kind == ERR_HTTP and ei.value.status == 500
    assert "gave up after 3 attempts" in ei.value.detail
    assert len([a for a in ei.value.attempts if a.purpose != "robots"]) == 3


def test_429_retry_after_is_honoured(served: tuple[Portal, str]) -> None:
    _portal, base = served
    sleeps = Sleeps()
    with _fetcher(sleeps) as f:
        res = f.get(base + "/b")
    assert res.status == 200
    assert sleeps.calls == [1.5]
    first = next(a for a in res.attempts if a.purpose != "robots")
    assert first.status == 429 and first.retry_after == 1.5


def test_retry_after_is_capped() -> None:
    sleeps = Sleeps()
    with (
        serve_portal(_spec(b=[Fault("429", retry_after=3600)])) as (_, base),
        _fetcher(sleeps, max_retry_after=2.0) as f,
    ):
        assert f.get(base + "/b").status == 200
    assert sleeps.calls == [2.0]


def test_no_retry_on_404(served: tuple[Portal, str]) -> None:
    portal, base = served
    sleeps = Sleeps()
    with _fetcher(sleeps) as f, pytest.raises(FetchError) as ei:
        f.get(base + "/missing")
    assert ei.value.kind == ERR_HTTP and ei.value.status == 404
    assert sleeps.calls == []
    assert _main_paths(portal) == ["/missing"]


def test_connection_reset_is_retried(served: tuple[Portal, str]) -> None:
    _portal, base = served
    with _fetcher() as f:
        res = f.get(base + "/c")
    main = [a for a in res.attempts if a.purpose != "robots"]
    assert res.status == 200 and len(main) == 2
    assert main[0].error is not None and "connection error" in main[0].error


def test_connection_refused_is_reported_as_connection_error() -> None:
    with serve_portal(_spec()) as (_, base):
        dead = base  # the port is closed once the portal stops
    with _fetcher(max_attempts=2, obey_robots=False) as f, pytest.raises(FetchError) as ei:
        f.get(dead + "/a")
    assert ei.value.kind == ERR_CONNECTION


def test_slow_response_times_out_and_is_reported() -> None:
    spec = _spec(d=[Fault("slow", times=None, seconds=1.5)])
    fetcher = _fetcher(read_timeout=0.5, max_attempts=2)
    with serve_portal(spec) as (_, base), fetcher, pytest.raises(FetchError) as ei:
        fetcher.get(base + "/d")
    assert ei.value.kind == ERR_TIMEOUT
    assert [a.error for a in ei.value.attempts if a.purpose != "robots"] == ["timeout (ReadTimeout)"] * 2


def test_slow_once_then_success() -> None:
    spec = _spec(d=[Fault("slow", seconds=1.5)])
    with serve_portal(spec) as (_, base), _fetcher(read_timeout=0.5) as f:
        res = f.get(base + "/d")
    assert res.status == 200 and res.attempts[-1].attempt == 2


def test_redirect_to_other_host_is_refused() -> None:
    spec = _spec(a=[Fault("redirect", times=None, target="other:/a")])
    with serve_portal(spec) as (portal, base), _fetcher() as f, pytest.raises(FetchError) as ei:
        f.get(base + "/a")
    assert ei.value.kind == ERR_OFFSITE
    assert ei.value.target == portal.other_base_url + "/a"
    assert not [r for r in portal.requests if r["host"] != "main"]


def test_redirect_within_allowed_hosts_is_followed() -> None:
    spec = _spec(a=[Fault("redirect", times=None, target="/b")])
    with serve_portal(spec) as (_, base), _fetcher() as f:
        res = f.get(base + "/a")
    assert res.final_url == base + "/b" and res.content == b"<html><body>b</body></html>"
    assert [a.status for a in res.attempts if a.purpose != "robots"] == [302, 200]


def test_start_url_outside_allowed_hosts_is_refused(served: tuple[Portal, str]) -> None:
    portal, base = served
    with _fetcher() as f, pytest.raises(FetchError) as ei:
        f.get(portal.other_base_url + "/a", allowed_hosts=[base.split("//")[1]])
    assert ei.value.kind == ERR_HOST_NOT_ALLOWED
    assert portal.requests == []


def test_robots_disallow_is_obeyed(served: tuple[Portal, str]) -> None:
    portal, base = served
    with _fetcher() as f:
        with pytest.raises(FetchError) as ei:
            f.get(base + "/private/x")
        assert f.get(base + "/d").status == 200
    assert ei.value.kind == ERR_ROBOTS
    paths = [r["path"] for r in portal.requests]
    assert "/private/x" not in paths
    assert paths.count("/robots.txt") == 1  # cached per host


def test_robots_unreachable_disallows_everything() -> None:
    spec = _spec(**{"robots.txt": [Fault("500", times=None)]})
    with serve_portal(spec) as (portal, base), _fetcher() as f, pytest.raises(FetchError) as ei:
        f.get(base + "/d")
    assert ei.value.kind == ERR_ROBOTS_UNAVAILABLE
    assert "/d" not in [r["path"] for r in portal.requests]


def test_robots_404_means_no_rules() -> None:
    with serve_portal(_spec(**{"robots.txt": [Fault("404", times=None)]})) as (_, base), _fetcher() as f:
        assert f.get(base + "/private/x").status == 200


def test_size_cap(served: tuple[Portal, str]) -> None:
    _, base = served
    with _fetcher(max_bytes=1000) as f, pytest.raises(FetchError) as ei:
        f.get(base + "/big")
    assert ei.value.kind == ERR_TOO_LARGE
    with _fetcher(max_bytes=20_000) as f:
        assert len(f.get(base + "/big").content or b"") == 10_005


def test_conditional_get_gets_304(served: tuple[Portal, str]) -> None:
    portal, base = served
    with _fetcher() as f:
        first = f.get(base + "/d")
        again = f.get(base + "/d", etag=first.etag, last_modified=first.last_modified)
    assert first.etag and first.last_modified
    assert again.not_modified and again.content is None
    last = portal.requests[-1]
    assert last["if_none_match"] == first.etag and last["if_modified_since"] == first.last_modified


def test_identifying_user_agent(served: tuple[Portal, str]) -> None:
    portal, base = served
    with _fetcher() as f:
        f.get(base + "/d")
    assert all(r["user_agent"].startswith("xxgk-harvester/") for r in portal.requests)


def test_politeness_delay_between_requests_to_one_host() -> None:
    """The one test with a delay: a frozen clock makes every politeness wait exactly the gap owed."""
    sleeps = Sleeps()
    f = Fetcher(FetchConfig.for_tests(delay_seconds=0.5), sleep=sleeps, clock=lambda: 1000.0)
    with serve_portal(_spec()) as (_, base), f:
        f.get(base + "/d")  # robots.txt first, then /d waits the default 0.5 s
        f.get(base + "/a", delay_seconds=0.25)  # still owes the 0.5 s left by /d
        f.get(base + "/c", delay_seconds=0.25)  # a source's own delay applies after its requests
    assert sleeps.calls == [0.5, 0.5, 0.25]


def test_one_request_at_a_time_per_host() -> None:
    spec = _spec(d=[Fault("slow", times=None, seconds=0.05)])
    with serve_portal(spec) as (portal, base), _fetcher() as f:
        f.get(base + "/a")  # robots first
        threads = [threading.Thread(target=f.get, args=(base + "/d",)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert portal.max_in_flight == 1
    assert [r["path"] for r in portal.requests].count("/d") == 4


def test_host_allowed() -> None:
    assert host_allowed("https://www.pingtan.gov.cn/x", ["www.pingtan.gov.cn"])
    assert host_allowed("http://127.0.0.1:8080/x", ["127.0.0.1:8080"])
    assert not host_allowed("http://127.0.0.1:8081/x", ["127.0.0.1:8080"])
    assert not host_allowed("http://127.0.0.2:8080/x", ["127.0.0.1:8080"])
    assert host_allowed("http://a.b.gov.cn/x", ["*.gov.cn"])
    assert not host_allowed("http://evilgov.cn/x", ["*.gov.cn"])
    assert not host_allowed("ftp://www.pingtan.gov.cn/x", ["www.pingtan.gov.cn"])


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
