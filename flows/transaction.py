"""All-or-nothing publishing: readers see the old published state or the new one, never a mix.

``warehouse.publish`` makes every *file* atomic, but one publish rewrites several files (four tables
per year partition, several partitions, the validation reports and their index). The transaction
here makes the whole publish step atomic for every reader of ``warehouse/`` and ``validation/``,
including a process killed at any instant:

1. **Shadow.** Under the publish locks, every file of the current snapshot (``flows.snapshots``) is
   hard-linked (copied where the file system has no hard links) into
   ``<data dir>/.publish/<id>/root/``, and the publish step runs against that shadow directory as
   if it were the data directory. ``warehouse.publish`` and the validation reports replace files by
   rename, so the hard-linked originals (the current snapshot's files) are never modified. A kill
   here leaves the published state untouched; the next run discards the shadow.
2. **Commit.** When some file differs (another inode, or different bytes when copied) or went, the
   shadow is moved in as the next numbered snapshot and ``snapshots/current`` is swapped to it with
   one ``rename`` of a symlink: the commit point. A kill between the move and the swap leaves a
   snapshot that is not current, which the next run removes. Snapshots beyond the last N are pruned.

An unchanged night changes no file and makes no snapshot. The shadow and the snapshots live inside
the data directory so that renames and hard links stay on one file system (shared storage included).
A leftover of the previous design (a ``journal.json`` of files to move into place) is still rolled
forward by ``recover_publish``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from xxgk.flows.settings import pause_point
from xxgk.flows.snapshots import commit_snapshot, link_published_dirs, next_name, prune_snapshots
from xxgk.warehouse.files import atomic_write_bytes, fsync_dir
from xxgk.warehouse.layout import PUBLISHED_DIRS, VALIDATION_LOCK, WAREHOUSE_LOCK, current_snapshot

_log = logging.getLogger("xxgk")

#: Where transactions keep their shadow trees, under the data directory.
TRANSACTIONS_DIR = ".publish"
#: A transaction's note of the snapshot name it is committing (so recovery knows what it left).
SNAPSHOT_NOTE = "snapshot"
#: The previous design's commit record, still rolled forward when a killed old run left one.
JOURNAL = "journal.json"
JOURNAL_FORMAT = 1
#: The lock files ``warehouse.publish`` and ``warehouse.validation`` take (beside the published
#: trees, not in them): holding them keeps any other publisher out for the whole transaction.
LOCK_FILES = (WAREHOUSE_LOCK, VALIDATION_LOCK)
#: Table order within the warehouse: ``reports`` (the manifest) last, as ``warehouse.publish`` does.
_TABLE_ORDER = {"facts": 0, "checks": 1, "unmapped": 2, "reports": 3}


@dataclass(slots=True)
class CommitResult:
    """What a transaction changed in the published trees (paths relative to the data directory)."""

    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _published_files(root: Path) -> dict[str, Path]:
    """Published files under ``root`` by relative path; lock files, temporaries and ``_tmp/`` left out."""
    files: dict[str, Path] = {}
    for top in PUBLISHED_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "_tmp")
            for name in sorted(filenames):
                if not name.startswith("."):
                    path = Path(dirpath) / name
                    files[path.relative_to(root).as_posix()] = path
    return files


@contextlib.contextmanager
def publish_lock(data_dir: Path | str) -> Iterator[None]:
    """Hold the warehouse and validation publish locks (``flock``, the same files their writers lock).

    Everything that reads and then writes the published state (planning what to publish, the
    transaction, the record of published inputs) runs inside one hold of it.
    """
    with contextlib.ExitStack() as stack:
        for rel in LOCK_FILES:
            path = Path(data_dir) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = stack.enter_context(open(path, "a+b"))
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            stack.callback(fcntl.flock, fh.fileno(), fcntl.LOCK_UN)
        yield


def published_source(data_dir: Path) -> Path:
    """Where the published files are now: the current snapshot, else the data directory (plain trees)."""
    snapshot = current_snapshot(data_dir)
    return snapshot if snapshot is not None and snapshot.is_dir() else data_dir


def _clone(source: Path, root: Path) -> int:
    """Hard-link every published file into the shadow ``root`` (copy where links are refused)."""
    count = 0
    for rel, src in _published_files(source).items():
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError as err:
            if err.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS):
                raise
            shutil.copy2(src, dst)
        count += 1
    return count


def _same_file(a: Path, b: Path) -> bool:
    """True when the shadow file is still the published one: the same inode, or the same bytes."""
    sa, sb = a.stat(), b.stat()
    if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
        return True
    if sa.st_size != sb.st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            block = fa.read(1 << 20)
            if block != fb.read(1 << 20):
                return False
            if not block:
                return True


def _order(rel: str, removing: bool = False) -> tuple[int, int, str]:
    """Warehouse before validation; within the warehouse reports last (removed first); the index last."""
    parts = rel.split("/")
    if parts[0] == "warehouse":
        rank = _TABLE_ORDER.get(parts[1] if len(parts) > 1 else "", 1)
        return (0, -rank if removing else rank, rel)
    return (1, 1 if parts[-1].startswith("index.") else 0, rel)


def _changes(source: Path, root: Path) -> CommitResult:
    new = _published_files(root)
    old = _published_files(source)
    replaced = sorted((rel for rel, p in new.items() if rel not in old or not _same_file(p, old[rel])), key=_order)
    removed = sorted((rel for rel in old if rel not in new), key=lambda r: _order(r, removing=True))
    return CommitResult(replaced, removed)


def _drop_emptied_dirs(root: Path, removed: list[str]) -> None:
    """An emptied partition (``year=Y/``) or source directory goes too; table directories stay."""
    for rel in removed:
        keep = 2 if rel.startswith("warehouse/") else 1
        parent = (root / rel).parent
        while len(parent.relative_to(root).parts) > keep:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


def _apply_journal(data_dir: Path, txn: Path, changes: CommitResult) -> None:
    """The previous design's roll-forward: move a committed shadow's files into place; idempotent."""
    root = txn / "root"
    for rel in changes.replaced:
        src, dst = root / rel, data_dir / rel
        if src.exists():  # else moved by an earlier, interrupted apply
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
    for rel in changes.removed:
        with contextlib.suppress(FileNotFoundError):
            (data_dir / rel).unlink()
    _drop_emptied_dirs(data_dir, changes.removed)


def _finish(data_dir: Path, txn: Path) -> str:
    """Settle one leftover transaction (held locks): ``completed`` if it passed its commit point, else
    ``discarded`` (with the snapshot it had moved in but not made current)."""
    outcome = "discarded"
    journal = txn / JOURNAL
    note = txn / SNAPSHOT_NOTE
    if journal.is_file():
        payload = json.loads(journal.read_text(encoding="utf-8"))
        _apply_journal(data_dir, txn, CommitResult(list(payload["replace"]), list(payload["remove"])))
        outcome = "completed"
    elif note.is_file():
        name = note.read_text(encoding="utf-8").strip()
        snapshot = current_snapshot(data_dir)
        if snapshot is not None and snapshot.name == name:
            link_published_dirs(data_dir)  # the swap was done; the fixed links may not have been
            outcome = "completed"
    shutil.rmtree(txn, ignore_errors=True)
    return outcome


def recover_locked(data_dir: Path | str, keep: int | None = None) -> list[str]:
    """``recover_publish`` for a caller that already holds ``publish_lock(data_dir)``."""
    data_dir = Path(data_dir)
    base = data_dir / TRANSACTIONS_DIR
    if not base.is_dir():
        return []
    done = []
    for txn in sorted(p for p in base.iterdir() if p.is_dir()):
        outcome = _finish(data_dir, txn)
        _log.debug("an interrupted publish (%s) was %s", txn.name, outcome)
        done.append(outcome)
    if done:
        prune_snapshots(data_dir, keep)  # a snapshot moved in by a run killed before its swap
    with contextlib.suppress(OSError):
        base.rmdir()
    return done


def recover_publish(data_dir: Path | str) -> list[str]:
    """Settle what a killed run left: ``completed`` past its commit point, else ``discarded``.

    Returns what was done per leftover transaction; ``[]`` (without taking any lock) when nothing
    was left. Waits while another process is publishing.
    """
    data = Path(data_dir)
    base = data / TRANSACTIONS_DIR
    if not base.is_dir() or not any(base.iterdir()):
        return []
    with publish_lock(data):
        return recover_locked(data)


def interrupted_publish(data_dir: Path | str) -> bool:
    """True when a transaction was left behind (or another one is running): the next publish recovers it."""
    base = Path(data_dir) / TRANSACTIONS_DIR
    return base.is_dir() and any(p.is_dir() for p in base.iterdir())


class PublishTransaction:
    """Publish into a shadow copy of the published trees, then commit it all at once as a new snapshot.

    ::

        with PublishTransaction(data_dir) as txn:
            publish(txn.root, staged)                  # txn.root stands in for the data directory
            write_validation_reports(txn.root, staged)
        txn.result.replaced, txn.result.removed        # what changed, relative to data_dir

    An exception inside the block discards the shadow and leaves every published file as it was.
    ``locked``: the caller already holds ``publish_lock(data_dir)``. ``keep``: snapshots kept
    (default ``$XXGK_KEEP_SNAPSHOTS`` or 3). ``snapshot``: the snapshot committed, if any.
    """

    def __init__(self, data_dir: Path | str, *, locked: bool = False, keep: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.txn = self.data_dir / TRANSACTIONS_DIR / uuid.uuid4().hex
        self.root = self.txn / "root"
        self.result = CommitResult()
        self.recovered: list[str] = []
        self.snapshot: Path | None = None
        self._locked = locked
        self._keep = keep
        self._source = self.data_dir
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> PublishTransaction:
        if not self._locked:
            self._stack.enter_context(publish_lock(self.data_dir))
        try:
            self.recovered = recover_locked(self.data_dir, self._keep)
            self.root.mkdir(parents=True)
            self._source = published_source(self.data_dir)
            _clone(self._source, self.root)
        except BaseException:
            shutil.rmtree(self.txn, ignore_errors=True)
            self._stack.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is not None:
                shutil.rmtree(self.txn, ignore_errors=True)
                return
            pause_point("publish")
            changes = _changes(self._source, self.root)
            if changes.replaced or changes.removed:
                self.snapshot = self._commit(changes)
            shutil.rmtree(self.txn, ignore_errors=True)
            with contextlib.suppress(OSError):
                self.txn.parent.rmdir()
            self.result = changes
        finally:
            self._stack.close()

    def _commit(self, changes: CommitResult) -> Path:
        """The shadow as the next snapshot, made current; older ones beyond ``keep`` pruned."""
        _drop_emptied_dirs(self.root, changes.removed)
        for directory in sorted({(self.root / rel).parent for rel in changes.replaced}):
            fsync_dir(directory)
        name = next_name(self.data_dir)
        atomic_write_bytes(self.txn / SNAPSHOT_NOTE, name.encode("ascii"))
        snapshot = commit_snapshot(self.data_dir, self.root, name)
        prune_snapshots(self.data_dir, self._keep)
        return snapshot
