"""Where extraction tasks run: threads, worker processes, or a Dask cluster, and in what batches.

``--runner`` names one of ``auto``, ``threads``, ``processes``, ``dask`` (a temporary local Dask
cluster) or an existing cluster's scheduler address (``tcp://host:8786``). A one-off run decides
``auto`` once it knows how many documents it must parse (``extraction_runner``: processes only for
large runs, whose parsing earns back the seconds each worker process pays to import); a scheduled
run keeps ``auto`` as a parameter and decides per run (``scheduled_runner``). Harvesting always
runs on threads (it waits on the network).

Plain functions; Prefect and prefect-dask are imported only by ``task_runner_for``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from xxgk.flows.settings import DEFAULT_BATCH_SIZE, PROCESS_RUNNER_THRESHOLD

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.task_runners import TaskRunner

#: Runner kinds ``task_runner_for`` builds (besides a Dask scheduler address).
RUNNERS = ("threads", "processes", "dask")
#: What ``--runner`` accepts (besides a Dask scheduler address such as ``tcp://host:8786``).
RUNNER_CHOICES = ("auto", *RUNNERS)
#: URL schemes of a Dask scheduler address.
DASK_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://", "ws://", "wss://")
#: Extraction tasks per worker on a process or Dask runner: enough to even out documents of
#: uneven cost, few enough that Prefect's per-task-run cost (~5.6 ms client + ~29 ms server CPU,
#: competing with the workers for the cores) stays small: 200 task runs for 10,000 documents
#: cost ~6 s of server CPU, 8 cost 0.2 s.
TASKS_PER_WORKER = 4

_UNKNOWN = "auto, threads, processes, dask, or tcp://host:port"


def is_dask_address(value: str | None) -> bool:
    """True for a Dask scheduler address such as ``tcp://10.0.0.5:8786``."""
    return bool(value) and str(value).strip().lower().startswith(DASK_SCHEMES)


def _check_address(runner: str, kind: str, dask_address: str | None) -> None:
    if dask_address and kind not in ("auto", "dask"):
        raise ValueError(f"a Dask address ({dask_address}) needs --runner dask or auto, not {runner!r}")
    if dask_address and not is_dask_address(dask_address):
        raise ValueError(f"not a Dask scheduler address: {dask_address!r} (expected tcp://host:port)")


def extraction_runner(
    runner: str, documents: int, max_workers: int, dask_address: str | None = None
) -> tuple[str, str | None]:
    """``(kind, dask address)`` for extracting ``documents`` documents: threads, processes or dask.

    ``auto`` picks processes only when more than ``PROCESS_RUNNER_THRESHOLD`` documents must be
    parsed, on several cores with ``max_workers`` > 1: parsing is CPU-bound (the GIL serialises
    threads), but each worker process pays ~5-8 s to import Prefect and the extractors, which only
    a large backfill earns back. ``auto`` with ``dask_address``, or a runner given as an address,
    is that Dask cluster. Raises ``ValueError`` for an unknown runner.
    """
    if is_dask_address(runner):
        return "dask", runner.strip()
    kind = runner.strip().lower()
    if kind not in RUNNER_CHOICES:
        raise ValueError(f"unknown runner {runner!r}: {_UNKNOWN}")
    _check_address(runner, kind, dask_address)
    if kind == "auto":
        if dask_address:
            return "dask", dask_address.strip()
        cores = os.cpu_count() or 1
        large = documents > PROCESS_RUNNER_THRESHOLD and cores > 1 and max_workers > 1
        return ("processes" if large else "threads"), None
    return kind, (dask_address.strip() if kind == "dask" and dask_address else None)


def choose_runner(runner: str, documents: int, max_workers: int) -> str:
    """The kind of runner ``extraction_runner`` picks: ``threads``, ``processes`` or ``dask``."""
    return extraction_runner(runner, documents, max_workers)[0]


def scheduled_runner(runner: str, dask_address: str | None = None) -> tuple[str, str | None]:
    """``(runner, dask address)`` passed to a flow that picks its own runner per run (the pipeline's).

    Unlike ``resolve_runner``, ``auto`` stays ``auto``: each run then extracts on processes only
    when enough documents need parsing (``extraction_runner``), so a quiet night does not pay for
    worker start-up. Raises ``ValueError`` for an unknown runner or a bad address.
    """
    kind = runner.strip().lower()
    if is_dask_address(runner):
        return "dask", runner.strip()
    if kind not in RUNNER_CHOICES:
        raise ValueError(f"unknown runner {runner!r}: {_UNKNOWN}")
    _check_address(runner, kind, dask_address)
    if dask_address:
        return "dask", dask_address.strip()
    return kind, None


