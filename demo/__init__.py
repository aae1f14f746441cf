"""A fake government portal on 127.0.0.1 for the tests, the demo run and the scale benchmark.

Scaffolding, not product: ``xxgk run`` without sources harvests it (the embedded sample set plus
demo sites with injected faults), tests run the harvester against it, ``bench.scale`` serves
thousands of sites from it. Nothing here reaches the network.

- ``demo.spec``: what is served, as data (``PortalSpec``, ``PortalSite``, ``PortalReport``, ``Fault``);
- ``demo.sites``: the demo sites, their faults and the redesigned listing (``demo_spec``);
- ``demo.sample``: the sample set as sites (``demo_run_spec``: what ``xxgk run`` serves);
- ``demo.pages``: URLs and bytes of report pages and attachments (from ``synth``);
- ``demo.portal``: the served site (``Portal``: routing, faults, revisions, request log);
- ``demo.server``: HTTP on loopback (``serve_portal``, ``portal_sources``);
- ``demo.scale``: the scale benchmark's portal (``scale_spec``, ``fill_cache``, ``serve_scale``);
- ``demo.cli``: ``python -m xxgk.demo`` (``main``).
"""

from xxgk.demo.cli import main
from xxgk.demo.pages import attachment_path, attachment_paths, render_attachment, render_report_page, report_path
from xxgk.demo.portal import Portal
from xxgk.demo.sample import (
    SAMPLE_DIR,
    SAMPLE_MANIFEST,
    SampleDocument,
    add_sample_set,
    demo_run_spec,
    sample_sources,
)
from xxgk.demo.scale import fill_cache, loopback_aliases_work, scale_registry, scale_spec, serve_scale
from xxgk.demo.server import portal_sources, serve_portal
from xxgk.demo.sites import demo_spec, office_site
from xxgk.demo.spec import DEMO_PORT, OTHER_HOST, ExtraLink, Fault, PortalReport, PortalSite, PortalSpec

__all__ = [
    "DEMO_PORT",
    "OTHER_HOST",
    "SAMPLE_DIR",
    "SAMPLE_MANIFEST",
    "ExtraLink",
    "Fault",
    "Portal",
    "PortalReport",
    "PortalSite",
    "PortalSpec",
    "SampleDocument",
    "add_sample_set",
    "attachment_path",
    "attachment_paths",
    "demo_run_spec",
    "demo_spec",
    "fill_cache",
    "loopback_aliases_work",
    "main",
    "office_site",
    "portal_sources",
    "render_attachment",
    "render_report_page",
    "report_path",
    "sample_sources",
    "scale_registry",
    "scale_spec",
    "serve_portal",
    "serve_scale",
]
