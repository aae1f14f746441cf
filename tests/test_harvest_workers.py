"""A run's harvest over worker processes: host-disjoint batches, the pool, and its failure path."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from xxgk.flows import harvest_workers, tasks
from xxgk.flows.harvest_workers import (
    HARVEST_PROCESS_THRESHOLD,
    harvest_processes,
    host_batches,
    host_groups,
    run_harvest_batch,
)
from xxgk.flows.harvesting import HarvestBatchOutcome, HarvestPlan, SourceOutcome
from xxgk.harvest.registry import source_from_dict


def _source(sid: str, *listing: str, allowed: tuple[str, ...] = ()) -> Any:
    return source_from_dict(
        {"source_id": f"id-{sid}", "publisher": sid, "listing_urls": list(listing), "allowed_hosts": list(allowed)}
    )


def _ids(groups: list[list[Any]]) -> list[list[str]]:
    return [[s.source_id.removeprefix("id-") for s in g] for g in groups]


def test_sources_on_one_host_are_one_group_and_others_stay_apart() -> None:
    sources = [
        _source("a", "http://www.city.gov.cn/dept-a/nb/"),
        _source("b", "http://other.gov.cn/nb/"),
        _source("c", "http://www.city.gov.cn/dept-c/nb/"),
        _source("d", "http://127.0.0.1:8001/nb/"),
        _source("e", "http://127.0.0.1:8002/nb/"),  # another port: another host gate
    ]
    assert _ids(host_groups(sources)) == [["a", "c"], ["b"], ["d"], ["e"]]


def test_allowed_hosts_join_sources_as_the_fetcher_would_reach_them() -> None:
    sources = [
        _source("files", "http://a.gov.cn/nb/", allowed=("a.gov.cn", "files.gov.cn")),  # attachments elsewhere
        _source("other", "http://files.gov.cn:8080/nb/"),  # a bare host reaches every port of it
        _source("wild", "http://x.gov.cn/nb/", allowed=("x.gov.cn", "*.prov.gov.cn")),
        _source("sub", "http://county.prov.gov.cn/nb/"),
        _source("port", "http://b.gov.cn:81/nb/", allowed=("b.gov.cn:81",)),
        _source("port2", "http://b.gov.cn:82/nb/", allowed=("b.gov.cn:82",)),
        _source("chain", "http://c.gov.cn/nb/", allowed=("c.gov.cn", "x.gov.cn")),  # joins "wild", so "sub"
    ]
    assert _ids(host_groups(sources)) == [["files", "other"], ["wild", "sub", "chain"], ["port"], ["port2"]]


def test_batches_never_share_a_host() -> None:
    sources = [_source(f"s{i:03d}", f"http://h{i % 7}.gov.cn/dept{i}/nb/") for i in range(60)]
    sources += [_source(f"solo{i}", f"http://solo{i}.gov.cn/nb/") for i in range(25)]
    batches = host_batches(sources, 10)
    hosts = [{urlsplit(s.listing_urls[0]).netloc for s in b} for b in batches]
    for i, a in enumerate(hosts):
        for b in hosts[i + 1 :]:
            assert not a & b
    assert sorted(s.source_id for b in batches for s in b) == sorted(s.source_id for s in sources)
    assert max(len(b) for b in batches) <= 10  # groups of 8-9 sources fit; the singles fill up
    assert len(batches) <= 10


def test_a_host_larger_than_a_batch_is_one_batch() -> None:
    sources = [_source(f"d{i}", f"http://big.gov.cn/d{i}/") for i in range(12)] + [_source("x", "http://x.cn/")]
    assert [len(b) for b in host_batches(sources, 5)] == [12, 1]


@pytest.mark.parametrize(
    ("sources", "workers", "requested", "expected"),
    [
        (100, 2, None, 0),  # a small run stays in the flow's process
        (HARVEST_PROCESS_THRESHOLD, 1, None, 0),
        (100, 2, 2, 2),  # asked for
        (100_000, 2, 1, 0),
        (100_000, 2, 0, 0),
    ],
)
def test_harvest_processes(sources: int, workers: int, requested: int | None, expected: int) -> None:
    assert harvest_processes(sources, workers, requested) == expected


def test_large_runs_use_up_to_a_worker_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harvest_workers.os, "cpu_count", lambda: 2)
    assert harvest_processes(HARVEST_PROCESS_THRESHOLD, 8) == 2
    monkeypatch.setattr(harvest_workers.os, "cpu_count", lambda: 1)
    assert harvest_processes(10 * HARVEST_PROCESS_THRESHOLD, 8) == 0


def test_worker_batches_follow_hosts_and_outcomes_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With worker processes, batches are host-disjoint; the run's record and documents keep the registry's order."""
    import contextlib

    sources = [_source(f"s{i}", f"http://h{i % 3}.test/d{i}/") for i in range(9)]
    plan = HarvestPlan(sources=sources, archive_dir=str(tmp_path / "archive"), batch_size=3, processes=2)
    batches: list[list[str]] = []

    @contextlib.contextmanager
    def fake_pool(processes: int) -> Any:
        assert processes == 2
        yield "pool-ref"

    def fake_run(chunk: list[Any], _plan: HarvestPlan, _data: str, *, index: int, run_id: str, pool: str) -> Any:
        assert pool == "pool-ref"
        batches.append([s.source_id.removeprefix("id-") for s in chunk])
        outcomes = [SourceOutcome(s.source_id, s.publisher, "ok", "") for s in chunk]
        return HarvestBatchOutcome(index=index, sources=outcomes, documents=[])

    monkeypatch.setattr(tasks, "harvest_pool", fake_pool)
    monkeypatch.setattr(tasks, "run_harvest_batch", fake_run)
    _docs, outcomes = tasks.harvest_step(plan, str(tmp_path), "run", False, logging.getLogger("test"))
    assert sorted(batches) == [["s0", "s3", "s6"], ["s1", "s4", "s7"], ["s2", "s5", "s8"]]
    assert [o.source_id for o in outcomes] == [f"id-s{i}" for i in range(9)]


