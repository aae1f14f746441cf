"""The harvester against a hostile server (issue 14, items 6 and 7).

A listing of 100,000 report links was queued whole (~28 h at the default delay) and a source had
no request budget; the fetch log was held in memory until a source finished, so a kill after
3,166 requests left no fetch log and no state.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from xxgk.bench.hostile.server import HostileServer
from xxgk.harvest.archive import RawArchive
from xxgk.harvest.fetch import FetchConfig, Fetcher
from xxgk.harvest.harvester import (
    HARVEST_PARTIAL,
    PROBLEM_LINKS_CAPPED,
    PROBLEM_REQUEST_BUDGET,
    harvest_source,
)
from xxgk.harvest.registry import RegistryError, source_from_dict


def _source(url: str, **limits: int) -> dict[str, object]:
    return {"source_id": "hostile", "publisher": "hostile", "listing_urls": [url], **limits}


def test_listing_links_are_capped_and_requests_budgeted(tmp_path: Path) -> None:
    with HostileServer(listing_links=1_000) as server, Fetcher(FetchConfig.for_tests(obey_robots=False)) as f:
        src = source_from_dict(_source(server.url("/huge-listing.html"), max_report_links=100, max_requests=40))
        harvest = harvest_source(src, RawArchive(tmp_path), f)
        served = sum(server.counts.values())
    kinds = {p.kind: p for p in harvest.problems}
    assert harvest.status == HARVEST_PARTIAL
    assert "1000 report links" in kinds[PROBLEM_LINKS_CAPPED].detail
    assert "61 URL(s) not fetched" in kinds[PROBLEM_REQUEST_BUDGET].detail
    assert harvest.requests == 40 and served == 40  # the listing and 39 reports
    assert len(harvest.reports) == 100


def test_default_limits_bound_a_source() -> None:
    src = source_from_dict(_source("http://example.gov.cn/"))
    assert (src.max_report_links, src.max_requests) == (500, 1000)


def test_limits_must_be_positive() -> None:
    for key in ("max_report_links", "max_requests", "max_pages"):
        try:
            source_from_dict(_source("http://example.gov.cn/", **{key: 0}))
        except RegistryError as exc:
            assert key in str(exc)
        else:
            raise AssertionError(f"{key}=0 accepted")


CHILD = textwrap.dedent(
    """
    import sys
    from xxgk.harvest.archive import RawArchive
    from xxgk.harvest.fetch import FetchConfig, Fetcher
    from xxgk.harvest.harvester import harvest_source
    from xxgk.harvest.registry import source_from_dict
    src = source_from_dict({"source_id": "hostile", "publisher": "hostile", "listing_urls": [sys.argv[1]],
                            "max_report_links": 5000, "max_requests": 5000})
    with Fetcher(FetchConfig.for_tests(obey_robots=False, delay_seconds=0.01)) as fetcher:
        harvest_source(src, RawArchive(sys.argv[2]), fetcher)
    """
)


def test_fetch_log_survives_a_kill_midway(tmp_path: Path) -> None:
    """kill -9 after N requests: the log has every request answered so far, and validators are saved."""
    archive = RawArchive(tmp_path)
    log = archive.log_path("hostile")
    with HostileServer(listing_links=3_000) as server:
        child = subprocess.Popen([sys.executable, "-c", CHILD, server.url("/huge-listing.html"), str(tmp_path)])
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and child.poll() is None:
                if log.is_file() and log.read_bytes().count(b"\n") >= 200:
                    break
                time.sleep(0.05)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait()
        served = sum(server.counts.values())
    assert child.returncode == -signal.SIGKILL, "the harvest ended before it could be killed"
    lines = log.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # whole lines only
    assert len(entries) >= 200
    assert served - len(entries) <= 1  # at most the request in flight when killed
    state = archive.load_state("hostile")
    assert len(state.urls) >= 175  # saved every 25 URLs
    assert all(archive.has(s.sha256) for s in state.urls.values())
