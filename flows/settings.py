"""Run settings: defaults of the data directory, batches and workers, and the test pause points.

Plain values and environment lookups, no Prefect import (the Prefect environment is
``flows.prefect_api``).
"""

from __future__ import annotations

import os
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
#: ``publish``: new tables written aside, before the commit point; ``commit``: the new snapshot
#: made current, before the tidying up) writes its pid to ``$XXGK_TEST_PAUSE_FILE`` and sleeps, so a test
#: can kill it there deterministically. Unset in normal use: then ``pause_point`` does nothing.
PAUSE_AT_ENV = "XXGK_TEST_PAUSE_AT"
PAUSE_FILE_ENV = "XXGK_TEST_PAUSE_FILE"
PAUSE_POINTS = ("extract", "publish", "commit")


def default_data_dir() -> Path:
    """``$XXGK_DATA_DIR`` if set, else ``./data``."""
    env = os.environ.get("XXGK_DATA_DIR")
    return Path(env) if env else DEFAULT_DATA_DIR


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