def test_in_one_process_batches_stay_in_registry_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads share one Fetcher (politeness per host across batches): batches are plain slices."""
    sources = [_source(f"s{i}", f"http://h{i % 3}.test/d{i}/") for i in range(9)]
    plan = HarvestPlan(sources=sources, archive_dir=str(tmp_path / "archive"), batch_size=3, processes=0)
    batches: list[list[str]] = []

    class FakeBatch:
        @staticmethod
        def fn(chunk: list[Any], _plan: HarvestPlan, _data: str, index: int, _run: str) -> HarvestBatchOutcome:
            batches.append([s.source_id.removeprefix("id-") for s in chunk])
            return HarvestBatchOutcome(index=index, sources=[], documents=[])

    monkeypatch.setattr(tasks, "harvest_batch", FakeBatch)
    tasks.harvest_step(plan, str(tmp_path), "run", False, logging.getLogger("test"))
    assert batches == [["s0", "s1", "s2"], ["s3", "s4", "s5"], ["s6", "s7", "s8"]]


def test_a_dead_worker_process_leaves_its_batch_to_the_flow_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker killed mid-run (out of memory) breaks the pool: the night goes on in the flow's process."""
    from concurrent.futures.process import BrokenProcessPool

    class BrokenPool:
        def submit(self, *_args: Any, **_kwargs: Any) -> Any:
            raise BrokenProcessPool("A child process terminated abruptly")

    done: list[int] = []

    def here(sources: list[Any], _plan: Any, _data: str, *, index: int, run_id: str | None) -> HarvestBatchOutcome:
        done.append(index)
        return HarvestBatchOutcome(index=index, sources=[], documents=[])

    monkeypatch.setitem(harvest_workers._pools, "p", BrokenPool())  # type: ignore[arg-type]
    monkeypatch.setattr(harvest_workers, "harvest_source_batch", here)
    plan = HarvestPlan(sources=[], archive_dir=str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="xxgk"):
        outcome = run_harvest_batch([_source("a", "http://a.test/")], plan, str(tmp_path), index=3, pool="p")
    assert outcome.index == 3 and done == [3]
    assert "worker process died" in caplog.text and "1 sources" in caplog.text


def test_an_unknown_pool_is_an_error_not_a_silent_local_run(tmp_path: Path) -> None:
    plan = HarvestPlan(sources=[], archive_dir=str(tmp_path))
    with pytest.raises(RuntimeError, match="no harvest worker pool"):
        run_harvest_batch([], plan, str(tmp_path), pool="nope")
