"""The pipeline: inputs, the tasks' functions on batches, idempotent publishing, one real Prefect run.

Most tests call the task functions (``.fn``) or ``run_pipeline(orchestrate=False)``: the same code
without an API server. The tests marked ``slow`` run real Prefect flows on an ephemeral API (one
server per test process, started once, 6-20 s).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

# Prefect reads its settings at import: a per-worker PREFECT_HOME in the temp dir (never
# ~/.prefect, kept between sessions so the database is warm) and always an ephemeral API.
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault(
    "PREFECT_HOME",
    str(Path(tempfile.gettempdir()) / f"xxgk-test-prefect-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"),
)

from tests.published import contents, snapshot
from xxgk.extractors import EXTRACTOR_VERSION, extract_document
from xxgk.flows import extraction, prefect_api, tasks
from xxgk.flows.extraction import INTERNAL_ERROR, pending_documents, staging_dir_of
from xxgk.flows.inputs import (
    DocumentSpec,
    InputError,
    file_sha256,
    is_registry,
    locate,
    parse_ids,
    parse_years,
    portable_path,
    resolve_specs,
    select_documents,
    source_id_from_name,
    specs_from_file,
    specs_from_paths,
)
from xxgk.flows.pipeline import run_pipeline
from xxgk.flows.runners import batches_of, choose_runner, extraction_runner, runner_label
from xxgk.flows.settings import PROCESS_RUNNER_THRESHOLD
from xxgk.flows.tasks import extract_batch, load_documents, publish_task
from xxgk.warehouse import load_staged

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
MANIFEST = SAMPLE / "manifest.yaml"


def manifest_entries() -> list[dict]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["documents"]


@pytest.fixture(scope="module", autouse=True)
def _stop_prefect_api() -> Iterator[None]:
    """Stop the ephemeral API while pytest's output capture is still open (not in atexit)."""
    yield
    prefect_api.stop_api()


@pytest.fixture(scope="module")
def sample_specs() -> list[DocumentSpec]:
    return specs_from_file(MANIFEST)


# --------------------------------------------------------------------------- inputs


def test_sample_manifest_resolves_with_provenance(sample_specs: list[DocumentSpec]) -> None:
    entries = manifest_entries()
    assert [Path(s.path).name for s in sample_specs] == [e["file"] for e in entries]
    for spec, entry in zip(sample_specs, entries, strict=True):
        assert spec.source_id == entry["source_id"]
        assert spec.publisher == entry.get("publisher")
        assert spec.year == entry.get("year")
        assert Path(spec.path).is_absolute()


