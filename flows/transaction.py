"""All-or-nothing publishing: a run killed at any point leaves the published files as they were.

``warehouse.publish`` makes every *file* atomic, but one publish rewrites several files (four tables
per year partition, several partitions, the validation reports and their index) one after the
other, so a process killed between two renames would leave a mix of old and new files. The
transaction here makes the whole publish step atomic for readers of ``warehouse/`` and
``validation/``:

1. **Shadow.** Under the publish locks, every published file is hard-linked (copied where the file
   system has no hard links) into ``<data dir>/.publish/<id>/root/``, and the publish step runs
   against that shadow directory as if it were the data directory. ``warehouse.publish`` and the
   validation reports replace files by rename, so the hard-linked originals are never modified.
   A kill here leaves the real files untouched; the next run discards the shadow.
2. **Commit point.** The files that differ (another inode, or different bytes when copied) and the
   files that disappeared are listed in ``journal.json``, written atomically and fsynced.
3. **Apply.** Each listed file is moved into place with ``os.replace`` (facts, checks, unmapped
   before reports, as ``warehouse.publish`` orders them; the validation index last). A kill during
   these few renames is rolled forward by the next run (``recover_publish``), which replays the
   journal: moving a file that is already in place is skipped, so replaying twice is harmless.

An unchanged night changes no file and writes no journal. The shadow lives inside the data
directory so that renames stay on one file system (shared storage included).
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
from xxgk.warehouse.files import atomic_write_bytes, fsync_dir

_log = logging.getLogger("xxgk")

#: Published trees, relative to the data directory.
PUBLISHED_DIRS = ("warehouse", "validation")
#: Where transactions keep their shadow trees and journals, under the data directory.
TRANSACTIONS_DIR = ".publish"
JOURNAL = "journal.json"
JOURNAL_FORMAT = 1
#: The lock files ``warehouse.publish`` and ``warehouse.validation_report`` take: holding them
#: keeps any other publisher (another run, a direct ``publish()`` call) out for the whole transaction.
LOCK_FILES = ("warehouse/.publish.lock", "validation/.lock")
#: Commit order of the warehouse tables: ``reports`` (the manifest) last, as ``warehouse.publish`` does.
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
def _locked(data_dir: Path) -> Iterator[None]:
    """Hold the warehouse and validation publish locks (``flock``, the same files their writers lock)."""
    with contextlib.ExitStack() as stack:
        for rel in LOCK_FILES:
            path = data_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = stack.enter_context(open(path, "a+b"))
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            stack.callback(fcntl.flock, fh.fileno(), fcntl.LOCK_UN)
        yield


def _clone(data_dir: Path, root: Path) -> int:
    """Hard-link every published file into the shadow ``root`` (copy where links are refused)."""
    count = 0
    for rel, src in _published_files(data_dir).items():
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


def _changes(data_dir: Path, root: Path) -> CommitResult:
    new = _published_files(root)
    old = _published_files(data_dir)
    replaced = sorted((rel for rel, p in new.items() if rel not in old or not _same_file(p, old[rel])), key=_order)
    removed = sorted((rel for rel in old if rel not in new), key=lambda r: _order(r, removing=True))
    return CommitResult(replaced, removed)


def _write_journal(txn: Path, changes: CommitResult) -> None:
    """The commit point: once this file exists, the transaction is rolled forward, never back."""
    payload = {"format": JOURNAL_FORMAT, "replace": changes.replaced, "remove": changes.removed}
    atomic_write_bytes(txn / JOURNAL, json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8"))


def _apply(data_dir: Path, txn: Path, changes: CommitResult) -> None:
    """Move the shadow's new files into place and remove the files that went; idempotent."""
    root = txn / "root"
    touched: set[Path] = set()
    for n, rel in enumerate(changes.replaced):
        src, dst = root / rel, data_dir / rel
        if not src.exists():  # moved by an earlier, interrupted apply
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
        touched.add(dst.parent)
        if n == 0:
            pause_point("commit")
    for rel in changes.removed:
        target = data_dir / rel
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        touched.add(target.parent)
        # an emptied partition (year=Y/) or source directory goes too; table directories stay
        keep = 2 if rel.startswith("warehouse/") else 1
        parent = target.parent
        while len(parent.relative_to(data_dir).parts) > keep:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
    for directory in sorted(touched):
        if directory.is_dir():
            fsync_dir(directory)


def _finish(data_dir: Path, txn: Path) -> str:
    """Complete one leftover transaction (held locks): roll forward if committed, else discard."""
    journal = txn / JOURNAL
    if journal.is_file():
        payload = json.loads(journal.read_text(encoding="utf-8"))
        _apply(data_dir, txn, CommitResult(list(payload["replace"]), list(payload["remove"])))
        journal.unlink()
        outcome = "completed"
    else:
        outcome = "discarded"
    shutil.rmtree(txn, ignore_errors=True)
    return outcome


def _recover_locked(data_dir: Path) -> list[str]:
    base = data_dir / TRANSACTIONS_DIR
    if not base.is_dir():
        return []
    done = []
    for txn in sorted(p for p in base.iterdir() if p.is_dir()):
        outcome = _finish(data_dir, txn)
        _log.debug("an interrupted publish (%s) was %s", txn.name, outcome)
        done.append(outcome)
    return done


def recover_publish(data_dir: Path | str) -> list[str]:
    """Finish what a killed run left: roll committed publishes forward, discard uncommitted ones.

    Returns what was done per leftover transaction (``completed`` / ``discarded``); ``[]`` (without
    taking any lock) when nothing was left. Waits while another process is publishing.
    """
    data = Path(data_dir)
    base = data / TRANSACTIONS_DIR
    if not base.is_dir() or not any(base.iterdir()):
        return []
    with _locked(data):
        return _recover_locked(data)


def interrupted_publish(data_dir: Path | str) -> bool:
    """True when a transaction was left behind (or another one is running): the next publish recovers it."""
    base = Path(data_dir) / TRANSACTIONS_DIR
    return base.is_dir() and any(p.is_dir() for p in base.iterdir())


class PublishTransaction:
    """Publish into a shadow copy of the published trees, then commit it all at once.

    ::

        with PublishTransaction(data_dir) as txn:
            publish(txn.root, staged)                  # txn.root stands in for the data directory
            write_validation_reports(txn.root, staged)
        txn.result.replaced, txn.result.removed        # what changed, relative to data_dir

    An exception inside the block discards the shadow and leaves every published file as it was.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.txn = self.data_dir / TRANSACTIONS_DIR / uuid.uuid4().hex
        self.root = self.txn / "root"
        self.result = CommitResult()
        self.recovered: list[str] = []
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> PublishTransaction:
        self._stack.enter_context(_locked(self.data_dir))
        try:
            self.recovered = _recover_locked(self.data_dir)
            self.root.mkdir(parents=True)
            _clone(self.data_dir, self.root)
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
            changes = _changes(self.data_dir, self.root)
            if changes.replaced or changes.removed:
                _write_journal(self.txn, changes)
                _apply(self.data_dir, self.txn, changes)
                (self.txn / JOURNAL).unlink()
            shutil.rmtree(self.txn, ignore_errors=True)
            with contextlib.suppress(OSError):
                self.txn.parent.rmdir()
            self.result = changes
        finally:
            self._stack.close()
