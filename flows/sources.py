"""Which sources a run harvests: a registry's selection, the demo portal, or local documents.

``check_run_inputs`` says before anything starts (no portal, no Prefect) whether the inputs are
usable, with a one-line ``InputError`` when they are not: a missing file, a malformed registry,
unknown ids (with the close ones), a selection with no enabled source. ``open_run_inputs``
resolves them for the run itself, starting the demo portal for the block when the run needs it
(no sources at all, or registry entries on ``{portal}`` URLs).

Plain functions, no Prefect import.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xxgk.flows.harvesting import HarvestPlan, archive_dir_of
from xxgk.flows.inputs import (
    InputError,
    check_sources_file,
    is_registry,
    resolve_specs,
    select_documents,
    unknown_ids,
)
from xxgk.harvest import FetchConfig, RegistryError, Source, load_sources, select_sources


def registry_sources(registry: str | Path, ids: list[str] | None = None, portal_url: str | None = None) -> list[Source]:
    """The sources a registry run harvests: by id when given, else the enabled ones.

    Raises ``InputError`` (one line) for a malformed registry, unknown ids, or a selection that is
    empty; ``NeedsPortal`` when a selected entry is a demo-portal entry and no portal runs yet.
    """
    check_sources_file(registry)
    try:
        sources = load_sources(registry, portal_url=portal_url)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read sources registry {registry}: {exc}") from exc
    except (RegistryError, ValueError) as exc:
        raise InputError(f"{registry}: {exc}") from exc
    if ids:
        known = {s.source_id: s for s in sources}
        missing = [i for i in ids if i not in known]
        if missing:
            raise unknown_ids(missing, known, f"the sources registry {registry}")
        if any(known[i].needs_portal for i in ids):
            raise NeedsPortal(ids)
    try:
        picked = select_sources(sources, ids)
    except RegistryError as exc:
        raise InputError(f"{registry}: {exc}") from exc
    if not picked:
        disabled = [s.source_id for s in sources if not s.enabled]
        hint = f" ({len(disabled)} disabled: {', '.join(disabled[:6])}{'…' if len(disabled) > 6 else ''})"
        raise InputError(
            f"{registry}: no enabled source to harvest{hint if disabled else ''}; "
            "set `enabled: true` or pick sources with --sources-only ID,..."
        )
    return picked


class NeedsPortal(Exception):
    """The selected registry entries point at the local demo portal: start it, then resolve them."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(", ".join(ids))
        self.ids = ids


def select_by_id(sources: list[Source], ids: list[str] | None, what: str) -> list[Source]:
    """``sources`` restricted to ``ids`` (in the given order); unknown ids raise ``InputError``."""
    if not ids:
        return sources
    by_id = {s.source_id: s for s in sources}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise unknown_ids(missing, by_id, what)
    return [by_id[i] for i in ids]


@dataclass(slots=True)
class DemoPortal:
    """The running demo portal: its address, its sources and what it serves."""

    portal: Any
    base_url: str
    sources: list[Source]
    samples: list[Any]
    warnings: list[str] = field(default_factory=list)


@contextlib.contextmanager
def demo_portal(
    *, port: int | None = None, faults: bool = True, sample_dir: Path | None = None, registry: str | Path | None = None
) -> Iterator[DemoPortal]:
    """Serve the embedded sample set and the demo sites on 127.0.0.1 while the block runs.

    ``port`` defaults to ``$XXGK_PORTAL_PORT`` or ``demo.DEMO_PORT``: a fixed port keeps
    URLs, validators and published provenance identical from run to run. When it is taken, any
    free port is used and a warning says so. The demo sources are the sample set's sites plus the
    registry's demo-portal entries (``registry``, default ``data/sources.yaml``).
    """
    from xxgk.demo import DEMO_PORT, demo_run_spec, sample_sources, serve_portal

    wanted = port if port is not None else int(os.environ.get("XXGK_PORTAL_PORT", DEMO_PORT))
    warnings: list[str] = []
    with contextlib.ExitStack() as stack:
        spec, samples = demo_run_spec(sample_dir, faults=faults)
        try:
            portal, base = stack.enter_context(serve_portal(spec, port=wanted))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or wanted == 0:
                raise
            warnings.append(
                f"port {wanted} is in use, so the demo portal runs on another port: its URLs differ from "
                "earlier runs (no conditional requests; documents restaged with the new URLs)"
            )
            spec, samples = demo_run_spec(sample_dir, faults=faults)
            portal, base = stack.enter_context(serve_portal(spec, port=0))
        demo = [s for s in load_sources(registry, portal_url=base) if s.portal]
        yield DemoPortal(portal, base, sample_sources(base, samples) + demo, samples, warnings)


