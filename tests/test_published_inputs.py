"""Publishing only what changed: the record of published inputs (``warehouse.published_inputs``).

Every test compares against the rule the record stands in for: publishing everything again.
The tables and validation reports after a partial (or skipped) publish must be byte-identical to
those of a full publish of the same staged files into a fresh data directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.published import contents
from tests.published import snapshot as published_files
from xxgk.flows import publishing
from xxgk.flows.extraction import staging_dir_of
from xxgk.flows.publishing import publish_staged
from xxgk.flows.tasks import extract_batch, load_documents
from xxgk.warehouse import load_staged
from xxgk.warehouse import publish as warehouse_publish
from xxgk.warehouse import published_inputs as recorded
from xxgk.warehouse.staging import stage_result

SAMPLE_MANIFEST = Path(__file__).resolve().parents[1] / "data" / "sample" / "manifest.yaml"


@pytest.fixture(scope="module")
def staged_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample set extracted once; each test copies its staging directory (mtimes kept)."""
    base = tmp_path_factory.mktemp("staged")
    infos = load_documents.fn(sources=str(SAMPLE_MANIFEST))
    extract_batch.fn(infos, str(staging_dir_of(base)))
    return base


@pytest.fixture
def data_dir(tmp_path: Path, staged_sample: Path) -> Path:
    shutil.copytree(staging_dir_of(staged_sample), staging_dir_of(tmp_path / "data"))
    return tmp_path / "data"


def staged_paths(data_dir: Path) -> list[str]:
    return sorted(str(p) for p in staging_dir_of(data_dir).rglob("*.json.gz"))


def full_publish(tmp_path: Path, paths: list[str], name: str = "reference", **kwargs: object) -> Path:
    """The same staged files published from scratch into another data directory."""
    ref = tmp_path / name
    staging = staging_dir_of(ref)
    copied = []
    for p in paths:
        rel = Path(p).relative_to(staging_dir_of(Path(p).parents[3]))
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, staging / rel)
        copied.append(str(staging / rel))
    publish_staged(ref, copied, force=True, **kwargs)  # type: ignore[arg-type]
    return ref


