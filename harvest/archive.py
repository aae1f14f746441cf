"""The raw archive: every response body stored unedited, content-addressed, before any parsing.

Layout under ``root`` (default ``data/archive``)::

    raw/<sha256[:2]>/<sha256>      the bytes exactly as received (after transfer decoding)
    fetch_log/<source_id>.jsonl    append-only, one JSON object per HTTP request
    state/<source_id>.json         last ETag / Last-Modified / sha256 per URL, for conditional GET,
                                   and when each URL is next asked about (``harvest.revisit``)
    robots/<origin>.json           robots.txt answers remembered for a day (``harvest.revisit``)

(``<source_id>`` spelled by ``storage.files.safe_name``: registry ids as they are, any other id
quoted and bounded, so it can never leave its directory.)

One log file per source keeps parallel sources from interleaving; appends additionally take an
``flock`` so two processes on the same source cannot tear a line. Backfills re-read ``raw/`` and
never touch the network.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xxgk.storage.files import atomic_write_bytes, safe_name

KIND_LISTING = "listing"
KIND_REPORT = "report"
KIND_ATTACHMENT = "attachment"
KIND_ROBOTS = "robots"
KINDS = (KIND_LISTING, KIND_REPORT, KIND_ATTACHMENT, KIND_ROBOTS)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_now() -> str:
    """ISO-8601 UTC timestamp with seconds precision, as written in the fetch log."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class FetchLogEntry:
    """One HTTP request as it happened (each retry and each redirect hop is its own entry)."""

    url: str
    source_id: str
    kind: str
    time: str = field(default_factory=utc_now)
    final_url: str | None = None
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    charset: str | None = None
    sha256: str | None = None
    size: int | None = None
    year: int | None = None
    parent_url: str | None = None
    error: str | None = None
    attempt: int = 1
    elapsed_ms: float | None = None
    conditional: bool = False
    retry_after: float | None = None
    location: str | None = None
    run_id: str | None = None
    note: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


@dataclass(slots=True)
class UrlState:
    """What the last successful fetch of a URL returned, for the next conditional request.

    ``fetched_at`` and ``status`` belong to the response that delivered the bytes; a later 304
    only moves ``checked_at``, so a document's provenance stays the same while it is unchanged.
    A run in which nothing but ``checked_at`` would move leaves the state file as it was (the
    fetch log has every request): ``checked_at`` is the last check that changed the state.
    """

    sha256: str
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    charset: str | None = None
    fetched_at: str = ""
    status: int | None = None
    checked_at: str | None = None
    #: What discovery read from these bytes (links, attachments, whether the page has tables),
    #: kept so an unchanged page (304) is not parsed again; see ``harvest.harvester``. Keyed by
    #: the bytes' sha256, the adapter and its code, so it is never used for anything else.
    parsed: dict[str, Any] | None = None
    #: Where the bytes came from after redirects, so a document not asked about this run
    #: (``harvest.revisit``) keeps its provenance without a request.
    final_url: str | None = None
    #: The revisit schedule (``harvest.revisit``): earliest evidence of the document, when its
    #: bytes last changed, when it is next asked about, and its listing entry (title and date).
    appeared_at: str | None = None
    changed_at: str | None = None
    due_at: str | None = None
    entry: str | None = None
    #: The file name the response's Content-Disposition gave (kept for the 304s that follow).
    file_name: str | None = None


_URL_STATE_FIELDS = tuple(f.name for f in fields(UrlState))
#: What a conditional request that changed nothing moves: left out of ``SourceState.same_but_checked``.
_CHECK_FIELDS = ("checked_at",)
_COMPARED_FIELDS = tuple(f for f in _URL_STATE_FIELDS if f not in _CHECK_FIELDS)


