"""Extracting documents: each one read, extracted, checked and staged, or settled from staging.

The work of the ``extract_batch`` and ``load_documents`` tasks as plain functions (no Prefect
import), callable in-process and from tests. Staging is keyed by (document sha256, extractor
version, source id): a document already staged by this extractor version is not parsed again
(``reuse_staged``: a header read of ~20 µs, no result decoded), and a document whose provenance
changed is restaged from its stored result. ``EXTRACTOR_VERSION`` is read at call time from this
module (``current_extractor_version``), the one place the flows take it from.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xxgk.extractors import EXTRACTOR_VERSION, extract_document
from xxgk.flows.conversion import preconvert_batch
from xxgk.flows.inputs import (
    DocumentJob,
    InputError,
    document_info,
    locate,
    portable_path,
    resolve_specs,
    select_documents,
)
from xxgk.schemas.choice import Tried, best_index, chosen_because, is_decisive, not_chosen_because
from xxgk.schemas.records import STATUS_FAILED, DocumentResult
from xxgk.warehouse.documents import DocumentInfo
from xxgk.warehouse.staging import (
    StagedDocument,
    StagedHeader,
    is_staged,
    load_staged,
    load_staged_header,
    result_summary,
    stage_result,
    staged_path,
)

_log = logging.getLogger("xxgk")

#: Prefix of the reason recorded for a document on which the extractor raised (a bug, not data).
INTERNAL_ERROR = "internal error"


def current_extractor_version() -> str:
    """The extractor version this run stages under (read at call time, so a test can swap it)."""
    return EXTRACTOR_VERSION


def staging_dir_of(data_dir: Path | str) -> Path:
    """Where staged per-document results live under a data directory."""
    return Path(data_dir) / "staging"


@dataclass(slots=True)
class DocumentOutcome:
    """What happened to one document in ``extract_batch``.

    ``action``: ``extracted`` (parsed now), ``reused`` (already staged by this extractor version),
    ``restaged`` (already extracted; provenance changed, so restaged without parsing again),
    ``error`` (not staged: unreadable file, or bytes changed since they were hashed).
    ``path`` is the published (portable) path; ``name`` the file name shown in summaries.
    """

    source_id: str
    document_sha256: str
    path: str | None
    action: str
    status: str = ""
    reason: str = ""
    facts: int = 0
    failed_checks: int = 0
    unmapped: int = 0
    staged: str | None = None
    seconds: float = 0.0
    name: str = ""
    source_url: str | None = None
    year: int | None = None


@dataclass(slots=True)
class BatchOutcome:
    """The outcomes of one batch, in input order."""

    index: int
    documents: list[DocumentOutcome]
    seconds: float = 0.0


def load_document_infos(
    paths: list[str] | None = None,
    sources: str | None = None,
    documents: list[DocumentInfo] | None = None,
    *,
    ids: list[str] | None = None,
    years: list[int] | None = None,
) -> list[DocumentInfo]:
    """Provenance records of the run's documents, bytes hashed; duplicates (source, sha256) dropped.

    ``ids`` keeps only those sources (an id matching no document is an ``InputError``); ``years``
    keeps only documents whose year is known and listed.
    """
    infos = list(documents or [])
    if paths or sources:
        infos += [document_info(spec) for spec in resolve_specs(paths, sources)]
    if not infos:
        raise InputError("nothing to read: give paths, a documents file or documents")
    infos = select_documents(infos, ids, years)
    seen: set[tuple[str, str]] = set()
    unique: list[DocumentInfo] = []
    for info in infos:
        key = (info.source_id, info.document_sha256)
        if key not in seen:
            seen.add(key)
            unique.append(info)
    return unique


def as_job(item: DocumentInfo | DocumentJob, data_dir: Path | str) -> DocumentJob:
    """A document to extract: a ``DocumentInfo`` gets its bytes located and its path made portable."""
    if isinstance(item, DocumentJob):
        return item
    if not item.path:
        return DocumentJob(info=item, location="", name="")
    location = locate(item.path, data_dir)
    info = replace(item, path=portable_path(location, data_dir))
    return DocumentJob(info=info, location=str(location), name=location.name)


def unique_jobs(jobs: Iterable[DocumentJob]) -> list[DocumentJob]:
    """Jobs without repeats of the same (source, sha256): one document is staged once per source."""
    seen: set[tuple[str, str]] = set()
    out: list[DocumentJob] = []
    for job in jobs:
        key = (job.info.source_id, job.info.document_sha256)
        if key not in seen:
            seen.add(key)
            out.append(job)
    return out


def _outcome(
    job: DocumentJob, summary: Mapping[str, Any], action: str, staged: Path | None, seconds: float = 0.0
) -> DocumentOutcome:
    """A document's outcome from its result's summary (``result_summary``; a staged header holds the same)."""
    info = job.info
    return DocumentOutcome(
        source_id=info.source_id,
        document_sha256=info.document_sha256,
        path=info.path,
        action=action,
        status=summary["status"],
        reason=summary["reason"],
        facts=summary["facts"],
        failed_checks=summary["failed_checks"],
        unmapped=summary["unmapped"],
        staged=str(staged) if staged else None,
        seconds=seconds,
        name=job.name,
        source_url=info.source_url,
        year=info.year if info.year is not None else summary["year"],
    )


def _outcome_from_result(
    job: DocumentJob, result: DocumentResult, action: str, staged: Path | None, seconds: float = 0.0
) -> DocumentOutcome:
    return _outcome(job, result_summary(result), action, staged, seconds)


def _outcome_from_header(
    job: DocumentJob, header: StagedHeader, action: str, staged: Path, seconds: float = 0.0
) -> DocumentOutcome:
    """``_outcome_from_result`` from a staged file's header: the same numbers, no result decoded."""
    return _outcome(job, header._asdict(), action, staged, seconds)


