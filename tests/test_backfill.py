"""Backfills, incremental runs and all-or-nothing publishing (flows/backfill.py, flows/transaction.py).

The demo portal (sample set + demo sites with their faults) is harvested once into a data
directory ``A`` for the module (in-process, no Prefect). Its archive is then copied elsewhere and
backfilled without network; the tables must equal A's byte for byte. A backfill started as a
subprocess is SIGKILLed at named points (``XXGK_TEST_PAUSE_AT``: mid-extract, mid-publish, past
the commit point): the published files must be exactly the old ones (or, past the commit point,
exactly the new ones), and the next run must give the clean run's tables.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault(
    "PREFECT_HOME",
    str(Path(tempfile.gettempdir()) / f"xxgk-test-prefect-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"),
)

from tests.published import RUN_HISTORY, contents, snapshot
from xxgk.demo import Portal, SampleDocument, demo_run_spec, portal_sources, sample_sources, serve_portal
from xxgk.flows import extraction, prefect_api, tasks, transaction
from xxgk.flows.archive_index import (
    NOT_ARCHIVED,
    OfflineFetcher,
    archived_source,
    archived_source_ids,
    final_urls,
    replay_source,
)
from xxgk.flows.backfill import publish_scope, run_backfill, select_backfill
from xxgk.flows.extraction import DocumentOutcome
from xxgk.flows.harvesting import HarvestPlan, archive_dir_of
from xxgk.flows.inputs import InputError
from xxgk.flows.pipeline import run_pipeline
from xxgk.flows.source_records import record_sources
from xxgk.flows.summary import RunSummary
from xxgk.flows.transaction import JOURNAL, SNAPSHOT_NOTE, TRANSACTIONS_DIR, PublishTransaction, recover_publish
from xxgk.harvest import FetchConfig, FetchError, RawArchive, Source, SourceState, UrlState
from xxgk.warehouse import load_staged

ROOT = Path(__file__).resolve().parents[1]
N_DOCUMENTS = 26  # the sample set's 16 documents + the demo sites' 10 reports
KILL_TIMEOUT = 120.0


def table_rows(data_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every Parquet table's rows with their partition year, sorted: the content, whatever the bytes."""
    import pyarrow.parquet as pq

    tables: dict[str, list[dict[str, Any]]] = {}
    for name in ("facts", "reports", "checks", "unmapped"):
        rows: list[dict[str, Any]] = []
        for part in sorted((data_dir / "warehouse" / name).glob("year=*/part-0.parquet")):
            year = int(part.parent.name.removeprefix("year="))
            rows += [{**r, "_partition": year} for r in pq.read_table(part).to_pylist()]
        tables[name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return tables


def archive_state(archive: Path) -> dict[str, bytes]:
    return {str(p.relative_to(archive)): p.read_bytes() for p in sorted(archive.rglob("*")) if p.is_file()}


@dataclass
class Harvested:
    """The module's demo portal and a data directory harvested from it."""

    portal: Portal
    base: str
    samples: list[SampleDocument]
    data: Path
    summary: RunSummary

    def plan(self, data_dir: Path) -> HarvestPlan:
        spec_sources = sample_sources(self.base, self.samples) + portal_sources(self.base)
        return HarvestPlan(spec_sources, str(archive_dir_of(data_dir)), _config(), label="test portal")


def _config() -> FetchConfig:
    return FetchConfig.for_tests(read_timeout=1.0)


@pytest.fixture(scope="module", autouse=True)
def _stop_prefect_api() -> Iterator[None]:
    yield
    prefect_api.stop_api()


@pytest.fixture(scope="module")
def harvested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harvested]:
    spec, samples = demo_run_spec(slow_seconds=2.0, retry_after=0.2)
    data = tmp_path_factory.mktemp("fresh") / "data"
    with serve_portal(spec) as (portal, base):
        sources = sample_sources(base, samples) + portal_sources(base)
        plan = HarvestPlan(sources, str(archive_dir_of(data)), _config(), label="test portal", portal=base)
        summary = run_pipeline(harvest=plan, data_dir=data, orchestrate=False)
        assert summary.documents == N_DOCUMENTS and summary.by_action == {"extracted": N_DOCUMENTS}
        yield Harvested(portal, base, samples, data, summary)


