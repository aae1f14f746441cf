"""Issue 5: the nightly run's and the backfill's flow overhead.

Harvest concurrency defaults and sources per task, extraction batch sizing by runner, the cheap
reuse check (staged-file header, old format-2 files still reused), staged documents settled
without a task, one harvest log line per batch, and an explicit harvest plan handed to the flow
by reference instead of as a (size-capped) parameter.
"""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from xxgk.extractors import EXTRACTOR_VERSION
from xxgk.flows import extraction, pipeline, tasks
from xxgk.flows.extraction import extract_documents, settle_staged, staging_dir_of
from xxgk.flows.harvesting import (
    DEFAULT_SOURCE_THREADS,
    MAX_SOURCE_BATCH,
    MIN_SOURCE_BATCH,
    HarvestBatchOutcome,
    HarvestPlan,
    SourceOutcome,
    drop_plan,
    source_batch_size,
    stash_plan,
    take_plan,
)
from xxgk.flows.inputs import InputError
from xxgk.flows.runners import TASKS_PER_WORKER, extraction_batch_size
from xxgk.flows.settings import DEFAULT_BATCH_SIZE
from xxgk.flows.tasks import extract_step, load_documents, log_harvest_batch
from xxgk.warehouse import load_staged
from xxgk.warehouse.staging import (
    STAGING_FORMAT,
    _info_to_dict,
    _result_to_dict,
    load_staged_header,
    result_summary,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
MANIFEST = SAMPLE / "manifest.yaml"


# --------------------------------------------------------------------------- sizing


def test_harvest_defaults_keep_many_sources_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XXGK_HARVEST_THREADS", raising=False)
    assert DEFAULT_SOURCE_THREADS == 16
    plan = HarvestPlan([], "archive")
    assert plan.threads == DEFAULT_SOURCE_THREADS and plan.batch_size is None
    assert (MIN_SOURCE_BATCH, MAX_SOURCE_BATCH) == (8, 500)


def test_harvest_threads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XXGK_HARVEST_THREADS", "64")
    assert HarvestPlan([], "archive").threads == 64
    for bad in ("many", "0", "1000"):
        monkeypatch.setenv("XXGK_HARVEST_THREADS", bad)
        with pytest.raises(InputError, match="XXGK_HARVEST_THREADS"):
            HarvestPlan([], "archive")


@pytest.mark.parametrize(
    ("sources", "workers", "requested", "expected"),
    [
        (1000, 2, None, 500),  # one task per worker
        (999, 2, None, 500),  # ceil
        (5000, 2, None, 500),  # at most 500 per task
        (2000, 4, None, 500),
        (100, 2, None, 50),
        (10, 2, None, 8),  # at least 8
        (0, 2, None, 8),
        (100, 0, None, 100),  # workers below 1 count as 1
        (1000, 2, 5, 5),  # the plan's own value wins
        (1000, 2, 800, 800),
    ],
)
def test_source_batch_size(sources: int, workers: int, requested: int | None, expected: int) -> None:
    assert source_batch_size(sources, workers, requested) == expected


@pytest.mark.parametrize(
    ("documents", "kind", "workers", "requested", "expected"),
    [
        (10_000, "processes", 2, None, 1250),  # 8 tasks: 4 per worker
        (10_000, "dask", 4, None, 625),
        (10_000, "processes", 2, 50, 50),  # an explicit size is used as given
        (11, "dask", 2, 3, 3),
        (10_000, "processes", 2, 5000, 5000),
        (9, "processes", 2, None, 2),
        (3, "processes", 2, None, 1),  # at least one document
        (0, "processes", 2, None, 1),
        (10_000, "threads", 2, None, DEFAULT_BATCH_SIZE),
        (10_000, "threads", 2, 7, 7),
        (10_000, "local", 2, None, DEFAULT_BATCH_SIZE),
    ],
)
def test_extraction_batch_size(documents: int, kind: str, workers: int, requested: int | None, expected: int) -> None:
    assert TASKS_PER_WORKER == 4
    assert extraction_batch_size(documents, kind, workers, requested) == expected


# --------------------------------------------------------------------------- plan by reference


def test_stashed_plan_is_resolved_by_reference_and_dropped() -> None:
    plan = HarvestPlan([], "archive", label="stashed")
    ref = stash_plan(plan)
    assert len(ref) < 64 and take_plan(ref) is plan
    drop_plan(ref)
    with pytest.raises(InputError, match="no harvest plan"):
        take_plan(ref)


def test_run_pipeline_hands_an_explicit_plan_to_the_flow_by_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = HarvestPlan([], "archive", label="big")
    seen: dict[str, Any] = {}

    def fake_flow(**kwargs: Any) -> str:
        seen.update(kwargs)
        seen["resolved"] = take_plan(kwargs["harvest_ref"])
        return "summary"

    monkeypatch.setattr(pipeline, "extract_flow", fake_flow)
    assert pipeline.run_pipeline(harvest=plan, data_dir="d", runner="threads") == "summary"
    assert seen["harvest"] is None and seen["resolved"] is plan  # no plan among the flow parameters
    assert seen["batch_size"] is None
    with pytest.raises(InputError):  # dropped once the run is over
        take_plan(seen["harvest_ref"])


# --------------------------------------------------------------------------- staged headers


def _format_2_bytes(path: Path) -> bytes:
    """The bytes ``encode_staged`` wrote before the header line (staging format 2)."""
    staged = load_staged(path)
    payload = {
        "staging_format": 2,
        "extractor_version": staged.extractor_version,
        "info": _info_to_dict(staged.info),
        "result": _result_to_dict(staged.result),
    }
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=True).encode("utf-8")
    return gzip.compress(raw, compresslevel=6, mtime=0)


