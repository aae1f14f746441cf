"""The nightly schedule, per-source artifacts and the choice of task runner.

``xxgk serve`` registers the pipeline flow as a Prefect deployment with a cron schedule (default
02:00 every night, Asia/Shanghai) on a Prefect *server* and keeps a process polling it for
scheduled runs. An ephemeral API (what ``xxgk run`` starts when no ``PREFECT_API_URL`` is set) lives
only as long as the process that started it and runs no scheduler, so it cannot schedule anything:
``check_api`` says so, with the commands that fix it, before anything is registered.

``publish_artifacts`` turns the validation reports on disk into one markdown artifact per source
(status, failed checks, counts, a link to each ``validation/<source>/<year>.html``), so the Prefect
UI shows each nightly run's outcome per source. ``task_runner_for`` maps ``--runner`` onto a Prefect
task runner: threads, processes, or a Dask cluster (a temporary local one, or an existing one by its
scheduler address).

Prefect is imported inside the functions only: the CLI imports this module for ``xxgk --help``,
and Prefect reads its settings when first imported, after the command has set the environment.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from xxgk.flows.settings import DEFAULT_MAX_WORKERS, PREFECT_DEFAULTS, default_data_dir

if TYPE_CHECKING:
    from uuid import UUID

    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment
    from prefect.task_runners import TaskRunner

_log = logging.getLogger("xxgk")

#: 02:00 every night: portals publish during office hours; the run is done before the next workday.
DEFAULT_CRON = "0 2 * * *"
#: The portals' own time zone (UTC+8, no daylight saving): "02:00" means 02:00 in China.
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_DEPLOYMENT_NAME = "nightly"
#: The flow the schedule runs, as ``module:attribute`` (``module.attribute`` works too).
DEFAULT_FLOW = "xxgk.flows.pipeline:extract_flow"
DEFAULT_TAGS = ("xxgk", "nightly")
#: Where the per-source artifacts link to, instead of file:// URLs (e.g. a web server over the data dir).
REPORTS_URL_ENV = "XXGK_REPORTS_URL"
#: Runner names ``task_runner_for`` understands (besides a Dask scheduler address).
RUNNERS = ("threads", "processes", "dask")
#: URL schemes of a Dask scheduler address.
DASK_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://", "ws://", "wss://")
#: Seconds to wait for the Prefect server's health endpoint.
HEALTH_TIMEOUT = 5.0
#: Failed checks listed in a source's artifact (all of them are in its validation report).
ARTIFACT_MAX_CHECKS = 10

EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2

_HOW_TO_START = (
    "A schedule needs a running Prefect server: the temporary API that `xxgk run` starts on its own "
    "lives only as long as that run and has no scheduler. Start one and point xxgk at it:\n"
    "    prefect server start                # in another terminal (UI and API on http://127.0.0.1:4200)\n"
    "    export PREFECT_API_URL=http://127.0.0.1:4200/api\n"
    "    xxgk serve --sources <file>\n"
    "(or `prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api` once, or `xxgk serve --api-url ...`)."
)


class ServerUnavailable(RuntimeError):
    """No Prefect server to register a schedule with: none configured, or it does not answer."""


# ---------------------------------------------------------------------------------------------
# The Prefect server


def _prepare_environment(api_url: str | None) -> None:
    """Quiet Prefect defaults (no telemetry) and the API URL, set before Prefect is first imported.

    Unlike a one-off run, ``serve`` keeps ``PREFECT_HOME`` where the user has it, so the URL set with
    ``prefect config set PREFECT_API_URL=...`` in the user's profile is found.
    """
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url


def _keep_prefect_home() -> None:
    """Export the Prefect home this process uses, so the runs it starts use the same one.

    Importing ``flows.pipeline`` would otherwise point ``PREFECT_HOME`` at a temporary directory for
    the run subprocesses (the default for one-off runs without a server).
    """
    from prefect.settings import get_current_settings

    os.environ.setdefault("PREFECT_HOME", str(get_current_settings().home))


@contextlib.contextmanager
def api_settings(api_url: str | None) -> Iterator[None]:
    """Talk to ``api_url`` inside the block (if given), even if Prefect was imported with another URL."""
    if not api_url:
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield


def configured_api_url() -> str:
    """The API URL of Prefect's current settings (environment or profile); '' when none is set."""
    from prefect.settings import get_current_settings

    return str(get_current_settings().api.url or "")


