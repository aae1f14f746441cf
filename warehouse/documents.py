"""What the pipeline knows about a document apart from its content.

The extractor reads a ``DocumentResult`` from the bytes alone; the source registry and the fetcher
know where the bytes came from. ``DocumentInfo`` carries that second half, so the warehouse can put
provenance on every row without the extractors ever seeing URLs or registries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from xxgk.schemas.records import DocumentResult

#: ``year`` of documents whose report year is known neither to the registry nor from the document.
#: Used as the hive partition ``year=-1`` so ``year`` stays an integer column in every reader.
UNKNOWN_YEAR = -1

#: Values of ``reports.year_source``.
YEAR_FROM_REGISTRY = "registry"
YEAR_FROM_DOCUMENT = "document"
YEAR_UNKNOWN = "unknown"


def _as_utc(value: datetime | str | None) -> datetime | None:
    """ISO strings and naive datetimes become aware UTC datetimes (naive ones are taken as UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"fetched_at must be a datetime or an ISO 8601 string, not {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(slots=True)
class DocumentInfo:
    """Where a document came from, as the source registry and the fetcher know it.

    ``publisher`` and ``year`` are what the registry or the caller knows; leave them empty/None when
    unknown and the warehouse falls back to what the extractor read from the document.
    ``fetched_at`` is normalised to an aware UTC datetime (ISO strings accepted; naive = UTC).
    ``path`` is where the raw bytes sit in the raw archive (or on disk for local runs).
    """

    document_sha256: str
    source_id: str
    publisher: str | None
    year: int | None
    format: str | None
    source_url: str | None
    fetched_at: datetime | str | None
    path: str | None
    region_code: str | None = None
    level: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    #: Why this document is its report's, when the report came as several (a page and its
    #: attachments; ``schemas.choice``); None for a document read on its own.
    chosen_because: str | None = None
    #: The report's other documents and why none is the one: dicts of url, format,
    #: document_sha256, status (None when not read) and reason.
    alternatives: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if not self.document_sha256 or not self.source_id:
            raise ValueError("DocumentInfo needs document_sha256 and source_id")
        self.document_sha256 = self.document_sha256.lower()
        self.fetched_at = _as_utc(self.fetched_at)
        if self.year is not None:
            self.year = int(self.year)


def effective_year(info: DocumentInfo, result: DocumentResult) -> tuple[int, str]:
    """The year a document is filed under and where it came from (registry, document, unknown)."""
    if info.year is not None:
        return info.year, YEAR_FROM_REGISTRY
    if result.year is not None:
        return int(result.year), YEAR_FROM_DOCUMENT
    return UNKNOWN_YEAR, YEAR_UNKNOWN


def effective_publisher(info: DocumentInfo, result: DocumentResult) -> str:
    """The registry's publisher name, else the one printed in the document."""
    return info.publisher or result.publisher or ""


def effective_format(info: DocumentInfo, result: DocumentResult) -> str:
    """The format the extractor detected, else what the fetcher recorded."""
    return result.format or info.format or ""


def report_id(info: DocumentInfo, year: int) -> str:
    """A readable id of one published document: ``<source_id>/<year>/<sha256[:12]>``."""
    y = "unknown" if year == UNKNOWN_YEAR else str(year)
    return f"{info.source_id}/{y}/{info.document_sha256[:12]}"
