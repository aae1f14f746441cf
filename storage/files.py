"""Atomic file writes and a cross-process lock: the one place every package writes files through.

Readers must never see a half-written file under its final name: everything is written to a
temporary name first, flushed to disk, then moved into place with ``os.replace`` (atomic on POSIX
within one file system). Temporary names start with ``.`` and end with ``.tmp`` so no reader glob
(``*.parquet``, ``*.json``, ``*.json.gz``) ever matches them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

#: Longest file name this project derives from an id (UTF-8 bytes): well under the 255 of common
#: file systems, with room for the ``.<name>.<random>.tmp`` spelling of a file being written.
MAX_NAME_BYTES = 120
#: Characters an id keeps in its file name; everything else is percent-quoted.
_NAME_SAFE = "-_+=@,."
_DIGEST_CHARS = 16


def safe_name(name: str, *, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A file name for an arbitrary id (a source id, a file stem): bounded, inside its directory, stable.

    Percent-quoted (no ``/``, NUL, newline or other control character survives), never hidden,
    ``.`` or ``..``, never empty. An id whose quoted form is longer than ``max_bytes`` is cut and
    ends with ``~`` and a hash of the whole id, so two long ids never share a name. Ids that are
    already plain file names (every registry source id) are returned unchanged.
    """
    quoted = quote(name, safe=_NAME_SAFE, errors="surrogatepass")
    if quoted.startswith("."):
        quoted = "%2E" + quoted[1:]
    if quoted and len(quoted) <= max_bytes:
        return quoted
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARS]
    cut = quoted[: max_bytes - _DIGEST_CHARS - 1]
    escape = cut.find("%", len(cut) - 2)  # never end inside a %XX escape
    if escape >= 0:
        cut = cut[:escape]
    return f"{cut}~{digest}"


def _file_mode() -> int:
    """Mode of a new file under the process umask (mkstemp alone would make every file 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def fsync_dir(directory: Path) -> None:
    """Persist a rename (the directory entry) so a power cut cannot resurrect the old file."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(final: Path, data: bytes, tmp_dir: Path | None = None, *, durable: bool = True) -> Path:
    """Write ``data`` to a fresh temporary file next to ``final`` (or in ``tmp_dir``); fsync it if ``durable``."""
    directory = tmp_dir or final.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, _FILE_MODE)  # readable by the analysts who share the data directory
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    return Path(name)


def commit_temp(tmp: Path, final: Path, *, durable: bool = True) -> None:
    """Move a finished temporary file into place (atomic replace of any previous version)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    if durable:
        fsync_dir(final.parent)


def atomic_write_bytes(final: Path, data: bytes, tmp_dir: Path | None = None, *, durable: bool = True) -> None:
    """Write aside, then rename: ``final`` is either the old complete file or the new complete one.

    ``durable`` also survives a power cut (fsync of file and directory, ~1-10 ms); without it the
    write is still atomic for every reader and every process crash.
    """
    tmp = write_temp(final, data, tmp_dir, durable=durable)
    try:
        commit_temp(tmp, final, durable=durable)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_if_changed(final: Path, data: bytes, tmp_dir: Path | None = None) -> bool:
    """Atomically write ``data`` unless ``final`` already holds exactly these bytes; True if written.

    Leaving identical files untouched keeps their mtime, so a repeated run visibly changes nothing.
    """
    if final.is_file() and final.stat().st_size == len(data) and final.read_bytes() == data:
        return False
    atomic_write_bytes(final, data, tmp_dir)
    return True


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (``flock``) so two processes never read-modify-write at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