class ChangedOnDisk(Exception):
    """The file's bytes are no longer those hashed by ``load_documents``."""


def _extract_one(job: DocumentJob) -> DocumentResult:
    """Read and extract one document; an exception from the extractor becomes a ``failed`` result.

    ``extract_document`` already turns unreadable documents into statuses; anything it raises is a
    bug, recorded with the exception so it shows up in the report and the run summary instead of
    losing the rest of the batch. Raises ``OSError`` if the file cannot be read and
    ``ChangedOnDisk`` if it no longer has the hashed bytes (its result would be filed under the
    wrong sha256).
    """
    data = Path(job.location).read_bytes()
    if hashlib.sha256(data).hexdigest() != job.info.document_sha256:
        raise ChangedOnDisk(f"{job.info.path} changed since it was hashed at the start of the run")
    # the HTTP charset of a fetched page is evidence for its encoding, after BOM and <meta>
    charset = {"http_charset": job.http_charset} if job.http_charset else {}
    try:
        return extract_document(data, job.name or Path(job.location).name, **charset)
    except Exception as err:  # a bug in an extractor must not take the batch down
        _log.warning("extractor raised on %s: %s: %s", job.info.path, type(err).__name__, err)
        _log.debug("traceback", exc_info=True)
        return DocumentResult(status=STATUS_FAILED, reason=f"{INTERNAL_ERROR}: {type(err).__name__}: {err}")


def _load_staged_or_none(path: Path) -> StagedDocument | None:
    """A staged result, or None (with a warning) when the file is unreadable: then it is re-extracted."""
    try:
        return load_staged(path)
    except (OSError, EOFError, ValueError, KeyError, TypeError) as err:
        _log.warning("staged result %s unreadable (%s: %s); extracting again", path, type(err).__name__, err)
        return None


def reuse_staged(
    item: DocumentInfo | DocumentJob,
    staging_dir: Path | str,
    extractor_version: str | None = None,
    data_dir: Path | str | None = None,
) -> DocumentOutcome | None:
    """The outcome of a document already staged by this extractor version, or None: it must be parsed.

    Compares the provenance with the staged file's header (``load_staged_header``: no result
    decoded): the same gives ``reused``; a different one restages the stored result with the new
    provenance (``restaged``, the one case that decodes the result). A staged file that cannot be
    read is None with a warning, so the document is extracted again. ``extractor_version``
    defaults to the current one.
    """
    start = time.perf_counter()
    extractor_version = extractor_version or current_extractor_version()
    base = Path(data_dir) if data_dir is not None else Path(staging_dir).parent
    job = as_job(item, base)
    info = job.info
    path = staged_path(staging_dir, info.document_sha256, extractor_version, info.source_id)
    try:
        header = load_staged_header(path)
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, KeyError, TypeError) as err:
        _log.warning("staged result %s unreadable (%s: %s); extracting again", path, type(err).__name__, err)
        return None
    if header.info == info:
        return _outcome_from_header(job, header, "reused", path, time.perf_counter() - start)
    staged = _load_staged_or_none(path)
    if staged is None:
        return None
    stage_result(staging_dir, info, staged.result, extractor_version)
    return _outcome_from_result(job, staged.result, "restaged", path, time.perf_counter() - start)