def demo_source_ids(registry: str | Path | None = None, sample_dir: Path | None = None) -> list[str]:
    """The ids of the sources ``xxgk run`` harvests by default, without starting the portal."""
    import yaml

    from xxgk.demo import SAMPLE_DIR, SAMPLE_MANIFEST

    manifest = (sample_dir or SAMPLE_DIR) / SAMPLE_MANIFEST
    entries = yaml.safe_load(manifest.read_text(encoding="utf-8"))["documents"]
    ids = list(dict.fromkeys(str(e["source_id"]) for e in entries))
    return ids + [s.source_id for s in load_sources(registry) if s.portal]


# ---------------------------------------------------------------------------------------------
# What a run reads


@dataclass(slots=True)
class RunInputs:
    """A run's inputs once resolved: a harvest plan and/or a documents file to read."""

    plan: HarvestPlan | None
    documents_file: str | None
    label: str
    warnings: list[str] = field(default_factory=list)


def fetch_config_for(sources: list[Source]) -> FetchConfig:
    """Short waits when every source is on the local demo portal; polite defaults otherwise."""
    return FetchConfig.for_demo() if sources and all(s.portal for s in sources) else FetchConfig()


def check_run_inputs(sources: str | Path | None, *, local: bool = False, ids: list[str] | None = None) -> str:
    """Fail fast (``InputError``) on what ``open_run_inputs`` would refuse; returns the kind of run.

    ``registry``, ``documents`` or ``demo``. Starts nothing (no portal, no Prefect).
    """
    if sources is not None:
        check_sources_file(sources)
    if sources is not None and is_registry(sources):
        with contextlib.suppress(NeedsPortal):  # fine: the run starts the portal
            registry_sources(sources, ids)
        return "registry"
    if sources is not None or local:
        return "documents"
    known = demo_source_ids()
    missing = [i for i in ids or [] if i not in known]
    if missing:
        raise unknown_ids(missing, known, "the demo portal")
    return "demo"


def check_selection(
    sources: str | Path | None,
    *,
    paths: list[str] | None = None,
    ids: list[str] | None = None,
    years: list[int] | None = None,
) -> str:
    """``check_run_inputs``, and for local documents that ``ids``/``years`` leave some; the kind of run.

    What ``xxgk run`` and ``xxgk serve`` check before anything starts.
    """
    kind = check_run_inputs(sources, local=bool(paths), ids=ids)
    if kind == "documents":
        select_documents(resolve_specs(paths, str(sources) if sources is not None else None), ids, years)
    return kind


@contextlib.contextmanager
def open_run_inputs(
    sources: str | Path | None,
    data_dir: str | Path,
    *,
    local: bool = False,
    ids: list[str] | None = None,
    years: list[int] | None = None,
    harvest: HarvestPlan | None = None,
    portal_port: int | None = None,
    archive_dir: str | Path | None = None,
) -> Iterator[RunInputs]:
    """Resolve what a run reads, starting the demo portal for the block when needed.

    - ``harvest`` given: that plan (a caller that built its own sources, e.g. tests).
    - ``sources`` is a registry (a ``sources:`` list): its enabled sources, or ``ids``; entries on
      the demo portal (``{portal}`` URLs) start it.
    - ``sources`` is a documents file, or ``local`` (paths/documents given): no harvest.
    - nothing at all: the demo portal serving the embedded sample set and the demo sites.

    ``archive_dir`` (default ``<data_dir>/archive``) is where harvested bytes go: it may sit on
    shared storage apart from the data directory.
    """
    archive = str(archive_dir if archive_dir is not None else archive_dir_of(data_dir))
    registry = sources is not None and is_registry(sources)
    if harvest is not None:
        yield RunInputs(harvest, str(sources) if sources and not registry else None, harvest.label or "harvest")
        return
    if registry:
        assert sources is not None
        label = f"sources registry {sources}"
        try:
            picked = registry_sources(sources, ids)
        except NeedsPortal:
            with demo_portal(port=portal_port, registry=sources) as demo:
                picked = registry_sources(sources, ids, portal_url=demo.base_url)
                plan = HarvestPlan(picked, archive, fetch_config_for(picked), years, label=label, portal=demo.base_url)
                yield RunInputs(plan, None, label, list(demo.warnings))
            return
        yield RunInputs(HarvestPlan(picked, archive, fetch_config_for(picked), years, label=label), None, label)
        return
    if sources is not None or local:
        yield RunInputs(None, str(sources) if sources is not None else None, "local documents")
        return
    with demo_portal(port=portal_port) as demo:
        picked = select_by_id(demo.sources, ids, "the demo portal")
        label = f"demo portal {demo.base_url}"
        plan = HarvestPlan(picked, archive, FetchConfig.for_demo(), years, label=label, portal=demo.base_url)
        yield RunInputs(plan, None, label, list(demo.warnings))
