"""The fetcher against a hostile loopback server (issue 14, items 1, 5 and 11).

Each test is named after the defect it pins: the body cap defeated by stacked encodings, a drip
read forever, a Crawl-delay obeyed whatever it says, a robots.txt read whole, a body longer than
its Content-Length silently cut.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import httpx
import pytest

from xxgk.bench.hostile.server import HostileServer, good_report, gzip_bytes, gzip_zeros
from xxgk.harvest.fetch import (
    ERR_DEADLINE,
    ERR_DECODE,
    ERR_LENGTH_MISMATCH,
    ERR_TOO_LARGE,
    ERR_TOO_MANY_REDIRECTS,
    FetchConfig,
    Fetcher,
    FetchError,
)
from xxgk.harvest.responses import DeadlineBackend, _h11_state, decoded_body


def _fetch_error(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as err:
        fetcher.get(url)
    return err.value


CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from xxgk.harvest.fetch import FetchConfig, Fetcher, FetchError
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
    out = {}
    with Fetcher(FetchConfig.for_tests(obey_robots=False)) as fetcher:
        try:
            fetcher.get(sys.argv[1])
            out["kind"] = "ok"
        except FetchError as exc:
            out["kind"], out["detail"] = exc.kind, exc.detail
        except MemoryError:
            out["kind"] = "MemoryError"
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking pytest worker
    hwm = next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
    out["maxrss_mb"] = int(hwm.split()[1]) / 1024
    print(json.dumps(out))
    """
)


@pytest.mark.parametrize("path", ["/gzip2", "/gzip1"])
def test_stacked_gzip_bomb_holds_the_body_cap(path: str) -> None:
    """``Content-Encoding: gzip, gzip`` of 1 GiB took httpx past 1 GB before the cap was checked."""
    with HostileServer() as server:
        gzip_zeros(server.bomb_bytes)  # built before the clock starts
        start = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-c", CHILD, server.url(path), str(1 << 30)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        elapsed = time.perf_counter() - start
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["kind"] == ERR_TOO_LARGE, out
    assert out["maxrss_mb"] < 300, out
    assert elapsed < 60


def test_more_stacked_codings_than_allowed_are_refused() -> None:
    with HostileServer(bomb_bytes=1 << 20) as server, Fetcher(FetchConfig.for_tests(obey_robots=False)) as f:
        err = _fetch_error(f, server.url("/gzip3"))
    assert err.kind == ERR_DECODE and "3 stacked content codings" in err.detail


def test_stacked_gzip_of_a_page_is_decoded() -> None:
    """Legitimate stacked codings within the limit still come through byte for byte."""
    page = good_report()
    assert b"".join(decoded_body([gzip_bytes(gzip_bytes(page))], ["gzip", "gzip"], 1 << 26, "u")) == page
    two_members = gzip_bytes(page[:100]) + gzip_bytes(page[100:])
    assert (
        b"".join(decoded_body([two_members[i : i + 7] for i in range(0, len(two_members), 7)], ["gzip"], 1 << 26, "u"))
        == page
    )


def test_truncated_gzip_body_is_an_error_not_a_shorter_document() -> None:
    body = gzip_bytes(good_report())
    with pytest.raises(FetchError) as err:
        b"".join(decoded_body([body[: len(body) // 2]], ["gzip"], 1 << 26, "u"))
    assert err.value.kind == ERR_DECODE


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_dripped_answer_ends_at_the_total_deadline(path: str) -> None:
    """A byte every 0.2 s passes every 2 s read timeout; the request still ends at max_fetch_seconds."""
    config = FetchConfig.for_tests(obey_robots=False, max_fetch_seconds=1.5)
    with HostileServer(drip_interval=0.2) as server, Fetcher(config) as f:
        start = time.perf_counter()
        err = _fetch_error(f, server.url(path))
        elapsed = time.perf_counter() - start
    assert err.kind == ERR_DEADLINE
    assert len(err.attempts) == 1  # a drip is not retried
    assert elapsed < 5, elapsed


def test_crawl_delay_is_capped() -> None:
    """robots.txt ``Crawl-delay: 100000`` was obeyed as written; it is capped at max_crawl_delay."""
    sleeps: list[float] = []
    config = FetchConfig.for_tests(max_crawl_delay=0.5)
    with HostileServer(robots="crawl_delay") as server, Fetcher(config, sleep=sleeps.append) as f:
        f.get(server.url("/report/good.html"))
        f.get(server.url("/report/good.html"))
    assert sleeps and max(sleeps) <= 0.5


def test_huge_robots_txt_is_read_up_to_500_kib() -> None:
    """A 60 MB robots.txt was read whole (16 s, 734 MB); its first 500 KiB are the rules now.

    Its tail says ``Disallow: /``: read whole, it would forbid the good report.
    """
    with HostileServer(robots="huge") as server, Fetcher(FetchConfig.for_tests()) as f:
        start = time.perf_counter()
        result = f.get(server.url("/report/good.html"))
        elapsed = time.perf_counter() - start
        with pytest.raises(FetchError) as err:
            f.get(server.url("/blocked"))
    assert result.content == good_report()
    robots = [a for a in result.attempts if a.purpose == "robots"]
    assert robots and robots[0].note and "rest ignored" in robots[0].note
    assert len(robots[0].content or b"") <= 500 * 1024
    assert err.value.kind == "robots_disallowed"
    assert elapsed < 10


def test_content_length_shorter_than_body_is_flagged() -> None:
    """Bytes past the declared Content-Length were dropped silently (a cut document archived as whole)."""
    with HostileServer() as server, Fetcher(FetchConfig.for_tests(obey_robots=False)) as f:
        err = _fetch_error(f, server.url("/lying-length"))
        after = f.get(server.url("/report/good.html"))  # the connection with the surplus is not reused
    assert err.kind == ERR_LENGTH_MISMATCH
    assert after.content == good_report()


def test_body_shorter_than_content_length_is_an_error() -> None:
    with HostileServer() as server, Fetcher(FetchConfig.for_tests(obey_robots=False, max_attempts=1)) as f:
        err = _fetch_error(f, server.url("/short-body"))
    assert err.kind == "connection"


def test_redirect_loop_ends() -> None:
    with HostileServer() as server, Fetcher(FetchConfig.for_tests(obey_robots=False)) as f:
        err = _fetch_error(f, server.url("/redirect-loop"))
    assert err.kind == ERR_TOO_MANY_REDIRECTS


def test_httpx_internals_the_limits_rely_on() -> None:
    """The deadline backend sits in httpx's pool and the HTTP/1.1 parser is reachable (an upgrade that moves them fails here)."""
    with HostileServer() as server, Fetcher(FetchConfig.for_tests(obey_robots=False)) as f:
        with f._client(server.url("/")) as client:
            assert isinstance(client._transport._pool._network_backend, DeadlineBackend)
            with client.stream("GET", server.url("/report/good.html")) as resp:
                resp.read()
                assert _h11_state(resp) is not None
        assert isinstance(httpx.__version__, str)
