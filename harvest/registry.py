"""The sources registry: one entry per publisher whose annual reports we harvest.

Adding a source is adding an entry to ``data/sources.yaml``; its ``adapter`` names the CMS family
(``harvest.adapters``) whose listing and report pages it shares with other sites. Entries of the
demo portal carry a ``{portal}`` placeholder in their URLs, resolved once the portal is started.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from xxgk.harvest.revisit import RevisitSettings, RevisitSettingsError
from xxgk.storage.yaml_text import load_yaml_file

DEFAULT_REGISTRY = Path(__file__).resolve().parents[1] / "data" / "sources.yaml"
PORTAL_PLACEHOLDER = "{portal}"
LEVELS = ("national", "provincial", "city", "county", "township", "department", "other")
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,79}$")


class RegistryError(ValueError):
    """A registry entry that cannot be used as written (missing field, bad id, unknown adapter)."""


@dataclass(frozen=True)
class Source:
    """One publisher's listing of annual reports and how to recognise them.

    ``allowed_hosts`` bounds every request and redirect (defaults to the listing URLs' hosts);
    ``report_title_pattern``/``report_url_pattern`` override the generic recognition;
    ``layout_selector`` is a CSS selector that must match on a listing page, so a redesign is
    reported as ``layout_changed`` instead of an empty success. ``revisit`` says how often known
    report pages and attachments are asked about again (``harvest.revisit``; registry key
    ``revisit: {nightly_days, weekly_days, max_days}``).
    """

    source_id: str
    publisher: str
    listing_urls: tuple[str, ...]
    level: str = "other"
    region_code: str | None = None
    adapter: str = "generic"
    allowed_hosts: tuple[str, ...] = ()
    report_title_pattern: str | None = None
    report_url_pattern: str | None = None
    exclude_title_pattern: str | None = None
    layout_selector: str | None = None
    encoding: str | None = None
    max_pages: int = 30
    #: Report links taken from one listing page (a page of 100,000 links would take a day).
    max_report_links: int = 500
    #: Requests one run may make for this source (retries, redirects and robots.txt included).
    max_requests: int = 1000
    delay_seconds: float | None = None
    enabled: bool = True
    portal: bool = False
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    revisit: RevisitSettings = field(default_factory=RevisitSettings)

    @property
    def needs_portal(self) -> bool:
        """True while a URL still holds the ``{portal}`` placeholder."""
        return any(PORTAL_PLACEHOLDER in u for u in (*self.listing_urls, *self.allowed_hosts))

    def resolve_portal(self, base_url: str) -> Source:
        """This source with ``{portal}`` replaced by the running portal's base URL (no trailing slash)."""
        base = base_url.rstrip("/")
        netloc = urlsplit(base).netloc
        urls = tuple(u.replace(PORTAL_PLACEHOLDER, base) for u in self.listing_urls)
        hosts = tuple(h.replace(PORTAL_PLACEHOLDER, netloc) for h in self.allowed_hosts)
        return replace(self, listing_urls=urls, allowed_hosts=hosts or _hosts_of(urls))


def _hosts_of(urls: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for u in urls:
        netloc = urlsplit(u).netloc.lower()
        if netloc and netloc not in out:
            out.append(netloc)
    return tuple(out)


_KNOWN = {
    "source_id",
    "publisher",
    "listing_urls",
    "level",
    "region_code",
    "adapter",
    "allowed_hosts",
    "report_title_pattern",
    "report_url_pattern",
    "exclude_title_pattern",
    "layout_selector",
    "encoding",
    "max_pages",
    "max_report_links",
    "max_requests",
    "delay_seconds",
    "enabled",
    "portal",
    "notes",
    "revisit",
}

_LIMITS = {"max_pages": 30, "max_report_links": 500, "max_requests": 1000}


def source_from_dict(entry: dict[str, Any]) -> Source:
    """Validate one registry entry and build its ``Source``; unknown keys are kept in ``extra``."""
    from xxgk.harvest.adapters import ADAPTERS

    sid = str(entry.get("source_id", ""))
    if not _SOURCE_ID.match(sid):
        raise RegistryError(f"source_id {sid!r}: use 2-80 chars of a-z, 0-9, '_', '-', '.'")
    if not entry.get("publisher"):
        raise RegistryError(f"{sid}: publisher is required")
    urls = entry.get("listing_urls") or ([entry["listing_url"]] if entry.get("listing_url") else [])
    if isinstance(urls, str):
        urls = [urls]
    if not urls:
        raise RegistryError(f"{sid}: at least one listing URL is required")
    for u in urls:
        if not (u.startswith(("http://", "https://", PORTAL_PLACEHOLDER))):
            raise RegistryError(f"{sid}: listing URL {u!r} is not http(s)")
    level = str(entry.get("level", "other"))
    if level not in LEVELS:
        raise RegistryError(f"{sid}: level {level!r} not one of {LEVELS}")
    adapter = str(entry.get("adapter", "generic"))
    if adapter not in ADAPTERS:
        raise RegistryError(f"{sid}: unknown adapter {adapter!r} (known: {sorted(ADAPTERS)})")
    for key in ("report_title_pattern", "report_url_pattern", "exclude_title_pattern"):
        if entry.get(key):
            try:
                re.compile(entry[key])
            except re.error as exc:
                raise RegistryError(f"{sid}: {key} is not a valid regex: {exc}") from exc
    hosts = tuple(str(h).lower() for h in entry.get("allowed_hosts") or ())
    listing = tuple(str(u) for u in urls)
    is_portal = bool(entry.get("portal", False)) or any(PORTAL_PLACEHOLDER in u for u in listing)
    region = entry.get("region_code")
    try:
        revisit = RevisitSettings.from_registry(entry.get("revisit"))
    except (RevisitSettingsError, TypeError) as exc:
        raise RegistryError(f"{sid}: {exc}") from exc
    limits = {key: int(entry.get(key, default)) for key, default in _LIMITS.items()}
    for key, value in limits.items():
        if value < 1:
            raise RegistryError(f"{sid}: {key} must be at least 1, got {value}")
    return Source(
        source_id=sid,
        publisher=str(entry["publisher"]),
        listing_urls=listing,
        level=level,
        region_code=str(region) if region is not None else None,
        adapter=adapter,
        allowed_hosts=hosts or (() if is_portal else _hosts_of(listing)),
        report_title_pattern=entry.get("report_title_pattern"),
        report_url_pattern=entry.get("report_url_pattern"),
        exclude_title_pattern=entry.get("exclude_title_pattern"),
        layout_selector=entry.get("layout_selector"),
        encoding=entry.get("encoding"),
        max_pages=limits["max_pages"],
        max_report_links=limits["max_report_links"],
        max_requests=limits["max_requests"],
        delay_seconds=float(entry["delay_seconds"]) if entry.get("delay_seconds") is not None else None,
        enabled=bool(entry.get("enabled", True)),
        portal=is_portal,
        notes=str(entry.get("notes", "")).strip(),
        extra={k: v for k, v in entry.items() if k not in _KNOWN and k != "listing_url"},
        revisit=revisit,
    )


def load_sources(path: Path | str | None = None, portal_url: str | None = None) -> list[Source]:
    """Read the registry; with ``portal_url`` the demo portal's entries are resolved to it.

    Raises ``RegistryError`` on a malformed entry or a duplicated ``source_id``: a registry that
    half-loads would silently drop sources.
    """
    p = Path(path) if path is not None else DEFAULT_REGISTRY
    doc = load_yaml_file(p) or {}
    entries = doc.get("sources") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise RegistryError(f"{p}: expected a list under 'sources'")
    out: list[Source] = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            raise RegistryError(f"{p}: every source must be a mapping, got {entry!r}")
        src = source_from_dict(entry)
        if src.source_id in seen:
            raise RegistryError(f"{p}: duplicate source_id {src.source_id}")
        seen.add(src.source_id)
        if portal_url and src.needs_portal:
            src = src.resolve_portal(portal_url)
        out.append(src)
    return out


def select_sources(
    sources: list[Source], ids: list[str] | None = None, *, include_disabled: bool = False
) -> list[Source]:
    """The sources to run: by id when given (unknown ids raise), else the enabled ones.

    Demo-portal entries whose URLs still hold ``{portal}`` are left out of the default
    selection (they only make sense with the portal running) and refused when asked by id.
    """
    by_id = {s.source_id: s for s in sources}
    if ids:
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise RegistryError(f"unknown source ids: {missing}")
        picked = [by_id[i] for i in ids]
    else:
        picked = [s for s in sources if (s.enabled or include_disabled) and not s.needs_portal]
    unresolved = [s.source_id for s in picked if s.needs_portal]
    if unresolved:
        raise RegistryError(f"sources {unresolved} need the demo portal's URL (load_sources(portal_url=...))")
    return picked
