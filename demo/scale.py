"""The scale benchmark's portal: N sources × Y years, each source on a host of its own.

``scale_spec`` builds it (HTML pages with tables, PDF and text attachments in a fixed mix, generic
and TRS layouts, UTF-8 and GBK), deterministic for a seed; at that size pages are rendered lazily
and kept in an on-disk cache (``fill_cache``) so a restarted portal serves the same bytes (and
ETags) at once. ``serve_scale`` is what ``python -m xxgk.demo --scale 1000x5`` runs for
``bench.scale``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xxgk.demo.pages import write_atomic
from xxgk.demo.portal import Portal
from xxgk.demo.server import serve_portal
from xxgk.demo.spec import PortalReport, PortalSite, PortalSpec

#: Share of reports per form in a scale portal: HTML pages with tables, PDF attachments, text exports.
SCALE_MIX = (0.6, 0.3, 0.1)
#: Share of HTML reports that also attach their PDF (the page is the report; the PDF is fetched too).
SCALE_HTML_WITH_PDF = 0.1
SCALE_PORT = 28765
_TEXT_FORMS = ("cells", "layout", "markdown")
_LEVEL_OF_KIND = {"city_gov": "city", "district_gov": "county", "department": "department", "town": "township"}


def loopback_aliases_work() -> bool:
    """Whether addresses of 127.0.0.0/8 other than 127.0.0.1 can be bound (Linux: yes; macOS: no)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.1.1", 0))
    except OSError:
        return False
    return True


def scale_address(index: int, port: int, hosts: str) -> tuple[str, int]:
    """Host of the ``index``-th scale site: its own loopback address on ``port``, or its own port.

    ``addresses``: 127.0.1.1, 127.0.1.2, ... (250 per third octet; up to 63,500 sites), every one on
    the same port. ``ports``: 127.0.0.1 on ``port + 1 + index`` (``port`` 0: any free port).
    """
    if hosts == "addresses":
        if index >= 250 * 254:
            raise ValueError(f"too many sites for one address each: {index + 1}")
        return f"127.0.{1 + index // 250}.{1 + index % 250}", port
    if hosts == "ports":
        return "127.0.0.1", (port + 1 + index) if port else 0
    raise ValueError(f"hosts must be 'addresses' or 'ports', not {hosts!r}")


def scale_source_id(index: int) -> str:
    return f"scale-{index:05d}"


def scale_spec(
    sources: int = 1000,
    years: tuple[int, ...] = (2020, 2021, 2022, 2023, 2024),
    *,
    seed: int = 0,
    mix: tuple[float, float, float] = SCALE_MIX,
    port: int = SCALE_PORT,
    hosts: str = "addresses",
) -> PortalSpec:
    """``sources`` sites × ``years`` reports, each site on a host of its own; the same for the same seed.

    Reports are HTML pages with tables, PDF attachments of a notice page, or text exports
    (cells/layout/markdown) attached likewise, in the shares of ``mix`` exactly (shuffled by
    ``seed``); sites alternate generic and TRS layouts, UTF-8 and GBK pages and page sizes.
    """
    from xxgk.synth.generate import random_publisher

    rng = random.Random(f"xxgk-scale:{seed}")
    n = sources * len(years)
    n_html, n_pdf = round(n * mix[0]), round(n * mix[1])
    forms = ["html"] * n_html + ["pdf"] * n_pdf + ["text"] * (n - n_html - n_pdf)
    rng.shuffle(forms)
    names: set[str] = set()
    sites: list[PortalSite] = []
    for i in range(sources):
        for _attempt in range(40):
            publisher = random_publisher(rng)
            if publisher.name not in names:
                break
        name = publisher.name if publisher.name not in names else f"{publisher.name}（{i}）"
        names.add(name)
        trs = rng.random() < 0.3
        encoding = "gb18030" if rng.random() < 0.4 else "utf-8"
        site = PortalSite(
            slug=scale_source_id(i),
            publisher=name,
            layout="trs" if trs else "generic",
            page_size=rng.choice((4, 6, 10, 15)),
            encoding=encoding,
            address=scale_address(i, port, hosts),
            level=_LEVEL_OF_KIND.get(publisher.kind, "other"),
        )
        for j, year in enumerate(years):
            form = forms[i * len(years) + j]
            if form == "html" and rng.random() < SCALE_HTML_WITH_PDF:
                form = "html+pdf"
            site.reports.append(
                PortalReport(
                    year,
                    seed=100_000 + i * 16 + j,
                    form=form,
                    encoding=encoding if rng.random() < 0.8 else "utf-8",
                    word_markup=form.startswith("html") and rng.random() < 0.3,
                    text_form=_TEXT_FORMS[rng.randrange(len(_TEXT_FORMS))],
                )
            )
        sites.append(site)
    return PortalSpec(sites=sites)