def resolve_runner(runner: str, workers: int, dask_address: str | None = None) -> tuple[str, str | None]:
    """``(kind, dask address)`` of a scheduled flow that takes its task runner as configured.

    For a flow without a ``runner`` parameter (``xxgk serve --flow``): ``auto`` becomes processes
    (threads on one core), since a nightly run over the registry is long enough to earn back the
    worker start-up and parsing is CPU-bound. A runner given as an address, or ``auto`` with
    ``dask_address``, is ``dask`` at that address.
    """
    kind = runner.strip().lower()
    if is_dask_address(runner):
        return "dask", runner.strip()
    if dask_address and kind not in ("auto", "dask"):
        raise ValueError(f"a Dask address ({dask_address}) needs --runner dask or auto, not {runner!r}")
    if kind == "auto" and dask_address:
        kind = "dask"
    elif kind == "auto":
        kind = "processes" if workers > 1 and (os.cpu_count() or 1) > 1 else "threads"
    return kind, (dask_address.strip() if kind == "dask" and dask_address else None)


def runner_label(kind: str, max_workers: int, dask_address: str | None = None) -> str:
    """How the run summary names the runner: ``prefect/threads×2``, ``prefect/dask@tcp://…``."""
    if kind == "dask" and dask_address:
        return f"prefect/dask@{dask_address}"
    return f"prefect/{kind}×{max(1, int(max_workers))}"


def describe_runner(kind: str, workers: int, dask_address: str | None = None) -> str:
    """How ``xxgk serve`` names the runner it configured."""
    if kind == "auto":
        return f"{max(1, workers)} threads, or processes when a run has many documents to parse"
    if kind == "dask":
        return f"the Dask cluster at {dask_address}" if dask_address else f"a local Dask cluster of {workers} workers"
    return f"{max(1, workers)} {kind}"


def task_runner_for(runner: str, max_workers: int, dask_address: str | None = None) -> TaskRunner[Any]:
    """The Prefect task runner for ``--runner``: ``threads``, ``processes``, ``dask`` or an address.

    ``dask`` with ``dask_address`` (or a runner given as ``tcp://host:port``) connects to an
    existing cluster, whose workers need xxgk installed, the data directory at the same path
    (shared storage) and the Prefect API reachable; ``dask`` alone starts a temporary local cluster
    of ``max_workers`` single-threaded processes for the run. ``auto`` is resolved by the caller
    (it depends on the number of documents) before it gets here.
    """
    kind = runner.strip().lower()
    if is_dask_address(runner):
        kind, dask_address = "dask", runner.strip()
    workers = max(1, int(max_workers))
    if kind == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "processes":
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=workers)
    if kind != "dask":
        raise ValueError(f"unknown runner {runner!r}: threads, processes, dask, or a scheduler address tcp://host:port")
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as err:
        raise ValueError(f"runner {runner!r} needs prefect-dask (uv add prefect-dask): {err}") from err
    if dask_address:
        if not is_dask_address(dask_address):
            raise ValueError(f"not a Dask scheduler address: {dask_address!r} (expected tcp://host:port)")
        return DaskTaskRunner(address=dask_address.strip())
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})


def with_task_runner(
    flow: Flow[..., Any], runner: str, max_workers: int, dask_address: str | None = None
) -> Flow[..., Any]:
    """``flow`` with the task runner for ``runner`` (see ``task_runner_for``); the original is unchanged."""
    if is_dask_address(runner):
        runner, dask_address = "dask", runner.strip()
    return flow.with_options(task_runner=task_runner_for(runner, max_workers, dask_address))


def extraction_batch_size(documents: int, kind: str, max_workers: int, requested: int | None = None) -> int:
    """Documents per ``extract_batch`` task for ``documents`` to parse on a runner of ``kind``.

    A size the caller gives (``--batch-size``) is used as given on every runner: it is an explicit
    choice (finer progress, bounded memory per task, a known task count). Otherwise
    ``processes``/``dask``: about ``TASKS_PER_WORKER`` × ``max_workers`` tasks, at least 1 document
    each (a worker process or Dask worker pays for each task run, not for each document);
    ``threads``/``local``: ``DEFAULT_BATCH_SIZE`` (thread tasks share the flow's process, where a
    batch is mostly a unit of progress).
    """
    if requested:
        return max(1, int(requested))
    if kind in ("processes", "dask"):
        return max(1, -(-max(0, documents) // (TASKS_PER_WORKER * max(1, int(max_workers)))))
    return DEFAULT_BATCH_SIZE


def batches_of(items: list[Any], size: int) -> list[list[Any]]:
    """Consecutive chunks of at most ``size`` items."""
    size = max(1, int(size))
    return [items[i : i + size] for i in range(0, len(items), size)]