def copy_of(src: Path, dst: Path, parts: tuple[str, ...] = ("archive",)) -> Path:
    """A new data directory holding ``parts`` of ``src`` (copied, so ``src`` is never changed)."""
    dst.mkdir(parents=True)
    for part in parts:
        if (src / part).exists():
            shutil.copytree(src / part, dst / part)
    return dst


def _backfill(data: Path, **kwargs: Any) -> tuple[RunSummary, list[DocumentOutcome]]:
    outcomes: list[DocumentOutcome] = []
    remove = tasks.add_progress_listener(lambda _d, _t, batch: outcomes.extend(batch.documents if batch else []))
    try:
        return run_backfill(data, orchestrate=False, **kwargs), outcomes
    finally:
        remove()


# --------------------------------------------------------------------------- backfill = fresh run


def test_backfill_from_the_archive_equals_the_fresh_run(harvested: Harvested, tmp_path: Path) -> None:
    b = copy_of(harvested.data, tmp_path / "b")
    archive_before = archive_state(b / "archive")
    served = len(harvested.portal.requests)
    summary, _ = _backfill(b)
    assert len(harvested.portal.requests) == served  # not one request: the archive alone
    assert archive_state(b / "archive") == archive_before  # no log line, no validator touched
    assert summary.by_action == {"extracted": N_DOCUMENTS} and summary.internal_errors == 0
    assert summary.archive == str(b / "archive") and "no network" in summary.inputs
    # every table row for row, and the files byte for byte (the writer is deterministic)
    assert table_rows(b) == table_rows(harvested.data)
    assert contents(b) == contents(harvested.data)
    assert not (b / TRANSACTIONS_DIR).exists()
    # the replay reports what the archive lacks, per source, like the harvest did
    by_id = {s.source_id: s for s in summary.sources}
    assert by_id["demo-dept"].status == "layout_changed"
    assert {p.kind for p in by_id["demo-city"].problems} == {NOT_ARCHIVED}
    assert sum(s.requests for s in summary.sources) == 0

    # a second backfill parses nothing and rewrites nothing; --force-extract parses everything
    # again and still rewrites nothing (same bytes)
    published = snapshot(b)
    again, _ = _backfill(b)
    assert again.by_action == {"reused": N_DOCUMENTS}
    assert (again.files_written, again.files_removed) == (0, 0)
    forced, _ = _backfill(b, force=True)
    assert forced.by_action == {"extracted": N_DOCUMENTS}
    assert snapshot(b) == published


