"""The publisher that tests/test_snapshots.py kills again and again.

Forked from a multiprocessing fork server that imported this module once, so each new publisher
starts in milliseconds instead of paying the ~1.5 s import of pyarrow and pandas: the test's
seconds go to publishing and killing, not to starting Python.
"""

from __future__ import annotations

import xxgk.warehouse.publish
import xxgk.warehouse.validation
from xxgk.flows.publishing import publish_staged

PRELOADED = (xxgk.warehouse.publish, xxgk.warehouse.validation)


def publish_forever(data_dir: str, generations: list[list[str]], turn: int) -> None:
    """Publish the two generations of staged files in turn until killed."""
    while True:
        publish_staged(data_dir, generations[turn % 2])
        turn += 1
