"""A run's harvest spread over worker processes: host-disjoint batches and the pool that runs them.

One process harvesting 10,000 sources is CPU-bound (~4-6 ms of Python per source even when every
answer is a 304: HTTP client, validator state, fetch log), so a large night harvests its batches in
a few spawned worker processes. Politeness stays per host: every host a source can reach belongs to
exactly one batch (``host_batches``), a batch runs inside one process, and that process's shared
``Fetcher`` keeps the per-host concurrency, the delay and robots.txt as it does on threads.

Plain functions and a context manager, no Prefect: the ``harvest_batch`` task calls
``run_harvest_batch`` with the reference ``harvest_pool`` gave it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any
from urllib.parse import urlsplit

from xxgk.extractors.base import DisjointSets
from xxgk.flows.harvesting import HarvestBatchOutcome, HarvestPlan, harvest_source_batch
from xxgk.harvest import Source

_log = logging.getLogger("xxgk")

#: Sources from which a run harvests in worker processes (with several workers and cores). Below
#: it one process keeps up: spawning a worker and importing the harvester costs ~1.5 s of CPU.
HARVEST_PROCESS_THRESHOLD = 2000


def harvest_processes(n_sources: int, max_workers: int, requested: int | None = None) -> int:
    """Worker processes for harvesting ``n_sources``: 0 means the flow's own process (threads).

    ``requested`` (``HarvestPlan.processes``) is used as given (0 or 1: no worker processes);
    otherwise ``min(max_workers, cores)`` from ``HARVEST_PROCESS_THRESHOLD`` sources on.
    """
    if requested is not None:
        return int(requested) if int(requested) > 1 else 0
    cores = os.cpu_count() or 1
    workers = min(max(1, int(max_workers)), cores)
    return workers if n_sources >= HARVEST_PROCESS_THRESHOLD and workers > 1 else 0


def harvest_processes_for(plan: HarvestPlan, max_workers: int) -> int:
    """Worker processes ``plan``'s harvest runs in (``harvest_processes`` of its sources)."""
    return harvest_processes(len(plan.sources), max_workers, plan.processes)


# ---------------------------------------------------------------------------------------------
# Host-disjoint batches


def _netloc(url: str) -> tuple[str, str]:
    """``(host:port as written, host)`` of a URL, lower-cased."""
    parts = urlsplit(url)
    return parts.netloc.lower(), (parts.hostname or "").lower()


def host_groups(sources: list[Source]) -> list[list[Source]]:
    """Sources that may send a request to a common host, grouped (groups in first-appearance order).

    What a source can reach: its listing URLs' hosts and its ``allowed_hosts`` (``host:port``, a
    bare ``host`` on any port, ``*.suffix`` any subdomain), the same rules as ``host_allowed``. Two
    sources join when one of those can name a host of the other; the grouping is transitive.
    """
    reach = DisjointSets(len(sources))
    union = reach.union
    by_netloc: dict[str, int] = {}
    by_host: dict[str, list[int]] = {}
    any_port: dict[str, int] = {}
    suffixes: list[tuple[str, int]] = []
    for i, src in enumerate(sources):
        for url in src.listing_urls:
            netloc, host = _netloc(url)
            by_netloc.setdefault(netloc, i)
            union(i, by_netloc[netloc])
            by_host.setdefault(host, []).append(i)
        for entry in src.allowed_hosts:
            entry = entry.strip().lower()
            if entry.startswith("*."):
                suffixes.append((entry[2:], i))
            elif ":" in entry:
                by_netloc.setdefault(entry, i)
                union(i, by_netloc[entry])
                by_host.setdefault(entry.rsplit(":", 1)[0], []).append(i)
            else:
                any_port.setdefault(entry, i)
                union(i, any_port[entry])
                by_host.setdefault(entry, []).append(i)
    for host, members in by_host.items():  # a bare host reaches every port of it
        if host in any_port:
            for j in members:
                union(any_port[host], j)
    for suffix, i in suffixes:
        for host, members in by_host.items():
            if host == suffix or host.endswith("." + suffix):
                for j in members:
                    union(i, j)
        for other, j in suffixes:
            if other == suffix or other.endswith("." + suffix) or suffix.endswith("." + other):
                union(i, j)
    return [[sources[i] for i in group] for group in reach.groups()]


def host_batches(sources: list[Source], size: int) -> list[list[Source]]:
    """Batches of about ``size`` sources in which no host is shared with another batch.

    Whole ``host_groups`` packed in order; a group larger than ``size`` is one batch of its own
    (its requests wait on one host's politeness delay anyway).
    """
    size = max(1, int(size))
    batches: list[list[Source]] = []
    current: list[Source] = []
    for group in host_groups(sources):
        if current and len(current) + len(group) > size:
            batches.append(current)
            current = []
        current.extend(group)
        if len(current) >= size:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


# ---------------------------------------------------------------------------------------------
# The pool

#: ``(function, args)`` each new harvest worker process runs before any batch (``add_worker_setup``).
_worker_setup: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
_pools: dict[str, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def add_worker_setup(function: Callable[..., Any], *args: Any) -> None:
    """Run ``function(*args)`` in every harvest worker process started from now on (picklable, top level).

    Spawned workers start from a fresh interpreter: what a caller changed in its own process (a
    benchmark moving the revisit clock) must be redone there.
    """
    _worker_setup.append((function, args))


def _start_worker(setup: tuple[tuple[Callable[..., Any], tuple[Any, ...]], ...]) -> None:
    for function, args in setup:
        function(*args)


@contextlib.contextmanager
def harvest_pool(processes: int) -> Iterator[str | None]:
    """Worker processes for one run's harvest; yields the reference ``run_harvest_batch`` takes.

    ``processes`` < 2 yields None (batches run in the calling process). Workers are spawned, not
    forked: the flow's process holds Prefect's threads and locks, which a fork would copy mid-use.
    The pool is shut down when the block ends.
    """
    if processes < 2:
        yield None
        return
    pool = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(tuple(_worker_setup),),
    )
    ref = f"harvest-pool-{uuid.uuid4().hex}"
    with _pools_lock:
        _pools[ref] = pool
    try:
        yield ref
    finally:
        with _pools_lock:
            _pools.pop(ref, None)
        pool.shutdown(wait=True, cancel_futures=True)


def run_harvest_batch(
    sources: list[Source],
    plan: HarvestPlan,
    data_dir: str,
    *,
    index: int = 0,
    run_id: str | None = None,
    pool: str | None = None,
) -> HarvestBatchOutcome:
    """``harvest_source_batch`` in a worker process of ``pool`` (``harvest_pool``'s reference), else here.

    A worker process that dies (killed, out of memory) breaks the pool: the batch, and every one
    after it, is then harvested in this process, with a warning, so the night still completes.
    """
    executor = None
    if pool is not None:
        with _pools_lock:
            executor = _pools.get(pool)
        if executor is None:
            raise RuntimeError(f"no harvest worker pool {pool!r} in this process")
    if executor is not None:
        try:
            future = executor.submit(harvest_source_batch, sources, plan, data_dir, index=index, run_id=run_id)
            return future.result()
        except BrokenProcessPool as exc:
            _log.warning(
                "harvest batch %d: the worker process died (%s); harvesting its %d sources in the flow's process",
                index,
                exc,
                len(sources),
            )
    return harvest_source_batch(sources, plan, data_dir, index=index, run_id=run_id)