def extract_documents(
    batch: Sequence[DocumentInfo | DocumentJob],
    staging_dir: Path | str,
    extractor_version: str | None = None,
    force: bool = False,
    data_dir: Path | str | None = None,
) -> list[DocumentOutcome]:
    """Extract → check → stage each document of a batch, skipping those already staged.

    A document already staged under (sha256, extractor version, source id) is not parsed again;
    if its provenance changed (publisher, year, URL... in the documents file) it is restaged with
    the new provenance and the stored result. Paths are staged in their portable form (relative
    to ``data_dir``, default the staging directory's parent), so two checkouts stage the same.
    ``extractor_version`` defaults to the current one. The documents LibreOffice must convert
    are converted first, in one call (``flows.conversion``).
    """
    extractor_version = extractor_version or current_extractor_version()
    base = Path(data_dir) if data_dir is not None else Path(staging_dir).parent
    jobs = [as_job(item, base) for item in batch]
    preconvert_batch(
        jobs,
        lambda cand: (
            force or not is_staged(staging_dir, cand.info.document_sha256, extractor_version, cand.info.source_id)
        ),
    )
    outcomes: list[DocumentOutcome] = []
    for job in jobs:
        start = time.perf_counter()
        if job.alternatives:
            outcomes.append(extract_report_job(job, staging_dir, extractor_version, base, force))
            continue
        info = job.info
        path = staged_path(staging_dir, info.document_sha256, extractor_version, info.source_id)
        reused = None if force else reuse_staged(job, staging_dir, extractor_version, base)
        if reused is not None:
            outcomes.append(reused)
            continue
        try:
            result = _extract_one(job)
        except (OSError, ChangedOnDisk) as err:
            reason = f"cannot read {info.path}: {err.strerror or err}" if isinstance(err, OSError) else str(err)
            outcomes.append(
                DocumentOutcome(
                    source_id=info.source_id,
                    document_sha256=info.document_sha256,
                    path=info.path,
                    action="error",
                    status=STATUS_FAILED,
                    reason=reason,
                    name=job.name,
                    source_url=info.source_url,
                    year=info.year,
                )
            )
            continue
        stage_result(staging_dir, info, result, extractor_version)
        outcomes.append(_outcome_from_result(job, result, "extracted", path, time.perf_counter() - start))
    return outcomes


def pending_documents(jobs: Sequence[DocumentJob], staging: str | Path, extractor_version: str | None = None) -> int:
    """How many of ``jobs`` this extractor version has not staged yet: the documents a run will parse."""
    version = extractor_version or current_extractor_version()
    return sum(1 for j in jobs if not is_staged(staging, j.info.document_sha256, version, j.info.source_id))


def settle_staged(
    jobs: Sequence[DocumentJob], staging: str | Path, data_dir: str | Path, force: bool = False
) -> tuple[dict[int, DocumentOutcome], list[int]]:
    """Outcomes of the documents already staged (by position in ``jobs``) and the positions left to parse.

    Run inline in the flow, without a task: a staged document costs a header read (~20 µs,
    ``reuse_staged``), far less than the task run it would otherwise ride in. ``force``: every
    document is left to parse.
    """
    if force:
        return {}, list(range(len(jobs)))
    version = current_extractor_version()
    settled: dict[int, DocumentOutcome] = {}
    todo: list[int] = []
    for i, job in enumerate(jobs):
        if job.alternatives:
            outcome = settle_report_job(job, staging, version, data_dir)
        else:
            outcome = reuse_staged(job, staging, version, data_dir)
        if outcome is None:
            todo.append(i)
        else:
            settled[i] = outcome
    return settled, todo


# ---------------------------------------------------------------------------------------------
# A report that came as several documents (a page and its attachments)


@dataclass(slots=True)
class _Read:
    """One candidate of a report as read: its result's summary, and the result when parsed now."""

    job: DocumentJob
    summary: dict[str, Any]
    result: DocumentResult | None = None
    header: StagedHeader | None = None
    error: str | None = None


def _read_staged(cand: DocumentJob, staging_dir: Path | str, version: str) -> _Read | None:
    """A candidate's summary from its staged header (no result decoded), or None when not staged."""
    path = staged_path(staging_dir, cand.info.document_sha256, version, cand.info.source_id)
    try:
        header = load_staged_header(path)
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, KeyError, TypeError) as err:
        _log.warning("staged result %s unreadable (%s: %s); extracting again", path, type(err).__name__, err)
        return None
    return _Read(cand, header._asdict(), header=header)


def _parse(cand: DocumentJob) -> _Read:
    """A candidate parsed now (``_chain_outcome`` stages it)."""
    try:
        result = _extract_one(cand)
    except (OSError, ChangedOnDisk) as err:
        reason = f"cannot read {cand.info.path}: {err.strerror or err}" if isinstance(err, OSError) else str(err)
        summary = {"status": STATUS_FAILED, "reason": reason, "facts": 0, "failed_checks": 0, "unmapped": 0}
        return _Read(cand, {**summary, "year": None}, error=reason)
    return _Read(cand, result_summary(result), result=result)


