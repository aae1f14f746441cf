"""Running hostile cases under limits: each bad file alone (a forked child), all of them in one
``xxgk extract`` beside a good report, and the hostile server's tricks against the fetcher.

Limits per case: address space ``MEMORY_LIMIT`` (``resource.setrlimit(RLIMIT_AS)`` in the child)
and ``TIME_LIMIT`` seconds (SIGALRM / a subprocess timeout). A case ends within its limits with
a status and reason, or the table says how it did not (``killed: ...``, ``crash: ...``).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from xxgk.bench.hostile.files import BadFile

MEMORY_LIMIT = 1 << 30
TIME_LIMIT = 60
#: Progress line of a finished batch: ``batch 3 done (1 documents, 1 extracted, 0.3 s): 3/27``.
_BATCH_DONE = "batch "


@dataclass(slots=True)
class Outcome:
    """How one case ended: ``status`` (a document status, a fetch error kind, ``killed``,
    ``crash``) and ``reason``, wall seconds and the child's peak RSS in MB."""

    case: str
    tries: str
    status: str
    reason: str
    seconds: float
    peak_rss_mb: float
    expected: bool = True

    def within_limits(self) -> bool:
        return self.seconds <= TIME_LIMIT and self.peak_rss_mb <= MEMORY_LIMIT / (1 << 20) and self.expected


def limit_memory(limit: int = MEMORY_LIMIT) -> None:
    """``preexec_fn``/child hook: cap the address space (a bomb gets MemoryError, not the machine)."""
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def in_child(
    work: Callable[[], dict[str, Any]], *, memory: int = MEMORY_LIMIT, seconds: int = TIME_LIMIT
) -> tuple[dict[str, Any], float, float]:
    """Run ``work`` in a forked child under the limits: (its JSON answer, wall seconds, peak RSS MB).

    A child killed by the time limit or the kernel answers ``{"status": "killed", ...}``; an
    exception escaping ``work`` is ``{"status": "crash", ...}``.
    """
    read_end, write_end = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        code = 0
        try:
            limit_memory(memory)
            signal.alarm(seconds)
            answer = work()
        except BaseException as exc:  # the child reports whatever escaped (MemoryError too), then exits
            answer = {"status": "crash", "reason": f"{type(exc).__name__}: {exc}"[:300]}
            code = 1
        with os.fdopen(write_end, "w") as out:
            json.dump(answer, out)
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    peak = usage.ru_maxrss / 1024
    if text:
        return json.loads(text), elapsed, peak
    if os.WIFSIGNALED(status):
        sig = signal.Signals(os.WTERMSIG(status)).name
        why = "time limit" if sig == "SIGALRM" else "memory (kernel)" if sig == "SIGKILL" else sig
        return {"status": "killed", "reason": f"{sig}: {why}"}, elapsed, peak
    return {"status": "crash", "reason": f"exit status {os.waitstatus_to_exitcode(status)}, no answer"}, elapsed, peak


def warm_up() -> None:
    """Import every reader once in the parent, so a forked child's time is the case's, not imports'."""
    from xxgk.bench.hostile.files import good_document
    from xxgk.extractors import extract_document

    name, data = good_document()
    extract_document(data, name)
    for module in ("xxgk.extractors.pdf", "xxgk.extractors.office", "xxgk.extractors.sheets", "xxgk.extractors.docx"):
        __import__(module)


def run_files(cases: Iterable[BadFile]) -> list[Outcome]:
    """Each bad file through ``extract_document`` in its own limited child."""
    from xxgk.extractors import extract_document

    warm_up()
    outcomes = []
    for bad in cases:

        def work(bad: BadFile = bad) -> dict[str, Any]:
            result = extract_document(bad.data, os.fsdecode(bad.fs_name))
            return {"status": result.status, "reason": result.reason}

        answer, seconds, peak = in_child(work)
        status = str(answer.get("status"))
        outcomes.append(
            Outcome(bad.case, bad.tries, status, str(answer.get("reason", "")), seconds, peak, status in bad.expect)
        )
    return outcomes


# --------------------------------------------------------------------------------------------
# The real CLI: every case and the good report in one `xxgk extract`
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class CliRun:
    """One ``xxgk extract`` run: exit code, JSON summary, wall seconds, per-batch seconds."""

    returncode: int
    summary: dict[str, Any]
    seconds: float
    batch_seconds: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    stderr: str = ""