def test_documents_file_formats_and_relative_paths(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "a report.txt"
    doc.parent.mkdir()
    doc.write_text("x", encoding="utf-8")
    (tmp_path / "list.csv").write_text("path,source_id,year,url\ndocs/a report.txt,src-a,2021,http://e/1\n", "utf-8")
    (tmp_path / "list.json").write_text('[{"path": "docs/a report.txt", "publisher": "某局"}]', "utf-8")
    (tmp_path / "list.yaml").write_text("documents:\n  - file: docs/a report.txt\n    year: '2020'\n", "utf-8")
    csv_spec, json_spec, yaml_spec = (specs_from_file(tmp_path / f"list.{s}")[0] for s in ("csv", "json", "yaml"))
    assert csv_spec == DocumentSpec(str(doc.resolve()), "src-a", None, 2021, "http://e/1")
    # no source_id: the file name stands in until the run files the document under its publisher
    assert json_spec == DocumentSpec(str(doc.resolve()), "a_report", "某局", source_from_name=True)
    assert not csv_spec.source_from_name
    assert (yaml_spec.source_id, yaml_spec.year) == ("a_report", 2020)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("documents: [{path: missing.txt}]", "listed files not found: missing.txt"),
        ("documents: [{source_id: x}]", "entry 1 has no `path`"),
        ("documents: [{path: here.txt, year: twenty}]", "year that is not a number"),
        ("sources: [{source_id: x, listing_urls: [http://e]}]", "sources registry"),
        ("documents: {path: here.txt}", "expected a list of documents"),
        ("documents: [", "not a valid documents file"),
        ("documents: []", "lists no documents"),
    ],
)
def test_bad_documents_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "here.txt").write_text("x", encoding="utf-8")
    bad = tmp_path / "list.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("`", ".")) as err:
        specs_from_file(bad)
    assert "\n" not in str(err.value)


def test_paths_walk_directories_and_report_missing(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.pdf", "sub/a.html", ".hidden.txt", "manifest.yaml", "README.md"):
        (tmp_path / name).write_bytes(b"x")
    specs = specs_from_paths([tmp_path])
    assert [Path(s.path).name for s in specs] == ["b.pdf", "a.html"]
    assert [s.source_id for s in specs] == ["b", "a"]
    with pytest.raises(InputError, match=r"no such file or directory: .*nope"):
        specs_from_paths([tmp_path / "nope", tmp_path / "b.pdf"])
    with pytest.raises(InputError, match="nothing to read"):
        resolve_specs(None, None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hongze_2023.pdf", "hongze_2023"),
        ("My Report 2021.HTML", "my_report_2021"),
        ("２０２２年报告.txt", "2022年报告"),
    ],
)
def test_source_id_from_name(name: str, expected: str) -> None:
    assert source_id_from_name(name) == expected


# --------------------------------------------------------------------------- task functions


def test_load_documents_hashes_bytes(sample_specs: list[DocumentSpec]) -> None:
    infos = load_documents.fn(sources=str(MANIFEST))
    entries = manifest_entries()
    assert [i.document_sha256 for i in infos] == [e["sha256"] for e in entries]
    assert all(i.fetched_at is None and i.path for i in infos)
    # the same file given again (as a path with its own source id, and twice) is kept once per source
    twice = load_documents.fn(paths=[sample_specs[0].path, sample_specs[0].path])
    assert len(twice) == 1 and twice[0].source_id == Path(sample_specs[0].path).stem


def test_extract_batch_matches_direct_extraction_then_reuses(tmp_path: Path) -> None:
    infos = load_documents.fn(sources=str(MANIFEST))[:4]
    staging = str(staging_dir_of(tmp_path))
    first = extract_batch.fn(infos, staging, index=3)
    assert first.index == 3
    assert [o.action for o in first.documents] == ["extracted"] * 4
    for info, outcome in zip(infos, first.documents, strict=True):
        direct = extract_document(Path(info.path).read_bytes(), Path(info.path).name)
        assert (outcome.status, outcome.facts, outcome.reason) == (direct.status, len(direct.facts), direct.reason)
        staged = load_staged(outcome.staged)
        # staged with the portable path (relative to the data dir or the cwd), read from the real one
        assert staged.info == replace(info, path=portable_path(info.path, tmp_path))
        assert staged.extractor_version == EXTRACTOR_VERSION
        assert outcome.name == Path(info.path).name
        assert len(staged.result.facts) == len(direct.facts)

    again = extract_batch.fn(infos, staging)
    assert [o.action for o in again.documents] == ["reused"] * 4
    assert [(o.status, o.facts) for o in again.documents] == [(o.status, o.facts) for o in first.documents]

    infos[0].publisher = "改过的发布机关"
    changed = extract_batch.fn(infos, staging)
    assert [o.action for o in changed.documents] == ["restaged", "reused", "reused", "reused"]
    assert load_staged(changed.documents[0].staged).info.publisher == "改过的发布机关"

    forced = extract_batch.fn(infos[:1], staging, force=True)
    assert forced.documents[0].action == "extracted"


def test_extractor_exception_becomes_a_failed_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    infos = load_documents.fn(sources=str(MANIFEST))[:2]

    def boom(data: bytes, name: str = "") -> None:
        raise RuntimeError("synthetic bug")

    monkeypatch.setattr(extraction, "extract_document", boom)
    outcome = extract_batch.fn(infos, str(staging_dir_of(tmp_path)))
    assert [o.status for o in outcome.documents] == ["failed", "failed"]
    assert outcome.documents[0].reason == f"{INTERNAL_ERROR}: RuntimeError: synthetic bug"
    # staged, so the document appears in the warehouse's reports table with its reason
    assert all(o.staged for o in outcome.documents)


def test_unreadable_file_is_an_error_outcome_not_a_crash(tmp_path: Path) -> None:
    doc = tmp_path / "gone.txt"
    doc.write_text("二、主动公开政府信息情况", encoding="utf-8")
    infos = load_documents.fn(paths=[str(doc)])
    doc.unlink()
    outcome = extract_batch.fn(infos, str(staging_dir_of(tmp_path)))
    assert outcome.documents[0].action == "error"
    assert outcome.documents[0].staged is None
    assert "cannot read" in outcome.documents[0].reason


def test_file_changed_after_hashing_is_not_staged_under_the_old_hash(tmp_path: Path) -> None:
    doc = tmp_path / "report.txt"
    doc.write_text("一", encoding="utf-8")
    infos = load_documents.fn(paths=[str(doc)])
    doc.write_text("二", encoding="utf-8")
    outcome = extract_batch.fn(infos, str(staging_dir_of(tmp_path))).documents[0]
    assert (outcome.action, outcome.staged) == ("error", None)
    assert "changed since it was hashed" in outcome.reason


def test_unreadable_staged_file_is_extracted_again(tmp_path: Path) -> None:
    infos = load_documents.fn(sources=str(MANIFEST))[:1]
    staging = str(staging_dir_of(tmp_path))
    first = extract_batch.fn(infos, staging).documents[0]
    Path(first.staged).write_bytes(b"not gzip")
    again = extract_batch.fn(infos, staging).documents[0]
    assert again.action == "extracted" and again.facts == first.facts
    assert load_staged(again.staged).info.document_sha256 == infos[0].document_sha256


def test_publish_task_writes_warehouse_and_validation(tmp_path: Path) -> None:
    infos = load_documents.fn(sources=str(MANIFEST))
    outcome = extract_batch.fn(infos, str(staging_dir_of(tmp_path)))
    published = publish_task.fn(str(tmp_path), [o.staged for o in outcome.documents])
    assert published.documents == len(infos)
    assert published.written > 0 and published.unchanged == 0
    assert Path(published.validation_index).is_file()
    for table in ("facts", "reports", "checks", "unmapped"):
        assert list((tmp_path / "warehouse" / table).glob("year=*/part-0.parquet")), table
    again = publish_task.fn(str(tmp_path), [o.staged for o in outcome.documents])
    assert (again.written, again.unchanged) == (0, published.written)


def test_batches_and_runner_choice() -> None:
    assert batches_of(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert batches_of([], 3) == []
    assert choose_runner("threads", 10_000, 2) == "threads"
    assert choose_runner("auto", 10, 2) == "threads"
    assert choose_runner("auto", 10_000, 1) == "threads"
    if (os.cpu_count() or 1) > 1:
        assert choose_runner("auto", 10_000, 2) == "processes"
    assert choose_runner("dask", 1, 1) == "dask"
    with pytest.raises(ValueError, match="unknown runner"):
        choose_runner("gpu", 1, 1)


@pytest.mark.parametrize(
    ("runner", "documents", "workers", "address", "cores", "expected"),
    [
        # auto: processes only when more documents need parsing than the documented threshold
        ("auto", PROCESS_RUNNER_THRESHOLD, 2, None, 2, ("threads", None)),
        ("auto", PROCESS_RUNNER_THRESHOLD + 1, 2, None, 2, ("processes", None)),
        ("auto", 10_000, 2, None, 1, ("threads", None)),
        ("auto", 10_000, 1, None, 8, ("threads", None)),
        ("auto", 0, 2, "tcp://127.0.0.1:8786", 2, ("dask", "tcp://127.0.0.1:8786")),
        ("dask", 0, 2, None, 2, ("dask", None)),
        ("dask", 0, 2, "tcp://10.0.0.5:8786", 2, ("dask", "tcp://10.0.0.5:8786")),
        ("tcp://10.0.0.5:8786", 0, 2, None, 2, ("dask", "tcp://10.0.0.5:8786")),
        ("Processes", 3, 2, None, 2, ("processes", None)),
    ],
)
def test_extraction_runner(
    runner: str,
    documents: int,
    workers: int,
    address: str | None,
    cores: int,
    expected: tuple[str, str | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert extraction_runner(runner, documents, workers, address) == expected


@pytest.mark.parametrize(
    ("runner", "address", "message"),
    [
        ("threads", "tcp://10.0.0.5:8786", "needs --runner dask or auto"),
        ("dask", "10.0.0.5:8786", "not a Dask scheduler address"),
        ("gpu", None, "unknown runner"),
    ],
)
def test_extraction_runner_refuses(runner: str, address: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        extraction_runner(runner, 1, 2, address)
    with pytest.raises(ValueError, match=message):
        run_pipeline(sources=str(MANIFEST), runner=runner, dask_address=address)  # before any flow starts


def test_runner_labels_and_pending_documents(tmp_path: Path) -> None:
    assert runner_label("threads", 2) == "prefect/threads×2"
    assert runner_label("processes", 0) == "prefect/processes×1"
    assert runner_label("dask", 2) == "prefect/dask×2"
    assert runner_label("dask", 2, "tcp://h:8786") == "prefect/dask@tcp://h:8786"
    infos = load_documents.fn(sources=str(MANIFEST))[:3]
    jobs = [extraction.as_job(i, tmp_path) for i in infos]
    staging = staging_dir_of(tmp_path)
    assert pending_documents(jobs, staging) == 3
    extract_batch.fn(infos[:2], str(staging))
    assert pending_documents(jobs, staging) == 1
    assert pending_documents(jobs, staging, "another-version") == 3


# --------------------------------------------------------------------------- whole runs


def test_local_run_on_sample_set_is_idempotent(tmp_path: Path) -> None:
    entries = manifest_entries()
    summary = run_pipeline(sources=str(MANIFEST), data_dir=tmp_path, orchestrate=False, batch_size=5)
    assert summary.documents == len(entries)
    assert summary.batches == 3
    assert summary.by_status == dict(Counter(e["expected_status"] for e in entries))
    assert summary.cells == sum(e.get("facts", 0) for e in entries)
    assert summary.failed_checks == sum(len(e.get("failing_checks") or []) for e in entries)
    assert summary.by_action == {"extracted": len(entries)}
    assert summary.internal_errors == 0
    assert {p.status for p in summary.problems} == set(summary.by_status) - {"ok"}
    first = snapshot(tmp_path)
    assert any(k.startswith("warehouse/facts/") for k in first)
    assert "validation/index.html" in first

    second = run_pipeline(sources=str(MANIFEST), data_dir=tmp_path, orchestrate=False)
    assert second.by_action == {"reused": len(entries)}
    assert (second.files_written, second.files_removed) == (0, 0)
    assert snapshot(tmp_path) == first  # same bytes, files not even rewritten


@pytest.mark.slow
def test_prefect_flow_matches_local_run_and_changes_nothing_the_second_time(tmp_path: Path) -> None:
    local, orchestrated = tmp_path / "local", tmp_path / "prefect"
    run_pipeline(sources=str(MANIFEST), data_dir=local, orchestrate=False)
    seen: list[tuple[int, int]] = []
    remove = tasks.add_progress_listener(lambda done, total, _outcome: seen.append((done, total)))
    try:
        summary = run_pipeline(
            sources=str(MANIFEST), data_dir=orchestrated, batch_size=5, max_workers=2, runner="threads"
        )
    finally:
        remove()
    n = len(manifest_entries())
    assert summary.runner == "prefect/threads×2"
    assert summary.batches == 3 and summary.documents == n
    assert seen[0] == (0, n) and seen[-1] == (n, n) and len(seen) == 4
    published = snapshot(orchestrated)
    assert contents(orchestrated) == contents(local)

    again = run_pipeline(sources=str(MANIFEST), data_dir=orchestrated, runner="threads")
    assert again.by_action == {"reused": n}
    assert snapshot(orchestrated) == published

    # what the Prefect UI shows: one markdown artifact per source, linking its validation reports
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(summary.run_id)]))
        )
    by_key = {a.key: a for a in artifacts}
    sources = sorted({e["source_id"] for e in manifest_entries()})
    assert sorted(by_key) == sorted([f"xxgk-{s}" for s in sources] + ["xxgk-validation-index"])
    city = by_key["xxgk-changsha-chengdong"]
    assert city.type == "markdown" and city.description == "changsha-chengdong: 2 report(s), 1 failed check(s)"
    # the stable path under the data dir, not the snapshot it resolves to today (a later publish prunes it)
    report = (orchestrated.resolve() / "validation" / "changsha-chengdong" / "2021.html").as_uri()
    assert f"[2021.html]({report})" in str(city.data)


@pytest.mark.slow
def test_process_runner_reuses_the_parent_api(tmp_path: Path) -> None:
    summary = run_pipeline(
        sources=str(MANIFEST), data_dir=tmp_path, batch_size=6, max_workers=2, runner="processes", force=True
    )
    assert summary.runner == "prefect/processes×2"
    assert summary.by_action == {"extracted": len(manifest_entries())}
    assert "PREFECT_API_URL" not in os.environ  # exported for the workers only during the run


def test_file_sha256_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    data = os.urandom(3 << 20)
    (tmp_path / "big.bin").write_bytes(data)
    assert file_sha256(tmp_path / "big.bin") == hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- portable paths, filters


def test_portable_path_and_locate(tmp_path: Path) -> None:
    data, cwd, elsewhere = tmp_path / "data", tmp_path / "work", tmp_path / "other"
    for d in (data / "archive" / "raw", cwd / "reports", elsewhere):
        d.mkdir(parents=True)
    in_data, in_cwd, outside = data / "archive" / "raw" / "ab", cwd / "reports" / "a.pdf", elsewhere / "b.pdf"
    for f in (in_data, in_cwd, outside):
        f.write_bytes(b"x")
    assert portable_path(in_data, data, cwd) == "archive/raw/ab"
    assert portable_path(in_cwd, data, cwd) == "reports/a.pdf"
    assert portable_path(outside, data, cwd) == str(outside.resolve())
    # a data dir inside the cwd still wins for files inside it
    assert portable_path(cwd / "reports" / "a.pdf", cwd / "reports", cwd) == "a.pdf"
    for f in (in_data, in_cwd, outside):
        assert locate(portable_path(f, data, cwd), data, cwd) == f.resolve()


def test_run_filters_and_registry_detection(tmp_path: Path, sample_specs: list[DocumentSpec]) -> None:
    assert parse_years("2019-2021, 2024") == [2019, 2020, 2021, 2024]
    assert parse_years(" 2022 ") == [2022] and parse_years(None) is None and parse_years("") is None
    for bad in ("20x", "2024-2019", "1066"):
        with pytest.raises(InputError, match="--years"):
            parse_years(bad)
    assert parse_ids("a, b,a") == ["a", "b"] and parse_ids(None) is None
    fuzhou = select_documents(sample_specs, ["fuzhou-gaoxin"], [2019, 2020, 2024])
    assert [(s.source_id, s.year) for s in fuzhou] == [("fuzhou-gaoxin", 2019), ("fuzhou-gaoxin", 2024)]
    with pytest.raises(InputError, match="unknown source id nope in the documents given"):
        select_documents(sample_specs, ["nope"])
    with pytest.raises(InputError, match="no document of the years 1999"):
        select_documents(sample_specs, None, [1999])
    assert is_registry(SAMPLE.parent / "sources.yaml") and not is_registry(MANIFEST)
    (tmp_path / "list.csv").write_text("path\n", "utf-8")
    assert not is_registry(tmp_path / "list.csv") and not is_registry(tmp_path / "missing.yaml")


def _reports_table(data_dir: Path) -> list[dict]:
    import pyarrow.parquet as pq

    rows: list[dict] = []
    for part in sorted((data_dir / "warehouse" / "reports").glob("year=*/part-0.parquet")):
        rows += pq.read_table(part).to_pylist()
    return sorted(rows, key=lambda r: (r["source_id"], r["document_sha256"]))


def test_published_paths_are_portable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two checkouts (different absolute paths) publish byte-identical tables."""
    files = [e["file"] for e in manifest_entries()[:3]]
    published = []
    for name in ("one", "two"):
        checkout = tmp_path / name
        (checkout / "data" / "sample").mkdir(parents=True)
        for f in [*files, "manifest.yaml"]:
            shutil.copy(SAMPLE / f, checkout / "data" / "sample" / f)
        inbox = checkout / "inbox"
        inbox.mkdir()
        shutil.copy(SAMPLE / files[0], inbox / "local.txt")
        monkeypatch.chdir(checkout)
        run_pipeline(paths=["inbox/local.txt"], data_dir="data", orchestrate=False)
        # a documents file inside the data dir: paths relative to the data dir
        manifest = "data/sample/manifest.yaml"
        text = (checkout / manifest).read_text(encoding="utf-8").split("\n- file: ")
        (checkout / manifest).write_text("\n- file: ".join(text[:4]), encoding="utf-8")
        run_pipeline(sources=manifest, data_dir="data", orchestrate=False)
        published.append(contents(checkout / "data"))
    paths = sorted(r["path"] for r in _reports_table(tmp_path / "two" / "data"))
    assert paths == sorted(["inbox/local.txt", *(f"sample/{f}" for f in files)])
    assert published[0] == published[1]
