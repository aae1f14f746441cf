"""Which source a local document belongs to, once it has been read (``xxgk extract`` of plain files).

A file named on the command line has only its name to go by, and a file name says nothing about the
publisher: ``pingtan_2023.txt`` and ``pingtan_2024.txt`` would be two sources, their years would
never meet and the cross-year checks never run. So the run first stages such a document under its
file name (``DocumentInfo.source_from_name``), then, here, files it under its publisher:

1. the publisher printed in the document (its title), matched to the sources registry
   (``harvest.publishers``: 洪泽区人民政府 is the registry's 淮安市洪泽区人民政府): the registry's
   source id, publisher name, region code and level;
2. a publisher the registry does not know: its normalised name as the source id;
3. no publisher read: the file name stays the source id (and the summary shows it).

The year is the document's (title, then narrative), as for every document whose registry entry
does not say. ``xxgk extract --source ID`` or a documents file's ``source_id`` skip all this.
``settle_copies`` then lets the copies of one report (a page and its text export) settle each
other's ambiguous digit runs (``schemas.other_copy``). Plain functions, no Prefect.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from xxgk.flows.extraction import DocumentOutcome
from xxgk.harvest.publishers import PublisherDirectory, publisher_source_id
from xxgk.schemas.other_copy import split_by_other_copy
from xxgk.schemas.values import AMBIGUOUS
from xxgk.warehouse.documents import DocumentInfo
from xxgk.warehouse.staging import load_staged, load_staged_header, stage_result, staged_path

_log = logging.getLogger("xxgk")


def resolved_info(info: DocumentInfo, printed_publisher: str | None, directory: PublisherDirectory) -> DocumentInfo:
    """``info`` filed under its publisher's source (the module's rules); unchanged when none is read."""
    if not info.source_from_name:
        return info
    entry = directory.find(info.publisher or printed_publisher)
    if entry is not None:
        return replace(
            info,
            source_id=entry.source_id,
            publisher=entry.publisher,
            region_code=info.region_code or entry.region_code,
            level=info.level or entry.level,
        )
    name = info.publisher or printed_publisher
    source_id = publisher_source_id(name or "")
    return replace(info, source_id=source_id) if source_id else info


def settle_sources(
    outcomes: Sequence[DocumentOutcome], staging_dir: Path | str, directory: PublisherDirectory | None = None
) -> list[DocumentOutcome]:
    """The run's outcomes with every document staged under a file name moved to its publisher's source.

    The result staged under the file name stays where it is (the next run reuses it); a copy is
    staged under the publisher's source id unless one with the same provenance is already there,
    so a rerun reads two headers and writes nothing.
    """
    directory = directory if directory is not None else PublisherDirectory.from_registry()
    out: list[DocumentOutcome] = []
    for outcome in outcomes:
        if not outcome.staged:
            out.append(outcome)
            continue
        try:
            header = load_staged_header(outcome.staged)
        except (OSError, ValueError) as err:
            _log.warning("cannot read staged %s (%s); its source stays %s", outcome.staged, err, outcome.source_id)
            out.append(outcome)
            continue
        info = resolved_info(header.info, header.publisher, directory)
        if info == header.info:
            out.append(outcome)
            continue
        target = staged_path(staging_dir, info.document_sha256, header.extractor_version, info.source_id)
        try:
            current = load_staged_header(target).info if target.is_file() else None
        except (OSError, ValueError):
            current = None
        if current != info:
            staged = load_staged(outcome.staged)
            target = stage_result(staging_dir, info, staged.result, staged.extractor_version)
        out.append(replace(outcome, source_id=info.source_id, staged=str(target)))
    return out


def settle_copies(outcomes: Sequence[DocumentOutcome], staging_dir: Path | str) -> int:
    """Split ambiguous digit runs that another copy of the same report prints apart (``schemas.other_copy``).

    Copies are the staged documents of one source and year. Only groups with a document parsed
    or restaged in this run are read (a settled result is staged again, so the next run reuses
    it). Returns how many documents were restaged with cells settled.
    """
    groups: dict[tuple[str, int | None], list[DocumentOutcome]] = {}
    for o in outcomes:
        if o.staged and o.year is not None:
            groups.setdefault((o.source_id, o.year), []).append(o)
    settled = 0
    for members in groups.values():
        if len(members) < 2 or not any(o.action in ("extracted", "restaged") for o in members):
            continue
        staged = {o.staged: load_staged(o.staged) for o in members if o.staged}
        for path, doc in staged.items():
            if not any(f.value_status == AMBIGUOUS for f in doc.result.facts):
                continue
            for other_path, other in staged.items():
                if other_path == path:
                    continue
                name = Path(other.info.path or other_path).name
                better = split_by_other_copy(
                    doc.result, other.result, f"{name} (sha256 {other.info.document_sha256[:12]})"
                )
                if better is not None:
                    stage_result(staging_dir, doc.info, better, doc.extractor_version)
                    doc = staged[path] = doc._replace(result=better)
                    settled += 1
    return settled
