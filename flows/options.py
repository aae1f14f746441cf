"""The command-line options the ``xxgk`` commands share, and help without type noise on flags.

Typer renders every boolean option with a ``<bool>`` type column, as if ``--force`` took a value;
``Command`` and ``Group`` (the classes of the ``xxgk`` app and its commands) show flags bare, as
flags are: ``--force``, ``--prefect / --no-prefect``, ``--help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from xxgk.flows.inputs import InputError
from xxgk.flows.settings import DEFAULT_BATCH_SIZE


class _BareFlags:
    """Flags get an empty metavar, so the help's type column stays empty for them (``--help`` too)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and getattr(param, "metavar", "") is None:
                param.metavar = ""
        return params


class Command(_BareFlags, TyperCommand):
    """A command whose help shows flags without ``<bool>``."""


class Group(_BareFlags, TyperGroup):
    """The ``xxgk`` group, whose help shows ``--version`` and ``--help`` without ``<bool>``."""


DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", "-d", help="Data directory (default: $XXGK_DATA_DIR or ./data).")
]
SourcesOpt = Annotated[
    Path | None,
    typer.Option(
        "--sources",
        "-s",
        help="A sources registry to harvest (a YAML sources: list such as data/sources.yaml; its enabled "
        "sources, or those of --sources-only), or a documents file of local files (YAML/JSON/CSV: path, "
        "source_id, publisher, year, url). Default: the local demo portal serving the embedded sample set.",
    ),
]
SourcesOnlyOpt = Annotated[
    str | None,
    typer.Option("--sources-only", help="Comma list of source ids: harvest (or read) only these sources."),
]
YearsOpt = Annotated[
    str | None,
    typer.Option("--years", help="Report years to keep: 2019-2024, 2021 or 2019,2021-2022."),
]
PortalPortOpt = Annotated[
    int | None,
    typer.Option(
        "--portal-port",
        envvar="XXGK_PORTAL_PORT",
        help="Port of the local demo portal (default 8765; 0 = any free port).",
    ),
]
BatchSizeOpt = Annotated[
    int | None,
    typer.Option(
        "--batch-size",
        help="Documents per extract task (a task costs ~25-30 ms of Prefect overhead). Default: "
        f"about 4 tasks per worker on processes/Dask, {DEFAULT_BATCH_SIZE} on threads.",
    ),
]
WorkersOpt = Annotated[int, typer.Option("--workers", "-w", help="Batches extracted at once.")]
RunnerOpt = Annotated[
    str,
    typer.Option(
        "--runner",
        help="Where extraction runs: auto (processes when over 1000 documents need parsing, on several cores; "
        "else threads), threads, processes, dask (a local Dask cluster), or a Dask scheduler address tcp://host:port.",
    ),
]
DaskAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--dask-address", envvar="XXGK_DASK_ADDRESS", help="Scheduler of an existing Dask cluster (tcp://host:8786)."
    ),
]
ArchiveDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--archive-dir",
        envvar="XXGK_ARCHIVE_DIR",
        help="Raw archive of fetched bytes (default: <data-dir>/archive); may live on shared storage.",
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Re-extract documents already staged by this extractor.")]
PrefectOpt = Annotated[
    bool,
    typer.Option(
        "--prefect/--no-prefect",
        help="Orchestrate with Prefect (default; without PREFECT_API_URL a temporary API starts first, 6-20 s), "
        "or call the same steps in-process without any API.",
    ),
]
RevalidateOpt = Annotated[
    str,
    typer.Option(
        "--revalidate",
        help="Which known report pages and attachments to ask the sites about again: due (the revisit schedule: "
        "every run while new or recently changed, then weekly, then every 30 days; at once when the listing entry "
        "changes), all (every one, as a first run), or none (listings and new links only). Listing pages are "
        "always asked.",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs and full tracebacks.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the run summary as JSON instead of a table.")]


def check_runner(runner: str, dask_address: str | None) -> None:
    """An unknown --runner or a bad --dask-address is an input error (exit 2), found before Prefect starts."""
    from xxgk.flows.runners import scheduled_runner

    try:
        scheduled_runner(runner, dask_address)
    except ValueError as exc:
        raise InputError(str(exc)) from None
