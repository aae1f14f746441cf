"""Harvesting: sources registry → discovery → polite fetching → raw archive (no Prefect here).

Public API (what a flow task calls; all plain functions, safe to run sources in parallel threads)::

    from xxgk.harvest import (
        load_sources, select_sources, Source,          # registry (data/sources.yaml)
        RawArchive,                                     # data/archive: raw/, fetch_log/, state/
        Fetcher, FetchConfig,                           # one Fetcher per run, shared by all threads
        harvest_source, harvest_sources, SourceHarvest, # discover + fetch + archive one/many sources
        document_infos, extract_report,                 # hand-off to extraction
        serve_portal, demo_spec,                        # the local fake portal (tests, demo)
    )

    sources = select_sources(load_sources(portal_url=base_url))     # enabled (+ resolved demo) sources
    archive = RawArchive(data_dir / "archive")
    with Fetcher(FetchConfig()) as fetcher:                          # FetchConfig.for_tests() in tests
        harvests = harvest_sources(sources, archive, fetcher, max_workers=4)   # or harvest_source per task
    for h, src in zip(harvests, sources):
        h.status        # ok | partial | empty | layout_changed | failed  (never a silent empty success)
        h.reason, h.problems, h.recovered    # what failed / what retries got past, per URL
        infos = document_infos(h, src, archive)   # warehouse.DocumentInfo per fetched report: the page,
                                                  # or its PDF attachment when the page has no tables;
                                                  # path points into the raw archive
        h.changed_reports                         # reports whose bytes changed since the last run

``extract_report(report, archive)`` extracts one ``HarvestedReport`` with full fallback (page, then
attachments, until one is a report). A second run sends conditional requests (ETag /
Last-Modified from ``archive/state/<source_id>.json``); 304 answers are read back from the archive.
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
    ExtractedReport,
    HarvestedReport,
    HarvestProblem,
    SourceHarvest,
    chosen_documents,
    document_infos,
    extract_report,
    harvest_source,
    harvest_sources,
    reports_to_extract,
)
from xxgk.harvest.registry import DEFAULT_REGISTRY, RegistryError, Source, load_sources, select_sources


def __getattr__(name: str) -> object:
    """The portal is imported on first use only (it pulls in the synthetic report generator)."""
    if name in (
        "serve_portal",
        "demo_spec",
        "demo_run_spec",
        "portal_sources",
        "sample_sources",
        "add_sample_set",
        "Portal",
        "PortalSpec",
    ):
        from xxgk.harvest import portal

        return getattr(portal, name)
    raise AttributeError(name)


__all__ = [
    "DEFAULT_REGISTRY",
    "HARVEST_EMPTY",
    "HARVEST_FAILED",
    "HARVEST_LAYOUT_CHANGED",
    "HARVEST_OK",
    "HARVEST_PARTIAL",
    "HARVEST_STATUSES",
    "ArchivedDoc",
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
    "document_infos",
    "extract_report",
    "harvest_source",
    "harvest_sources",
    "load_sources",
    "reports_to_extract",
    "select_sources",
]
