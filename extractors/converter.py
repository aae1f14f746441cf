"""Binary Word formats (DOC, WPS, RTF, ODT, Word 2003 XML) → DOCX with LibreOffice, for the DOCX reader.

LibreOffice is a system program, not a Python package: ``soffice --headless --convert-to docx``
runs in a private profile (``-env:UserInstallation``: never the user's, never shared by two
running processes, which would hand the job to the other one), in its own process group with
a timeout, and the whole group is killed when the timeout passes. Starting soffice costs about
a second; each further document of the same call costs a fraction of that, so a batch is
converted in one call (``preconvert``), and results are kept (by sha256, a bounded number) for
the reader that asks for them next. A batch that fails or hangs is retried one document at a
time, so one hostile file costs only its own conversion.

Where soffice is missing, reading such a document raises ``needs_converter`` with the program
and how to install it; ``XXGK_SOFFICE`` names the program explicitly and
``XXGK_SOFFICE_TIMEOUT`` changes the timeout (seconds per call, plus per document).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import olefile

from xxgk.extractors.base import ExtractionError
from xxgk.extractors.sniff import CONVERTED_FORMATS, DOC, DOCX, ODT, OLE2_MAGIC, RTF, WORDML, WPS, office_format
from xxgk.schemas.records import STATUS_FAILED, STATUS_NEEDS_CONVERTER

SOFFICE_ENV = "XXGK_SOFFICE"
TIMEOUT_ENV = "XXGK_SOFFICE_TIMEOUT"
INSTALL_HINT = (
    "install LibreOffice (Debian/Ubuntu: `apt-get install --no-install-recommends libreoffice-writer-nogui`; "
    f"elsewhere any LibreOffice 7+), or set {SOFFICE_ENV} to its soffice program"
)
#: Seconds allowed per soffice call, plus ``PER_DOCUMENT_TIMEOUT`` for each document in it.
BASE_TIMEOUT = 60.0
PER_DOCUMENT_TIMEOUT = 15.0
#: Documents per soffice call (a call's timeout grows with it; a failed call is retried per document).
MAX_BATCH = 40
_CACHE_SIZE = 64
_WELL_KNOWN = (
    "/usr/bin/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
)


def find_soffice() -> str | None:
    """The soffice program: ``$XXGK_SOFFICE``, else ``soffice``/``libreoffice`` on PATH, else a usual place."""
    explicit = os.environ.get(SOFFICE_ENV)
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else shutil.which(explicit)
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in _WELL_KNOWN if os.access(p, os.X_OK)), None)


def missing_converter(fmt: str) -> ExtractionError:
    """The ``needs_converter`` status of a document whose format only LibreOffice reads."""
    where = f"{SOFFICE_ENV}={os.environ[SOFFICE_ENV]!r} is not an executable" if os.environ.get(SOFFICE_ENV) else (
        "`soffice` (LibreOffice) not found on PATH"
    )
    return ExtractionError(STATUS_NEEDS_CONVERTER, f"{fmt.upper()} document needs LibreOffice to be read: {where}; {INSTALL_HINT}")


def _timeout(n_docs: int) -> float:
    try:
        base = float(os.environ.get(TIMEOUT_ENV, BASE_TIMEOUT))
    except ValueError:
        base = BASE_TIMEOUT
    return base + PER_DOCUMENT_TIMEOUT * n_docs


def _suffix(data: bytes, fmt: str) -> str:
    """The file name extension that makes LibreOffice pick the right import filter.

    A WPS Office writer file is a Word 97 binary: named ``.wps`` LibreOffice would try the
    Microsoft Works filter on it, so it goes in as ``.doc``; only Works files keep ``.wps``.
    """
    if fmt == WPS and data[:8] == OLE2_MAGIC:
        try:
            with olefile.OleFileIO(data) as ole:
                return ".doc" if ole.exists("WordDocument") else ".wps"
        except (OSError, ValueError, IndexError, TypeError):
            return ".wps"
    return {DOC: ".doc", DOCX: ".docx", WPS: ".wps", RTF: ".rtf", ODT: ".odt", WORDML: ".xml"}.get(fmt, ".doc")


class _Profiles:
    """Private LibreOffice profiles, one per soffice process running at a time, removed at exit."""

    def __init__(self) -> None:
        self._free: queue.SimpleQueue[Path] = queue.SimpleQueue()
        self._all: list[Path] = []
        self._lock = threading.Lock()
        atexit.register(self.remove_all)

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Path]:
        try:
            profile = self._free.get_nowait()
        except queue.Empty:
            profile = Path(tempfile.mkdtemp(prefix="xxgk-soffice-profile-"))
            with self._lock:
                self._all.append(profile)
        try:
            yield profile
        finally:
            self._free.put(profile)

    def remove_all(self) -> None:
        with self._lock:
            for profile in self._all:
                shutil.rmtree(profile, ignore_errors=True)
            self._all.clear()


_PROFILES = _Profiles()
_CACHE: OrderedDict[str, bytes | ExtractionError] = OrderedDict()
_CACHE_LOCK = threading.Lock()


#: Export filters by target extension (``docx`` is what the DOCX reader reads; ``doc`` makes test files).
_FILTERS = {"docx": "docx:MS Word 2007 XML", "doc": "doc:MS Word 97", "rtf": "rtf:Rich Text Format", "odt": "odt"}


def _run_soffice(
    soffice: str, profile: Path, files: list[Path], outdir: Path, timeout: float, target: str = "docx"
) -> tuple[int | None, str]:
    """Run one conversion call; (exit code or None on timeout, the tail of what it printed)."""
    cmd = [
        soffice,
        "--headless",
        "--invisible",
        "--nologo",
        "--norestore",
        "--nodefault",
        "--nolockcheck",
        f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to",
        _FILTERS[target],
        "--outdir",
        str(outdir),
        *(str(f) for f in files),
    ]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: soffice starts soffice.bin, both must go
        env={**os.environ, "SAL_USE_VCLPLUGIN": "svp"},
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, ""
    return proc.returncode, out.decode("utf-8", "replace")[-400:].strip()


def convert_many(
    items: Sequence[tuple[bytes, str]], soffice: str | None = None, target: str = "docx"
) -> list[bytes | ExtractionError]:
    """The converted bytes (or the error) for each (data, format), in as few soffice calls as possible.

    ``target`` is ``docx`` for reading; ``doc``/``rtf``/``odt`` make test documents.
    """
    soffice = soffice or find_soffice()
    if soffice is None:
        return [missing_converter(fmt) for _, fmt in items]
    results: list[bytes | ExtractionError] = []
    for start in range(0, len(items), MAX_BATCH):
        results += _convert_chunk(items[start : start + MAX_BATCH], soffice, target)
    return results


def _convert_chunk(items: Sequence[tuple[bytes, str]], soffice: str, target: str) -> list[bytes | ExtractionError]:
    timeout = _timeout(len(items))
    with tempfile.TemporaryDirectory(prefix="xxgk-convert-") as tmp, _PROFILES.borrow() as profile:
        indir, outdir = Path(tmp, "in"), Path(tmp, "out")
        indir.mkdir()
        outdir.mkdir()
        files = []
        for i, (data, fmt) in enumerate(items):
            path = indir / f"d{i}{_suffix(data, fmt)}"
            path.write_bytes(data)
            files.append(path)
        try:
            code, said = _run_soffice(soffice, profile, files, outdir, timeout, target)
        except OSError as err:
            return [ExtractionError(STATUS_FAILED, f"LibreOffice ({soffice}) could not be started: {err}")] * len(items)
        outputs = [outdir / f"d{i}.{target}" for i in range(len(items))]
        if len(items) > 1 and (code is None or not all(p.exists() for p in outputs)):
            # one document broke or hung the call: convert each alone, so only it fails
            return [_convert_chunk([item], soffice, target)[0] for item in items]
        results: list[bytes | ExtractionError] = []
        for (_, fmt), out in zip(items, outputs, strict=True):
            if code is None:
                results.append(ExtractionError(STATUS_FAILED, f"LibreOffice timed out after {timeout:.0f} s converting the {fmt.upper()} document"))
            elif not out.exists() or out.stat().st_size == 0:
                detail = f" (exit {code}: {said})" if said else f" (exit {code})"
                results.append(ExtractionError(STATUS_FAILED, f"LibreOffice could not convert the {fmt.upper()} document{detail}"))
            else:
                results.append(out.read_bytes())
        return results


def _remember(key: str, value: bytes | ExtractionError) -> None:
    with _CACHE_LOCK:
        _CACHE[key] = value
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def preconvert(documents: Iterable[bytes]) -> int:
    """Convert, in one soffice call, every document of a batch that needs LibreOffice.

    Call it before extracting a batch one document at a time: each ``to_docx`` then finds its
    conversion done. Returns how many documents were converted (0 without soffice: each
    document then gets its ``needs_converter`` status when it is read).
    """
    wanted: dict[str, tuple[bytes, str]] = {}
    for data in documents:
        fmt = office_format(data)
        if fmt in CONVERTED_FORMATS:
            key = hashlib.sha256(data).hexdigest()
            if key not in _CACHE and key not in wanted:
                wanted[key] = (data, fmt)  # type: ignore[assignment]
    if not wanted or find_soffice() is None:
        return 0
    keys = list(wanted)[-_CACHE_SIZE:]  # more than the cache holds would be converted for nothing
    for key, result in zip(keys, convert_many([wanted[k] for k in keys]), strict=True):
        _remember(key, result)
    return len(keys)


def to_docx(data: bytes, fmt: str) -> bytes:
    """The DOCX LibreOffice makes of ``data``; ExtractionError (needs_converter, failed) otherwise."""
    key = hashlib.sha256(data).hexdigest()
    with _CACHE_LOCK:
        cached = _CACHE.pop(key, None)  # used once: the reader asks for each document once
    if cached is None:
        soffice = find_soffice()
        if soffice is None:
            raise missing_converter(fmt)
        cached = convert_many([(data, fmt)], soffice)[0]
    if isinstance(cached, ExtractionError):
        raise ExtractionError(cached.status, cached.reason)
    return cached


__all__ = ["INSTALL_HINT", "convert_many", "find_soffice", "missing_converter", "preconvert", "to_docx"]
