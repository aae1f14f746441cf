"""Deployments, per-source artifacts and task runners (flows/deploy.py, artifacts.py, runners.py, prefect_api.py).

The unit tests need no server. The tests marked ``slow`` start a real Prefect server
(``prefect server start`` in a subprocess, its database in a temp dir, once for the module),
register the deployment and read its cron schedule back, publish artifacts from a flow run, run a
small flow on a local Dask cluster by address, and serve the deployment in a subprocess that
executes a run of the real pipeline.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import yaml
from typer.testing import CliRunner

# Prefect reads its settings at import: a per-worker PREFECT_HOME in the temp dir (never
# ~/.prefect) and no configured API; the tests that need the server name its URL explicitly.
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault(
    "PREFECT_HOME",
    str(Path(tempfile.gettempdir()) / f"xxgk-test-prefect-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"),
)

from xxgk.flows import artifacts, deploy
from xxgk.flows.artifacts import artifact_key, publish_artifacts, report_link, source_markdown
from xxgk.flows.cli import app
from xxgk.flows.deploy import (
    DEFAULT_CRON,
    DEFAULT_TIMEZONE,
    build_deployment,
    deployment_parameters,
    register_deployment,
    resolve_flow,
    validate_schedule,
)
from xxgk.flows.prefect_api import ServerUnavailable, api_settings, check_api
from xxgk.flows.runners import resolve_runner, scheduled_runner, task_runner_for, with_task_runner

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
MANIFEST = SAMPLE / "manifest.yaml"
SERVER_TIMEOUT = 90.0


def manifest_entries() -> list[dict[str, Any]]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["documents"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the sample set extracted and published (in-process, no API)."""
    from xxgk.flows.pipeline import run_pipeline

    data = tmp_path_factory.mktemp("published")
    summary = run_pipeline(sources=str(MANIFEST), data_dir=data, orchestrate=False)
    assert summary.documents == len(manifest_entries())
    return data


# --------------------------------------------------------------------------- schedule and parameters


def test_defaults_are_nightly_in_china() -> None:
    assert (DEFAULT_CRON, DEFAULT_TIMEZONE) == ("0 2 * * *", "Asia/Shanghai")


@pytest.mark.parametrize(
    ("cron", "timezone", "message"),
    [("0 25 * * *", "Asia/Shanghai", "invalid schedule"), ("0 2 * * *", "Mars/Olympus", "Invalid timezone")],
)
def test_bad_schedule_is_one_clear_error(cron: str, timezone: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_schedule(cron, timezone)


def test_deployment_has_cron_timezone_and_module_entrypoint(tmp_path: Path) -> None:
    flow = resolve_flow()
    parameters, ignored = deployment_parameters(
        flow, {"data_dir": tmp_path / "d", "sources": None, "batch_size": 7, "no_such_option": 1}
    )
    assert parameters == {"data_dir": str((tmp_path / "d").resolve()), "batch_size": 7}
    assert ignored == {"no_such_option": 1}
    dep = build_deployment(flow, cron="30 3 * * 1", timezone="Asia/Urumqi", parameters=parameters)
    assert dep.entrypoint == "xxgk.flows.pipeline.extract_flow"
    assert dep.parameters == parameters
    (schedule,) = dep.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("30 3 * * 1", "Asia/Urumqi")
    assert dep.full_name == f"{flow.name}/nightly"


def test_workers_alias_and_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect import flow

    @flow
    def fake(data_dir: str, max_workers: int = 1, registry: str | None = None) -> None:
        """A flow that calls its options by other names."""

    monkeypatch.chdir(tmp_path)
    parameters, ignored = deployment_parameters(fake, {"data_dir": "data", "workers": 3, "sources": "s.yaml"})
    assert parameters == {"data_dir": str(tmp_path / "data"), "max_workers": 3, "registry": str(tmp_path / "s.yaml")}
    assert ignored == {}


@pytest.mark.parametrize("ref", ["xxgk.flows.pipeline:no_such_flow", "xxgk.flows.pipeline:run_pipeline", "nonsense"])
def test_resolve_flow_rejects_what_is_not_a_flow(ref: str) -> None:
    with pytest.raises(ValueError, match="flow reference"):
        resolve_flow(ref)


# --------------------------------------------------------------------------- no server


@pytest.mark.parametrize("url", ["", None])
def test_no_server_configured_says_how_to_start_one(url: str | None) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}), pytest.raises(ServerUnavailable) as info:
        check_api(url)
    text = str(info.value)
    assert "no Prefect server is configured" in text
    assert "prefect server start" in text
    assert "export PREFECT_API_URL=http://127.0.0.1:4200/api" in text


