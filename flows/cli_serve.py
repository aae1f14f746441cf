"""``xxgk serve``: register the nightly and backfill deployments with a Prefect server, then serve them.

Kept apart from ``flows.cli`` (which registers it on the ``xxgk`` app) because deployment is its
own concern: a Prefect server, schedules and what each deployment will be called with.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from xxgk.flows.console import EXIT_BAD_INPUT, fail
from xxgk.flows.inputs import InputError, check_sources_file, parse_ids, parse_years
from xxgk.flows.options import (
    ArchiveDirOpt,
    BatchSizeOpt,
    DaskAddressOpt,
    DataDirOpt,
    RunnerOpt,
    SourcesOnlyOpt,
    SourcesOpt,
    WorkersOpt,
    YearsOpt,
    check_runner,
)
from xxgk.flows.settings import DEFAULT_MAX_WORKERS, default_data_dir


def serve(
    data_dir: DataDirOpt = None,
    sources: SourcesOpt = None,
    sources_only: SourcesOnlyOpt = None,
    years: YearsOpt = None,
    cron: Annotated[
        str, typer.Option("--cron", envvar="XXGK_CRON", help="Cron schedule (minute hour day month weekday).")
    ] = "0 2 * * *",
    timezone: Annotated[
        str, typer.Option("--timezone", "--tz", envvar="XXGK_TIMEZONE", help="IANA time zone of the schedule.")
    ] = "Asia/Shanghai",
    name: Annotated[str, typer.Option("--name", help="Name of the scheduled deployment.")] = "nightly",
    archive_dir: ArchiveDirOpt = None,
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = DEFAULT_MAX_WORKERS,
    runner: RunnerOpt = "auto",
    dask_address: DaskAddressOpt = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Prefect server API (default: PREFECT_API_URL or the Prefect profile)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Runs executing at once (nightly and backfill).")] = 1,
    register_only: Annotated[
        bool, typer.Option("--register-only", help="Register the deployments and exit (their runs wait for a serve).")
    ] = False,
    flow_ref: Annotated[
        str, typer.Option("--flow", help="The flow to schedule, as module:attribute.")
    ] = "xxgk.flows.pipeline:extract_flow",
) -> None:
    """Register the nightly run and the backfill with a Prefect server, then serve their runs (blocks).

    The nightly deployment runs the pipeline on the cron schedule over the selected sources and years; the backfill deployment has no schedule and is started from the Prefect UI with its years and sources. The selection, the schedule and the runner are checked before the Prefect server is.
    """
    from xxgk.flows.prefect_api import ServerUnavailable, check_api, configure_for_server, keep_prefect_home

    err = Console(stderr=True)
    configure_for_server(api_url)
    try:
        ids, year_list = parse_ids(sources_only), parse_years(years)
        if sources is not None:
            check_sources_file(sources)
        from xxgk.flows.sources import check_selection

        check_selection(sources, ids=ids, years=year_list)
        check_runner(runner, dask_address)
    except InputError as exc:
        raise fail(err, str(exc), EXIT_BAD_INPUT) from None
    values = {
        "data_dir": data_dir or default_data_dir(),
        "sources": sources,
        "sources_only": ids,
        "years": year_list,
        "batch_size": batch_size,
        "workers": workers,
        "runner": runner,
        "dask_address": dask_address,
        "archive_dir": archive_dir,
    }
    # the backfill replays by default what the nightly harvests (every archived source without a selection)
    replayed = ",".join(ids) if ids else (str(sources) if sources is not None else None)
    try:
        keep_prefect_home()
        from xxgk.flows.deploy import plan_deployments, register_plans, serve_deployments

        plans = plan_deployments(
            values,
            backfill={"sources": replayed, "years": year_list},
            name=name,
            cron=cron,
            timezone=timezone,
            flow_ref=flow_ref,
        )
        url = check_api(api_url)
    except (ServerUnavailable, ValueError) as exc:
        raise fail(err, str(exc), EXIT_BAD_INPUT) from None
    _show_plans(err, plans, url, workers)
    if register_only:
        register_plans(plans, url)
        err.print("registered; their runs execute while `xxgk serve` (without --register-only) is running.")
        return
    serve_deployments(plans, limit=limit, api_url=url)


def _show_plans(err: Console, plans: list[Any], url: str, workers: int) -> None:
    """One paragraph per deployment: name, schedule, runner, parameters; and what the flows ignore."""
    from xxgk.flows.runners import describe_runner

    for plan in plans:
        for key, value in plan.ignored.items():
            err.print(
                "[yellow]warning:[/] "
                + escape(f"the flow {plan.flow.name!r} has no parameter for {key}={value!r}; ignored")
            )
        when = (
            f"cron {plan.cron!r} ({plan.timezone})"
            if plan.cron
            else f"started by hand (Prefect UI, or `prefect deployment run {plan.full_name}`)"
        )
        err.print(
            f"deployment [bold]{plan.full_name}[/]: {when} on {url}; tasks on {describe_runner(*plan.runner[:1], workers, plan.runner[1])}\n"
            f"parameters: {json.dumps(plan.parameters, ensure_ascii=False)}",
            highlight=False,
            soft_wrap=True,
        )
