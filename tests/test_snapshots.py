"""Readers never see a mixed warehouse: publishes are snapshots made current by one swap (issue 14, item 8).

Two generations of the sample set are staged: ``A`` (as extracted) and ``B`` (every publisher
renamed, one document re-filed under 1999: a partition that comes and goes), so every table of
every partition differs between them. A
reader's *fingerprint* (rows per table, document and publisher, read through ``xxgk.open``) must
always be A's or B's, whatever a publisher is doing: a mix of the two is exactly what the issue's
kill right after the commit point showed (``facts/year=2019`` new, the rest old).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

import xxgk
from tests.published import contents
from tests.snapshot_publisher import publish_forever
from xxgk.flows.extraction import staging_dir_of
from xxgk.flows.publishing import publish_staged
from xxgk.flows.snapshots import prune_snapshots
from xxgk.flows.tasks import extract_batch, load_documents
from xxgk.flows.transaction import SNAPSHOT_NOTE, TRANSACTIONS_DIR, PublishTransaction
from xxgk.warehouse import load_staged
from xxgk.warehouse.layout import CURRENT, SNAPSHOTS_DIR, current_snapshot, published_root
from xxgk.warehouse.schema import TABLE_NAMES, dataset_schema
from xxgk.warehouse.staging import stage_result

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MANIFEST = ROOT / "data" / "sample" / "manifest.yaml"
KILLS = 20
#: Documents of the sample set used: 4 year partitions, a source with two consecutive years
#: (cross-year checks), two sources in one partition; text, Markdown and HTML (quick to extract).
SAMPLE_FILES = {
    "changsha-chengdong_2020.txt",
    "changsha-chengdong_2021.txt",
    "chengdu-sci_2021.md",
    "hangzhou-xincheng_2023.txt",
    "nanning-jiangnan_2022.html",
}
SEED = 14
#: How long a test waits for a child publisher to start or pause before failing.
CHILD_TIMEOUT = 120.0

Fingerprint = tuple[tuple[str, tuple[tuple[tuple[str, ...], int], ...]], ...]


def fingerprint(data_dir: Path) -> Fingerprint:
    """Rows per (source, document, publisher) of every table, read as an analyst reads them."""
    wh = xxgk.open(data_dir)
    out = []
    for name in TABLE_NAMES:
        columns = [c for c in ("source_id", "document_sha256", "publisher") if c in dataset_schema(name).names]
        rows = Counter(tuple(r.values()) for r in wh.arrow(name, columns=columns).to_pylist())
        out.append((name, tuple(sorted(rows.items()))))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Generations:
    """Staged files of the two generations and the fingerprint of each, published alone."""

    a: list[str]
    b: list[str]
    fp_a: Fingerprint
    fp_b: Fingerprint
    reference_a: Path


@pytest.fixture(scope="module")
def generations(tmp_path_factory: pytest.TempPathFactory) -> Generations:
    base = tmp_path_factory.mktemp("generations")
    infos = [i for i in load_documents.fn(sources=str(SAMPLE_MANIFEST)) if Path(i.path).name in SAMPLE_FILES]
    assert len(infos) == len(SAMPLE_FILES)
    extract_batch.fn(infos, str(staging_dir_of(base / "a")))
    a = sorted(str(p) for p in staging_dir_of(base / "a").rglob("*.json.gz"))
    b = []
    for n, path in enumerate(a):
        doc = load_staged(path)
        info = replace(doc.info, publisher=f"{doc.info.publisher}（B）", year=1999 if n == 0 else doc.info.year)
        b.append(str(stage_result(staging_dir_of(base / "b"), info, doc.result, doc.extractor_version)))
    publish_staged(base / "ref-a", a)
    publish_staged(base / "ref-b", a)
    publish_staged(base / "ref-b", b)  # B as it is published over A
    fp_a, fp_b = fingerprint(base / "ref-a"), fingerprint(base / "ref-b")
    assert fp_a != fp_b and 1999 in set(xxgk.open(base / "ref-b").arrow("facts", columns=["year"])["year"].to_pylist())
    return Generations(a, sorted(b), fp_a, fp_b, base / "ref-a")


def _child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "XXGK_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), DO_NOT_TRACK="1", **extra)
    return env


# --------------------------------------------------------------------------- the snapshot layout


def test_publish_makes_a_snapshot_and_keeps_the_documented_paths(generations: Generations, tmp_path: Path) -> None:
    data = tmp_path / "data"
    publish_staged(data, generations.a)
    assert os.readlink(data / "warehouse") == f"{SNAPSHOTS_DIR}/{CURRENT}/warehouse"
    assert os.readlink(data / "validation") == f"{SNAPSHOTS_DIR}/{CURRENT}/validation"
    assert os.readlink(data / SNAPSHOTS_DIR / CURRENT) == "000001"
    assert (data / "warehouse" / "facts").is_dir() and (data / "validation" / "index.html").is_file()
    assert contents(data) == contents(generations.reference_a)
    opened = xxgk.open(data)
    assert opened.root == (data / SNAPSHOTS_DIR / "000001" / "warehouse").resolve()

    publish_staged(data, generations.b)
    assert current_snapshot(data) == data / SNAPSHOTS_DIR / "000002"
    assert fingerprint(data) == generations.fp_b
    # an analysis opened before the publish keeps reading its own snapshot, whole
    assert 1999 not in set(opened.arrow("reports", columns=["year"])["year"].to_pylist())


def test_unchanged_publish_makes_no_snapshot_and_old_ones_are_pruned(generations: Generations, tmp_path: Path) -> None:
    data = tmp_path / "data"
    for paths in (generations.a, generations.b, generations.a, generations.b):
        publish_staged(data, paths)
    publish_staged(data, generations.b)  # nothing to publish
    assert publish_staged(data, generations.b, force=True).changed == []  # same bytes: no new snapshot
    names = sorted(p.name for p in (data / SNAPSHOTS_DIR).iterdir())
    assert names == ["000002", "000003", "000004", CURRENT]  # the last 3 kept
    assert prune_snapshots(data, keep=1) == ["000002", "000003"]
    assert fingerprint(data) == generations.fp_b
    assert not (data / TRANSACTIONS_DIR).exists()


def test_a_plain_warehouse_directory_is_migrated_to_snapshots(generations: Generations, tmp_path: Path) -> None:
    """A data directory published before snapshots (plain directories) becomes the symlinked layout."""
    data = tmp_path / "data"
    for top in ("warehouse", "validation"):
        shutil.copytree(generations.reference_a / top, data / top)
    assert not (data / "warehouse").is_symlink()
    with PublishTransaction(data) as txn:
        (txn.root / "validation" / "extra.json").write_bytes(b"{}")
    assert (data / "warehouse").is_symlink() and (data / "validation" / "extra.json").is_file()
    assert fingerprint(data) == generations.fp_a
    assert sorted(p.name for p in (data / SNAPSHOTS_DIR).iterdir()) == ["000001", CURRENT]


# --------------------------------------------------------------------------- killed publishers

_PAUSED_CHILD = """
import sys
from xxgk.flows.publishing import publish_staged
publish_staged(sys.argv[1], sys.argv[2:])
"""


def test_reader_past_the_commit_point_sees_the_whole_new_state(generations: Generations, tmp_path: Path) -> None:
    """Regression (item 8): killed right after its commit point, a publish left some tables new and
    the rest old until the next run, and a reader saw facts without their reports."""
    data = tmp_path / "data"
    publish_staged(data, generations.a)
    marker = tmp_path / "paused"
    env = _child_env(tmp_path, XXGK_TEST_PAUSE_AT="commit", XXGK_TEST_PAUSE_FILE=str(marker))
    cmd = [sys.executable, "-c", _PAUSED_CHILD, str(data), *generations.b]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + CHILD_TIMEOUT
        while not (marker.is_file() and marker.read_text(encoding="utf-8")):
            assert proc.poll() is None, (proc.stdout.read() if proc.stdout else b"").decode(errors="replace")
            assert time.monotonic() < deadline, "the publish never reached its commit point"
            time.sleep(0.05)
        seen = fingerprint(data)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
    assert seen == generations.fp_b
    assert fingerprint(data) == generations.fp_b
    publish_staged(data, generations.b)  # settles the killed run's leftovers
    assert fingerprint(data) == generations.fp_b and not (data / TRANSACTIONS_DIR).exists()


class Reader(threading.Thread):
    """Polls the warehouse as an analyst would and records any state that is neither A nor B."""

    def __init__(self, data: Path, allowed: tuple[Fingerprint, Fingerprint]) -> None:
        super().__init__(daemon=True)
        self.data, self.allowed = data, allowed
        self.stop = threading.Event()
        self.reads = 0
        self.pruned_under_it = 0
        self.bad: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            root = published_root(self.data)
            try:
                seen = fingerprint(self.data)
            except OSError as err:
                if root.exists():
                    self.bad.append(f"read {self.reads}: {err!r}")
                else:
                    self.pruned_under_it += 1  # its snapshot was older than the last N: read again
                continue
            self.reads += 1
            if seen not in self.allowed:
                self.bad.append(f"read {self.reads}: a state that is neither generation")
            time.sleep(0.01)  # leave the publisher some CPU


@pytest.fixture
def publishers() -> Iterator[multiprocessing.context.ForkServerContext]:
    """Processes forked from a server that imported the publisher once (``tests.snapshot_publisher``)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.snapshot_publisher"])
    yield ctx
    for child in multiprocessing.active_children():
        child.kill()
        child.join()