def scale_registry(portal: Portal, *, delay_seconds: float | None = None) -> dict[str, Any]:
    """A sources registry (``data/sources.yaml`` format) for the scale portal's sites as served now."""
    entries: list[dict[str, Any]] = []
    for site in portal.spec.sites:
        base = portal.site_url(site.slug)
        entry: dict[str, Any] = {
            "source_id": site.slug,
            "publisher": site.publisher,
            "level": site.level,
            "adapter": "trs" if site.layout == "trs" else "generic",
            "listing_urls": [base + site.listing_path],
            "allowed_hosts": [base.split("://", 1)[1]],
        }
        if site.layout != "trs":
            entry["layout_selector"] = "ul.nb-list"
        if delay_seconds is not None:
            entry["delay_seconds"] = delay_seconds
        entry["notes"] = "scale benchmark site on the local portal (demo.scale.scale_spec)"
        entries.append(entry)
    return {"sources": entries}


def _fill_chunk(args: tuple[PortalSpec, list[tuple[int, int]], str]) -> int:
    spec, items, cache_dir = args
    portal = Portal(spec, cache_dir=cache_dir, record_requests=False)
    for site_ix, rep_ix in items:
        site = spec.sites[site_ix]
        portal._render(site, site.reports[rep_ix])
    return portal.counts["rendered"]


def fill_cache(spec: PortalSpec, cache_dir: Path | str, workers: int = 2) -> int:
    """Render every page and attachment of ``spec`` into the disk cache (in ``workers`` processes).

    Pages already cached are skipped; returns how many were rendered now. A portal serving from
    a filled cache renders nothing while it is measured.
    """
    from concurrent.futures import ProcessPoolExecutor

    items = [(i, j) for i, site in enumerate(spec.sites) for j in range(len(site.reports))]
    chunks = [items[k : k + 200] for k in range(0, len(items), 200)]
    if workers <= 1 or len(chunks) <= 1:
        return sum(_fill_chunk((spec, chunk, str(cache_dir))) for chunk in chunks)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_fill_chunk, [(spec, chunk, str(cache_dir)) for chunk in chunks]))


def parse_scale(text: str) -> tuple[int, tuple[int, ...]]:
    """``1000x5`` → 1000 sources × the 5 report years up to 2024."""
    sources, _, years = text.lower().partition("x")
    n_years = int(years or 5)
    if int(sources) < 1 or not 1 <= n_years <= 6:
        raise argparse.ArgumentTypeError("--scale SOURCESxYEARS with 1-6 years (reports 2019-2024)")
    return int(sources), tuple(range(2025 - n_years, 2025))


def serve_scale(
    sources: int,
    years: tuple[int, ...],
    *,
    seed: int = 0,
    port: int = SCALE_PORT,
    hosts: str | None = None,
    cache_dir: Path | str | None = None,
    registry: Path | str | None = None,
    delay_seconds: float | None = None,
    fill_workers: int = 0,
    wait: Callable[[], None] | None = None,
    out: Any = None,
) -> None:
    """Serve the scale portal until ``wait`` returns (default: until interrupted).

    Writes the sources registry to ``registry`` and then prints one JSON line (``ready``, base
    URL, sites, host mode, seconds to start) to ``out`` (default stdout) once every host listens.
    ``fill_workers`` > 0 fills the disk cache first (see ``fill_cache``).
    """
    start = time.perf_counter()
    mode = hosts or ("addresses" if loopback_aliases_work() else "ports")
    spec = scale_spec(sources, years, seed=seed, port=port, hosts=mode)
    rendered = fill_cache(spec, cache_dir, fill_workers) if cache_dir is not None and fill_workers > 0 else 0
    stream = out or sys.stdout
    with serve_portal(spec, port=0, prerender=False, cache_dir=cache_dir, record_requests=False) as (portal, base):
        if registry is not None:
            import yaml

            doc = scale_registry(portal, delay_seconds=delay_seconds)
            write_atomic(Path(registry), yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8"))
        ready = {
            "ready": True,
            "base_url": base,
            "sites": len(spec.sites),
            "reports": sum(len(s.reports) for s in spec.sites),
            "hosts": mode,
            "rendered_into_cache": rendered,
            "start_seconds": round(time.perf_counter() - start, 3),
            "pid": os.getpid(),
        }
        print(json.dumps(ready), file=stream, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            (wait or until_terminated)()
        print(json.dumps({"stopped": True, **portal.counts}), file=stream, flush=True)


def until_terminated() -> None:
    """Block until SIGTERM or SIGINT (a benchmark stops its portal with SIGTERM and reads the counts)."""
    import signal

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
