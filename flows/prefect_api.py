"""The Prefect API a process talks to: its environment, the temporary local API, the server checks.

Prefect reads its settings once, when ``prefect`` is first imported, so the environment half is
plain environment work: the CLI calls :func:`configure_prefect` with the run's data directory
before anything imports Prefect. A value the user exported (``PREFECT_HOME``, ``PREFECT_API_URL``,
any ``PREFECT_*``) always wins over these defaults.

Without ``PREFECT_API_URL`` every process starts its own temporary API server on first use (6-20 s
on a busy 2-core machine) that lives as long as the process: :func:`start_api` starts it up front
so the CLI can say so, and :func:`shared_api` lets worker processes and Dask workers record their
task runs there too. A schedule needs a real server instead: :func:`check_api` refuses a missing
or silent one with the commands that start one.

Prefect is imported inside the functions only: importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: Prefect settings that keep runs quiet and local; each applies only where the user set nothing.
PREFECT_DEFAULTS: dict[str, str] = {
    # No usage telemetry: offline it only logs an error, and a batch job should not phone home.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The temporary API serves no UI; a fresh one takes 6-20 s to start on a busy 2-core machine.
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # Task results stay in memory: the warehouse is the persisted output, not Prefect's result store.
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
}
#: Seconds to wait for a Prefect server's health endpoint.
HEALTH_TIMEOUT = 5.0
#: What the CLI says before it starts the temporary API (one line, on stderr).
TEMPORARY_API_NOTICE = "starting a temporary Prefect API (6-20 s); use --no-prefect or set PREFECT_API_URL to skip"

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
# The environment, before Prefect is imported


def prefect_home_for(data_dir: Path | None) -> Path:
    """Where Prefect keeps its database and profiles for runs over ``data_dir``.

    Inside the data directory (git-ignored), so a run never writes to ``~/.prefect`` behind the
    user's back and a second run finds a warm database; without a data directory, a per-user
    directory under the system temp dir.
    """
    if data_dir is not None:
        return Path(data_dir).resolve() / ".prefect"
    user = os.environ.get("USER") or (str(os.getuid()) if hasattr(os, "getuid") else "user")
    return Path(tempfile.gettempdir()) / f"xxgk-prefect-{user}"


def prefect_imported() -> bool:
    """True once ``prefect`` is imported: from then on environment changes no longer reach it."""
    return "prefect" in sys.modules


def configure_prefect(data_dir: Path | None = None, *, console_level: str | None = None) -> dict[str, str]:
    """Set the Prefect environment defaults for a run over ``data_dir``; return what was set.

    Never overrides a variable the user already exported, so ``PREFECT_API_URL`` sends runs to the
    user's own server and an exported ``PREFECT_HOME`` keeps the user's profiles. ``console_level``
    sets the level of Prefect's console log handler only (its API log handler keeps INFO), so the
    CLI can show its own progress without Prefect's per-task lines. Must run before ``import prefect``
    to have any effect; calling it later is harmless but changes nothing in the running Prefect.
    """
    wanted = dict(PREFECT_DEFAULTS)
    wanted["PREFECT_HOME"] = str(prefect_home_for(data_dir))
    if console_level:
        wanted["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = console_level.upper()
    applied: dict[str, str] = {}
    for key, value in wanted.items():
        if key not in os.environ:
            os.environ[key] = value
            applied[key] = value
    return applied


def configure_for_server(api_url: str | None) -> None:
    """The environment of ``xxgk serve``: quiet defaults and the API URL, before Prefect is imported.

    Unlike a one-off run, ``serve`` keeps ``PREFECT_HOME`` where the user has it, so the URL set with
    ``prefect config set PREFECT_API_URL=...`` in the user's profile is found.
    """
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url


def keep_prefect_home() -> None:
    """Export the Prefect home this process uses, so the runs it starts use the same one.

    Importing the flows would otherwise point ``PREFECT_HOME`` at a temporary directory for the
    run subprocesses (the default for one-off runs without a server).
    """
    from prefect.settings import get_current_settings

    os.environ.setdefault("PREFECT_HOME", str(get_current_settings().home))


def using_ephemeral_api() -> bool:
    """True when no Prefect server is configured in the environment: each process starts its own."""
    return not os.environ.get("PREFECT_API_URL")


# ---------------------------------------------------------------------------------------------
# The API this process talks to


def configured_api_url() -> str | None:
    """The API URL of Prefect's current settings (environment or profile); None: a temporary API."""
    from prefect.settings import get_current_settings

    return str(get_current_settings().api.url or "") or None


@contextlib.contextmanager
def api_settings(api_url: str | None) -> Iterator[None]:
    """Talk to ``api_url`` inside the block (if given), even if Prefect was imported with another URL."""
    if not api_url:
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield


def check_api(api_url: str | None = None, *, timeout: float = HEALTH_TIMEOUT) -> str:
    """The URL of a Prefect server that answers its health check; raises ``ServerUnavailable`` otherwise.

    ``api_url`` defaults to Prefect's configured ``PREFECT_API_URL``. No URL means every process
    would start its own temporary API, on which a schedule would never fire: that is refused here
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


def start_api() -> str:
    """The API this process talks to; starts the temporary one now if none is configured.

    Starting it up front lets the CLI show the 6-20 s it takes as a step of its own; the Prefect
    client later finds the same per-process server and reuses it.
    """
    url = configured_api_url()
    if url:
        return url
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the per-process singleton the Prefect client uses
    server.start()
    return server.api_url


def stop_api() -> None:
    """Send pending logs and events, then stop this process's temporary API server, if any.

    Without this the server stops at interpreter exit (fine for the CLI); tests call it while
    their output capture is still open.
    """
    module = sys.modules.get("prefect.server.api.server")
    if module is not None and module.SubprocessASGIServer._instances:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        for worker in (APILogWorker, EventsWorker):
            worker.drain_all(timeout=10, at_exit=False)
        for server in list(module.SubprocessASGIServer._instances.values()):
            server.stop()


@contextlib.contextmanager
def shared_api(needed: bool) -> Iterator[None]:
    """Let worker processes and Dask workers reach this process's temporary API server.

    Without an API URL every Prefect process starts its own temporary server (6-20 s each) and
    records its task runs there, not in this run. So while the workers start and run, the URL of
    this process's server is exported (process-pool and local Dask workers inherit the environment)
    and put in the settings that travel with each task to its worker (how tasks on an existing Dask
    cluster learn it). A user's ``PREFECT_API_URL`` is left alone.
    """
    if not needed or configured_api_url():
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = start_api()
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)
