"""The whole path against the local portal: discover → fetch → archive → extract → validate → Parquet.

The detailed assertions run the flow's steps in-process (``orchestrate=False``, the same task
functions); one test runs the real Prefect flow. The portal serves the embedded sample set (bytes
unchanged) plus the demo sites with their injected faults.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault(
    "PREFECT_HOME",
    str(Path(tempfile.gettempdir()) / f"xxgk-test-prefect-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"),
)

from tests.facts import expected_facts as _expected
from tests.facts import printed_facts as _facts
from tests.published import snapshot as _published
from xxgk.demo import SampleDocument, demo_run_spec, portal_sources, sample_sources, serve_portal
from xxgk.flows import prefect_api, tasks
from xxgk.flows.extraction import DocumentOutcome
from xxgk.flows.harvesting import HarvestPlan, archive_dir_of
from xxgk.flows.pipeline import run_pipeline
from xxgk.flows.summary import RunSummary
from xxgk.harvest import FetchConfig, RawArchive
from xxgk.harvest.fetch import ERR_HTTP, ERR_OFFSITE, ERR_ROBOTS
from xxgk.synth.report import SyntheticReport
from xxgk.synth.sample import sample_documents
from xxgk.warehouse import load_staged

SLUG = {"demo-city": "city", "demo-county": "county", "demo-office": "office"}
FAULT_FREE = {"changsha-chengdong", "demo-county"}


def _config() -> FetchConfig:
    # the slow fault answers after 2 s; a 1 s read timeout turns it into a retried timeout while
    # leaving ordinary answers ample time on a loaded machine
    return FetchConfig.for_tests(read_timeout=1.0)


def _spec() -> tuple[Any, list[SampleDocument]]:
    return demo_run_spec(slow_seconds=2.0, retry_after=0.2)


@pytest.fixture(scope="module", autouse=True)
def _stop_prefect_api() -> Iterator[None]:
    yield
    prefect_api.stop_api()


def _plan(base: str, samples: list[SampleDocument], data_dir: Path) -> HarvestPlan:
    sources = sample_sources(base, samples) + portal_sources(base)
    return HarvestPlan(sources, str(archive_dir_of(data_dir)), _config(), label="test portal", portal=base)


def _run(plan: HarvestPlan, data_dir: Path, **kwargs: Any) -> tuple[RunSummary, list[DocumentOutcome]]:
    """One in-process run, with every document's outcome (the summary keeps only the problems)."""
    outcomes: list[DocumentOutcome] = []
    remove = tasks.add_progress_listener(lambda _d, _t, batch: outcomes.extend(batch.documents if batch else []))
    try:
        return run_pipeline(harvest=plan, data_dir=data_dir, orchestrate=False, **kwargs), outcomes
    finally:
        remove()