def test_unreachable_server_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    with pytest.raises(ServerUnavailable, match=f"the Prefect API at {url} does not answer"):
        check_api(url, timeout=2)


def test_serve_command_without_server_exits_2_with_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--api-url", "", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "no Prefect server is configured" in result.output
    assert "prefect server start" in result.output
    assert not (tmp_path / "staging").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sources", "{registry}"], "no enabled source to harvest (1 disabled: yy)"),
        (["--sources", "{registry}", "--sources-only", "zz"], "unknown source id zz"),
        (["--years", "2024-2019"], "--years: reversed range 2024-2019: write 2019-2024"),
        (["--cron", "every night"], "invalid schedule (cron 'every night'"),
        (["--timezone", "Mars/Olympus"], "Invalid timezone"),
    ],
)
def test_serve_refuses_a_bad_selection_or_schedule_before_the_api(tmp_path: Path, args: list[str], message: str) -> None:
    """Regression: `serve --sources data/sources.yaml` registered a nightly that then always failed
    (no enabled source), and a bad cron was refused only after the API check. Here the API URL
    answers nothing: the refusal must name the selection or the schedule, not the server."""
    registry = tmp_path / "sources.yaml"
    registry.write_text(
        "sources:\n  - {source_id: yy, publisher: 某局, listing_urls: [http://example.invalid/], enabled: false}\n",
        "utf-8",
    )
    argv = ["serve", "--api-url", "http://127.0.0.1:9/api", "--data-dir", str(tmp_path / "data")]
    result = CliRunner().invoke(app, argv + [a.format(registry=registry) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Prefect server" not in result.output and "does not answer" not in result.output


def test_serve_command_rejects_a_missing_sources_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--sources", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "no such file" in result.output


# --------------------------------------------------------------------------- task runners


def test_task_runner_for_each_kind() -> None:
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    threads = task_runner_for("threads", 3)
    assert isinstance(threads, ThreadPoolTaskRunner) and threads._max_workers == 3
    processes = task_runner_for("processes", 0)
    assert isinstance(processes, ProcessPoolTaskRunner) and processes._max_workers == 1
    by_address = task_runner_for("tcp://10.0.0.5:8786", 2)
    assert isinstance(by_address, DaskTaskRunner) and by_address.address == "tcp://10.0.0.5:8786"
    named = task_runner_for("dask", 2, "tcp://127.0.0.1:8786")
    assert named.address == "tcp://127.0.0.1:8786"
    local = task_runner_for("dask", 2)
    assert local.address is None and local.cluster_kwargs["n_workers"] == 2


@pytest.mark.parametrize(
    ("runner", "address", "message"),
    [("auto", None, "unknown runner"), ("gpu", None, "unknown runner"), ("dask", "10.0.0.5:8786", "not a Dask")],
)
def test_task_runner_for_rejects_unknown(runner: str, address: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        task_runner_for(runner, 2, address)


@pytest.mark.parametrize(
    ("runner", "workers", "address", "cores", "expected"),
    [
        ("auto", 2, None, 2, ("processes", None)),
        ("auto", 2, None, 1, ("threads", None)),
        ("auto", 1, None, 8, ("threads", None)),
        ("auto", 2, "tcp://10.0.0.5:8786", 2, ("dask", "tcp://10.0.0.5:8786")),
        ("tcp://10.0.0.5:8786", 2, None, 2, ("dask", "tcp://10.0.0.5:8786")),
        ("dask", 2, None, 2, ("dask", None)),
        ("Threads", 4, None, 2, ("threads", None)),
    ],
)
def test_resolve_runner_for_scheduled_runs(
    runner: str,
    workers: int,
    address: str | None,
    cores: int,
    expected: tuple[str, str | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert resolve_runner(runner, workers, address) == expected


def test_dask_address_with_another_runner_is_refused() -> None:
    with pytest.raises(ValueError, match="needs --runner dask"):
        resolve_runner("threads", 2, "tcp://10.0.0.5:8786")


@pytest.mark.parametrize(
    ("runner", "address", "expected"),
    [
        ("auto", None, ("auto", None)),  # decided per run, from the documents left to parse
        ("Threads", None, ("threads", None)),
        ("processes", None, ("processes", None)),
        ("dask", None, ("dask", None)),
        ("auto", "tcp://10.0.0.5:8786", ("dask", "tcp://10.0.0.5:8786")),
        ("tcp://10.0.0.5:8786", None, ("dask", "tcp://10.0.0.5:8786")),
    ],
)
def test_scheduled_runner_keeps_auto_for_the_pipeline(
    runner: str, address: str | None, expected: tuple[str, str | None]
) -> None:
    assert scheduled_runner(runner, address) == expected


@pytest.mark.parametrize(
    ("runner", "address", "message"),
    [("gpu", None, "unknown runner"), ("threads", "tcp://h:1", "needs --runner dask"), ("dask", "h:1", "not a Dask")],
)
def test_scheduled_runner_refuses(runner: str, address: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scheduled_runner(runner, address)


def test_with_task_runner_survives_the_trip_to_the_run_process() -> None:
    """A served run executes a cloudpickled copy of the flow: the runner and its address must survive."""
    import cloudpickle
    from prefect.task_runners import ThreadPoolTaskRunner

    flow = resolve_flow()
    configured = with_task_runner(flow, "tcp://10.0.0.5:8786", 2)
    assert configured.task_runner.address == "tcp://10.0.0.5:8786"
    assert isinstance(flow.task_runner, ThreadPoolTaskRunner)
    copy = cloudpickle.loads(cloudpickle.dumps(configured))
    assert (type(copy.task_runner).__name__, copy.task_runner.address) == ("DaskTaskRunner", "tcp://10.0.0.5:8786")
    assert copy.name == flow.name


# --------------------------------------------------------------------------- artifacts (content)


@pytest.mark.parametrize(
    ("source_id", "key"),
    [
        ("demo-city", "xxgk-demo-city"),
        ("js_huaian.hongze", "xxgk-js-huaian-hongze-"),
        ("Demo-City", "xxgk-demo-city-"),
        ("洪泽区", "xxgk-source-"),
    ],
)
def test_artifact_keys_are_valid_and_distinct(source_id: str, key: str) -> None:
    made = artifact_key(source_id)
    assert made.startswith(key)
    assert set(made) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert artifact_key("demo-city") != artifact_key("Demo-City")


def test_report_link_file_url_and_base_url(tmp_path: Path) -> None:
    report = tmp_path / "validation" / "%E6%B4%AA" / "2023.html"
    assert report_link(report, tmp_path) == report.resolve().as_uri()
    assert report_link(report, tmp_path).endswith("/validation/%25E6%25B4%25AA/2023.html")
    assert (
        report_link(report, tmp_path, "http://reports.example/xxgk/")
        == "http://reports.example/xxgk/validation/%25E6%25B4%25AA/2023.html"
    )


def test_source_markdown_golden(published: Path) -> None:
    vdir = published / "validation" / "changsha-chengdong"
    reports = artifacts._source_reports(published, {"changsha-chengdong"})["changsha-chengdong"]
    text = source_markdown("changsha-chengdong", reports, published)
    assert text == (
        "# changsha-chengdong — 长沙市城东区人民政府\n"
        "\n"
        "**2** report(s), **2** document(s), status ok, **1** failed check(s), 1 failed warning(s).\n"
        "\n"
        "| year | status | documents | facts | failed checks | not assessable | unmapped | report |\n"
        "|---|---|---|---|---|---|---|---|\n"
        f"| 2020 | ok | 1 | 198 | 0 | 0 | 1 | [2020.html]({(vdir / '2020.html').as_uri()}) |\n"
        f"| 2021 | ok | 1 | 200 | 1 | 0 | 0 | [2021.html]({(vdir / '2021.html').as_uri()}) |\n"
        "\n"
        "**Failed checks and warnings**\n"
        "\n"
        "- 2021 `review_litigation.row_total` review_litigation litigation_after_review / total: "
        "printed total 4, its parts add up to 1 (difference 3) (error)\n"
        "- 2021 `narrative.matches_tables` review_litigation litigation_total / total: "
        "the text says 8, the tables say 11 (difference -3) (warning)\n"
    )


def test_source_markdown_shows_reasons(published: Path) -> None:
    reports = artifacts._source_reports(published, None)
    assert sorted(reports) == sorted({e["source_id"] for e in manifest_entries()})
    text = source_markdown("suzhou-office", reports["suzhou-office"], published)
    assert "**Reasons**" in text
    assert "not_a_report — " in text


def test_source_markdown_with_harvest_and_no_report(published: Path) -> None:
    from xxgk.flows.harvesting import SourceOutcome
    from xxgk.harvest.harvester import HarvestProblem

    problem = HarvestProblem(kind="layout_changed", url="http://gov.example/list.html", detail="no div.list | page")
    gone = SourceOutcome(
        source_id="gone",
        publisher="某县人民政府",
        status="layout_changed",
        reason="listing changed",
        problems=[problem],
    )
    assert source_markdown("gone", [], published, harvest=gone) == (
        "# gone — 某县人民政府\n"
        "\n"
        "**Harvest**: layout_changed — listing changed (0 listed)\n"
        "\n"
        "- layout_changed http://gov.example/list.html: no div.list \\| page\n"
        "\n"
        "No validation report: no document of this source has been extracted.\n"
    )
    reports = artifacts._source_reports(published, {"kunming-gaoxin"})["kunming-gaoxin"]
    harvest = {"source_id": "kunming-gaoxin", "status": "ok", "reason": "", "reports": 1, "fetched": 1, "changed": 0}
    text = source_markdown("kunming-gaoxin", reports, published, harvest=harvest)
    assert text.startswith("# kunming-gaoxin — 昆明市高新区人民政府\n\n**Harvest**: ok (1 listed)\n\n**1** report(s)")


def test_wanted_sources_from_paths_ids_and_outcomes(published: Path) -> None:
    from xxgk.flows.extraction import DocumentOutcome

    json_path = published / "validation" / "kunming-gaoxin" / "2020.json"
    outcome = DocumentOutcome(source_id="jinan-nanshan", document_sha256="0" * 64, path=None, action="extracted")
    items = [json_path.with_suffix(".html"), "fuzhou-gaoxin", {"source_id": "huaian-hexi"}, outcome]
    assert artifacts._wanted_sources(items) == {"kunming-gaoxin", "fuzhou-gaoxin", "huaian-hexi", "jinan-nanshan"}
    assert artifacts._wanted_sources(None) is None
    with pytest.raises(TypeError):
        artifacts._wanted_sources([42])


def test_publish_artifacts_outside_a_run_creates_nothing(published: Path) -> None:
    assert publish_artifacts(None, published) == {}


# --------------------------------------------------------------------------- a real Prefect server


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`prefect server start` on a free local port with its own home and database; yields the API URL."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        DO_NOT_TRACK="1",
    )
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + SERVER_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"prefect server exited with {proc.returncode}: {(home / 'server.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prefect server not healthy after {SERVER_TIMEOUT:.0f} s")
            time.sleep(0.5)
        yield url
    finally:
        _drain_prefect_workers()
        _stop_group(proc)
        log.close()


def _drain_prefect_workers() -> None:
    """Send this process's pending logs and events before their server goes away (no noise at exit)."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=10, at_exit=False)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a subprocess started with its own session, and everything it started."""
    if proc.poll() is None:
        with_children = os.getpgid(proc.pid)
        os.killpg(with_children, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(with_children, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.mark.slow
def test_register_deployment_and_read_back_its_cron(prefect_server: str, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    values = {"data_dir": tmp_path / "data", "sources": MANIFEST, "batch_size": 10, "workers": 2, "runner": "threads"}
    registered = register_deployment(name="nightly", values=values, api_url=prefect_server)
    assert (registered.cron, registered.timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert registered.full_name == "xxgk-extract/nightly"
    assert registered.api_url == prefect_server
    assert registered.paused is False
    assert registered.parameters["data_dir"] == str((tmp_path / "data").resolve())
    assert registered.parameters["sources"] == str(MANIFEST)
    assert set(registered.parameters) | set(registered.ignored) >= {"data_dir", "sources", "batch_size", "runner"}

    with api_settings(prefect_server), get_client(sync_client=True) as client:
        stored = client.read_deployment_by_name("xxgk-extract/nightly")
    assert str(stored.id) == registered.id
    assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in stored.schedules] == [
        ("0 2 * * *", "Asia/Shanghai", True)
    ]
    assert stored.entrypoint == "xxgk.flows.pipeline.extract_flow"
    assert stored.work_pool_name is None

    again = register_deployment(
        name="nightly", cron="15 4 * * *", timezone="UTC", values=values, api_url=prefect_server
    )
    assert again.id == registered.id
    assert (again.cron, again.timezone) == ("15 4 * * *", "UTC")
    with api_settings(prefect_server), get_client(sync_client=True) as client:
        stored = client.read_deployment_by_name("xxgk-extract/nightly")
    assert [(s.schedule.cron, s.schedule.timezone) for s in stored.schedules] == [("15 4 * * *", "UTC")]


@pytest.mark.slow
def test_register_only_command(prefect_server: str, tmp_path: Path) -> None:
    args = ["serve", "--register-only", "--api-url", prefect_server, "--name", "cli-check", "--cron", "0 3 * * *"]
    result = CliRunner().invoke(app, [*args, "--data-dir", str(tmp_path), "--sources", str(MANIFEST)])
    assert result.exit_code == 0, result.output
    assert "xxgk-extract/cli-check" in result.output
    stored = deploy.read_deployment("xxgk-extract/cli-check", prefect_server)
    assert [(s.schedule.cron, s.schedule.timezone) for s in stored.schedules] == [("0 3 * * *", "Asia/Shanghai")]
    # the pipeline picks its extraction runner per run: `auto` is stored as such, with the workers
    assert (stored.parameters["runner"], stored.parameters["max_workers"]) == ("auto", 2)
    assert "archive_dir" not in stored.parameters

    shared = tmp_path / "shared" / "archive"
    args = ["serve", "--register-only", "--api-url", prefect_server, "--name", "cli-dask", "--runner", "tcp://h:8786"]
    result = CliRunner().invoke(app, [*args, "--data-dir", str(tmp_path), "--archive-dir", str(shared)])
    assert result.exit_code == 0, result.output
    assert "the Dask cluster at tcp://h:8786" in result.output
    stored = deploy.read_deployment("xxgk-extract/cli-dask", prefect_server)
    assert (stored.parameters["runner"], stored.parameters["archive_dir"]) == ("tcp://h:8786", str(shared.resolve()))


@pytest.mark.slow
def test_artifacts_per_source_from_a_flow_run(prefect_server: str, published: Path) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    harvest = [{"source_id": "gone", "status": "layout_changed", "reason": "listing changed"}]

    @flow(name="xxgk-artifacts-test")
    def publish_flow(data_dir: str) -> dict[str, Any]:
        return publish_artifacts(["changsha-chengdong", "kunming-gaoxin"], data_dir, harvest=harvest)

    with api_settings(prefect_server):
        state = publish_flow(str(published), return_state=True)
        created = state.result()
        run_id = state.state_details.flow_run_id
        with get_client(sync_client=True) as client:
            stored = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
            )
    assert sorted(created) == ["changsha-chengdong", "gone", "kunming-gaoxin"]
    by_key = {a.key: a for a in stored}
    assert sorted(by_key) == ["xxgk-changsha-chengdong", "xxgk-gone", "xxgk-kunming-gaoxin", "xxgk-validation-index"]
    assert by_key["xxgk-gone"].description == "gone: 0 report(s), 0 failed check(s); harvest layout_changed"
    assert "**Harvest**: layout_changed — listing changed" in str(by_key["xxgk-gone"].data)
    markdown = by_key["xxgk-changsha-chengdong"]
    assert markdown.type == "markdown"
    assert markdown.id == created["changsha-chengdong"]
    reports = artifacts._source_reports(published, {"changsha-chengdong"})["changsha-chengdong"]
    assert markdown.data == source_markdown("changsha-chengdong", reports, published)
    assert markdown.description == "changsha-chengdong: 2 report(s), 1 failed check(s)"
    index = by_key["xxgk-validation-index"]
    assert index.type == "markdown"  # Prefect stores a link artifact as markdown: [text](link)
    assert (published.resolve() / "validation" / "index.html").as_uri() in str(index.data)  # the stable path


@pytest.mark.slow
def test_artifacts_only_for_sources_whose_artifact_changes(
    prefect_server: str, published: Path, tmp_path: Path
) -> None:
    """A night with nothing new makes no artifact; a changed report or harvest status makes exactly one."""
    from prefect import flow

    data = tmp_path / "data"
    shutil.copytree(published, data)
    sources = ["changsha-chengdong", "kunming-gaoxin"]

    @flow(name="xxgk-artifacts-changed-test")
    def publish_flow(data_dir: str, harvest: list[dict[str, Any]], changed: list[str]) -> list[str]:
        return sorted(publish_artifacts(sources, data_dir, harvest=harvest, changed_reports=changed))

    ok = [{"source_id": s, "status": "ok", "reason": "", "reports": 2} for s in sources]
    with api_settings(prefect_server):
        assert publish_flow(str(data), ok, []) == sources  # no state yet: every source
        assert publish_flow(str(data), ok, []) == []  # nothing new
        state = json.loads((data / artifacts.ARTIFACT_STATE).read_text(encoding="utf-8"))
        assert sorted(state["sources"]) == sources and state["api"] == prefect_server
        failing = [dict(ok[0]), {**ok[1], "status": "failed", "reason": "HTTP 500 on the listing"}]
        assert publish_flow(str(data), failing, []) == ["kunming-gaoxin"]
        report = next((data / "validation" / "changsha-chengdong").glob("*.json"))
        doc = json.loads(report.read_text(encoding="utf-8"))
        doc["failed_checks"] = int(doc.get("failed_checks") or 0) + 1
        report.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        changed = [report.relative_to(data).as_posix()]
        assert publish_flow(str(data), failing, changed) == ["changsha-chengdong"]
        # listed as changed but the same summary: nothing
        assert publish_flow(str(data), failing, changed) == []
        # a backfill replays the archive without harvesting: the artifacts keep the last harvest
        assert publish_flow(str(data), [], []) == []
        assert publish_flow(str(data), [], changed) == []
        shown = json.loads((data / artifacts.ARTIFACT_STATE).read_text(encoding="utf-8"))
        assert shown["sources"]["kunming-gaoxin"]["harvest"]["reason"] == "HTTP 500 on the listing"


def _tables_without_fetch_times(data_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The warehouse's rows (the fetch time of two harvests differs; everything else must not)."""
    import pyarrow.parquet as pq

    out: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((data_dir / "warehouse").glob("*/year=*/part-0.parquet")):
        rows = pq.read_table(path).to_pylist()
        out[str(path.relative_to(data_dir))] = [{k: v for k, v in r.items() if k != "fetched_at"} for r in rows]
    return out


@pytest.mark.slow
def test_small_harvest_on_a_local_dask_cluster_by_address(prefect_server: str, tmp_path: Path) -> None:
    """`--runner tcp://…`: the pipeline's extraction tasks run on an existing Dask cluster's workers."""
    from distributed import LocalCluster
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from xxgk.demo import demo_run_spec, portal_sources, serve_portal
    from xxgk.flows.harvesting import HarvestPlan, archive_dir_of
    from xxgk.flows.pipeline import run_pipeline
    from xxgk.harvest import FetchConfig

    spec, _samples = demo_run_spec()
    spec.faults = {}

    def plan(data: Path) -> HarvestPlan:
        return HarvestPlan(portal_sources(base), str(archive_dir_of(data)), FetchConfig.for_tests(), label="dask")

    with (
        serve_portal(spec) as (_portal, base),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            protocol="tcp",
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit="1GiB",
        ) as cluster,
        api_settings(prefect_server),
    ):
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        on_dask = run_pipeline(
            harvest=plan(tmp_path / "dask"), data_dir=tmp_path / "dask", runner=address, batch_size=3
        )
        ran_on_dask = {str(key) for key in cluster.scheduler.task_prefixes}
        on_threads = run_pipeline(
            harvest=plan(tmp_path / "threads"), data_dir=tmp_path / "threads", runner="threads", batch_size=3
        )
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(on_dask.run_id)])))
    assert on_dask.runner == f"prefect/dask@{address}" and on_threads.runner == "prefect/threads×2"
    n = on_threads.documents
    assert n == on_dask.documents >= 8 and on_dask.by_action == {"extracted": n}
    assert "extract_batch" in ran_on_dask  # the batches went through the cluster's scheduler
    names = [r.name.rsplit("-", 1)[0] for r in runs]
    assert names.count("extract_batch") == -(-n // 3) and all(r.state.is_completed() for r in runs)
    # the same results as on threads: statuses, counts, and every table row (fetch times aside)
    assert (on_dask.by_status, on_dask.cells, on_dask.failed_checks) == (
        on_threads.by_status,
        on_threads.cells,
        on_threads.failed_checks,
    )
    assert _tables_without_fetch_times(tmp_path / "dask") == _tables_without_fetch_times(tmp_path / "threads")


@pytest.mark.slow
def test_serve_executes_a_run_of_the_pipeline(prefect_server: str, tmp_path: Path) -> None:
    """`xxgk serve` registers and polls; a run of its deployment executes the pipeline."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "home"), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    log = (tmp_path / "serve.log").open("wb")
    args = [
        "serve",
        "--api-url",
        prefect_server,
        "--name",
        "served",
        "--data-dir",
        str(data),
        "--sources",
        str(MANIFEST),
        "--runner",
        "threads",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "xxgk.flows.cli", *args],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        with api_settings(prefect_server), get_client(sync_client=True) as client:
            while True:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                try:
                    deployment = client.read_deployment_by_name("xxgk-extract/served")
                    break
                except ObjectNotFound:
                    assert time.monotonic() < deadline, "deployment never registered"
                    time.sleep(0.5)
            assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
                ("0 2 * * *", "Asia/Shanghai")
            ]
            # beside it, the backfill the data team starts from the UI: no schedule, years and sources
            backfill = client.read_deployment_by_name("xxgk-backfill/backfill")
            assert backfill.schedules == []
            assert {"years", "sources"} <= set(backfill.parameter_openapi_schema["properties"])
            run = client.create_flow_run_from_deployment(deployment.id)
            while not (state := client.read_flow_run(run.id).state) or not state.is_final():
                assert time.monotonic() < deadline, f"run not finished: {state}"
                time.sleep(0.5)
        assert state.is_completed(), (tmp_path / "serve.log").read_text()[-3000:]
    finally:
        _stop_group(proc)
        log.close()
    # stopping the serve process pauses the schedule: no runs pile up while nothing executes them
    assert deploy.read_deployment("xxgk-extract/served", prefect_server).paused is True
    assert (data / "validation" / "index.html").is_file()
    assert sorted(p.name for p in (data / "validation").iterdir() if p.is_dir()) == sorted(
        {e["source_id"] for e in manifest_entries()}
    )


def test_the_readme_serve_example_is_a_valid_selection(tmp_path: Path) -> None:
    """Regression: the README's own `xxgk serve --sources data/sources.yaml` selected no source (all
    disabled). Its example now passes the selection checks and stops only at the (absent) server."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if x.startswith("xxgk serve "))
    args = shlex.split(line.split("#", 1)[0])[1:]
    repo = Path(__file__).resolve().parents[1]
    args = [str(repo / a) if a.startswith("data/") else a for a in args]
    argv = [*args, "--api-url", "http://127.0.0.1:9/api", "--data-dir", str(tmp_path)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert "http://127.0.0.1:9/api" in result.output  # refused for the server, not for the selection
    assert "no enabled source" not in result.output and "unknown source" not in result.output