@pytest.fixture
def staged_run(tmp_path: Path) -> tuple[list[Any], str, list[Any]]:
    """Four sample documents extracted and staged once."""
    if not MANIFEST.is_file():
        pytest.skip("sample set not present")
    infos = load_documents.fn(sources=str(MANIFEST))[:4]
    staging = str(staging_dir_of(tmp_path))
    first = extract_documents(infos, staging, EXTRACTOR_VERSION)
    assert [o.action for o in first] == ["extracted"] * 4
    return infos, staging, first


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(_job: Any) -> None:
        raise AssertionError("a staged document was parsed again")

    monkeypatch.setattr(extraction, "_extract_one", parse)


def _numbers(outcomes: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (
            o.source_id,
            o.document_sha256,
            o.path,
            o.status,
            o.reason,
            o.facts,
            o.failed_checks,
            o.unmapped,
            o.year,
            o.staged,
        )
        for o in outcomes
    ]


def test_header_holds_what_the_outcome_needs(staged_run: tuple[list[Any], str, list[Any]]) -> None:
    _infos, _staging, first = staged_run
    for outcome in first:
        path = Path(outcome.staged)
        text = gzip.decompress(path.read_bytes())
        header = json.loads(text.partition(b"\n")[0])
        assert header["staging_format"] == STAGING_FORMAT == 3 and header["size"] == len(text)
        staged = load_staged(path)
        head = load_staged_header(path)
        assert head.info == staged.info and head.extractor_version == EXTRACTOR_VERSION
        assert head._asdict() | {"info": None, "extractor_version": None} == {
            **result_summary(staged.result),
            "info": None,
            "extractor_version": None,
        }
        assert (head.facts, head.failed_checks, head.unmapped) == (
            outcome.facts,
            outcome.failed_checks,
            outcome.unmapped,
        )