def test_the_replay_logs_one_line_and_the_troubled_sources(
    harvested: Harvested, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: the replay logged a line per source (under Prefect one API log record each)."""
    b = copy_of(harvested.data, tmp_path / "b")
    with caplog.at_level(logging.INFO, logger="xxgk"):
        summary, _ = _backfill(b)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert sum(line.startswith("archive replay 1/1 done") for line in lines) == 1
    troubled = {s.source_id for s in summary.sources if s.failed or s.problems}
    quiet = {s.source_id for s in summary.sources} - troubled
    assert troubled and quiet
    per_source = [line for line in lines if line.startswith("source ")]
    assert {line.split()[1].rstrip(":") for line in per_source} == troubled


def test_a_new_extractor_version_reextracts_everything_once(
    harvested: Harvested, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Incremental runs: only a new extractor version (or changed bytes) makes a run parse again."""
    c = copy_of(harvested.data, tmp_path / "c", ("archive", "staging", "warehouse", "validation"))
    plan = harvested.plan(c)
    unchanged = run_pipeline(harvest=plan, data_dir=c, orchestrate=False)
    assert unchanged.by_action == {"reused": N_DOCUMENTS}  # conditional requests, nothing parsed
    assert (unchanged.files_written, unchanged.files_removed) == (0, 0)
    before = snapshot(c)

    monkeypatch.setattr(extraction, "EXTRACTOR_VERSION", "9.9.9-test")
    bumped = run_pipeline(harvest=plan, data_dir=c, orchestrate=False)
    assert bumped.by_action == {"extracted": N_DOCUMENTS}
    assert bumped.extractor_version == "9.9.9-test"
    after = snapshot(c)
    reports = {k for k in after if k.startswith("warehouse/reports/")}
    assert reports and all(after[k][0] != before[k][0] for k in reports)  # every partition republished
    rows = table_rows(c)
    assert {r["extractor_version"] for name in ("facts", "reports") for r in rows[name]} == {"9.9.9-test"}

    steady = run_pipeline(harvest=plan, data_dir=c, orchestrate=False)
    assert steady.by_action == {"reused": N_DOCUMENTS}
    assert snapshot(c) == after
    # a backfill under the new version reuses those results too
    assert _backfill(c)[0].by_action == {"reused": N_DOCUMENTS}


def test_backfill_of_some_years_and_sources_rewrites_only_those(
    harvested: Harvested, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = copy_of(harvested.data, tmp_path / "d", ("archive", "staging", "warehouse", "validation"))
    before = snapshot(d)
    old_rows = table_rows(d)
    monkeypatch.setattr(extraction, "EXTRACTOR_VERSION", "9.9.9-test")
    summary, outcomes = _backfill(d, years=[2021, 2022], sources="demo-county,changsha-chengdong")
    assert sorted((o.source_id, o.year) for o in outcomes) == [
        ("changsha-chengdong", 2021),
        ("demo-county", 2021),
        ("demo-county", 2022),
    ]
    assert summary.by_action == {"extracted": 3}
    after = snapshot(d)
    changed = {k for k in after if k not in before or after[k] != before[k]} | (set(before) - set(after))
    allowed_warehouse = {f"warehouse/{t}/year={y}/part-0.parquet" for t in ("facts", "reports") for y in (2021, 2022)}
    assert allowed_warehouse <= changed
    for key in changed:
        if key.startswith("warehouse/"):
            # the years' partitions, and the next year's cross-year checks
            assert "/year=2021/" in key or "/year=2022/" in key or key == "warehouse/checks/year=2023/part-0.parquet"
        else:
            assert key.startswith(
                ("validation/demo-county/202", "validation/changsha-chengdong/2021", "validation/index")
            ) or key in RUN_HISTORY
    # every other source's rows are exactly as they were, in every table
    new_rows = table_rows(d)
    for name, rows in new_rows.items():
        keep = [r for r in rows if not _backfilled(r)]
        assert keep == [r for r in old_rows[name] if not _backfilled(r)], name
        assert {r["extractor_version"] for r in rows if _backfilled(r) and "extractor_version" in r} <= {"9.9.9-test"}


def _backfilled(row: dict[str, Any]) -> bool:
    return (row["source_id"], row["_partition"]) in {
        ("demo-county", 2021),
        ("demo-county", 2022),
        ("changsha-chengdong", 2021),
    }


def test_publish_scope_rebuilds_only_when_the_backfill_covers_every_source(harvested: Harvested) -> None:
    data = harvested.data
    everything = set(archived_source_ids(data / "archive"))
    ok = [DocumentOutcome("demo-county", "0" * 64, None, "reused", staged="x", year=2021)]
    years, replace, warnings = publish_scope(data, [2021], everything, ok)
    assert (years, replace, warnings) == ([2021], True, [])
    years, replace, warnings = publish_scope(data, [2021, 2022], {"demo-county"}, ok)
    assert (years, replace) == ([2021, 2022], False)
    assert len(warnings) == 1 and warnings[0].startswith("demo-county 2022: no document now")
    all_years, replace, _ = publish_scope(data, None, everything, ok)
    assert replace and set(all_years) >= {2019, 2020, 2021, 2022, 2023, 2024}


def test_backfill_with_refetch_takes_a_changed_report(tmp_path: Path) -> None:
    spec, _samples = demo_run_spec()
    spec.faults = {}
    data = tmp_path / "data"
    with serve_portal(spec) as (portal, base):
        sources = [s for s in portal_sources(base) if s.source_id == "demo-county"]
        plan = HarvestPlan(sources, str(archive_dir_of(data)), _config(), label="test portal")
        first = run_pipeline(harvest=plan, data_dir=data, orchestrate=False)
        n = first.documents
        assert first.by_action == {"extracted": n} and n >= 4
        before = snapshot(data)
        portal.change_report("county", 2023)
        offline, _ = _backfill(data, sources="demo-county")
        assert offline.by_action == {"reused": n}  # the archive has not seen the change
        served = len(portal.requests)
        summary, outcomes = _backfill(data, sources="demo-county", years=[2023], refetch=True)
        assert len(portal.requests) > served
    assert [(o.source_id, o.year, o.action) for o in outcomes] == [("demo-county", 2023, "extracted")]
    assert [(s.source_id, s.changed) for s in summary.sources] == [("demo-county", 1)]
    after = snapshot(data)
    changed = {k for k in after if after[k] != before.get(k)}
    assert {"warehouse/facts/year=2023/part-0.parquet", "warehouse/reports/year=2023/part-0.parquet"} <= changed
    assert all(
        "/year=2023/" in k or k.endswith("checks/year=2024/part-0.parquet") or k.startswith("validation/")
        for k in changed
    )
    result = load_staged(outcomes[0].staged).result
    expected = portal.expected_reports()[("county", 2023)]
    assert {(f.table, f.row_key, f.column_key): f.raw_text for f in result.facts} == {
        (str(e["table"]), str(e["row_key"]), str(e["column_key"])): str(e["raw_text"])
        for e in expected.expected_facts()
    }
    reports = [r for r in table_rows(data)["reports"] if (r["source_id"], r["_partition"]) == ("demo-county", 2023)]
    assert [r["document_sha256"] for r in reports] == [outcomes[0].document_sha256]


# --------------------------------------------------------------------------- choosing what to backfill


def test_select_backfill_sources(harvested: Harvested, tmp_path: Path) -> None:
    archive = harvested.data / "archive"
    everything = select_backfill(archive)
    assert sorted(s.source_id for s in everything.sources) == archived_source_ids(archive)
    assert len(everything.sources) == 13 and everything.documents_file is None
    picked = select_backfill(archive, "demo-city, demo-county")
    assert [s.source_id for s in picked.sources] == ["demo-city", "demo-county"]
    assert picked.sources[0] == next(s for s in harvested.plan(tmp_path).sources if s.source_id == "demo-city")
    listing = tmp_path / "ids.txt"
    listing.write_text("# two of them\ndemo-county\nkunming-gaoxin  # a sample source\n", encoding="utf-8")
    assert [s.source_id for s in select_backfill(archive, str(listing)).sources] == ["demo-county", "kunming-gaoxin"]
    registry = ROOT / "data" / "sources.yaml"  # its demo entries are in the archive, resolved
    assert [s.source_id for s in select_backfill(archive, str(registry)).sources] == [
        "demo-city",
        "demo-county",
        "demo-office",
        "demo-dept",
    ]
    documents = select_backfill(archive, str(ROOT / "data" / "sample" / "manifest.yaml"))
    assert documents.sources == [] and documents.documents_file
    with pytest.raises(InputError, match="no recorded definition of nope"):
        select_backfill(archive, "demo-city,nope")
    with pytest.raises(InputError, match="holds no harvested source"):
        select_backfill(tmp_path / "empty-archive")


def test_source_records_round_trip(tmp_path: Path) -> None:
    source = Source(
        source_id="x-1",
        publisher="某县人民政府",
        listing_urls=("http://gov.example/nb/",),
        allowed_hosts=("gov.example",),
        extra={"since": "2020"},
    )
    assert record_sources(tmp_path, [source]) == [tmp_path / "sources" / "x-1.json"]
    assert record_sources(tmp_path, [source]) == []  # unchanged: not rewritten
    assert archived_source(tmp_path, "x-1") == source
    assert archived_source(tmp_path, "missing") is None


def test_final_urls_follow_redirects_from_the_fetch_log() -> None:
    log = [
        {"url": "http://a/1", "kind": "report", "status": 200, "final_url": "http://a/1", "sha256": "s1"},
        {"url": "http://a/2", "kind": "report", "status": 301, "location": "/moved/2"},
        {"url": "http://a/moved/2", "kind": "report", "status": 200, "final_url": "http://a/moved/2", "sha256": "s2"},
        {"url": "http://a/3", "kind": "report", "status": 200, "final_url": "http://a/3", "sha256": "s3"},
        {"url": "http://a/3", "kind": "report", "status": 302, "location": "http://a/three"},  # redirects now
        {"url": "http://a/three", "kind": "report", "status": 304, "final_url": "http://a/three", "sha256": "s3"},
        {"url": "http://a/robots.txt", "kind": "robots", "status": 200, "final_url": "x", "sha256": "r"},
    ]
    finals = final_urls(log)
    assert finals["http://a/1"] == "http://a/1"
    assert finals["http://a/2"] == "http://a/moved/2"
    assert finals["http://a/3"] == "http://a/three"
    assert "http://a/robots.txt" not in finals


def test_offline_fetcher_answers_only_from_the_archive(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path)
    sha, _ = archive.put(b"<html>listing</html>")
    state = SourceState("s", urls={"http://a/": UrlState(sha256=sha), "http://a/gone": UrlState(sha256="0" * 64)})
    fetcher = OfflineFetcher(state, archive, {"http://a/": "http://a/index.html"})
    result = fetcher.get("http://a/", etag="x")
    assert (result.status, result.not_modified, result.final_url, result.content) == (
        304,
        True,
        "http://a/index.html",
        None,
    )
    for url in ("http://a/gone", "http://a/never"):  # bytes missing / never fetched
        with pytest.raises(FetchError) as info:
            fetcher.get(url)
        assert info.value.kind == NOT_ARCHIVED


def test_replay_of_a_source_missing_from_the_archive_is_a_failed_source(tmp_path: Path) -> None:
    source = Source(source_id="nothing", publisher="某局", listing_urls=("http://gov.example/nb/",))
    replay = replay_source(source, tmp_path / "archive", tmp_path)
    assert replay.documents == []
    assert (replay.source.status, replay.source.failed) == ("failed", True)
    assert "not_archived" in replay.source.reason


# --------------------------------------------------------------------------- the publish transaction


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


OLD = {
    "warehouse/facts/year=2020/part-0.parquet": b"facts 2020",
    "warehouse/reports/year=2020/part-0.parquet": b"reports 2020",
    "warehouse/facts/year=2021/part-0.parquet": b"facts 2021",
    "warehouse/reports/year=2021/part-0.parquet": b"reports 2021",
    "validation/a/2020.json": b"{}",
    "validation/index.html": b"index",
}


def test_transaction_commits_changes_and_removals_only(tmp_path: Path) -> None:
    _tree(tmp_path, OLD)
    before = snapshot(tmp_path)
    with PublishTransaction(tmp_path) as txn:
        root = txn.root
        assert contents(root) == contents(tmp_path)  # the shadow starts as the published files
        os.replace(_write(root / "new.tmp", b"facts 2021 v2"), root / "warehouse/facts/year=2021/part-0.parquet")
        for rel in ("warehouse/facts/year=2020/part-0.parquet", "warehouse/reports/year=2020/part-0.parquet"):
            (root / rel).unlink()
        _write(root / "validation/b/2021.json", b"{}")
        assert snapshot(tmp_path) == before  # nothing visible before the commit
    assert txn.result.replaced == ["warehouse/facts/year=2021/part-0.parquet", "validation/b/2021.json"]
    assert txn.result.removed == [
        "warehouse/reports/year=2020/part-0.parquet",
        "warehouse/facts/year=2020/part-0.parquet",
    ]
    after = snapshot(tmp_path)
    assert after["warehouse/facts/year=2021/part-0.parquet"][0] == b"facts 2021 v2"
    assert not (tmp_path / "warehouse/facts/year=2020").exists()  # the emptied partition goes
    assert (tmp_path / "warehouse/facts").is_dir()
    for rel in ("warehouse/reports/year=2021/part-0.parquet", "validation/index.html"):
        assert after[rel] == before[rel]  # untouched: same bytes, same mtime
    assert not (tmp_path / TRANSACTIONS_DIR).exists()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_transaction_failure_leaves_everything_as_it_was(tmp_path: Path) -> None:
    _tree(tmp_path, OLD)
    before = snapshot(tmp_path)
    with pytest.raises(RuntimeError, match="boom"), PublishTransaction(tmp_path) as txn:
        (txn.root / "warehouse/facts/year=2021/part-0.parquet").unlink()
        _write(txn.root / "warehouse/facts/year=2021/part-0.parquet", b"half")
        raise RuntimeError("boom")
    assert snapshot(tmp_path) == before
    assert not any((tmp_path / TRANSACTIONS_DIR).glob("*"))


def test_transaction_without_hard_links_compares_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path, OLD)

    def refuse(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "no hard links here")

    monkeypatch.setattr(transaction.os, "link", refuse)
    before = snapshot(tmp_path)
    with PublishTransaction(tmp_path) as txn:
        (txn.root / "validation/index.html").write_bytes(b"index")  # rewritten, same bytes
    assert txn.result.replaced == [] and txn.result.removed == []
    assert snapshot(tmp_path) == before


def test_recovery_rolls_a_committed_journal_forward_and_discards_the_rest(tmp_path: Path) -> None:
    _tree(tmp_path, OLD)
    committed = tmp_path / TRANSACTIONS_DIR / "a"
    _write(committed / "root/warehouse/facts/year=2021/part-0.parquet", b"facts 2021 v2")
    journal = {"format": 1, "replace": ["warehouse/facts/year=2021/part-0.parquet", "validation/gone"], "remove": []}
    journal["remove"] = ["validation/a/2020.json"]
    _write(committed / JOURNAL, json.dumps(journal).encode())
    _write(tmp_path / TRANSACTIONS_DIR / "b" / "root/warehouse/facts/year=2020/part-0.parquet", b"uncommitted")
    assert recover_publish(tmp_path) == ["completed", "discarded"]
    assert (tmp_path / "warehouse/facts/year=2021/part-0.parquet").read_bytes() == b"facts 2021 v2"
    assert (tmp_path / "warehouse/facts/year=2020/part-0.parquet").read_bytes() == b"facts 2020"
    assert not (tmp_path / "validation/a").exists()
    assert recover_publish(tmp_path) == []


# --------------------------------------------------------------------------- killed runs


def _killed_at(point: str, data: Path, tmp_path: Path, *args: str) -> None:
    """Start ``xxgk backfill`` on ``data``, wait until it pauses at ``point``, SIGKILL it."""
    marker = tmp_path / f"paused-at-{point}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "XXGK_"))}
    env.update(
        XXGK_TEST_PAUSE_AT=point,
        XXGK_TEST_PAUSE_FILE=str(marker),
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        DO_NOT_TRACK="1",
    )
    cmd = [sys.executable, "-m", "xxgk.flows.cli", "backfill", "--data-dir", str(data), "--no-prefect", "-q", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + KILL_TIMEOUT
    try:
        while not (marker.is_file() and marker.read_text(encoding="utf-8")):
            if proc.poll() is not None:
                output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"backfill exited with {proc.returncode} before reaching {point!r}:\n{output[-3000:]}")
            assert time.monotonic() < deadline, f"backfill never reached {point!r}"
            time.sleep(0.05)
        assert int(marker.read_text(encoding="utf-8")) == proc.pid
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def test_killed_mid_publish_leaves_the_warehouse_as_it_was(harvested: Harvested, tmp_path: Path) -> None:
    e = copy_of(harvested.data, tmp_path / "e")
    _backfill(e, years=[2020, 2021])  # an older, smaller warehouse
    old = snapshot(e)
    assert old and not any("year=2023" in k for k in old)

    _killed_at("publish", e, tmp_path)
    assert snapshot(e) == old  # every published file: same bytes, not even touched
    assert any((e / TRANSACTIONS_DIR).iterdir())  # the abandoned shadow

    summary, _ = _backfill(e)
    assert "the publish step of an interrupted run was discarded" in summary.warnings
    assert summary.by_action == {"reused": N_DOCUMENTS}  # the killed run had staged them
    assert contents(e) == contents(harvested.data)
    assert not (e / TRANSACTIONS_DIR).exists()


def test_killed_mid_extract_publishes_nothing_and_resumes(harvested: Harvested, tmp_path: Path) -> None:
    f = copy_of(harvested.data, tmp_path / "f")
    _killed_at("extract", f, tmp_path, "--batch-size", "5")
    assert snapshot(f) == {}  # nothing published
    staged = len(list((f / "staging").rglob("*.json.gz")))
    assert 5 <= staged < N_DOCUMENTS

    summary, _ = _backfill(f, batch_size=5)
    assert summary.by_action == {"reused": staged, "extracted": N_DOCUMENTS - staged}
    assert contents(f) == contents(harvested.data)


@pytest.mark.slow
def test_killed_past_the_commit_point_is_completed_by_the_next_run(harvested: Harvested, tmp_path: Path) -> None:
    g = copy_of(harvested.data, tmp_path / "g")
    _backfill(g, years=[2020, 2021])
    old = contents(g)
    _killed_at("commit", g, tmp_path)
    assert contents(g) != old
    assert contents(g) == contents(harvested.data)  # the swap made the whole new state current at once
    assert len(list((g / TRANSACTIONS_DIR).glob(f"*/{SNAPSHOT_NOTE}"))) == 1  # committed, not yet cleaned up
    assert recover_publish(g) == ["completed"]
    assert contents(g) == contents(harvested.data)
    again, _ = _backfill(g)
    assert (again.files_written, again.files_removed, again.warnings) == (0, 0, [])


def test_archive_on_shared_storage_apart_from_the_data_directory(tmp_path: Path) -> None:
    """`--archive-dir`: harvest into one archive, backfill another data directory from it."""
    from typer.testing import CliRunner

    from xxgk.flows.cli import app

    spec, _samples = demo_run_spec()
    spec.faults = {}
    shared = tmp_path / "shared" / "archive"
    with serve_portal(spec) as (_portal, base):
        registry = tmp_path / "registry.yaml"
        registry.write_text(
            "sources:\n  - {source_id: test-county, publisher: 示例县人民政府, level: county, adapter: trs,\n"
            f"     listing_urls: ['{base}/county/zwgk/zfxxgknb/index.htm'], delay_seconds: 0}}\n",
            encoding="utf-8",
        )
        args = ["run", "--sources", str(registry), "-d", str(tmp_path / "one"), "--archive-dir", str(shared)]
        result = CliRunner().invoke(app, [*args, "--no-prefect", "--json", "-q"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["archive"] == str(shared)
    assert not (tmp_path / "one" / "archive").exists()
    assert (shared / "sources" / "test-county.json").is_file()
    args = ["backfill", "-d", str(tmp_path / "two"), "--archive-dir", str(shared), "--no-prefect", "--json", "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["by_action"] == {"extracted": json.loads(result.stdout)["documents"]}
    assert contents(tmp_path / "two") == contents(tmp_path / "one")
    paths = {r["path"] for r in table_rows(tmp_path / "two")["reports"]}
    assert paths and all(p.startswith(str(shared.resolve())) for p in paths)