def test_a_reader_polling_during_20_random_kills_never_sees_a_mixed_state(
    generations: Generations, tmp_path: Path, publishers: multiprocessing.context.ForkServerContext
) -> None:
    """Done-when of issue 14: a publisher looping A, B, A, ... is SIGKILLed 20 times at seeded random
    moments while a reader thread polls; every read and every state at rest is A or B whole."""
    data = tmp_path / "data"
    start = time.perf_counter()
    publish_staged(data, generations.a)
    cycle = time.perf_counter() - start  # one publish of every document, on this machine now
    allowed = (generations.fp_a, generations.fp_b)
    rng = random.Random(SEED)
    reader = Reader(data, allowed)
    reader.start()
    phases: Counter[str] = Counter()
    try:
        for n in range(KILLS):
            child = publishers.Process(target=publish_forever, args=(str(data), [generations.a, generations.b], n + 1))
            child.start()
            time.sleep(rng.uniform(0.0, 1.5 * cycle))
            assert child.is_alive(), f"the publisher exited with {child.exitcode}"
            os.kill(child.pid, signal.SIGKILL)
            child.join(timeout=CHILD_TIMEOUT)
            assert child.exitcode == -signal.SIGKILL
            phases[_phase(data)] += 1
            assert fingerprint(data) in allowed, f"kill {n + 1}: the state at rest is mixed"
    finally:
        reader.stop.set()
        reader.join(timeout=CHILD_TIMEOUT)
    assert reader.bad == []
    assert reader.reads >= KILLS
    assert phases["inside a publish"] + phases["after its swap"] >= 1, phases  # the window was hit

    publish_staged(data, generations.a)  # settles the last kill, then publishes A
    assert contents(data) == contents(generations.reference_a)  # byte-identical to a clean publish
    assert not (data / TRANSACTIONS_DIR).exists()
    assert len([p for p in (data / SNAPSHOTS_DIR).iterdir() if p.name != CURRENT]) <= 3
    print(f"kills by phase {dict(phases)}; reads {reader.reads}; re-reads after a prune {reader.pruned_under_it}")


def _phase(data: Path) -> str:
    """Where the kill landed: between publishes, inside one (shadow being written), or past its swap."""
    base = data / TRANSACTIONS_DIR
    leftovers = [p for p in base.iterdir() if p.is_dir()] if base.is_dir() else []
    if not leftovers:
        return "between publishes"
    current = current_snapshot(data)
    notes = [(p / SNAPSHOT_NOTE).read_text(encoding="utf-8") for p in leftovers if (p / SNAPSHOT_NOTE).is_file()]
    return "after its swap" if current is not None and current.name in notes else "inside a publish"