def test_harvest_flow_end_to_end(tmp_path: Path) -> None:
    data = tmp_path / "data"
    spec, samples = _spec()
    truth = sample_documents()
    with serve_portal(spec) as (portal, base):
        plan = _plan(base, samples, data)
        demo_expected = portal.expected_reports()
        first, outcomes = _run(plan, data, batch_size=7)
        n_demo = len(demo_expected)
        assert first.documents == len(samples) + n_demo == 26
        assert first.by_action == {"extracted": 26} and first.internal_errors == 0
        assert first.batches == 4 and first.portal == base

        # every report discovered and extracted; facts equal the synthetic truth
        by_key = {(o.source_id, o.year): o for o in outcomes}
        for doc in samples:
            outcome = by_key[(doc.source_id, doc.link_year)]
            assert outcome.document_sha256 == doc.sha256  # the bytes exactly as served
            assert outcome.source_url == base + doc.document_path
            result = load_staged(outcome.staged).result
            expected_status = {"report": "ok"}.get(doc.kind, doc.kind)
            assert result.status == expected_status, (doc.file, result.reason)
            if isinstance(truth[doc.file], SyntheticReport):
                assert _facts(result) == _expected(truth[doc.file]), doc.file  # type: ignore[arg-type]
        for (slug, year), report in demo_expected.items():
            sid = next(k for k, v in SLUG.items() if v == slug)
            result = load_staged(by_key[(sid, year)].staged).result
            assert result.status == "ok" and _facts(result) == _expected(report), (sid, year)

        # each injected fault reported per source; transient ones recovered and reported too
        sources = {s.source_id: s for s in first.sources}
        assert {s.source_id for s in first.sources} == {s.source_id for s in plan.sources}
        assert all(sources[d.source_id].status == "ok" for d in samples)
        assert (sources["demo-city"].status, sources["demo-county"].status) == ("partial", "ok")
        assert {(p.year, p.kind, p.status) for p in sources["demo-city"].problems} == {
            (2018, ERR_HTTP, 404),
            (2017, ERR_OFFSITE, 302),
            (2016, ERR_ROBOTS, None),
        }
        recovered = {
            (s.source_id, Path(p.url).name, p.detail.split(";")[0].split(" (")[0])
            for s in first.sources
            for p in s.recovered
        }
        assert recovered == {
            ("demo-city", "index_1.html", "HTTP 429"),
            ("demo-city", "t20210315_1102.html", "HTTP 500, HTTP 500"),
            ("demo-county", "index_1.htm", "HTTP 503"),
            ("demo-county", "t20220310_1202.htm", "connection error"),
            ("demo-county", "t20240310_1204.htm", "timeout"),
        }
        dept = sources["demo-dept"]
        assert dept.failed and dept.status == "layout_changed" and dept.documents == 0
        assert [s.source_id for s in first.failed_sources] == ["demo-dept"]
        record = json.loads((data / "archive" / "harvest.json").read_text(encoding="utf-8"))
        assert record["run_id"] == first.run_id
        assert {s["source_id"]: s["status"] for s in record["sources"]}["demo-dept"] == "layout_changed"

        # no request left the allowed hosts; robots-disallowed paths were never requested
        assert [r for r in portal.requests if r["host"] != "main"] == []
        assert not [r for r in portal.requests if r["path"].startswith("/city/private/")]
        archive = RawArchive(data / "archive")
        log = archive.read_log()
        assert len([e for e in log if e["attempt"] > 0]) == len(portal.requests)
        assert {e["run_id"] for e in log} == {first.run_id}

        # published: paths relative to the data directory (the raw archive), every source there
        reports = _reports(data)
        assert len(reports) == 26
        assert all(r["path"].startswith("archive/raw/") for r in reports)
        index = (data / "validation" / "index.html").read_text(encoding="utf-8")
        assert all(d.source_id in index for d in samples)

        # second run: conditional requests only; nothing staged or extracted, no file rewritten
        published = _published(data)
        raw_before = set(archive.iter_raw())
        served = len(portal.requests)
        ok_paths = {e["url"].split("/", 3)[3] for e in log if e["status"] == 200 and e["kind"] != "robots"}
        second, _ = _run(plan, data)
        again = portal.requests[served:]
        assert again
        for r in again:
            if r["path"].lstrip("/") in ok_paths:
                assert r["if_none_match"] and r["if_modified_since"], r["path"]
        assert second.by_action == {"reused": 26}
        assert sum(s.changed for s in second.sources) == 0
        assert sum(s.not_modified for s in second.sources) >= 40
        assert set(archive.iter_raw()) == raw_before
        assert (second.files_written, second.files_removed) == (0, 0)
        assert second.published_up_to_date == 26  # the publish step read none of them again
        assert _published(data) == published

        # a report changes on the portal: exactly that one is re-extracted and its partition republished
        portal.change_report("county", 2023)
        third, outcomes = _run(plan, data)
        changed = [(o.source_id, o.year) for o in outcomes if o.action == "extracted"]
        assert changed == [("demo-county", 2023)]
        assert third.by_action == {"extracted": 1, "reused": 25}
        county = sum(1 for o in outcomes if o.source_id == "demo-county")
        assert third.published_up_to_date == 26 - county  # only the changed report's source republished
        assert [(s.source_id, s.changed) for s in third.sources if s.changed] == [("demo-county", 1)]
        now = _published(data)
        rewritten = {k for k in now if k not in published or now[k] != published[k]}
        assert rewritten, "the changed report was not republished"
        tables = {k for k in rewritten if k.startswith("warehouse/")}
        assert {f"warehouse/{t}/year=2023/part-0.parquet" for t in ("facts", "reports")} <= tables
        # beyond the 2023 partition, at most the neighbouring years' cross-year checks move
        neighbours = {f"warehouse/checks/year={y}/part-0.parquet" for y in (2022, 2024)}
        assert all("/year=2023/" in k or k in neighbours for k in tables), tables
        assert all(
            k.startswith(("validation/demo-county/", "validation/index"))
            for k in rewritten
            - tables
            - {
                "validation/history.json",
                "validation/history.js",
            }
        )
        history = json.loads((data / "validation" / "history.json").read_text(encoding="utf-8"))
        # the run history says what changed: the report, and the next year's through its cross-year checks
        assert "demo-county/2023" in history["runs"][-1]["changed"]
        assert all(k.startswith("demo-county/") for k in history["runs"][-1]["changed"])
        assert history["runs"][-1]["counts"]["new"] == 0
        new = next(o for o in outcomes if o.action == "extracted")
        result = load_staged(new.staged).result
        assert _facts(result) == _expected(portal.expected_reports()[("county", 2023)])
        county_2023 = [r for r in _reports(data) if (r["source_id"], r["year"]) == ("demo-county", 2023)]
        assert [r["document_sha256"] for r in county_2023] == [new.document_sha256]