class HighWaterMark:
    """Polls ``VmHWM`` (peak RSS) of a running process every ``interval`` s; ``peak_kb`` is the last seen.

    ``ru_maxrss`` of a child carries the forking parent's peak over exec, so it is read from
    ``/proc`` instead; VmHWM only grows, so the last sample misses at most one interval's growth.
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        path = f"/proc/{self.pid}/status"
        while not self._stop.is_set():
            try:
                with open(path) as status:
                    line = next((ln for ln in status if ln.startswith("VmHWM:")), None)
            except OSError:
                return
            if line is not None:
                self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            self._stop.wait(self.interval)

    def __enter__(self) -> HighWaterMark:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def xxgk_command() -> list[str]:
    """The installed ``xxgk`` console script beside this interpreter (else ``-m xxgk.flows.cli``)."""
    script = Path(sys.executable).with_name("xxgk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "xxgk.flows.cli"]


def run_extract(inputs: Path, out: Path, *, timeout: float) -> CliRun:
    """``xxgk extract INPUTS -o OUT --json --batch-size 1`` in a subprocess under ``MEMORY_LIMIT``.

    One document per batch, so the progress lines give every document's seconds.
    """
    cmd = [
        *xxgk_command(),
        "extract",
        str(inputs),
        "-o",
        str(out),
        "--json",
        "--batch-size",
        "1",
        "--runner",
        "threads",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit_memory)
    with HighWaterMark(proc.pid) as hwm:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    done = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    peak = hwm.peak_kb / 1024
    try:
        summary = json.loads(done.stdout[done.stdout.index("{") :])
    except ValueError:
        summary = {}
    batches = [
        float(line.rsplit(", ", 1)[1].split(" s)")[0])
        for line in done.stderr.splitlines() + done.stdout.splitlines()
        if _BATCH_DONE in line and " done (" in line and " s)" in line
    ]
    return CliRun(done.returncode, summary, seconds, batches, peak, done.stderr)


def read_rows(warehouse: Path, table: str) -> list[dict[str, Any]]:
    """Every row of a warehouse table (all year partitions), as dicts."""
    folder = warehouse / table
    if not folder.exists():
        return []
    rows: list[dict[str, Any]] = []
    for part in sorted(folder.rglob("*.parquet")):
        rows.extend(pq.read_table(part).to_pylist())
    return rows


def facts_bytes(warehouse: Path, document_sha256: str) -> bytes:
    """The published facts of one document, in fact order, as canonical JSON bytes."""
    rows = [r for r in read_rows(warehouse, "facts") if r["document_sha256"] == document_sha256]
    rows.sort(key=lambda r: (r["is_derived"], r["fact_index"], r["table"], r["row_key"], r["column_key"]))
    return json.dumps(rows, sort_keys=True, ensure_ascii=False, default=str).encode()


def write_cases(folder: Path, cases: Iterable[BadFile]) -> None:
    """Write every case's file into ``folder`` under its (possibly odd, possibly non-UTF-8) name."""
    folder.mkdir(parents=True, exist_ok=True)
    for bad in cases:
        with open(os.path.join(os.fsencode(folder), bad.fs_name), "wb") as f:
            f.write(bad.data)


def published_name(bad: BadFile) -> str:
    """The file name as the reports table publishes it (a non-UTF-8 name with ``\\xNN`` escapes)."""
    from xxgk.flows.inputs import path_text

    return path_text(os.fsdecode(bad.fs_name))


@dataclass(slots=True)
class MixedRun:
    """Every case and the good report in one ``xxgk extract``, and the good report alone."""

    run: CliRun
    clean: CliRun
    #: file name (as written, decoded with os.fsdecode) → (status, reason) of its reports row
    reports: dict[str, tuple[str, str]]
    good_facts: bytes
    clean_facts: bytes

    def missing(self, cases: Iterable[BadFile]) -> list[str]:
        """Cases without a reports row (a document the run lost)."""
        return [bad.case for bad in cases if published_name(bad) not in self.reports]

    def outcome(self, n_cases: int) -> Outcome:
        identical = bool(self.good_facts) and self.good_facts == self.clean_facts
        statuses = Counter(status for status, _ in self.reports.values())
        reason = (
            f"exit {self.run.returncode}; good report's facts byte-identical to a clean run: "
            f"{'yes' if identical else 'NO'}; {len(self.reports)}/{n_cases + 1} documents with a status "
            f"({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}); "
            f"slowest {max(self.run.batch_seconds, default=0):.1f} s"
        )
        ok = self.run.returncode == 0 and identical and len(self.reports) == n_cases + 1
        return Outcome(
            "xxgk extract (all + good)",
            "one run, 1 document per batch",
            "done" if ok else "broken",
            reason,
            self.run.seconds,
            self.run.peak_rss_mb,
            ok,
        )