def test_new_and_old_format_files_are_reused_without_parsing(
    staged_run: tuple[list[Any], str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    infos, staging, first = staged_run
    old = Path(first[1].staged)
    old.write_bytes(_format_2_bytes(old))
    old_bytes = old.read_bytes()
    assert load_staged_header(old).info == load_staged(old).info  # format 2: the full decode
    _no_parsing(monkeypatch)

    again = extract_documents(infos, staging, EXTRACTOR_VERSION)
    assert [o.action for o in again] == ["reused"] * 4
    assert _numbers(again) == _numbers(first)
    assert old.read_bytes() == old_bytes  # reusing rewrites nothing

    infos[0].publisher = "改过的发布机关"
    infos[1].publisher = "另一个发布机关"
    changed = extract_documents(infos, staging, EXTRACTOR_VERSION)
    assert [o.action for o in changed] == ["restaged", "restaged", "reused", "reused"]
    assert _numbers(changed) == _numbers(first)
    assert load_staged_header(changed[1].staged).info.publisher == "另一个发布机关"
    assert gzip.decompress(old.read_bytes()).startswith(b'{"staging_format":3,')  # restaged: new format


def test_truncated_staged_file_is_extracted_again(
    staged_run: tuple[list[Any], str, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    infos, staging, first = staged_run
    path = Path(first[0].staged)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # the header is intact, the rest is not
    with pytest.raises(ValueError, match="damaged staged file"):
        load_staged_header(path)
    with caplog.at_level(logging.WARNING, logger="xxgk"):
        again = extract_documents(infos[:1], staging, EXTRACTOR_VERSION)
    assert again[0].action == "extracted" and again[0].facts == first[0].facts
    assert "unreadable" in caplog.text and path.read_bytes() == data


def test_staged_documents_are_settled_inline_and_only_the_rest_left_to_parse(
    staged_run: tuple[list[Any], str, list[Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    infos, staging, first = staged_run
    more = load_documents.fn(sources=str(MANIFEST))[4:6]
    jobs = [extraction.as_job(i, tmp_path) for i in [more[0], *infos[:2], more[1], *infos[2:]]]
    _no_parsing(monkeypatch)
    settled, todo = settle_staged(jobs, staging, str(tmp_path))
    assert todo == [0, 3]
    assert sorted(settled) == [1, 2, 4, 5]
    assert _numbers([settled[i] for i in (1, 2, 4, 5)]) == _numbers(first)
    assert settle_staged(jobs, staging, str(tmp_path), force=True) == ({}, list(range(6)))


def test_orchestrated_extract_of_staged_documents_starts_no_task(
    staged_run: tuple[list[Any], str, list[Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    infos, staging, first = staged_run
    jobs = [extraction.as_job(i, tmp_path) for i in infos]
    _no_parsing(monkeypatch)

    def no_runner(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a task runner was started for documents already staged")

    monkeypatch.setattr(tasks, "task_runner_for", no_runner)
    seen: list[tuple[int, int]] = []
    remove = tasks.add_progress_listener(lambda done, total, _o: seen.append((done, total)))
    try:
        outcomes, batches, label = extract_step(
            jobs, staging, str(tmp_path), None, False, True, logging.getLogger("xxgk"), runner="processes"
        )
    finally:
        remove()
    assert batches == 0 and label == "prefect/processes×2"
    assert [o.action for o in outcomes] == ["reused"] * 4 and _numbers(outcomes) == _numbers(first)
    assert seen == [(0, 4), (4, 4)]


# --------------------------------------------------------------------------- log lines


def _source(sid: str, status: str, problems: int = 0) -> SourceOutcome:
    from xxgk.harvest import HarvestProblem

    issues = [HarvestProblem("http_error", f"http://x/{sid}", "404")] * problems
    return SourceOutcome(sid, sid, status, "", reports=2, documents=2, requests=5, not_modified=4, problems=issues)


def test_one_harvest_line_per_batch_and_one_per_troubled_source(caplog: pytest.LogCaptureFixture) -> None:
    sources = [_source(f"s{i}", "ok") for i in range(50)]
    sources += [_source("bad", "failed"), _source("flaky", "ok", problems=1)]
    outcome = HarvestBatchOutcome(index=0, sources=sources, documents=[], seconds=1.5)
    log = logging.getLogger("xxgk.test-nightly")
    with caplog.at_level(logging.DEBUG, logger="xxgk.test-nightly"):
        log_harvest_batch(log, outcome, True, 1, 2, 52, 104)
    by_level: dict[int, list[str]] = {}
    for record in caplog.records:
        by_level.setdefault(record.levelno, []).append(record.getMessage())
    assert len(by_level[logging.DEBUG]) == 50  # every source still there at debug level
    assert [m.split(":")[0] for m in by_level[logging.WARNING]] == ["source bad"]
    assert len(by_level[logging.INFO]) == 2  # the flaky source, and the batch line
    assert by_level[logging.INFO][-1].startswith("harvest batch 1/2 done in 1.5 s (1 failed, 51 ok): 104 documents")


# --------------------------------------------------------------------------- issue 15: less CPU per source


@pytest.mark.parametrize("where", ["in_data", "in_cwd", "elsewhere", "data_dir_is_archive"])
def test_archive_paths_are_the_portable_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """The archive root resolved once gives the same paths as resolving each document (``portable_path``)."""
    from xxgk.flows.harvesting import ArchivePaths
    from xxgk.flows.inputs import portable_path
    from xxgk.harvest.archive import RawArchive

    data, cwd, elsewhere = tmp_path / "data", tmp_path / "work", tmp_path / "other"
    root = {
        "in_data": data / "archive",
        "in_cwd": cwd / "arch",
        "elsewhere": elsewhere / "a",
        "data_dir_is_archive": data,
    }[where]
    for d in (data, cwd, elsewhere, root):
        d.mkdir(parents=True, exist_ok=True)
    (tmp_path / "link").symlink_to(root, target_is_directory=True)  # an archive reached through a symlink
    monkeypatch.chdir(cwd)
    archive = RawArchive(tmp_path / "link")
    sha, _new = archive.put(b"report bytes")
    paths = ArchivePaths(archive, data)
    expected = portable_path(str(archive.path_of(sha).resolve()), data)
    assert paths.published(sha) == expected
    assert paths.location(sha) == str(archive.path_of(sha).resolve())
    assert Path(paths.location(sha)).read_bytes() == b"report bytes"


def test_a_night_with_nothing_to_publish_reads_no_parquet(tmp_path: Path) -> None:
    """Refreshing the harvest outcomes in the index imports neither pyarrow.dataset nor pandas (~1.4 s a night)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from xxgk.flows.publishing import publish_staged\n"
        "from xxgk.warehouse.validation import refresh_harvest\n"
        f"d = Path({str(tmp_path)!r})\n"
        "(d / 'archive').mkdir()\n"
        '(d / \'archive\' / \'harvest.json\').write_text(\'{"sources": [{"source_id": "s", "status": "ok"}]}\')\n'
        "assert refresh_harvest(d, d / 'archive' / 'harvest.json')\n"
        "assert (d / 'validation' / 'index.html').is_file()\n"
        "print(sorted(m for m in ('pandas', 'pyarrow.dataset') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_harvest_tasks_get_their_own_sources_not_the_whole_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (issue 15): every harvest_batch task was handed the plan with the run's whole source
    list, which Prefect walks for every task: O(tasks × sources), most of a 10,000-source night's CPU."""
    from xxgk.harvest.registry import source_from_dict

    sources = [
        source_from_dict({"source_id": f"s{i}", "publisher": f"p{i}", "listing_urls": [f"http://h{i}.test/list/"]})
        for i in range(20)
    ]
    plan = HarvestPlan(sources=sources, archive_dir=str(tmp_path / "archive"), batch_size=8)
    seen: list[tuple[int, int]] = []

    class FakeBatch:
        @staticmethod
        def fn(chunk: list[Any], task_plan: HarvestPlan, *_args: Any) -> HarvestBatchOutcome:
            seen.append((len(chunk), len(task_plan.sources)))
            return HarvestBatchOutcome(index=len(seen) - 1, sources=[], documents=[])

    monkeypatch.setattr(tasks, "harvest_batch", FakeBatch)
    tasks.harvest_step(plan, str(tmp_path), "run", False, logging.getLogger("test"))
    assert seen == [(8, 0), (8, 0), (4, 0)]
    assert len(plan.sources) == 20  # the caller's plan is left whole (the run summary's staleness uses it)


def test_long_lists_reach_prefect_untraversed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (issue 15): Prefect walked the publish task's parameters (10,000 staged paths and
    source outcomes) and the flow's returned summary element by element, looking for futures:
    seconds of a no-change night at 10,000 sources. Wrapped ``untraversed``, they are not walked."""
    from prefect.futures import resolve_futures_to_states
    from prefect.utilities import collections as prefect_collections
    from prefect.utilities.engine import collect_task_run_inputs_sync

    from xxgk.flows.summary import RunSummary

    outcomes = [SourceOutcome(f"s{i}", "p", "ok", "", problems=[]) for i in range(2000)]
    summary = RunSummary("d", 0, {}, {}, 0, 0, 0, "1", None, None, sources=outcomes)
    visits = 0
    real = prefect_collections.visit_collection

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal visits
        visits += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(prefect_collections, "visit_collection", counting)
    resolve_futures_to_states(summary)
    collect_task_run_inputs_sync({"harvest": outcomes})
    walked, visits = visits, 0
    assert walked > 2 * len(outcomes)  # what the night paid before
    assert tasks.unwrap_result(resolve_futures_to_states(tasks.untraversed(summary))) is summary
    collect_task_run_inputs_sync({"harvest": tasks.untraversed(outcomes)})
    assert visits < 10

    calls: list[dict[str, Any]] = []

    def fake_publish(*args: Any, **kwargs: Any) -> str:
        calls.append(dict(zip(("data_dir", "staged"), args, strict=False)) | kwargs)
        return "published"

    monkeypatch.setattr(tasks, "publish_task", fake_publish)
    assert tasks.publish_step("d", ["a"], orchestrated=True, sources=["s"], harvest=outcomes) == "published"
    (call,) = calls
    assert all(tasks.unwrap_result(call[k]) is not call[k] for k in ("staged", "sources", "harvest"))