@pytest.fixture
def publish_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """The staged paths each call of ``warehouse.publish`` received."""
    calls: list[list[str]] = []
    real = warehouse_publish.publish

    def spy(root: object, items: list[str], **kwargs: object) -> object:
        calls.append(list(items))
        return real(root, items, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(warehouse_publish, "publish", spy)
    yield calls


def source_of(path: str) -> str:
    return load_staged(path).info.source_id


def test_second_publish_of_the_same_staged_files_reads_and_writes_nothing(
    data_dir: Path, publish_calls: list[list[str]]
) -> None:
    paths = staged_paths(data_dir)
    first = publish_staged(data_dir, paths)
    assert first.documents == len(paths) and first.up_to_date == 0 and first.written > 0
    before = published_files(data_dir)
    again = publish_staged(data_dir, paths)
    assert len(publish_calls) == 1  # the second run did not publish
    assert (again.documents, again.up_to_date, again.written, again.changed) == (0, len(paths), 0, [])
    assert again.unchanged == first.written  # every partition file, confirmed by its recorded size
    assert published_files(data_dir) == before  # bytes and mtimes
    assert recorded.inputs_path(data_dir).is_file()
    assert not any(str(recorded.INPUTS_FILE) in k for k in before)  # the record is not a published file


def test_a_restaged_document_republishes_only_its_source(
    data_dir: Path, tmp_path: Path, publish_calls: list[list[str]]
) -> None:
    paths = staged_paths(data_dir)
    publish_staged(data_dir, paths)
    changed = paths[3]
    doc = load_staged(changed)
    stage_result(
        staging_dir_of(data_dir), replace(doc.info, publisher="某市某局（新名称）"), doc.result, doc.extractor_version
    )
    outcome = publish_staged(data_dir, paths)
    same_source = [p for p in paths if source_of(p) == doc.info.source_id]
    assert publish_calls[-1] == same_source
    assert outcome.up_to_date == len(paths) - len(same_source)
    assert outcome.changed  # the new publisher name is in the reports table and the validation report
    assert contents(data_dir) == contents(full_publish(tmp_path, paths))


def test_a_document_no_longer_handed_in_is_dropped_as_a_full_publish_would(
    data_dir: Path, tmp_path: Path, publish_calls: list[list[str]]
) -> None:
    paths = staged_paths(data_dir)
    doc = load_staged(paths[0])
    extra_info = replace(doc.info, document_sha256="f" * 64)
    extra = str(stage_result(staging_dir_of(data_dir), extra_info, doc.result, doc.extractor_version))
    publish_staged(data_dir, [*paths, extra])
    outcome = publish_staged(data_dir, paths)  # the attachment of that source/year disappeared
    assert publish_calls[-1] == [p for p in paths if source_of(p) == doc.info.source_id]
    assert outcome.changed
    assert contents(data_dir) == contents(full_publish(tmp_path, paths))


def test_new_publishing_code_or_a_touched_partition_publishes_everything(
    data_dir: Path, publish_calls: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = staged_paths(data_dir)
    publish_staged(data_dir, paths)
    with monkeypatch.context() as m:
        m.setattr(recorded, "code_digest", lambda: "another version of the publishing code")
        assert recorded.read_inputs(data_dir)[1] == "the publishing code changed since the last publish"
        publish_staged(data_dir, paths)
        assert publish_calls[-1] == sorted(paths)
    publish_staged(data_dir, paths)  # the record now carries the other digest: everything again
    assert len(publish_calls) == 3
    victim = next((data_dir / "warehouse" / "facts").glob("year=*/part-0.parquet"))
    saved = victim.read_bytes()
    victim.unlink()
    assert "is missing" in recorded.read_inputs(data_dir)[1]
    publish_staged(data_dir, paths)
    assert publish_calls[-1] == sorted(paths) and victim.read_bytes() == saved
    assert len(publish_calls) == 4
    publish_staged(data_dir, paths)
    assert len(publish_calls) == 4


def test_force_and_an_interrupted_publish_publish_everything(data_dir: Path, publish_calls: list[list[str]]) -> None:
    paths = staged_paths(data_dir)
    publish_staged(data_dir, paths)
    publish_staged(data_dir, paths, force=True)
    assert len(publish_calls) == 2
    leftover = data_dir / ".publish" / "0123abcd"
    leftover.mkdir(parents=True)  # a run killed before its commit point left its shadow
    outcome = publish_staged(data_dir, paths)
    assert len(publish_calls) == 3 and outcome.changed == []
    assert not leftover.exists()


def test_rebuilding_years_skips_only_when_they_hold_exactly_the_runs_documents(
    data_dir: Path, tmp_path: Path, publish_calls: list[list[str]]
) -> None:
    paths = staged_paths(data_dir)
    years = sorted({load_staged(p).info.year or load_staged(p).result.year or -1 for p in paths})
    year = years[-1]
    publish_staged(data_dir, paths, years=[year], replace=True)
    publish_staged(data_dir, paths, years=[year], replace=True)
    assert len(publish_calls) == 1
    # another source published into that year since: rebuilding the year from the run must drop it
    doc = load_staged(next(p for p in paths if (load_staged(p).info.year or load_staged(p).result.year) == year))
    other = replace(doc.info, source_id="another-source", document_sha256="e" * 64)
    extra = str(stage_result(staging_dir_of(data_dir), other, doc.result, doc.extractor_version))
    publish_staged(data_dir, [extra])
    assert publish_calls[-1] == [extra]
    publish_staged(data_dir, paths, years=[year], replace=True)
    assert publish_calls[-1] == sorted(paths)
    assert contents(data_dir) == contents(full_publish(tmp_path, paths, years=[year], replace=True))
    assert not (data_dir / "validation" / "another-source").exists()


def test_record_survives_a_moved_data_directory(data_dir: Path, tmp_path: Path, publish_calls: list[list[str]]) -> None:
    """Keys are relative to the data directory: a copied or remounted data dir stays up to date."""
    publish_staged(data_dir, staged_paths(data_dir))
    moved = tmp_path / "moved"
    shutil.copytree(data_dir, moved, copy_function=shutil.copy2)
    for p in moved.rglob("*"):  # copy2 keeps mtimes; make sure sizes and mtimes are what was recorded
        if p.is_file():
            st = (data_dir / p.relative_to(moved)).stat()
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    outcome = publish_staged(moved, staged_paths(moved))
    assert len(publish_calls) == 1 and outcome.up_to_date == len(staged_paths(moved))


def test_a_document_filed_under_another_year_takes_its_validation_report_along(data_dir: Path, tmp_path: Path) -> None:
    """Regression: the report of a source/year left empty by a re-filed document stayed on disk and in the index."""
    paths = staged_paths(data_dir)
    publish_staged(data_dir, paths)
    moved_path = next(p for p in paths if load_staged(p).info.year is not None)
    doc = load_staged(moved_path)
    old_year, new_year = doc.info.year, 1999  # a year no other document of the sample has
    source_dir = data_dir / "validation" / doc.info.source_id
    assert (source_dir / f"{old_year}.json").is_file()
    others = [p for p in paths if p != moved_path and load_staged(p).info.source_id == doc.info.source_id]
    others_same_year = [p for p in others if load_staged(p).info.year == old_year]
    stage_result(staging_dir_of(data_dir), replace(doc.info, year=new_year), doc.result, doc.extractor_version)
    publish_staged(data_dir, paths)
    assert (source_dir / f"{new_year}.json").is_file()
    assert (source_dir / f"{old_year}.json").is_file() == bool(others_same_year)
    index = (data_dir / "validation" / "index.json").read_text(encoding="utf-8")
    assert f'"year": {new_year}' in index
    assert contents(data_dir) == contents(full_publish(tmp_path, paths))


def test_concurrent_publishes_of_disjoint_documents_lose_no_record(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, publish_calls: list[list[str]]
) -> None:
    """Regression (issue 14, item 9): the record was planned before the publish lock and written after
    it, so of two concurrent extracts the second overwrote the first's entries (4-5 of 9 listed).

    Each publisher waits after planning until the other has planned too (or 1 s, when the lock
    keeps the other out, as it must): without the lock around plan + record they both plan from
    the same old record.
    """
    paths = staged_paths(data_dir)
    sources = sorted({source_of(p) for p in paths})
    halves = [[p for p in paths if source_of(p) in sources[::2]], [p for p in paths if source_of(p) in sources[1::2]]]
    assert all(halves)
    both_planned = threading.Barrier(2, timeout=1.0)
    real_plan = publishing.plan_publish

    def plan_then_wait(*args: object, **kwargs: object) -> recorded.PublishPlan:
        plan = real_plan(*args, **kwargs)  # type: ignore[arg-type]
        with contextlib.suppress(threading.BrokenBarrierError):
            both_planned.wait()
        return plan

    monkeypatch.setattr(publishing, "plan_publish", plan_then_wait)
    errors: list[BaseException] = []

    def run(half: list[str]) -> None:
        try:
            publish_staged(data_dir, half)
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(half,)) for half in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    record, why = recorded.read_inputs(data_dir)
    assert record is not None, why
    assert sorted(record.documents) == sorted(recorded.staged_key(p, os.path.abspath(data_dir)) for p in paths)
    monkeypatch.setattr(publishing, "plan_publish", real_plan)
    again = publish_staged(data_dir, paths)
    assert (again.documents, again.up_to_date) == (0, len(paths))
    assert len(publish_calls) == 2


def test_a_document_filed_back_under_its_old_year_is_republished(data_dir: Path, tmp_path: Path) -> None:
    """Regression: re-filing a document under another year removed its rows from the old year but the
    record still listed the old staged file there, so handing that file in again published nothing
    and the warehouse kept the document under the wrong year (found by tests/test_snapshots.py)."""
    paths = staged_paths(data_dir)
    publish_staged(data_dir, paths)
    moved_path = next(p for p in paths if load_staged(p).info.year is not None)
    doc = load_staged(moved_path)
    refiled = tmp_path / "refiled"
    moved = stage_result(staging_dir_of(refiled), replace(doc.info, year=1999), doc.result, doc.extractor_version)
    publish_staged(data_dir, [p for p in paths if p != moved_path] + [str(moved)])
    back = publish_staged(data_dir, paths)
    assert back.documents >= 1
    assert contents(data_dir) == contents(full_publish(tmp_path, paths))


def test_nothing_to_publish_with_a_new_harvest_outcome_takes_it_into_the_index(data_dir: Path, tmp_path: Path) -> None:
    """Regression: with plan and record under the publish locks, the quiet-night harvest refresh took the
    validation lock a second time from the same process and waited for ever."""
    paths = staged_paths(data_dir)
    archive = tmp_path / "archive"
    archive.mkdir()
    publish_staged(data_dir, paths, archive_dir=archive)
    outcome = {"source_id": "gone", "status": "failed", "reason": "HTTP 404", "problems": []}
    (archive / "harvest.json").write_text(json.dumps({"sources": [outcome]}), encoding="utf-8")
    worker = threading.Thread(
        target=publish_staged, args=(data_dir, paths), kwargs={"archive_dir": archive}, daemon=True
    )
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "publish_staged hung on its own lock"
    assert "HTTP 404" in (data_dir / "validation" / "index.html").read_text(encoding="utf-8")
