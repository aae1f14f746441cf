"""What the raw archive knows about each source, and a harvest replayed from it without network.

A backfill re-extracts from ``archive/`` alone, so it must answer offline what a harvest answers
online: which sources there are, which reports each listing links, which document of each report
is the report (the page, or its PDF when the page has no tables) and each document's provenance.
The archive already holds everything but the sources' definitions:

- ``state/<source_id>.json``: for every URL ever fetched, the sha256 of its last good bytes, their
  Content-Type, charset, ETag, Last-Modified, HTTP status and fetch time;
- ``fetch_log/<source_id>.jsonl``: each request, whose final URL after redirects is read from it;
- ``raw/``: the bytes.

``flows.source_records`` adds the missing piece at harvest time: ``sources/<source_id>.json``, the
registry entry the source was harvested with (URLs resolved). ``replay_source`` then runs the
harvester itself (``harvest.harvest_source``: same adapters, same choice of document, same
provenance) against an ``OfflineFetcher`` that answers every archived URL as *not modified* from
the state, and an archive view that writes nothing: no request leaves the machine, no log line or
validator changes, and the documents and their provenance are exactly those of the last harvest.
A URL the archive never got (a 404, a robots-disallowed path) is reported as ``not_archived``.

``select_backfill`` resolves a backfill's ``--sources`` against the archive (and a registry).

Plain functions, no Prefect import.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from xxgk.flows.harvesting import SourceOutcome, jobs_of, source_outcome
from xxgk.flows.inputs import DocumentJob, InputError, is_registry
from xxgk.flows.source_records import archived_source, archived_source_ids
from xxgk.harvest import (
    FetchError,
    FetchResult,
    RawArchive,
    RegistryError,
    Source,
    SourceState,
    harvest_source,
    load_sources,
)
from xxgk.harvest.archive import FetchLogEntry, FetchLogWriter

#: Problem kind of a URL that the archive does not hold (never fetched successfully).
NOT_ARCHIVED = "not_archived"
#: How many redirect hops ``final_urls`` follows through the fetch log.
_MAX_HOPS = 10


# ---------------------------------------------------------------------------------------------
# Offline harvest


def final_urls(entries: list[dict[str, Any]]) -> dict[str, str]:
    """URL → the final URL of its last successful fetch, from fetch log entries (in log order).

    A request that was redirected is logged hop by hop: the first hop's line carries ``location``,
    the last one ``final_url``. Both are followed, the latest line winning, so a URL that stopped
    redirecting (or started) maps to what its last fetch did.
    """
    final: dict[str, tuple[int, str]] = {}
    hops: dict[str, tuple[int, str]] = {}
    for n, e in enumerate(entries):
        url = e.get("url")
        if not url or e.get("kind") == "robots":
            continue
        if e.get("final_url") and e.get("sha256"):
            final[url] = (n, e["final_url"])
        elif e.get("location") and e.get("status") and 300 <= int(e["status"]) < 400:
            hops[url] = (n, urljoin(url, e["location"]))
    out: dict[str, str] = {}
    for url in set(final) | set(hops):
        current, seen = url, 0
        while seen < _MAX_HOPS:
            f, h = final.get(current), hops.get(current)
            if f is not None and (h is None or f[0] > h[0]):
                current = f[1]
                break
            if h is None:
                break
            current, seen = h[1], seen + 1
        out[url] = current
    return out


class OfflineFetcher:
    """A ``Fetcher`` stand-in that answers from the archive: 304 for archived URLs, else an error.

    One per source: it answers from that source's validator state, exactly what the harvester
    looks up before a conditional request, so the harvester reads the bytes back from the archive
    as after any 304. Makes no request; ``requests`` counts the questions it was asked.
    """

    def __init__(self, state: SourceState, archive: RawArchive, finals: dict[str, str] | None = None) -> None:
        self.state = state
        self.archive = archive
        self.finals = finals or {}
        self.requests = 0

    def get(
        self,
        url: str,
        *,
        allowed_hosts: tuple[str, ...] | list[str] = (),
        etag: str | None = None,
        last_modified: str | None = None,
        delay_seconds: float | None = None,
    ) -> FetchResult:
        """The archived answer for ``url`` (``not_modified``), or ``FetchError(NOT_ARCHIVED)``."""
        self.requests += 1
        known = self.state.urls.get(url)
        if known is None or not self.archive.has(known.sha256):
            raise FetchError(NOT_ARCHIVED, url, "not in the raw archive (never fetched successfully)")
        return FetchResult(url, self.finals.get(url, url), 304, None, {}, [])

    def close(self) -> None:
        """Nothing to close (the interface of ``harvest.Fetcher``)."""


class _NoLog(FetchLogWriter):
    """The fetch log of a replay: nothing was requested, so nothing is written."""

    def write(self, entries: list[FetchLogEntry]) -> None:
        return


class ReadOnlyArchive(RawArchive):
    """The raw archive as a replay sees it: reads bytes and state, writes no log line and no state."""

    def append_log(self, entries: list[FetchLogEntry]) -> None:
        """Nothing was requested, so nothing is logged."""

    def open_log(self, source_id: str) -> FetchLogWriter:
        return _NoLog(self.log_path(source_id), self._lock)

    def save_state(self, state: SourceState) -> None:
        """The validators stay those of the last real fetch."""

    def put(self, data: bytes) -> tuple[str, bool]:
        raise RuntimeError("a replay of the archive never stores bytes")


@dataclass(slots=True)
class ReplayOutcome:
    """One source replayed from the archive: its harvest outcome and the documents to extract."""

    source: SourceOutcome
    documents: list[DocumentJob]


def replay_source(source: Source, archive_dir: Path | str, data_dir: Path | str) -> ReplayOutcome:
    """Harvest ``source`` again from the archive only: same discovery, same documents, no network.

    A source the archive has nothing for is a ``failed`` outcome (its listing is ``not_archived``),
    never an empty success.
    """
    start = time.perf_counter()
    archive = ReadOnlyArchive(archive_dir)
    state = archive.load_state(source.source_id)
    finals = final_urls(archive.read_log(source.source_id))
    fetcher = OfflineFetcher(state, archive, finals)
    harvest = harvest_source(source, archive, fetcher)  # type: ignore[arg-type]
    jobs = jobs_of(harvest, source, archive, data_dir)
    outcome = source_outcome(harvest, len(jobs), round(time.perf_counter() - start, 3))
    return ReplayOutcome(outcome, jobs)


# ---------------------------------------------------------------------------------------------
# What a backfill covers


_DOCUMENT_SUFFIXES = (".yaml", ".yml", ".json", ".csv")


@dataclass(slots=True)
class BackfillSelection:
    """What a backfill covers: archived sources to replay and/or a documents file of local files."""

    sources: list[Source]
    documents_file: str | None = None
    label: str = ""
    warnings: list[str] = field(default_factory=list)


def _ids_from_text(text: str) -> list[str]:
    ids: list[str] = []
    for line in text.splitlines():
        for part in line.split("#", 1)[0].split(","):
            if part.strip() and part.strip() not in ids:
                ids.append(part.strip())
    return ids


def _archived(archive_dir: Path, ids: Iterable[str], what: str) -> list[Source]:
    """The recorded definitions of ``ids``; an id the archive has no definition of is an ``InputError``."""
    found: list[Source] = []
    missing: list[str] = []
    for source_id in ids:
        source = archived_source(archive_dir, source_id)
        if source is None:
            missing.append(source_id)
        else:
            found.append(source)
    if missing:
        known = archived_source_ids(archive_dir)
        hint = f" (the archive holds: {', '.join(known[:8])}{'…' if len(known) > 8 else ''})" if known else ""
        raise InputError(
            f"{what}: the archive {archive_dir} has no recorded definition of {', '.join(missing)}{hint}; "
            "harvest them first, or pass the registry they come from with --sources"
        )
    return found


def select_backfill(archive_dir: Path | str, sources: str | None = None, *, refetch: bool = False) -> BackfillSelection:
    """Resolve ``--sources`` for a backfill (see the module docstring). Starts nothing, reads no bytes.

    Raises ``InputError`` for unknown ids, an unreadable registry or an archive with nothing in it.
    """
    archive = Path(archive_dir)
    if sources is None:
        ids = archived_source_ids(archive)
        usable = [s for i in ids if (s := archived_source(archive, i)) is not None]
        if not usable:
            raise InputError(f"the archive {archive} holds no harvested source: nothing to backfill")
        skipped = sorted(set(ids) - {s.source_id for s in usable})
        warnings = (
            [
                f"sources in the archive without a recorded definition, not backfilled: {', '.join(skipped)} "
                "(pass the registry they come from with --sources)"
            ]
            if skipped
            else []
        )
        return BackfillSelection(usable, None, f"archive {archive}", warnings)
    path = Path(sources)
    if path.is_file():
        if is_registry(path):
            return _registry_selection(archive, path, refetch)
        if path.suffix.lower() in _DOCUMENT_SUFFIXES:
            return BackfillSelection([], str(path), f"documents file {path}")
        try:
            ids = _ids_from_text(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"cannot read the list of sources {path}: {err}") from err
        if not ids:
            raise InputError(f"{path}: lists no source id")
        return BackfillSelection(_archived(archive, ids, str(path)), None, f"sources listed in {path}")
    ids = _ids_from_text(sources)
    if not ids:
        raise InputError("--sources: no source id given")
    if len(ids) == 1 and ("/" in sources or sources.endswith(_DOCUMENT_SUFFIXES)):
        raise InputError(f"--sources: no such file: {sources}")
    return BackfillSelection(_archived(archive, ids, "--sources"), None, f"sources {', '.join(ids)}")


def _registry_selection(archive: Path, registry: Path, refetch: bool) -> BackfillSelection:
    """A registry's sources the archive holds (with ``refetch`` also its enabled ones)."""
    try:
        entries = load_sources(registry)
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read sources registry {registry}: {err}") from err
    except (RegistryError, ValueError) as err:
        raise InputError(f"{registry}: {err}") from err
    held = set(archived_source_ids(archive))
    picked: list[Source] = []
    for entry in entries:
        if entry.source_id not in held and not (refetch and entry.enabled):
            continue
        if entry.needs_portal:  # {portal} URLs: the resolved definition the archive recorded
            recorded = archived_source(archive, entry.source_id)
            if recorded is None:
                continue
            entry = recorded
        picked.append(entry)
    if not picked:
        raise InputError(f"{registry}: none of its sources is in the archive {archive}")
    return BackfillSelection(picked, None, f"sources registry {registry}")
