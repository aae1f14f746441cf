"""Deployments: the nightly schedule and the backfill a person starts from the Prefect UI.

``xxgk serve`` registers two deployments of the pipeline with a Prefect *server* and keeps a
process polling it for their runs:

- ``xxgk-extract/nightly``: the pipeline flow on a cron schedule (default 02:00 every night,
  Asia/Shanghai) over the chosen sources and years;
- ``xxgk-backfill/backfill``: the backfill flow with no schedule, started by hand (Prefect UI:
  *Run → Custom run*, or ``prefect deployment run xxgk-backfill/backfill --param years=[2021]``)
  with its ``years`` and ``sources`` parameters; by default it replays what the nightly harvests.

``plan_deployments`` builds both (flows, schedules, parameters) without touching the API, so the
CLI refuses a bad cron string or an empty selection before it even checks for a server. A
temporary API (what ``xxgk run`` starts without ``PREFECT_API_URL``) cannot schedule anything:
``flows.prefect_api.check_api`` refuses it with the commands that fix it.

Prefect is imported inside the functions only.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xxgk.flows.prefect_api import api_settings, check_api
from xxgk.flows.runners import resolve_runner, scheduled_runner, with_task_runner

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

#: 02:00 every night: portals publish during office hours; the run is done before the next workday.
DEFAULT_CRON = "0 2 * * *"
#: The portals' own time zone (UTC+8, no daylight saving): "02:00" means 02:00 in China.
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_DEPLOYMENT_NAME = "nightly"
BACKFILL_DEPLOYMENT_NAME = "backfill"
#: The flow the schedule runs, as ``module:attribute`` (``module.attribute`` works too).
DEFAULT_FLOW = "xxgk.flows.pipeline:extract_flow"
BACKFILL_FLOW = "xxgk.flows.backfill:backfill_flow"
DEFAULT_TAGS = ("xxgk", "nightly")
BACKFILL_TAGS = ("xxgk", "backfill")


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
_PATH_PARAMETERS = ("data_dir", "archive_dir")
#: Parameters that may be a path or not (a backfill's ``sources`` may be a comma list of ids).
_MAYBE_PATH_PARAMETERS = ("sources",)
_FILE_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".txt")


def _looks_like_path(value: str) -> bool:
    """A file that exists, or a value written as one (a slash, a file suffix); not a list of ids."""
    return "/" in value or value.lower().endswith(_FILE_SUFFIXES) or Path(value).expanduser().exists()


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
        if name in _PATH_PARAMETERS or (name in _MAYBE_PATH_PARAMETERS and _looks_like_path(str(value))):
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
    cron: str | None = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    parameters: Mapping[str, Any] | None = None,
    tags: Iterable[str] = DEFAULT_TAGS,
    description: str | None = None,
) -> RunnerDeployment:
    """A deployment of ``flow`` (default: the pipeline flow), not yet registered.

    On a cron schedule, or with ``cron=None`` none (runs are started by hand). The entrypoint is
    the flow's module path (``xxgk.flows.pipeline.extract_flow``), not a file path relative to the
    current directory, so the served runs find it wherever ``serve`` was started (xxgk is
    installed in the environment).
    """
    from prefect.deployments.runner import EntrypointType

    flow = flow if flow is not None else resolve_flow()
    return flow.to_deployment(
        name,
        schedules=_schedules(cron, timezone),
        parameters=dict(parameters or {}),
        tags=list(tags),
        description=description or _description(cron, timezone),
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def _schedules(cron: str | None, timezone: str) -> list[Any]:
    if cron is None:
        return []
    from prefect.schedules import Cron

    validate_schedule(cron, timezone)
    return [Cron(cron, timezone=timezone)]


def _description(cron: str | None, timezone: str) -> str:
    if cron is None:
        return "xxgk, started by hand (no schedule)"
    return f"xxgk pipeline on the schedule {cron!r} ({timezone})"


@dataclass(slots=True)
class DeploymentPlan:
    """One deployment ``serve`` registers: the flow (with its task runner), schedule and parameters.

    ``cron`` None: no schedule (started by hand). ``ignored``: options the flow has no parameter for.
    """

    flow: Flow[..., Any]
    name: str
    cron: str | None
    timezone: str
    parameters: dict[str, Any]
    tags: tuple[str, ...]
    runner: tuple[str, str | None]
    ignored: dict[str, Any] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        """``flow/deployment``, as ``prefect deployment run`` takes it."""
        return f"{self.flow.name}/{self.name}"

    def build(self) -> RunnerDeployment:
        return build_deployment(
            self.flow,
            name=self.name,
            cron=self.cron,
            timezone=self.timezone,
            parameters=self.parameters,
            tags=self.tags,
        )


def _plan(
    ref: str, name: str, cron: str | None, timezone: str, values: Mapping[str, Any], tags: tuple[str, ...]
) -> DeploymentPlan:
    """A deployment of the flow ``ref``: its runner is a parameter if the flow takes one, else set on it."""
    flow = resolve_flow(ref)
    runner, workers, address = (
        values.get("runner") or "auto",
        int(values.get("workers") or 1),
        values.get("dask_address"),
    )
    if "runner" in inspect.signature(flow.fn).parameters:
        kind, address = scheduled_runner(runner, address)  # the flow starts its own runner per run
    else:
        kind, address = resolve_runner(runner, workers, address)
        flow = with_task_runner(flow, kind, workers, address)
    parameters, ignored = deployment_parameters(flow, {**values, "runner": address or kind, "dask_address": None})
    return DeploymentPlan(flow, name, cron, timezone, parameters, tags, (kind, address), ignored)


def plan_deployments(
    values: Mapping[str, Any],
    *,
    backfill: Mapping[str, Any] | None = None,
    name: str = DEFAULT_DEPLOYMENT_NAME,
    cron: str = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    flow_ref: str = DEFAULT_FLOW,
) -> list[DeploymentPlan]:
    """The nightly deployment of ``flow_ref`` and, unless ``backfill`` is None, the backfill deployment.

    ``values`` are generic run options (data_dir, sources, sources_only, years, batch_size, workers,
    runner, dask_address, archive_dir); ``backfill`` the backfill's own defaults (sources, years),
    on top of the shared ones (data directory, archive, runner, workers, batch size). Touches no
    API: raises ``ValueError`` for a bad schedule, runner or flow reference.
    """
    validate_schedule(cron, timezone)
    plans = [_plan(flow_ref, name, cron, timezone, values, DEFAULT_TAGS)]
    if backfill is not None:
        shared = ("data_dir", "archive_dir", "batch_size", "workers", "runner", "dask_address")
        backfill_values = {k: values.get(k) for k in shared} | dict(backfill)
        plans.append(_plan(BACKFILL_FLOW, BACKFILL_DEPLOYMENT_NAME, None, timezone, backfill_values, BACKFILL_TAGS))
    return plans


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
    cron: str | None = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    values: Mapping[str, Any] | None = None,
    api_url: str | None = None,
    tags: Iterable[str] = DEFAULT_TAGS,
) -> RegisteredDeployment:
    """Register (create or update) a deployment on a Prefect server and read it back.

    Does not block: the runs it schedules execute only while a process serves the deployment
    (``serve_deployments`` / ``xxgk serve``). ``values`` are generic run options (data_dir, sources,
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


def register_plans(plans: Iterable[DeploymentPlan], api_url: str) -> list[RegisteredDeployment]:
    """Register every planned deployment on the server at ``api_url`` (checked already); read them back."""
    registered: list[RegisteredDeployment] = []
    with api_settings(api_url):
        for plan in plans:
            deployment = plan.build()
            deployment.apply()
            registered.append(_registered(read_deployment(deployment.full_name), plan.flow.name, api_url, plan.ignored))
    return registered


def serve_deployments(plans: Iterable[DeploymentPlan], *, limit: int | None = 1, api_url: str | None = None) -> None:
    """Register the planned deployments, then poll for their runs until interrupted (blocks).

    Each run executes in a subprocess started from the in-memory flow object, so a task runner
    set on it (``with_task_runner``) is the one the runs use; the pipeline and backfill flows
    instead take their extraction runner as a parameter and start it per run. ``limit`` caps the
    runs executing at once across the deployments (one by default: a backfill waits for the
    nightly run, both publish into the same data directory). On shutdown Prefect pauses the
    schedules, so runs do not pile up while nothing serves them; the next ``xxgk serve`` resumes
    them.
    """
    import asyncio

    from prefect.deployments.runner import EntrypointType
    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner

    with api_settings(api_url):
        runner = Runner(name="xxgk", pause_on_shutdown=True, limit=limit)
        for plan in plans:
            runner.add_flow(
                plan.flow,
                name=plan.name,
                schedules=_schedules(plan.cron, plan.timezone),
                parameters=plan.parameters,
                description=_description(plan.cron, plan.timezone),
                tags=list(plan.tags),
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        with contextlib.suppress(KeyboardInterrupt, TerminationSignal):  # how a served process is stopped
            asyncio.run(runner.start())
