"""Where the published trees live under a data directory (no pyarrow here: cheap to import).

Published layout (``flows.snapshots`` writes it, see docs/operations.md section 8)::

    <data>/warehouse   -> snapshots/current/warehouse     stable symlinks: the paths analysts use
    <data>/validation  -> snapshots/current/validation
    <data>/snapshots/current -> 000042                    swapped atomically by each publish
    <data>/snapshots/000042/{warehouse,validation}/...    one complete publish; the last N kept

A reader that opens several files resolves the current snapshot once (``published_root``) and
reads everything from there, so a publish committing meanwhile never gives it a mix of two. A data
directory written by ``warehouse.publish`` alone (tests, old versions) has plain directories instead;
every function here works on both.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Published trees, relative to the data directory (or to a snapshot).
PUBLISHED_DIRS = ("warehouse", "validation")
#: Snapshots of the published trees, relative to the data directory.
SNAPSHOTS_DIR = "snapshots"
#: The symlink (inside ``SNAPSHOTS_DIR``) naming the current snapshot.
CURRENT = "current"
#: Locks of the publishers, relative to the data directory: beside the published trees, never in a
#: snapshot (a lock inside ``warehouse/`` would change with every swap).
WAREHOUSE_LOCK = ".warehouse.lock"
VALIDATION_LOCK = ".validation.lock"


def warehouse_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "warehouse"


def validation_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "validation"


def snapshots_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / SNAPSHOTS_DIR


def current_snapshot(data_dir: Path | str) -> Path | None:
    """The current snapshot directory (``snapshots/<id>``), or None when the data directory has none."""
    link = snapshots_dir(data_dir) / CURRENT
    try:
        name = os.readlink(link)
    except OSError:  # missing, or not a symlink
        return None
    return snapshots_dir(data_dir) / name


def published_root(data_dir: Path | str) -> Path:
    """The directory holding ``warehouse/`` and ``validation/`` as of now, resolved once.

    The current snapshot's real path when the data directory has snapshots, else the data directory
    itself. Read every table of one analysis from here: a publish after this call does not change it.
    """
    snapshot = current_snapshot(data_dir)
    return Path(os.path.realpath(snapshot)) if snapshot is not None else Path(data_dir)