def _reports(data_dir: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for part in sorted((data_dir / "warehouse" / "reports").glob("year=*/part-0.parquet")):
        year = int(part.parent.name.removeprefix("year="))
        rows += [{**row, "year": year} for row in pq.read_table(part).to_pylist()]
    return rows


def test_one_fetcher_per_process_and_run() -> None:
    from xxgk.flows.harvesting import close_fetchers, shared_fetcher

    config = _config()
    first = shared_fetcher(config)
    assert shared_fetcher(config) is first  # every batch and source of the run shares it
    assert shared_fetcher(FetchConfig.for_demo()) is not first
    close_fetchers()
    assert shared_fetcher(config) is not first  # the next run starts fresh
    close_fetchers()


def test_registry_run_harvests_its_sources(tmp_path: Path) -> None:
    """`xxgk run --sources registry.yaml`: enabled real-style sources (here on the local portal)."""
    from typer.testing import CliRunner

    from xxgk.flows.cli import app

    spec, _samples = _spec()
    spec.faults = {}
    with serve_portal(spec) as (portal, base):
        registry = tmp_path / "registry.yaml"
        registry.write_text(
            "sources:\n"
            "  - source_id: test-county\n"
            "    publisher: 示例县人民政府\n"
            "    level: county\n"
            "    adapter: trs\n"
            f"    listing_urls: ['{base}/county/zwgk/zfxxgknb/index.htm']\n"
            "    delay_seconds: 0\n"
            "  - source_id: test-off\n"
            "    publisher: 未启用\n"
            f"    listing_urls: ['{base}/city/nb/index.html']\n"
            "    enabled: false\n",
            encoding="utf-8",
        )
        args = ["run", "--sources", str(registry), "--data-dir", str(tmp_path / "d"), "--no-prefect", "--json", "-q"]
        result = CliRunner().invoke(app, [*args, "--years", "2022-2023"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert [(s["source_id"], s["status"], s["documents"]) for s in summary["sources"]] == [("test-county", "ok", 2)]
        assert summary["by_status"] == {"ok": 2} and summary["portal"] is None
        assert not [r for r in portal.requests if r["path"].startswith("/city/")]  # the disabled source
        expected = portal.expected_reports()
        staged = [load_staged(p) for p in (tmp_path / "d" / "staging").rglob("*.json.gz")]
        assert sorted(s.info.year for s in staged) == [2022, 2023]
        for s in staged:
            assert s.info.publisher == "示例县人民政府" and s.info.level == "county"
            assert _facts(s.result) == _expected(expected[("county", s.info.year or 0)])

    # registry entries on the demo portal ({portal} URLs) start it when picked by id
    reg = Path(__file__).resolve().parents[1] / "data" / "sources.yaml"
    args = ["run", "--sources", str(reg), "--sources-only", "demo-dept", "--portal-port", "0"]
    result = CliRunner().invoke(app, [*args, "--data-dir", str(tmp_path / "e"), "--no-prefect", "--json", "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [(s["source_id"], s["status"]) for s in summary["sources"]] == [("demo-dept", "layout_changed")]
    assert summary["documents"] == 0 and summary["portal"].startswith("http://127.0.0.1:")


@pytest.mark.slow
def test_harvest_flow_under_prefect(tmp_path: Path) -> None:
    """The same path as one Prefect flow: harvest_batch, extract_batch and publish task runs."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    spec, samples = _spec()
    with serve_portal(spec) as (_portal, base):
        plan = _plan(base, samples, tmp_path / "prefect")
        plan.batch_size = 5
        summary = run_pipeline(harvest=plan, data_dir=tmp_path / "prefect", runner="threads", batch_size=10)
        local, _ = _run(_plan(base, samples, tmp_path / "local"), tmp_path / "local", batch_size=10)
    assert summary.runner == "prefect/threads×2"
    assert summary.documents == local.documents == 26
    assert (summary.by_status, summary.cells, summary.failed_checks) == (
        local.by_status,
        local.cells,
        local.failed_checks,
    )
    assert {s.source_id: s.status for s in summary.sources} == {s.source_id: s.status for s in local.sources}
    # the facts are the same bytes (provenance columns aside from fetch times are equal too)
    for part in (tmp_path / "local" / "warehouse" / "facts").glob("year=*/part-0.parquet"):
        other = tmp_path / "prefect" / part.relative_to(tmp_path / "local")
        assert other.read_bytes() == part.read_bytes(), part
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(summary.run_id)])))
    names = sorted(r.name.rsplit("-", 1)[0] for r in runs)
    assert names.count("harvest_batch") == 3  # 12 sources in batches of 5
    assert names.count("extract_batch") == 3 and names.count("publish") == 1