@dataclass(slots=True)
class SourceState:
    """Per-source memory between runs: URL validators and how many reports the listing gave."""

    source_id: str
    urls: dict[str, UrlState] = field(default_factory=dict)
    reports_last_run: int | None = None
    last_run: str | None = None

    def same_but_checked(self, other: SourceState) -> bool:
        """True when only check times differ (``checked_at``, ``last_run``): a night that changed nothing.

        Such a state is not written again (``harvest_source``): rewriting 10,000 unchanged files
        was a tenth of a no-change night's harvest CPU; every request stays in the fetch log.
        """
        if self.reports_last_run != other.reports_last_run or self.urls.keys() != other.urls.keys():
            return False
        for url, mine in self.urls.items():
            theirs = other.urls[url]
            if mine is not theirs and any(getattr(mine, f) != getattr(theirs, f) for f in _COMPARED_FIELDS):
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "reports_last_run": self.reports_last_run,
            "last_run": self.last_run,
            # shallow: ``dataclasses.asdict`` would deep-copy every remembered page reading
            # fields left unset are not written: a smaller file to read and write every run
            "urls": {
                u: {f: v for f in _URL_STATE_FIELDS if (v := getattr(s, f)) is not None}
                for u, s in sorted(self.urls.items())
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SourceState:
        return cls(
            source_id=d["source_id"],
            urls={u: UrlState(**s) for u, s in (d.get("urls") or {}).items()},
            reports_last_run=d.get("reports_last_run"),
            last_run=d.get("last_run"),
        )


class FetchLogWriter:
    """One source's fetch log held open: each ``write`` is appended and flushed at once.

    Written as requests happen (not when the source is done), so a run killed after N requests
    leaves their N lines. ``flock`` per write keeps two processes on one source from tearing a
    line; flushed to the operating system, which keeps it through a kill of the process.
    """

    def __init__(self, path: Path, lock: threading.Lock | None = None) -> None:
        self.path = path
        #: This writer's own lock (its file handle is shared by the threads that write through it).
        #: Never one lock for every source: 48 sources' threads queued on it for each open, flock,
        #: write and close (bench.scale: most of a no-change night's harvest wall time).
        self._lock = lock or threading.Lock()
        self._fh: Any = None

    def write(self, entries: list[FetchLogEntry]) -> None:
        if not entries:
            return
        data = "".join(e.to_json() + "\n" for e in entries)
        with self._lock:
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.path.open("a", encoding="utf-8")
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)
            try:
                self._fh.write(data)
                self._fh.flush()
            finally:
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> FetchLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RawArchive:
    """Content-addressed byte store plus the fetch log and per-source validator state."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._raw = os.path.join(self.root, "raw")
        self._lock = threading.Lock()

    # -- bytes ---------------------------------------------------------------------------
    def raw_path(self, sha256: str) -> str:
        """``path_of`` as a string, made without ``pathlib`` (a night looks up ~9 documents per source)."""
        return f"{self._raw}/{sha256[:2]}/{sha256}"

    def path_of(self, sha256: str) -> Path:
        return Path(self.raw_path(sha256))

    def has(self, sha256: str) -> bool:
        return os.path.isfile(self.raw_path(sha256))

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store ``data`` unedited; returns (sha256, True if these bytes were new to the archive).

        Written to a temporary file and renamed, so a reader never sees a partial body.
        """
        sha = sha256_of(data)
        target = self.path_of(sha)
        if target.is_file():
            return sha, False
        atomic_write_bytes(target, data)
        return sha, True

    def get(self, sha256: str) -> bytes:
        """The archived bytes; ``FileNotFoundError`` if they were never stored."""
        with open(self.raw_path(sha256), "rb") as fh:
            return fh.read()

    # -- fetch log -----------------------------------------------------------------------
    def log_path(self, source_id: str) -> Path:
        return self.root / "fetch_log" / f"{safe_name(source_id)}.jsonl"

    def append_log(self, entries: list[FetchLogEntry]) -> None:
        """Append entries to their sources' logs (one ``write`` per line, under flock)."""
        by_source: dict[str, list[FetchLogEntry]] = {}
        for e in entries:
            by_source.setdefault(e.source_id, []).append(e)
        for sid, group in by_source.items():
            with self.open_log(sid) as log:
                log.write(group)

    def open_log(self, source_id: str) -> FetchLogWriter:
        """A writer that appends to one source's log as requests happen (close it when done)."""
        return FetchLogWriter(self.log_path(source_id))

    def read_log(self, source_id: str | None = None) -> list[dict[str, Any]]:
        """Log entries of one source, or of all sources (in file order per source)."""
        paths = [self.log_path(source_id)] if source_id else sorted((self.root / "fetch_log").glob("*.jsonl"))
        out: list[dict[str, Any]] = []
        for p in paths:
            if p.is_file():
                out.extend(json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip())
        return out

    def iter_raw(self) -> Iterator[str]:
        """Every sha256 held in ``raw/``."""
        base = self.root / "raw"
        if base.is_dir():
            for p in sorted(base.glob("??/*")):
                if not p.name.startswith(".tmp-"):
                    yield p.name

    # -- conditional-GET state -----------------------------------------------------------
    def state_path(self, source_id: str) -> Path:
        return self.root / "state" / f"{safe_name(source_id)}.json"

    def load_state(self, source_id: str) -> SourceState:
        p = self.state_path(source_id)
        if not p.is_file():
            return SourceState(source_id=source_id)
        return SourceState.from_dict(json.loads(p.read_text(encoding="utf-8")))

    def save_state(self, state: SourceState) -> None:
        """Atomic replace: a crash leaves the previous state, never a torn file.

        Compact JSON: with ``indent`` the json module encodes in pure Python, ~5× the C encoder's
        time, a sixth of a no-change night's harvest CPU per source (``bench.scale``).
        """
        data = json.dumps(state.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        atomic_write_bytes(self.state_path(state.source_id), data.encode("utf-8"), durable=False)
