"""Snapshots of the published trees: one directory per publish, made current by one symlink swap.

``<data>/snapshots/<id>/`` holds a complete ``warehouse/`` and ``validation/``; ``snapshots/current``
is a symlink to the current one and ``<data>/warehouse``, ``<data>/validation`` are fixed symlinks
through it (layout in ``warehouse.layout``). A publish builds the next snapshot aside (unchanged
files hard-linked from the current one, ``flows.transaction``), then ``commit_snapshot`` moves it
in under the next number and replaces ``current`` with ``os.replace`` of a new symlink: the one
atomic step at which every reader switches from the whole old state to the whole new one.
The last ``keep`` snapshots stay (readers that resolved an older one keep reading it meanwhile).

Callers hold the publish locks (``flows.transaction.publish_lock``): no other publisher numbers,
swaps or prunes meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from pathlib import Path

from xxgk.flows.settings import pause_point
from xxgk.warehouse.files import fsync_dir
from xxgk.warehouse.layout import CURRENT, PUBLISHED_DIRS, SNAPSHOTS_DIR, current_snapshot, snapshots_dir

#: Snapshots kept (the current one included) unless ``$XXGK_KEEP_SNAPSHOTS`` says otherwise.
DEFAULT_KEEP_SNAPSHOTS = 3
KEEP_SNAPSHOTS_ENV = "XXGK_KEEP_SNAPSHOTS"
_NUMBERED = re.compile(r"^[0-9]{6,}$")


def keep_snapshots(keep: int | None = None) -> int:
    """How many snapshots to keep: ``keep``, else ``$XXGK_KEEP_SNAPSHOTS``, else 3; at least 1."""
    if keep is None:
        raw = os.environ.get(KEEP_SNAPSHOTS_ENV, "")
        keep = int(raw) if raw.strip().isdigit() else DEFAULT_KEEP_SNAPSHOTS
    return max(1, int(keep))


def _numbered(sdir: Path) -> dict[int, str]:
    """Snapshot directories by number."""
    if not sdir.is_dir():
        return {}
    return {int(p.name): p.name for p in sdir.iterdir() if _NUMBERED.match(p.name) and not p.is_symlink()}


def current_number(data_dir: Path) -> int | None:
    snapshot = current_snapshot(data_dir)
    if snapshot is None or not _NUMBERED.match(snapshot.name):
        return None
    return int(snapshot.name)


def next_name(data_dir: Path) -> str:
    """The next snapshot's name: one above every snapshot present (kept or left by a killed run)."""
    return f"{max(_numbered(snapshots_dir(data_dir)), default=0) + 1:06d}"


def _symlink_replace(target: str, link: Path) -> None:
    """Make ``link`` a symlink to ``target`` in one atomic step (a new link renamed over the old)."""
    tmp = link.parent / f".{link.name}.{uuid.uuid4().hex}.tmp"
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def commit_snapshot(data_dir: Path, root: Path, name: str) -> Path:
    """Move the finished tree ``root`` in as snapshot ``name`` and make it current (the commit point)."""
    sdir = snapshots_dir(data_dir)
    sdir.mkdir(parents=True, exist_ok=True)
    for top in PUBLISHED_DIRS:
        (root / top).mkdir(parents=True, exist_ok=True)
    snapshot = sdir / name
    os.rename(root, snapshot)
    fsync_dir(sdir)
    current = sdir / CURRENT
    if current.is_dir() and not current.is_symlink():  # a data directory copied without its symlinks
        os.rename(current, sdir / f".old-{CURRENT}.{uuid.uuid4().hex}")
    _symlink_replace(name, current)
    fsync_dir(sdir)
    pause_point("commit")
    link_published_dirs(data_dir)
    return snapshot


def link_published_dirs(data_dir: Path) -> None:
    """Make ``<data>/warehouse`` and ``<data>/validation`` the fixed symlinks through ``snapshots/current``.

    A plain directory there (a data directory published before snapshots) is moved aside and
    replaced: the one moment its path is missing (never mixed) is this one-time migration's.
    """
    for top in PUBLISHED_DIRS:
        path = Path(data_dir) / top
        target = f"{SNAPSHOTS_DIR}/{CURRENT}/{top}"
        if path.is_symlink():
            if os.readlink(path) != target:
                _symlink_replace(target, path)
            continue
        aside = None
        if path.exists():
            aside = snapshots_dir(data_dir) / f".old-{top}.{uuid.uuid4().hex}"
            os.rename(path, aside)
        _symlink_replace(target, path)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    fsync_dir(Path(data_dir))


def prune_snapshots(data_dir: Path, keep: int | None = None) -> list[str]:
    """Remove snapshots beyond the ``keep`` newest up to the current one, and any newer leftover.

    A snapshot numbered above the current one was moved in by a publish killed before its swap.
    Temporaries (``.current.*.tmp``, ``.old-*``) of killed runs go too. Returns the names removed.
    """
    sdir = snapshots_dir(data_dir)
    current = current_number(data_dir)
    if current is None:
        return []
    numbers = _numbered(sdir)
    older = sorted(n for n in numbers if n < current)
    drop = [n for n in numbers if n > current] + older[: max(0, len(older) - (keep_snapshots(keep) - 1))]
    removed = []
    for n in sorted(drop):
        shutil.rmtree(sdir / numbers[n], ignore_errors=True)
        removed.append(numbers[n])
    for stray in sdir.iterdir():
        if stray.name.startswith((".old-", f".{CURRENT}.")):
            if stray.is_dir() and not stray.is_symlink():
                shutil.rmtree(stray, ignore_errors=True)
            else:
                stray.unlink(missing_ok=True)
    return removed
