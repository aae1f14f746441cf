"""``python -m xxgk.demo``: serve the demo portal (or the scale portal) by hand until interrupted.

``python -m xxgk.demo --port 8765`` prints the listings of the sample set's sites and the demo
sites; ``python -m xxgk.demo --scale 1000x5 --port 28765 --cache data/bench/portal-cache`` serves
the scale benchmark's portal and writes its registry.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from xxgk.demo.sample import demo_run_spec
from xxgk.demo.scale import SCALE_PORT, parse_scale, serve_scale
from xxgk.demo.server import serve_portal
from xxgk.demo.spec import DEMO_PORT


def main(argv: list[str] | None = None, *, wait: Callable[[], None] | None = None) -> None:
    """``python -m xxgk.demo --port 8765``: serve the demo portal (or ``--scale``) until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m xxgk.demo", description="Serve the fake government portal on loopback."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help=f"default {DEMO_PORT} ({SCALE_PORT} with --scale)")
    parser.add_argument("--no-faults", action="store_true", help="serve without injected faults")
    scale = parser.add_argument_group("scale portal (bench.scale)")
    scale.add_argument("--scale", type=parse_scale, metavar="SOURCESxYEARS", help="e.g. 1000x5")
    scale.add_argument("--seed", type=int, default=0)
    scale.add_argument("--hosts", choices=("addresses", "ports"), help="one loopback address or one port per site")
    scale.add_argument("--cache", type=Path, help="disk cache of rendered pages (stable bytes across restarts)")
    scale.add_argument("--fill-cache", type=int, default=0, metavar="WORKERS", help="render everything first")
    scale.add_argument("--registry", type=Path, help="write a sources registry for the sites here")
    scale.add_argument("--delay", type=float, help="delay_seconds written into the registry entries")
    args = parser.parse_args(argv)
    if args.scale is not None:
        n_sources, years = args.scale
        serve_scale(
            n_sources,
            years,
            seed=args.seed,
            port=SCALE_PORT if args.port is None else args.port,
            hosts=args.hosts,
            cache_dir=args.cache,
            registry=args.registry,
            delay_seconds=args.delay,
            fill_workers=args.fill_cache,
            wait=wait,
        )
        return
    spec, _samples = demo_run_spec(faults=not args.no_faults)
    with serve_portal(spec, args.host, DEMO_PORT if args.port is None else args.port) as (portal, base):
        print(f"portal at {base}/ (other host {portal.other_base_url}); listings:")
        for site in spec.sites:
            print(f"  {base}{site.listing_path}  [{site.layout}] {site.publisher}")
        with contextlib.suppress(KeyboardInterrupt):
            (wait or (lambda: threading.Event().wait()))()
