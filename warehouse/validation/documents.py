"""The JSON content of the reports: one entry per document, gathered per source and year."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from xxgk.schemas.records import FAIL, NOT_ASSESSABLE, PASS, DocumentResult
from xxgk.warehouse.documents import (
    DocumentInfo,
    effective_format,
    effective_publisher,
    effective_year,
    report_id,
)
from xxgk.warehouse.validation.cells import ambiguous_cells, cells_of, grid_index, table_keys
from xxgk.warehouse.validation.naming import VALIDATION_FORMAT

#: Worst first: the status an index row shows when a source/year has several documents.
STATUS_RANK = ("failed", "needs_ocr", "needs_converter", "not_a_report", "legacy", "partial", "ok")
CONSISTENT, INCONSISTENT, NOT_ASSESSABLE_C = "consistent", "inconsistent", "not_assessable"
#: How documents' verdicts combine for a source/year: any inconsistent document decides, then any
#: consistent one (a stray attachment that is not a report does not make the year unassessable).
CONSISTENCY_RANK = (INCONSISTENT, CONSISTENT, NOT_ASSESSABLE_C)


def consistency_of(result: DocumentResult) -> str:
    """Whether the document's hard identities hold: the result's own ``consistency`` when it has one.

    Else computed from the checks: any failed hard check (severity error) makes it inconsistent;
    a passed identity with none failed, consistent; nothing assessable, not_assessable. The
    per-table ``counts.non_negative`` pass alone does not make a report consistent.
    """
    given = getattr(result, "consistency", None)
    if isinstance(given, str) and given in CONSISTENCY_RANK:
        return given
    hard = [c for c in result.checks if c.severity == "error"]
    if any(c.status == FAIL for c in hard):
        return INCONSISTENT
    if any(c.status == PASS and c.check_id != "counts.non_negative" for c in hard):
        return CONSISTENT
    return NOT_ASSESSABLE_C


def document_href(path: str | None, documents_root: Path | None) -> str | None:
    """A link from ``validation/<source>/<year>.html`` to the archived document; None when not found.

    A relative path (inside the data directory, or from the working directory) gives a relative
    link (``../../archive/raw/...``), so the link works wherever the data directory and its
    neighbours are mounted and two checkouts write the same bytes; an absolute path a ``file:`` URL.
    """
    if not path:
        return None
    p = Path(path)
    if p.is_absolute():
        return p.as_uri() if p.is_file() else None
    if documents_root is not None and (documents_root / p).is_file():
        return "../../" + quote(p.as_posix())
    if not p.is_file():
        return None
    if documents_root is None:
        return p.resolve().as_uri()
    # ``validation/`` is a symlink into the current snapshot: pages are opened (and their links
    # followed) through it, so the page's directory is taken as written, not resolved through it
    page_dir = documents_root.resolve() / "validation" / "source"
    return quote(Path(os.path.relpath(p.resolve(), page_dir)).as_posix())


def document_report(
    info: DocumentInfo,
    result: DocumentResult,
    extractor_version: str,
    cross_year: list[dict[str, Any]] | None = None,
    documents_root: Path | str | None = None,
) -> dict[str, Any]:
    """The JSON-ready validation content of one document.

    ``cross_year``: the document's cross-year check rows as the warehouse holds them
    (``CrossYearChecks.for_source``); none when not given. ``documents_root``: the data directory
    the document's ``path`` is relative to (for the link to the archived file).
    """
    # imported here: pyarrow is needed only when reports are written, not to refresh the index
    from xxgk.warehouse.validation.cross_year import cross_counts, cross_entries

    year, year_source = effective_year(info, result)
    grids = grid_index(result.grid_locators)
    cross = cross_entries(cross_year or [], result.facts, result.grids, grids)
    failed = []
    for i, check in enumerate(result.checks):
        if check.status != FAIL:
            continue
        failed.append(
            {
                "index": i,
                "check_id": check.check_id,
                "table": check.table,
                "row_key": check.row_key,
                "column_key": check.column_key,
                "expected": check.expected,
                "actual": check.actual,
                "difference": check.difference,
                "severity": check.severity,
                "detail": check.detail,
                "blank_as_zero": check.blank_as_zero,
                "cells": cells_of(check, result.facts, result.grids, grids),
            }
        )
    keys = table_keys(result, grids)
    spans = list(getattr(result, "grid_spans", None) or [])
    doc: dict[str, Any] = {
        "report_id": report_id(info, year),
        "document_sha256": info.document_sha256,
        "source_id": info.source_id,
        "year": year,
        "year_source": year_source,
        "publisher": effective_publisher(info, result),
        "title": result.title,
        "format": effective_format(info, result),
        "status": result.status,
        "reason": result.reason,
        "consistency": consistency_of(result),
        "source_url": info.source_url,
        "fetched_at": info.fetched_at.isoformat() if info.fetched_at else None,
        "path": info.path,
        "chosen_because": info.chosen_because,
        "alternatives": list(info.alternatives or []),
        "document_href": document_href(info.path, Path(documents_root) if documents_root is not None else None),
        "extractor_version": extractor_version,
        "template_versions": dict(sorted(result.template_versions.items())),
        "warnings": list(result.warnings),
        "counts": {
            "facts": len(result.facts),
            "derived": len(result.derived),
            "checks": len(result.checks),
            "passed": sum(1 for c in result.checks if c.status == PASS),
            "failed": result.failed_checks,
            "failed_warnings": sum(1 for c in result.checks if c.status == FAIL and c.severity != "error"),
            "not_assessable": sum(1 for c in result.checks if c.status == NOT_ASSESSABLE),
            "unmapped": len(result.unmapped),
            **cross_counts(cross),
        },
        "failed_checks": failed,
        "cross_year_checks": cross,
        "ambiguous_cells": ambiguous_cells(result, grids),
        "unmapped": [
            {
                "table": u.table,
                "label": u.label,
                "values": list(u.values),
                "reason": u.reason,
                "locator": u.locator,
                "page": u.page,
                "grid_row": u.grid_row,
            }
            for u in result.unmapped
        ],
        "tables": [
            {
                "locator": result.grid_locators[i] if i < len(result.grid_locators) else f"table {i + 1}",
                "rows": g,
                "spans": spans[i] if i < len(spans) else [],
                **keys[i],
            }
            for i, g in enumerate(result.grids)
        ],
    }
    is_primary = getattr(info, "is_primary", getattr(result, "is_primary", None))
    if is_primary is not None:
        doc["is_primary"] = bool(is_primary)
    return doc


def worst(values: Any, rank: tuple[str, ...]) -> str:
    ranked = sorted(values, key=lambda s: rank.index(s) if s in rank else -1)
    return ranked[0] if ranked else ""


def doc_consistency(doc: dict[str, Any]) -> str:
    """A document entry's consistency: its own field, else from its counts (reports of older runs)."""
    given = doc.get("consistency")
    if given in CONSISTENCY_RANK:
        return str(given)
    counts = doc.get("counts", {})
    if counts.get("failed"):
        return INCONSISTENT
    return CONSISTENT if counts.get("passed") else NOT_ASSESSABLE_C


def doc_warnings(doc: dict[str, Any]) -> int:
    """Failed soft checks of a document: its own (narrative ...) and cross-year ones."""
    counts = doc["counts"]
    return int(counts.get("failed_warnings", 0)) + int(counts.get("cross_year_failed", 0))


def source_report(
    source_id: str, year: int, docs: list[dict[str, Any]], trend: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The report of one source/year around its documents' entries (sorted by sha256).

    ``trend``: the source's key numbers over the years (``Trends.for_source``), when known.
    """
    docs.sort(key=lambda d: d["document_sha256"])
    report = {
        "validation_format": VALIDATION_FORMAT,
        "source_id": source_id,
        "year": year,
        "status": worst((d["status"] for d in docs), STATUS_RANK),
        "consistency": worst((doc_consistency(d) for d in docs), CONSISTENCY_RANK),
        "failed_checks": sum(d["counts"]["failed"] for d in docs),
        "warnings": sum(doc_warnings(d) for d in docs),
        "documents": docs,
    }
    if trend is not None:
        report["trend"] = trend
    return report