def _read_chain(
    job: DocumentJob, staging_dir: Path | str, version: str, *, parse: bool, force: bool = False
) -> list[_Read] | None:
    """The report's candidates read in order until one is decisive (``schemas.choice``).

    Staged candidates are read from their headers; the others are parsed when ``parse``, else
    the chain is None (it needs an extraction task). ``force`` parses every candidate read.
    """
    reads: list[_Read] = []
    for cand in (job, *job.alternatives):
        read = None if force else _read_staged(cand, staging_dir, version)
        if read is None:
            if not parse:
                return None
            read = _parse(cand)
        reads.append(read)
        if read.error is None and is_decisive(read.summary["status"]):
            break
    return reads


def _label(job: DocumentJob) -> str:
    return job.info.source_url or job.info.path or job.name


def _choice(job: DocumentJob, reads: list[_Read]) -> tuple[int, DocumentInfo]:
    """The chosen candidate's position and its provenance with why it is chosen and what the others gave."""
    tried = [Tried(_label(r.job), r.summary["status"], r.summary["reason"], r.summary["facts"]) for r in reads]
    chosen = best_index(tried)
    candidates = [job, *job.alternatives]
    alternatives = []
    for i, cand in enumerate(candidates):
        if i == chosen:
            continue
        alternatives.append(
            {
                "url": cand.info.source_url,
                "format": cand.info.format,
                "document_sha256": cand.info.document_sha256,
                "status": tried[i].status if i < len(tried) else None,
                "reason": not_chosen_because(tried[i] if i < len(tried) else None, tried[chosen]),
            }
        )
    info = replace(
        candidates[chosen].info,
        chosen_because=chosen_because(tried, chosen, len(candidates)),
        alternatives=alternatives,
    )
    return chosen, info


def _chain_outcome(
    job: DocumentJob, reads: list[_Read], staging_dir: Path | str, version: str, start: float
) -> DocumentOutcome | None:
    """Stage the chosen candidate under its final provenance and say what happened; None if its staged file broke."""
    chosen, info = _choice(job, reads)
    for i, other in enumerate(reads):  # under their own provenance: a later run reads their headers only
        if i != chosen and other.result is not None:
            stage_result(staging_dir, other.job.info, other.result, version)
    read = reads[chosen]
    cand = replace(read.job, info=info, alternatives=[])
    path = staged_path(staging_dir, info.document_sha256, version, info.source_id)
    parsed_now = any(r.result is not None for r in reads)
    if read.error is not None:
        return DocumentOutcome(
            source_id=info.source_id,
            document_sha256=info.document_sha256,
            path=info.path,
            action="error",
            status=STATUS_FAILED,
            reason=read.error,
            name=cand.name,
            source_url=info.source_url,
            year=info.year,
        )
    if read.result is not None:
        stage_result(staging_dir, info, read.result, version)
        return _outcome_from_result(cand, read.result, "extracted", path, time.perf_counter() - start)
    assert read.header is not None
    if read.header.info == info:
        action = "extracted" if parsed_now else "reused"
        return _outcome_from_header(cand, read.header, action, path, time.perf_counter() - start)
    staged = _load_staged_or_none(path)
    if staged is None:
        return None
    stage_result(staging_dir, info, staged.result, version)
    action = "extracted" if parsed_now else "restaged"
    return _outcome_from_result(cand, staged.result, action, path, time.perf_counter() - start)


def settle_report_job(
    job: DocumentJob, staging_dir: Path | str, extractor_version: str | None = None, data_dir: Path | str | None = None
) -> DocumentOutcome | None:
    """``reuse_staged`` for a report of several documents: its outcome when every candidate it needs is staged.

    Reads staged headers only (no parsing); None when a candidate must be parsed.
    """
    del data_dir  # harvested jobs carry their locations
    start = time.perf_counter()
    version = extractor_version or current_extractor_version()
    reads = _read_chain(job, staging_dir, version, parse=False)
    if reads is None:
        return None
    return _chain_outcome(job, reads, staging_dir, version, start)


def extract_report_job(
    job: DocumentJob,
    staging_dir: Path | str,
    extractor_version: str | None = None,
    data_dir: Path | str | None = None,
    force: bool = False,
) -> DocumentOutcome:
    """Extract a report that came as several documents: candidates in order, the best one staged as the report.

    Each candidate read is staged under its own provenance (a later run reads its header only);
    the chosen one is staged again with ``chosen_because`` and ``alternatives`` (what every other
    candidate gave, or that it was not read), and is the one outcome, so the report is published once.
    """
    del data_dir
    start = time.perf_counter()
    version = extractor_version or current_extractor_version()
    reads = _read_chain(job, staging_dir, version, parse=True, force=force)
    assert reads is not None
    outcome = _chain_outcome(job, reads, staging_dir, version, start)
    if outcome is None:  # its staged file broke between the header and the body: parse them all again
        reads = _read_chain(job, staging_dir, version, parse=True, force=True)
        assert reads is not None
        outcome = _chain_outcome(job, reads, staging_dir, version, start)
    assert outcome is not None
    return outcome