def check_api(api_url: str | None = None, *, timeout: float = HEALTH_TIMEOUT) -> str:
    """The URL of a Prefect server that answers its health check; raises ``ServerUnavailable`` otherwise.

    ``api_url`` defaults to Prefect's configured ``PREFECT_API_URL``. No URL means every process
    would start its own ephemeral API, on which a schedule would never fire: that is refused here
    with the commands that start a server, instead of the flow silently never running.
    """
    url = api_url if api_url is not None else configured_api_url()
    if not url:
        raise ServerUnavailable("no Prefect server is configured (PREFECT_API_URL is not set).\n" + _HOW_TO_START)
    from prefect.client.orchestration import get_client

    with api_settings(url), get_client(sync_client=True, httpx_settings={"timeout": timeout}) as client:
        error = client.api_healthcheck()
    if error is not None:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ServerUnavailable(f"the Prefect API at {url} does not answer ({first}).\n" + _HOW_TO_START)
    return url


# ---------------------------------------------------------------------------------------------
# The deployment


@dataclass(slots=True)
class RegisteredDeployment:
    """What ``register_deployment`` registered, read back from the server."""

    id: str
    name: str
    flow_name: str
    cron: str
    timezone: str
    parameters: dict[str, Any]
    api_url: str
    paused: bool = False
    ui_url: str | None = None
    ignored: dict[str, Any] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        """``flow/deployment``, as ``prefect deployment run`` takes it."""
        return f"{self.flow_name}/{self.name}"


def validate_schedule(cron: str, timezone: str) -> None:
    """Raise ``ValueError`` with a readable message for a bad cron string or an unknown time zone."""
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        CronSchedule(cron=cron, timezone=timezone)
    except ValidationError as err:
        problems = "; ".join(str(e.get("msg", e)) for e in err.errors())
        raise ValueError(f"invalid schedule (cron {cron!r}, timezone {timezone!r}): {problems}") from err


def resolve_flow(ref: str = DEFAULT_FLOW) -> Flow[..., Any]:
    """The flow object named by ``module:attribute`` (or ``module.attribute``)."""
    from prefect import Flow

    module_name, sep, attr = ref.partition(":")
    if not sep:
        module_name, _, attr = ref.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"flow reference {ref!r}: expected module:attribute, e.g. {DEFAULT_FLOW}")
    module = importlib.import_module(module_name)
    obj = getattr(module, attr, None)
    if not isinstance(obj, Flow):
        raise ValueError(f"flow reference {ref!r}: {module_name} has no Prefect flow named {attr!r}")
    return obj


#: Generic parameter names → the names a flow may call them (first match wins).
_PARAMETER_ALIASES: dict[str, tuple[str, ...]] = {
    "workers": ("workers", "max_workers"),
    "sources": ("sources", "registry"),
}
#: Parameters holding local paths: made absolute, since the served runs start in another directory.
_PATH_PARAMETERS = ("data_dir", "sources", "archive_dir")