def mixed_run(cases: list[BadFile], folder: Path, *, timeout: float = 900) -> MixedRun:
    """``xxgk extract`` of every case beside the good report, then of the good report alone."""
    from xxgk.bench.hostile.files import good_document

    name, good = good_document()
    inputs = folder / "inputs"
    write_cases(inputs, cases)
    (inputs / name).write_bytes(good)
    alone = folder / "alone"
    alone.mkdir(parents=True, exist_ok=True)
    (alone / name).write_bytes(good)
    run = run_extract(inputs, folder / "out", timeout=timeout)
    clean = run_extract(alone, folder / "out-alone", timeout=timeout)
    rows = read_rows(folder / "out" / "warehouse", "reports")
    reports = {os.path.basename(str(r["path"])): (str(r["status"]), str(r["reason"] or "")) for r in rows}
    sha = hashlib.sha256(good).hexdigest()
    return MixedRun(
        run,
        clean,
        reports,
        facts_bytes(folder / "out" / "warehouse", sha),
        facts_bytes(folder / "out-alone" / "warehouse", sha),
    )


# --------------------------------------------------------------------------------------------
# The hostile server's tricks, each fetched alone
# --------------------------------------------------------------------------------------------


#: The fetch of one URL in a fresh interpreter (a forked child would inherit the server's address space).
_FETCH_CHILD = """
import json, sys
from xxgk.harvest.fetch import FetchConfig, Fetcher, FetchError
with Fetcher(FetchConfig.for_tests(obey_robots=False)) as fetcher:
    try:
        got = fetcher.get(sys.argv[1])
        out = {"status": "fetched", "reason": f"{len(got.content)} bytes"}
    except FetchError as exc:
        out = {"status": exc.kind, "reason": str(exc.detail)}
    except MemoryError as exc:
        out = {"status": "crash", "reason": f"MemoryError: {exc}"}
out["vm_hwm_kb"] = int(next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")).split()[1])
print(json.dumps(out))
"""


def in_subprocess(args: list[str], *, seconds: int = TIME_LIMIT) -> tuple[dict[str, Any], float, float]:
    """``python -c`` ``args`` under ``MEMORY_LIMIT`` and ``seconds``: (last JSON line, wall seconds, peak RSS MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=limit_memory
    )
    timer = threading.Timer(seconds, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        text = proc.stdout.read().decode("utf-8", "replace")
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        timer.cancel()
    elapsed, peak = time.perf_counter() - start, usage.ru_maxrss / 1024
    lines = text.strip().splitlines()
    if lines:
        answer = json.loads(lines[-1])
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent
        return answer, elapsed, answer.pop("vm_hwm_kb", peak * 1024) / 1024
    return {"status": "killed" if proc.returncode < 0 else "crash", "reason": f"exit {proc.returncode}"}, elapsed, peak


def run_server() -> list[Outcome]:
    """Every route of ``bench.hostile.server`` fetched once, each by a fresh limited interpreter."""
    from xxgk.bench.hostile.server import ROUTES, HostileServer, gzip_zeros

    outcomes = []
    with HostileServer() as server:
        gzip_zeros(server.bomb_bytes)
        for path, tries in ROUTES.items():
            answer, seconds, peak = in_subprocess([_FETCH_CHILD, server.url(path)])
            status = str(answer.get("status"))
            expected = status not in {"killed", "crash"}
            outcomes.append(
                Outcome(f"server {path}", tries, status, str(answer.get("reason", "")), seconds, peak, expected)
            )
    return outcomes


def table(outcomes: Iterable[Outcome]) -> str:
    """The Markdown table case → outcome, seconds, peak RSS, within limits."""
    lines = [
        "| case | tries | outcome | s | peak RSS MB | ok |",
        "|---|---|---|---:|---:|---|",
    ]
    for o in outcomes:
        reason = " ".join(o.reason.split())
        reason = reason if len(reason) <= 160 else reason[:157] + "..."
        outcome = f"{o.status}: {reason}" if reason else o.status
        mark = "yes" if o.within_limits() else "**NO**"
        lines.append(
            f"| {o.case} | {o.tries} | {outcome.replace('|', '/')} | {o.seconds:.1f} | {o.peak_rss_mb:.0f} | {mark} |"
        )
    return "\n".join(lines)


__all__ = [
    "MEMORY_LIMIT",
    "TIME_LIMIT",
    "CliRun",
    "Outcome",
    "facts_bytes",
    "in_child",
    "read_rows",
    "run_extract",
    "run_files",
    "run_server",
    "table",
    "write_cases",
]
