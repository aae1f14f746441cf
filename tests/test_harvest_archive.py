"""Raw archive: content addressing, the fetch log, per-source state; the registry."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

from xxgk.harvest.archive import FetchLogEntry, RawArchive, SourceState, UrlState
from xxgk.harvest.registry import RegistryError, load_sources, select_sources, source_from_dict


def test_put_is_content_addressed_and_unedited(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path)
    data = "平潭\r\n年度报告".encode("gb18030") + b"\x00\xff"
    sha, new = archive.put(data)
    assert sha == hashlib.sha256(data).hexdigest() and new
    assert archive.path_of(sha) == tmp_path / "raw" / sha[:2] / sha
    assert archive.get(sha) == data
    assert archive.put(data) == (sha, False)
    assert list(archive.iter_raw()) == [sha]
    assert not list((tmp_path / "raw" / sha[:2]).glob(".tmp-*"))


def test_log_appends_are_whole_lines_under_threads(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path)

    def write(i: int) -> None:
        for j in range(50):
            archive.append_log(
                [FetchLogEntry(url=f"http://x/{i}/{j}", source_id=f"s{i % 2}", kind="report", status=200, year=2023)]
            )

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(archive.read_log()) == 200
    assert len(archive.read_log("s0")) == 100
    line = json.loads((tmp_path / "fetch_log" / "s1.jsonl").read_text().splitlines()[0])
    for key in ("url", "final_url", "time", "status", "etag", "last_modified", "content_type", "charset",
                "sha256", "size", "source_id", "year", "kind", "parent_url", "error"):  # fmt: skip
        assert key in line


def test_fetch_logs_of_two_sources_do_not_wait_for_each_other(tmp_path: Path) -> None:
    """Regression (issue 15): every source's log writer took one archive-wide lock, so the threads of a
    night queued on it for each open, flock, write and close, whatever file they wrote."""
    archive = RawArchive(tmp_path)
    busy, other = archive.open_log("busy"), archive.open_log("other")
    entry = FetchLogEntry(url="http://x/1", source_id="other", kind="listing", status=304)
    with busy._lock:  # a write of source "busy" in progress
        done = threading.Event()
        writer = threading.Thread(target=lambda: (other.write([entry]), done.set()))
        writer.start()
        assert done.wait(10), "a write to another source's log waited for this one"
        writer.join()
    other.close()
    busy.close()
    assert [e["url"] for e in archive.read_log("other")] == ["http://x/1"]


def test_state_round_trip(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path)
    assert archive.load_state("s").urls == {}
    state = SourceState("s", {"http://x/a": UrlState("ab" * 32, etag='"e"', last_modified="Mon")}, reports_last_run=3)
    archive.save_state(state)
    again = archive.load_state("s")
    assert again.urls["http://x/a"].etag == '"e"' and again.reports_last_run == 3


def test_default_registry_loads() -> None:
    sources = load_sources()
    ids = [s.source_id for s in sources]
    assert len(ids) == len(set(ids))
    assert {"demo-city", "demo-county", "demo-dept", "fj-pingtan"} <= set(ids)
    pingtan = next(s for s in sources if s.source_id == "fj-pingtan")
    assert pingtan.adapter == "trs" and not pingtan.enabled and pingtan.region_code == "350128"
    # demo entries need the portal; real entries are disabled: nothing runs by default offline
    assert select_sources(sources) == []
    with pytest.raises(RegistryError, match="portal"):
        select_sources(sources, ["demo-city"])


def test_portal_entries_resolve() -> None:
    sources = load_sources(portal_url="http://127.0.0.1:8765/")
    city = next(s for s in sources if s.source_id == "demo-city")
    assert city.listing_urls == ("http://127.0.0.1:8765/city/nb/index.html",)
    assert city.allowed_hosts == ("127.0.0.1:8765",)
    assert {s.source_id for s in select_sources(sources)} == {"demo-city", "demo-county", "demo-office", "demo-dept"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"source_id": "Bad Id", "publisher": "x", "listing_urls": ["http://a/"]}, "source_id"),
        ({"source_id": "ok", "listing_urls": ["http://a/"]}, "publisher"),
        ({"source_id": "ok", "publisher": "x"}, "listing URL"),
        ({"source_id": "ok", "publisher": "x", "listing_urls": ["ftp://a/"]}, "http"),
        ({"source_id": "ok", "publisher": "x", "listing_urls": ["http://a/"], "adapter": "nope"}, "adapter"),
        ({"source_id": "ok", "publisher": "x", "listing_urls": ["http://a/"], "level": "galaxy"}, "level"),
        ({"source_id": "ok", "publisher": "x", "listing_urls": ["http://a/"], "report_title_pattern": "("}, "regex"),
    ],
)
def test_registry_rejects_bad_entries(entry: dict[str, object], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        source_from_dict(entry)


def test_registry_rejects_duplicates(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(
        "sources:\n"
        "  - {source_id: a1, publisher: x, listing_urls: ['http://a/']}\n"
        "  - {source_id: a1, publisher: y, listing_urls: ['http://b/']}\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="duplicate"):
        load_sources(p)


def test_allowed_hosts_default_to_listing_hosts() -> None:
    src = source_from_dict({"source_id": "a1", "publisher": "x", "listing_urls": ["https://www.x.gov.cn/nb/"]})
    assert src.allowed_hosts == ("www.x.gov.cn",)
