"""Run settings and the Prefect environment, decided before Prefect is imported.

Prefect reads its settings once, when ``prefect`` is first imported, so everything here is plain
environment work with no Prefect import: the CLI calls :func:`configure_prefect` with the run's data
directory before it imports :mod:`flows.pipeline`. A value the user exported (``PREFECT_HOME``,
``PREFECT_API_URL``, any ``PREFECT_*``) always wins over these defaults.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

#: Data directory when neither ``--data-dir`` nor ``XXGK_DATA_DIR`` says otherwise (relative to the cwd).
DEFAULT_DATA_DIR = Path("data")
#: Documents per ``extract_batch`` task: a task costs ~25-30 ms of CPU, a text/HTML report 2-20 ms.
DEFAULT_BATCH_SIZE = 50
#: Upper bound of concurrent batch tasks (the machines this runs on have 2 cores).
DEFAULT_MAX_WORKERS = 2
#: Above this many documents *to parse* (not already staged by this extractor version),
#: ``runner="auto"`` extracts in processes (parsing is CPU-bound and holds the GIL). Each worker
#: process pays ~5-8 s to import Prefect and the extractors: on 300 mixed documents (12 s of parsing)
#: two processes were no faster than one thread, so only large runs earn it back. A nightly run that
#: finds nothing new parses nothing and stays on threads.
PROCESS_RUNNER_THRESHOLD = 1000

#: Test hook: a run that reaches the named point (``extract``: after the first batch is staged;
#: ``publish``: new tables written aside, before the commit point; ``commit``: commit point passed,
#: first file moved into place) writes its pid to ``$XXGK_TEST_PAUSE_FILE`` and sleeps, so a test
#: can kill it there deterministically. Unset in normal use: then ``pause_point`` does nothing.
PAUSE_AT_ENV = "XXGK_TEST_PAUSE_AT"
PAUSE_FILE_ENV = "XXGK_TEST_PAUSE_FILE"
PAUSE_POINTS = ("extract", "publish", "commit")

#: Prefect settings that keep runs quiet and local; each applies only where the user set nothing.
PREFECT_DEFAULTS: dict[str, str] = {
    # No usage telemetry: offline it only logs an error, and a batch job should not phone home.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The ephemeral API serves no UI; a fresh one takes 6-20 s to start on a busy 2-core machine.
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # Task results stay in memory: the warehouse is the persisted output, not Prefect's result store.
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
}


def default_data_dir() -> Path:
    """``$XXGK_DATA_DIR`` if set, else ``./data``."""
    env = os.environ.get("XXGK_DATA_DIR")
    return Path(env) if env else DEFAULT_DATA_DIR


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


def using_ephemeral_api() -> bool:
    """True when no Prefect server is configured and each process starts its own temporary API."""
    return not os.environ.get("PREFECT_API_URL")


def pause_point(name: str) -> None:
    """Stop here (sleep) when ``$XXGK_TEST_PAUSE_AT`` names this point; a no-op otherwise.

    Lets the kill tests SIGKILL a run at an exact step instead of guessing with timers.
    """
    if os.environ.get(PAUSE_AT_ENV) != name:
        return
    marker = os.environ.get(PAUSE_FILE_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(float(os.environ.get("XXGK_TEST_PAUSE_SECONDS", "600")))