def deployment_parameters(flow: Flow[..., Any], values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``values`` into (parameters the flow takes, values it has no parameter for).

    ``None`` values are left out (the flow's own default applies). Paths become absolute. The
    second dict lets the caller warn about options the flow would ignore, e.g. ``--dask-address``
    for a flow without a ``dask_address`` parameter.
    """
    accepted = set(inspect.signature(flow.fn).parameters)
    kept: dict[str, Any] = {}
    ignored: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name in _PATH_PARAMETERS:
            value = str(Path(value).expanduser().resolve())
        target = next((alias for alias in _PARAMETER_ALIASES.get(name, (name,)) if alias in accepted), None)
        if target is None:
            ignored[name] = value
        else:
            kept[target] = value
    return kept, ignored


def build_deployment(
    flow: Flow[..., Any] | None = None,
    *,
    name: str = DEFAULT_DEPLOYMENT_NAME,
    cron: str = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    parameters: Mapping[str, Any] | None = None,
    tags: Iterable[str] = DEFAULT_TAGS,
    description: str | None = None,
) -> RunnerDeployment:
    """A deployment of ``flow`` (default: the pipeline flow) on a cron schedule, not yet registered.

    The entrypoint is the flow's module path (``flows.pipeline.extract_flow``), not a file path
    relative to the current directory, so the served runs find it wherever ``serve`` was started
    (xxgk is installed in the environment).
    """
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    validate_schedule(cron, timezone)
    flow = flow if flow is not None else resolve_flow()
    return flow.to_deployment(
        name,
        schedules=[Cron(cron, timezone=timezone)],
        parameters=dict(parameters or {}),
        tags=list(tags),
        description=description or f"xxgk pipeline on the schedule {cron!r} ({timezone})",
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def read_deployment(full_name: str, api_url: str | None = None) -> Any:
    """The deployment ``flow/name`` as the server has it (``DeploymentResponse``)."""
    from prefect.client.orchestration import get_client

    with api_settings(api_url), get_client(sync_client=True) as client:
        return client.read_deployment_by_name(full_name)


def _registered(deployment: Any, flow_name: str, api_url: str, ignored: dict[str, Any]) -> RegisteredDeployment:
    from prefect.settings import get_current_settings

    cron = timezone = ""
    for item in deployment.schedules:
        if getattr(item.schedule, "cron", None):
            cron, timezone = item.schedule.cron, item.schedule.timezone or "UTC"
            break
    ui = get_current_settings().ui_url
    return RegisteredDeployment(
        id=str(deployment.id),
        name=deployment.name,
        flow_name=flow_name,
        cron=cron,
        timezone=timezone,
        parameters=dict(deployment.parameters or {}),
        api_url=api_url,
        paused=bool(deployment.paused),
        ui_url=f"{ui}/deployments/deployment/{deployment.id}" if ui else None,
        ignored=ignored,
    )


def register_deployment(
    flow: Flow[..., Any] | None = None,
    *,
    name: str = DEFAULT_DEPLOYMENT_NAME,
    cron: str = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    values: Mapping[str, Any] | None = None,
    api_url: str | None = None,
    tags: Iterable[str] = DEFAULT_TAGS,
) -> RegisteredDeployment:
    """Register (create or update) the scheduled deployment on a Prefect server and read it back.

    Does not block: the runs it schedules execute only while a process serves the deployment
    (``serve_deployment`` / ``xxgk serve``). ``values`` are generic run options (data_dir, sources,
    batch_size, workers, runner, dask_address); those the flow has no parameter for are returned
    in ``ignored``. Raises ``ServerUnavailable`` without a reachable server.
    """
    url = check_api(api_url)
    with api_settings(url):
        flow = flow if flow is not None else resolve_flow()
        parameters, ignored = deployment_parameters(flow, values or {})
        deployment = build_deployment(flow, name=name, cron=cron, timezone=timezone, parameters=parameters, tags=tags)
        deployment.apply()
        return _registered(read_deployment(deployment.full_name), flow.name, url, ignored)


def serve_flow(
    flow: Flow[..., Any],
    *,
    name: str = DEFAULT_DEPLOYMENT_NAME,
    cron: str = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    parameters: Mapping[str, Any] | None = None,
    tags: Iterable[str] = DEFAULT_TAGS,
    limit: int | None = 1,
    api_url: str | None = None,
) -> None:
    """Register ``flow`` on the schedule, then poll for its runs until interrupted (blocks).

    Each run executes in a subprocess started from this in-memory flow object, so a task runner
    set on it (``with_task_runner``) is the one the runs use; the pipeline flow instead takes its
    extraction runner as a parameter (``runner``, ``max_workers``) and starts it per run. ``limit`` caps concurrent runs (one
    nightly at a time by default). On shutdown Prefect pauses the schedule, so runs do not pile up
    while nothing serves them; the next ``xxgk serve`` resumes it.
    """
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    validate_schedule(cron, timezone)
    with api_settings(api_url):
        flow.serve(
            name=name,
            schedules=[Cron(cron, timezone=timezone)],
            parameters=dict(parameters or {}),
            tags=list(tags),
            description=f"xxgk pipeline on the schedule {cron!r} ({timezone})",
            limit=limit,
            entrypoint_type=EntrypointType.MODULE_PATH,
        )


# ---------------------------------------------------------------------------------------------
# The command (added to flows/cli.py as `xxgk serve`)


def _fail(console: Any, message: str, code: int) -> typer.Exit:
    console.print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def serve_command(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", "-d", help="Output directory (default: $XXGK_DATA_DIR or ./data).")
    ] = None,
    sources: Annotated[
        Path | None,
        typer.Option("--sources", "-s", help="What the nightly run reads (default: the flow's own default)."),
    ] = None,
    cron: Annotated[
        str, typer.Option("--cron", envvar="XXGK_CRON", help="Cron schedule (minute hour day month weekday).")
    ] = DEFAULT_CRON,
    timezone: Annotated[
        str, typer.Option("--timezone", "--tz", envvar="XXGK_TIMEZONE", help="IANA time zone of the schedule.")
    ] = DEFAULT_TIMEZONE,
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = DEFAULT_DEPLOYMENT_NAME,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", help="Documents per extract task (default: sized to the runner's workers)."),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Batches extracted at once.")] = DEFAULT_MAX_WORKERS,
    runner: Annotated[
        str,
        typer.Option("--runner", help="auto, threads, processes, dask, or a Dask scheduler address (tcp://host:8786)."),
    ] = "auto",
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", envvar="XXGK_DASK_ADDRESS", help="Scheduler of an existing Dask cluster."),
    ] = None,
    archive_dir: Annotated[
        Path | None,
        typer.Option(
            "--archive-dir", envvar="XXGK_ARCHIVE_DIR", help="Raw archive (default: <data-dir>/archive; may be shared)."
        ),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Prefect server API (default: PREFECT_API_URL or the Prefect profile)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Runs of the deployment executing at once.")] = 1,
    register_only: Annotated[
        bool, typer.Option("--register-only", help="Register the deployment and exit (its runs wait for a serve).")
    ] = False,
    flow_ref: Annotated[str, typer.Option("--flow", help="The flow to schedule, as module:attribute.")] = DEFAULT_FLOW,
) -> None:
    """Register the pipeline on a cron schedule with a Prefect server and serve its runs (blocks)."""
    from rich.console import Console

    err = Console(stderr=True)
    _prepare_environment(api_url)
    if sources is not None and not sources.exists():
        raise _fail(err, f"no such file: {sources}", EXIT_BAD_INPUT)
    try:
        url = check_api(api_url)
        _keep_prefect_home()
        with api_settings(url):
            validate_schedule(cron, timezone)
            flow = resolve_flow(flow_ref)
            if "runner" in inspect.signature(flow.fn).parameters:
                # the flow starts its own extraction runner; ``auto`` is decided per run
                kind, address = scheduled_runner(runner, dask_address)
            else:
                kind, address = resolve_runner(runner, workers, dask_address)
                flow = with_task_runner(flow, kind, workers, address)
            values = {
                "data_dir": data_dir or default_data_dir(),
                "sources": sources,
                "batch_size": batch_size,
                "workers": workers,
                "runner": address or kind,
                "archive_dir": archive_dir,
            }
            parameters, ignored = deployment_parameters(flow, values)
            if register_only:
                build_deployment(flow, name=name, cron=cron, timezone=timezone, parameters=parameters).apply()
    except ServerUnavailable as exc:
        raise _fail(err, str(exc), EXIT_BAD_INPUT) from None
    except ValueError as exc:
        raise _fail(err, str(exc), EXIT_BAD_INPUT) from None
    for key, value in ignored.items():
        err.print(f"[yellow]warning:[/] the flow {flow.name!r} has no parameter for {key}={value!r}; ignored")
    err.print(
        f"deployment [bold]{flow.name}/{name}[/]: cron {cron!r} ({timezone}) on {url}; "
        f"tasks on {describe_runner(kind, workers, address)}\n"
        f"parameters: {json.dumps(parameters, ensure_ascii=False)}",
        highlight=False,
    )
    if register_only:
        err.print("registered; its runs execute while `xxgk serve` (without --register-only) is running.")
        return
    serve_flow(flow, name=name, cron=cron, timezone=timezone, parameters=parameters, limit=limit, api_url=url)


# ---------------------------------------------------------------------------------------------
# Task runners


def is_dask_address(value: str | None) -> bool:
    """True for a Dask scheduler address such as ``tcp://10.0.0.5:8786``."""
    return bool(value) and str(value).strip().lower().startswith(DASK_SCHEMES)


def resolve_runner(runner: str, workers: int, dask_address: str | None = None) -> tuple[str, str | None]:
    """``(kind, dask address)`` of a scheduled run: ``auto`` becomes processes (threads on one core).

    A one-off ``xxgk run`` picks processes only for large runs, as each worker process pays a few
    seconds of imports; a nightly run over the registry is long enough to earn that back, and
    parsing is CPU-bound (threads serialise on the GIL). A runner given as an address, or ``auto``
    with ``dask_address``, is ``dask`` at that address.
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


def scheduled_runner(runner: str, dask_address: str | None = None) -> tuple[str, str | None]:
    """``(runner, dask address)`` passed to a flow that picks its own runner per run (the pipeline's).

    Unlike ``resolve_runner``, ``auto`` stays ``auto``: each run then extracts on processes only
    when enough documents need parsing (``flows.pipeline.extraction_runner``), so a quiet night does
    not pay for worker start-up. Raises ``ValueError`` for an unknown runner or a bad address.
    """
    kind = runner.strip().lower()
    if is_dask_address(runner):
        return "dask", runner.strip()
    if kind not in ("auto", *RUNNERS):
        raise ValueError(f"unknown runner {runner!r}: auto, threads, processes, dask, or tcp://host:port")
    if dask_address:
        if kind not in ("auto", "dask"):
            raise ValueError(f"a Dask address ({dask_address}) needs --runner dask or auto, not {runner!r}")
        if not is_dask_address(dask_address):
            raise ValueError(f"not a Dask scheduler address: {dask_address!r} (expected tcp://host:port)")
        return "dask", dask_address.strip()
    return kind, None


def describe_runner(kind: str, workers: int, dask_address: str | None = None) -> str:
    """How the serve command names the runner it configured."""
    if kind == "auto":
        return f"{max(1, workers)} threads, or processes when a run has many documents to parse"
    if kind == "dask":
        return f"the Dask cluster at {dask_address}" if dask_address else f"a local Dask cluster of {workers} workers"
    return f"{max(1, workers)} {kind}"


def with_task_runner(
    flow: Flow[..., Any], runner: str, max_workers: int, dask_address: str | None = None
) -> Flow[..., Any]:
    """``flow`` with the task runner for ``runner`` (see ``task_runner_for``); the original is unchanged."""
    if is_dask_address(runner):
        runner, dask_address = "dask", runner.strip()
    return flow.with_options(task_runner=task_runner_for(runner, max_workers, dask_address))


def task_runner_for(runner: str, max_workers: int, dask_address: str | None = None) -> TaskRunner[Any]:
    """The Prefect task runner for ``--runner``: ``threads``, ``processes``, ``dask`` or an address.

    ``dask`` with ``dask_address`` (or a runner given as ``tcp://host:port``) connects to an
    existing cluster, whose workers need xxgk installed, the data directory at the same path
    (shared storage) and the Prefect API reachable; ``dask`` alone starts a temporary local cluster
    of ``max_workers`` single-threaded processes for the run. ``auto`` is resolved by the pipeline
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


# ---------------------------------------------------------------------------------------------
# Artifacts


def artifact_key(source_id: str) -> str:
    """A Prefect artifact key for a source: lowercase letters, digits and dashes only.

    Ids that lose characters in the mapping (upper case, ``_``, ``.``, Chinese) get a short hash
    of the original, so two sources never share a key.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", source_id.lower()).strip("-")[:60] or "source"
    if slug != source_id:
        slug = f"{slug}-{hashlib.sha1(source_id.encode('utf-8')).hexdigest()[:8]}"
    return f"xxgk-{slug}"


def report_link(path: Path, data_dir: Path | str, base_url: str | None = None) -> str:
    """Where a report file is reachable: ``base_url`` + its path under the data dir, else a file:// URL."""
    path = Path(path).resolve()
    if base_url:
        rel = path.relative_to(Path(data_dir).resolve())
        return base_url.rstrip("/") + "/" + "/".join(quote(part) for part in rel.parts)
    return path.as_uri()


def _cell(value: Any) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(value if value is not None else "").split()).replace("|", "\\|")


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _source_reports(data_dir: Path, wanted: set[str] | None) -> dict[str, list[tuple[Path, dict[str, Any]]]]:
    """Validation reports on disk by source id: ``{source_id: [(json path, report), ...]}`` by year."""
    by_source: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    vdir = data_dir / "validation"
    if wanted is not None:
        from xxgk.warehouse.validation_report import source_dir_name

        paths = sorted(p for s in wanted for p in (vdir / source_dir_name(s)).glob("*.json"))
    else:
        paths = sorted(vdir.glob("*/*.json"))
    for path in paths:
        report = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(report, dict) or "documents" not in report or "source_id" not in report:
            continue
        by_source.setdefault(report["source_id"], []).append((path, report))
    for reports in by_source.values():
        reports.sort(key=lambda item: item[1].get("year", 0))
    return by_source


def _field(item: Any, name: str, default: Any = None) -> Any:
    """An attribute of a record or a key of a dict (harvest outcomes come as either)."""
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _harvest_lines(harvest: Any) -> list[str]:
    """The harvest part of a source's artifact: status, reason, reports listed, first problems.

    Nothing that differs from night to night without news (requests, 304s, fetched): an unchanged
    source keeps its artifact (``publish_artifacts(changed_reports=...)``).
    """
    status, reason = _field(harvest, "status", ""), _field(harvest, "reason", "")
    counts = [
        f"{_field(harvest, name)} {label}"
        for name, label in (("reports", "listed"),)
        if _field(harvest, name) is not None
    ]
    line = f"**Harvest**: {_cell(status)}" + (f" — {_cell(reason)}" if reason else "")
    lines = ["", line + (f" ({', '.join(counts)})" if counts else "")]
    problems = list(_field(harvest, "problems", None) or [])
    if problems:
        lines.append("")
        lines += [
            f"- {_cell(_field(p, 'kind'))} {_cell(_field(p, 'url'))}: {_cell(_field(p, 'detail'))}"
            for p in problems[:ARTIFACT_MAX_CHECKS]
        ]
        if len(problems) > ARTIFACT_MAX_CHECKS:
            lines.append(f"- … and {len(problems) - ARTIFACT_MAX_CHECKS} more (see archive/harvest.json)")
    return lines


def source_markdown(
    source_id: str,
    reports: list[tuple[Path, dict[str, Any]]],
    data_dir: Path | str,
    base_url: str | None = None,
    harvest: Any = None,
) -> str:
    """The markdown of one source's artifact: its harvest (if any), a row per year, failed checks."""
    docs = [d for _, r in reports for d in r["documents"]]
    publisher = next((d.get("publisher") for d in docs if d.get("publisher")), "") or _field(harvest, "publisher", "")
    failed = sum(int(r.get("failed_checks") or 0) for _, r in reports)
    warnings = sum(int(d.get("counts", {}).get("failed_warnings") or 0) for d in docs)
    statuses = sorted({str(r.get("status", "")) for _, r in reports})
    lines = [f"# {_cell(source_id)}" + (f" — {_cell(publisher)}" if publisher else "")]
    if harvest is not None:
        lines += _harvest_lines(harvest)
    if not reports:
        lines += ["", "No validation report: no document of this source has been extracted."]
        return "\n".join(lines) + "\n"
    lines += [
        "",
        f"**{len(reports)}** report(s), **{len(docs)}** document(s), status {', '.join(statuses) or '—'}, "
        f"**{failed}** failed check(s), {warnings} failed warning(s).",
        "",
        "| year | status | documents | facts | failed checks | not assessable | unmapped | report |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    checks: list[str] = []
    for path, report in reports:
        year_docs = report["documents"]
        counts = [d.get("counts", {}) for d in year_docs]
        year = path.stem
        html = path.with_suffix(".html")
        link = f"[{year}.html]({report_link(html, data_dir, base_url)})" if html.exists() else "—"
        lines.append(
            f"| {_cell(year)} | {_cell(report.get('status'))} | {len(year_docs)} "
            f"| {sum(c.get('facts', 0) for c in counts)} | {report.get('failed_checks', 0)} "
            f"| {sum(c.get('not_assessable', 0) for c in counts)} | {sum(c.get('unmapped', 0) for c in counts)} "
            f"| {link} |"
        )
        for doc in year_docs:
            if doc.get("reason"):
                notes.append(f"- {_cell(year)}: {_cell(doc.get('status'))} — {_cell(doc['reason'])}")
            for check in doc.get("failed_checks", []):
                checks.append(
                    f"- {_cell(year)} `{_cell(check.get('check_id'))}` {_cell(check.get('table'))} "
                    f"{_cell(check.get('row_key'))} / {_cell(check.get('column_key'))}: expected "
                    f"{_number(check.get('expected'))}, printed {_number(check.get('actual'))} ({_cell(check.get('severity'))})"
                )
    if notes:
        lines += ["", "**Reasons**", "", *notes]
    if checks:
        more = len(checks) - ARTIFACT_MAX_CHECKS
        lines += ["", "**Failed checks and warnings**", "", *checks[:ARTIFACT_MAX_CHECKS]]
        if more > 0:
            lines.append(f"- … and {more} more (see the reports)")
    return "\n".join(lines) + "\n"


def _wanted_sources(reports: Any) -> set[str] | None:
    """Source ids named by ``reports`` (see ``publish_artifacts``); None means all on disk."""
    if reports is None:
        return None
    if isinstance(reports, (str, Path)) or hasattr(reports, "source_id") or isinstance(reports, Mapping):
        reports = [reports]
    elif hasattr(reports, "documents") and not isinstance(reports.documents, int):
        reports = reports.documents  # a batch outcome
    wanted: set[str] = set()
    for item in reports:
        if isinstance(item, Path) or (isinstance(item, str) and item.endswith((".json", ".html"))):
            json_path = Path(item).with_suffix(".json")
            report = json.loads(json_path.read_text(encoding="utf-8"))
            if "source_id" in report:
                wanted.add(str(report["source_id"]))
        elif isinstance(item, str):
            wanted.add(item)
        elif isinstance(item, Mapping) and "source_id" in item:
            wanted.add(str(item["source_id"]))
        elif getattr(item, "source_id", None):
            wanted.add(str(item.source_id))
        else:
            raise TypeError(f"publish_artifacts: cannot tell the source of {type(item).__name__} {item!r}")
    return wanted


def in_prefect_run() -> bool:
    """True inside a Prefect flow or task run (where artifacts attach to the run)."""
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


#: Digests of the artifacts last created per source, under ``validation/`` (hidden: not a published file).
ARTIFACT_STATE = ".prefect-artifacts.json"
INDEX_ARTIFACT_KEY = "xxgk-validation-index"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def harvest_record(harvest: Any) -> dict[str, Any] | None:
    """What of a source's harvest outcome its artifact shows, as plain JSON (kept between runs).

    A run that does not harvest a source (a backfill replaying the archive) keeps showing the
    source's last harvest, so it is kept in the artifact state and compared to decide on a new one.
    """
    if harvest is None:
        return None
    problems = _field(harvest, "problems", None) or []
    return {
        "publisher": str(_field(harvest, "publisher", "") or ""),
        "status": str(_field(harvest, "status", "") or ""),
        "reason": str(_field(harvest, "reason", "") or ""),
        "reports": _field(harvest, "reports"),
        "problems": [{k: str(_field(p, k, "") or "") for k in ("kind", "url", "detail")} for p in problems],
    }


@dataclass(slots=True)
class ArtifactState:
    """Per source, what the artifact last created on one API (``api``) showed: its markdown's digest and
    the harvest it showed (``harvest_record``)."""

    api: str = ""
    sources: dict[str, dict[str, str]] = field(default_factory=dict)

    @staticmethod
    def path(data_dir: Path | str) -> Path:
        return Path(data_dir) / "validation" / ARTIFACT_STATE

    @classmethod
    def load(cls, data_dir: Path | str, api: str) -> ArtifactState:
        """The state for ``api``; empty when there is none, it is unreadable or it belongs to another API."""
        try:
            data = json.loads(cls.path(data_dir).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(api)
        if not isinstance(data, dict) or data.get("api") != api or not isinstance(data.get("sources"), dict):
            return cls(api)
        return cls(api, {str(k): dict(v) for k, v in data["sources"].items() if isinstance(v, dict)})

    def save(self, data_dir: Path | str) -> None:
        from xxgk.storage.files import atomic_write_bytes

        payload = {"api": self.api, "sources": dict(sorted(self.sources.items()))}
        atomic_write_bytes(self.path(data_dir), json.dumps(payload, ensure_ascii=False, indent=0).encode("utf-8"))


def _index_artifact_exists() -> bool:
    """Whether the API still has this project's index artifact (a reset server database has none)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[INDEX_ARTIFACT_KEY])), limit=1
        )
    return bool(found)


def publish_artifacts(
    reports: Any,
    data_dir: Path | str,
    *,
    harvest: Iterable[Any] | None = None,
    base_url: str | None = None,
    index: bool = True,
    changed_reports: Iterable[str] | None = None,
) -> dict[str, UUID]:
    """One markdown artifact per source with its validation summary; returns ``{source_id: artifact id}``.

    ``reports`` says which sources: ``None`` for every report under ``data_dir/validation``; or
    an iterable of source ids, validation report paths (``.json``/``.html``, as
    ``write_validation_reports`` returns them), dicts or objects with a ``source_id`` (the run's
    ``DocumentOutcome`` records). ``harvest``: the run's per-source harvest outcomes (objects or
    dicts with ``source_id``, ``status``, ``reason`` and optionally ``publisher``, ``reports``,
    ``problems``); their sources get an artifact too, even with no report, which is how a source
    whose layout changed shows up.

    ``changed_reports``: given (the publish step's changed files, relative to the data dir), an
    artifact is created only for a source whose artifact would differ from the one last created
    on this API: its validation reports changed in this publish, its harvest part changed, or it
    has none yet (state in ``validation/.prefect-artifacts.json``; void when the API's database no
    longer has the index artifact). A night with nothing new then makes no API call per source:
    one call each cost ~16 ms, 20 s for 1,000 sources. ``None``: every wanted source.

    Each artifact covers all years of its source on disk, is keyed ``xxgk-<source>`` (the UI's
    Artifacts page keeps its history across runs, so the latest is always the current state) and
    links each year's ``validation/<source>/<year>.html``: a file:// URL, or ``base_url`` (default
    ``$XXGK_REPORTS_URL``) + the path under the data dir when the reports are served over HTTP.
    With ``index``, a link artifact ``xxgk-validation-index`` points at ``validation/index.html``.

    Outside a Prefect flow or task run there is nothing to attach to (and talking to the API would
    start a temporary server), so nothing is created and ``{}`` is returned.
    """
    if not in_prefect_run():
        _log.debug("publish_artifacts called outside a Prefect run: no artifacts")
        return {}
    from prefect.artifacts import create_link_artifact, create_markdown_artifact
    from prefect.settings import PREFECT_API_URL

    data = Path(data_dir)
    base = base_url if base_url is not None else os.environ.get(REPORTS_URL_ENV) or None
    harvested = {str(_field(h, "source_id")): h for h in harvest or [] if _field(h, "source_id")}
    wanted = _wanted_sources(reports)
    on_disk = _source_reports(data, None) if wanted is None else None  # every report: read once
    candidates = set(on_disk if on_disk is not None else wanted or ()) | set(harvested)
    state: ArtifactState | None = None
    if changed_reports is not None:
        state = ArtifactState.load(data, str(PREFECT_API_URL.value() or ""))
        if state.sources and not _index_artifact_exists():
            state = ArtifactState(state.api)
        changed = _sources_of_changed_reports(data, changed_reports, candidates)
        candidates = {
            s
            for s in candidates
            if s not in state.sources
            or s in changed
            or (s in harvested and state.sources[s].get("harvest") != harvest_record(harvested[s]))
        }
    by_source = on_disk if on_disk is not None else _source_reports(data, candidates)
    created: dict[str, UUID] = {}
    for source_id in sorted(candidates):
        source_reports = by_source.get(source_id, [])
        known = state.sources.get(source_id, {}) if state is not None else {}
        # not harvested by this run (a backfill): the artifact keeps showing the last harvest
        harvest_shown = harvest_record(harvested[source_id]) if source_id in harvested else _stored_harvest(known)
        markdown = source_markdown(source_id, source_reports, data, base, harvest_shown)
        entry = {"markdown": _digest(markdown), "harvest": harvest_shown}
        if state is not None:
            state.sources[source_id] = entry
            if known.get("markdown") == entry["markdown"]:
                continue
        failed = sum(int(r.get("failed_checks") or 0) for _, r in source_reports)
        described = f"{source_id}: {len(source_reports)} report(s), {failed} failed check(s)"
        if harvest_shown is not None:
            described += f"; harvest {harvest_shown['status']}"
        created[source_id] = create_markdown_artifact(
            markdown=markdown, key=artifact_key(source_id), description=described
        )
    index_html = data / "validation" / "index.html"
    if index and created and index_html.exists():
        create_link_artifact(
            link=report_link(index_html, data, base),
            link_text="validation index",
            key=INDEX_ARTIFACT_KEY,
            description=f"all validation reports under {data.resolve()}",
        )
    if state is not None and candidates:
        state.save(data)
    return created


def _stored_harvest(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    harvest = entry.get("harvest")
    return harvest if isinstance(harvest, dict) else None


def _sources_of_changed_reports(data_dir: Path, changed: Iterable[str], sources: set[str]) -> set[str]:
    """The sources (of ``sources``) whose ``validation/<dir>/<year>.json`` is among the changed files."""
    from xxgk.warehouse.validation_report import source_dir_name

    dirs = {parts[1] for c in changed if len(parts := c.split("/")) == 3 and parts[0] == "validation"}
    return {s for s in sources if source_dir_name(s) in dirs}


# ---------------------------------------------------------------------------------------------
# `python -m flows.deploy serve ...` (the same as `xxgk serve` once the CLI has it)

app = typer.Typer(name="xxgk-deploy", add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)
app.command("serve")(serve_command)


@app.callback()
def _main() -> None:
    """xxgk nightly schedule."""


if __name__ == "__main__":
    sys.exit(app(prog_name="python -m flows.deploy"))
