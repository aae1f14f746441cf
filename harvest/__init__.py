"""Harvesting: sources registry → discovery → polite fetching → raw archive (no Prefect here).

Public API (what a flow task calls; all plain functions, safe to run sources in parallel threads)::

    from xxgk.harvest import (
        load_sources, select_sources, Source,          # registry (data/sources.yaml)
        RawArchive,                                     # data/archive: raw/, fetch_log/, state/
        Fetcher, FetchConfig,                           # one Fetcher per run, shared by all threads
        harvest_source, harvest_sources, SourceHarvest, # discover + fetch + archive one/many sources
        chosen_documents, extract_report,               # hand-off to extraction
    )

    sources = select_sources(load_sources(portal_url=base_url))     # enabled (+ resolved demo) sources
    archive = RawArchive(data_dir / "archive")
    with Fetcher(FetchConfig()) as fetcher:                          # FetchConfig.for_tests() in tests
        harvests = harvest_sources(sources, archive, fetcher, max_workers=4)   # or harvest_source per task
    for h, src in zip(harvests, sources):
        h.status        # ok | partial | empty | layout_changed | failed  (never a silent empty success)
        h.reason, h.problems, h.recovered    # what failed / what retries got past, per URL
        chosen = chosen_documents(h)              # per fetched report, the document that is the report:
                                                  # the page, or its PDF attachment when the page has no
                                                  # tables (bytes in the raw archive by sha256)
        h.changed_reports                         # reports whose bytes changed since the last run

``extract_report(report, archive)`` extracts one ``HarvestedReport`` with full fallback (page, then
attachments, until one is a report). A second run sends conditional requests (ETag /
Last-Modified from ``archive/state/<source_id>.json``); 304 answers are read back from the archive.
The provenance records the warehouse files documents under are built by the flows
(``flows.harvesting``): harvesting knows nothing of the warehouse. The local fake portal of the
tests and the demo is ``xxgk.demo``.
"""

from __future__ import annotations

from xxgk.harvest.archive import FetchLogEntry, RawArchive, SourceState, UrlState
from xxgk.harvest.fetch import FetchConfig, Fetcher, FetchError, FetchResult
from xxgk.harvest.harvester import (
    HARVEST_EMPTY,
    HARVEST_FAILED,
    HARVEST_LAYOUT_CHANGED,
    HARVEST_OK,
    HARVEST_PARTIAL,
    HARVEST_STATUSES,
    ArchivedDoc,
    ChosenDocument,
    ExtractedReport,
    HarvestedReport,
    HarvestProblem,
    SourceHarvest,
    chosen_documents,
    extract_report,
    harvest_source,
    harvest_sources,
    reports_to_extract,
)
from xxgk.harvest.registry import DEFAULT_REGISTRY, RegistryError, Source, load_sources, select_sources

__all__ = [
    "DEFAULT_REGISTRY",
    "HARVEST_EMPTY",
    "HARVEST_FAILED",
    "HARVEST_LAYOUT_CHANGED",
    "HARVEST_OK",
    "HARVEST_PARTIAL",
    "HARVEST_STATUSES",
    "ArchivedDoc",
    "ChosenDocument",
    "ExtractedReport",
    "FetchConfig",
    "FetchError",
    "FetchLogEntry",
    "FetchResult",
    "Fetcher",
    "HarvestProblem",
    "HarvestedReport",
    "RawArchive",
    "RegistryError",
    "Source",
    "SourceHarvest",
    "SourceState",
    "UrlState",
    "chosen_documents",
    "extract_report",
    "harvest_source",
    "harvest_sources",
    "load_sources",
    "reports_to_extract",
    "select_sources",
]
