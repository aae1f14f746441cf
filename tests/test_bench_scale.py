"""The scale benchmark on a tiny configuration, and the pieces it relies on (no timing assertions).

The benchmark itself (``bench.scale``): the scale portal in its own process, runs in child
processes, the second run of an unchanged portal extracts nothing, a backfill re-extracts
everything from the raw archive. Its pieces: the scale portal (deterministic, the form mix,
one host per source, a disk cache that serves identical bytes after a restart) and the
harvester's memory of what it read from unchanged pages.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from xxgk.bench.scale import STEPS, ScaleConfig, TreeSampler, _same_portal, main, to_markdown
from xxgk.demo import (
    Portal,
    attachment_path,
    loopback_aliases_work,
    render_attachment,
    report_path,
    scale_registry,
    scale_spec,
    serve_portal,
)
from xxgk.harvest.archive import RawArchive
from xxgk.harvest.discovery import GenericAdapter
from xxgk.harvest.fetch import FetchConfig, Fetcher
from xxgk.harvest.harvester import HARVEST_OK, harvest_sources
from xxgk.harvest.registry import source_from_dict


def _config(tmp_path: Path, **overrides: Any) -> ScaleConfig:
    base: dict[str, Any] = {
        "sources": 5,
        "years": 2,
        "backfill_sources": 5,
        "delay": 0.0,
        "workers": 2,
        "batch_size": 4,
        "portal_port": 0,
        "work_dir": tmp_path / "work",
        "out": tmp_path / "out",
        "steps": ("first", "nightly", "backfill_serial", "backfill_plain"),
        "prefect": "none",
        "sample_interval": 0.05,
    }
    base.update(overrides)
    return ScaleConfig(**base)


def test_tiny_benchmark_without_prefect(tmp_path: Path) -> None:
    """5 sources × 2 years: first run extracts all, the nightly run nothing, the backfill all again."""
    results = main(_config(tmp_path))
    runs = results["runs"]
    assert list(runs) == ["first", "nightly", "backfill_serial", "backfill_plain"]

    first = runs["first"]
    assert first["documents"] == 10 and first["by_action"] == {"extracted": 10}
    assert first["by_status"] == {"ok": 10}
    assert first["source_status"] == {"ok": 5}
    assert first["not_modified"] == 0 and first["requests"] > 10

    nightly = runs["nightly"]
    assert nightly["documents"] == 10
    assert nightly["by_action"] == {"reused": 10}  # nothing extracted
    assert nightly["changed_reports"] == 0
    # only the listing pages are asked (conditionally: 304); robots.txt is remembered, the known
    # report pages and attachments are not due (revisit policy)
    assert nightly["requests"] == nightly["not_modified"] == 5
    assert nightly["not_due"] >= 10 and "30 days" in nightly["staleness"]
    assert nightly["files_written"] == 0

    for name in ("backfill_serial", "backfill_plain"):
        assert runs[name]["documents"] == 10
        assert runs[name]["by_action"] == {"extracted": 10}, name
        assert runs[name]["by_status"] == {"ok": 10}, name

    for run in runs.values():  # measured, whatever the values
        assert run["wall_s"] > 0 and run["cpu_s"] > 0 and run["peak_rss_mb"] > 0
        assert run["internal_errors"] == 0 if "internal_errors" in run else True
    assert results["verdict"]["peak_rss_mb"]["value"] > 0
    assert results["portal"]["forms"] and results["portal"]["served"]["requests"] > 0

    written = json.loads((tmp_path / "out" / "scale.json").read_text(encoding="utf-8"))
    assert written["runs"]["nightly"]["by_action"] == {"reused": 10}
    assert "| nightly |" in (tmp_path / "out" / "scale.md").read_text(encoding="utf-8")
    assert "| backfill_plain |" in to_markdown(results)


def test_changes_between_nights_are_found_as_specified(tmp_path: Path) -> None:
    """The benchmark's correctness check at small scale: 8 sources, one site per kind of change.

    On the night the portal changes, the added and the re-listed report are extracted and the
    removed one is gone, while the report changed with its listing entry unchanged is not asked
    about yet (not due); a night as late as the longest revisit interval extracts it. The harvest
    runs in two worker processes, as a night over thousands of sources does.
    """
    config = _config(
        tmp_path,
        sources=8,
        backfill_sources=8,
        steps=("first", "nightly", "changes", "due"),
        changes=1,
        harvest_processes=2,  # as a large night harvests: in worker processes (the clock moved there too)
    )
    results = main(config)
    check = results["correctness"]
    assert check["total"] == 8 and check["ok"], [c for c in check["checks"] if not c["ok"]]
    assert results["verdict"]["changes_found"] == {"value": "8/8", "met": True}
    expected = results["changes"]
    assert sorted(expected) == ["added", "relisted", "removed", "silent"]
    assert len({slug for pairs in expected.values() for slug, _ in pairs}) == 4  # four different sites
    runs = results["runs"]
    assert runs["changes"]["harvest_processes"] == runs["due"]["harvest_processes"] == 2
    assert runs["changes"]["by_action"].get("extracted") == 2  # the added and the re-listed report
    assert runs["due"]["by_action"].get("extracted") == 1  # the silent change, once due
    assert runs["due"]["requests"] > runs["changes"]["requests"]  # the whole schedule fell due
    assert "Portal changes found as specified: 8/8" in to_markdown(results)


def test_a_relisted_report_whose_page_is_a_notice_is_found(tmp_path: Path) -> None:
    """Regression (issue 15, 10,000 × 1 year): a re-listed report published as a notice page linking a
    PDF kept its old values: the page was asked (new listing date) and unchanged, and its attachment,
    where the new revision is, was not due. Attachments of a re-listed report are asked too."""
    config = _config(
        tmp_path, sources=8, backfill_sources=8, years=1, mix=(0.0, 1.0, 0.0), steps=("first", "changes"), changes=1
    )
    results = main(config)
    (slug, year), = results["changes"]["relisted"]
    assert results["runs"]["changes"]["watched"][slug][str(year)] == "extracted"


@pytest.mark.slow
def test_tiny_benchmark_under_prefect(tmp_path: Path) -> None:
    """The same runs as flows, each with its temporary Prefect API; more sources for the backfill."""
    config = _config(tmp_path, steps=("first", "nightly", "grow", "backfill"), prefect="ephemeral", backfill_sources=8)
    runs = main(config)["runs"]
    first, nightly, grow, backfill = runs["first"], runs["nightly"], runs["grow"], runs["backfill"]
    assert first["by_action"] == {"extracted": 10} and first["runner"].startswith("prefect/")
    assert nightly["by_action"] == {"reused": 10} and nightly["runner"].startswith("prefect/")
    assert nightly["api_start_s"] > 0
    assert grow["documents"] == 16 and grow["by_action"] == {"reused": 10, "extracted": 6}
    assert backfill["by_action"] == {"extracted": 16} and backfill["by_status"] == {"ok": 16}


def test_steps_are_known() -> None:
    assert set(_config(Path("/nonexistent")).steps) <= set(STEPS)


# -- the scale portal ---------------------------------------------------------------------------


def test_scale_spec_is_deterministic_with_the_form_mix() -> None:
    a, b = scale_spec(40, (2023, 2024), seed=3, port=0), scale_spec(40, (2023, 2024), seed=3, port=0)
    assert [(s.slug, s.publisher, s.layout, [(r.seed, r.form, r.encoding) for r in s.reports]) for s in a.sites] == [
        (s.slug, s.publisher, s.layout, [(r.seed, r.form, r.encoding) for r in s.reports]) for s in b.sites
    ]
    forms = Counter("html" if r.form.startswith("html") else r.form for s in a.sites for r in s.reports)
    assert forms == {"html": 48, "pdf": 24, "text": 8}  # 60/30/10 of 80 reports, exactly
    assert len({s.publisher for s in a.sites}) == 40
    assert len({s.address for s in a.sites}) == 40  # one host per source
    assert scale_spec(40, (2023, 2024), seed=4, port=0).sites[0].publisher != a.sites[0].publisher or [
        r.form for r in a.sites[0].reports
    ] != [r.form for r in scale_spec(40, (2023, 2024), seed=4, port=0).sites[0].reports]


def test_scale_portal_serves_each_source_on_its_own_host_from_a_stable_cache(tmp_path: Path) -> None:
    hosts = "addresses" if loopback_aliases_work() else "ports"
    spec = scale_spec(6, (2024,), seed=1, port=0, hosts=hosts)
    site = next(s for s in spec.sites if s.reports[0].form in ("pdf", "text"))
    rep = site.reports[0]
    with serve_portal(spec, prerender=False, cache_dir=tmp_path / "cache") as (portal, _base):
        registry = scale_registry(portal, delay_seconds=0.05)
        netlocs = [entry["allowed_hosts"][0] for entry in registry["sources"]]
        assert len(set(netlocs)) == 6
        assert all(entry["delay_seconds"] == 0.05 for entry in registry["sources"])
        first = portal.route(attachment_path(site, rep))
        assert portal.counts["rendered"] == 1
    assert first is not None and first[1] == render_attachment(site, rep)
    # a new portal over the same cache: the same bytes, nothing rendered
    again = Portal(scale_spec(6, (2024,), seed=1, port=0, hosts=hosts), cache_dir=tmp_path / "cache")
    site_again = again.spec.site(site.slug)
    assert again.route(attachment_path(site_again, site_again.reports[0])) == first
    assert again.counts == {**again.counts, "rendered": 0, "cache_hits": 1}
    assert again.route(report_path(site_again, site_again.reports[0])) is not None
    assert again.counts["rendered"] == 1


# -- what the harvester remembers of unchanged pages ------------------------------------------


class _CountingAdapter(GenericAdapter):
    def __init__(self) -> None:
        self.calls = 0

    def parse_listing(self, html: str, url: str, source: Any = None) -> Any:
        self.calls += 1
        return super().parse_listing(html, url, source)

    def parse_report_page(self, html: str, url: str, source: Any = None) -> Any:
        self.calls += 1
        return super().parse_report_page(html, url, source)


def test_unchanged_pages_are_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xxgk.harvest import adapters

    counting = _CountingAdapter()
    monkeypatch.setitem(adapters.ADAPTERS, "generic", counting)
    spec = scale_spec(3, (2023, 2024), seed=2, port=0, hosts="ports")
    for site in spec.sites:
        site.layout = "generic"
    archive = RawArchive(tmp_path / "archive")
    with serve_portal(spec, prerender=False) as (portal, _base):
        sources = [source_from_dict(e) for e in scale_registry(portal)["sources"]]

        def harvest(revalidate: str = "due") -> list[Any]:
            with Fetcher(FetchConfig.for_tests()) as fetcher:
                return harvest_sources(sources, archive, fetcher, max_workers=3, revalidate=revalidate)

        first = harvest()
        parsed_first = counting.calls
        second = harvest()
        assert counting.calls == parsed_first  # listings answered 304, known pages not due: nothing parsed
        changed = next(s for s in spec.sites if s.reports[-1].form == "html")  # new tables in the page
        portal.change_report(changed.slug, 2024)
        # the report pages are not due yet under the revisit policy: ask about every one
        third = harvest("all")
    assert parsed_first >= 3 + 6  # listings and report pages
    assert counting.calls == parsed_first + 1  # only the changed report page was parsed
    for run in (first, second, third):
        assert [h.status for h in run] == [HARVEST_OK] * 3

    def links(run: list[Any]) -> list[Any]:
        return [sorted((r.url, r.year, r.has_tables, [a.url for a in r.attachments]) for r in h.reports) for h in run]

    assert links(first) == links(second) == links(third)
    assert sum(len(h.changed_reports) for h in third) == 1


def test_tree_sampler_measures_this_process() -> None:
    import os

    with TreeSampler(os.getpid(), interval=0.01) as sampler:
        sum(i * i for i in range(200_000))
    figures = sampler.figures()
    assert figures["peak_rss_mb"] > 0 and figures["peak_processes"] >= 1


def test_keep_serves_the_portal_the_data_was_harvested_from(tmp_path: Path) -> None:
    """Regression: ``--keep --steps nightly`` served a 1,000-site portal to data harvested from 2,000 sites.

    A generated portal of N sites is not a prefix of a larger one, so every report looked changed.
    """
    record = tmp_path / "portal.json"
    full = _same_portal(ScaleConfig(sources=10, backfill_sources=20, steps=("first", "backfill")), record)
    assert full.portal_sources == 20
    kept = _same_portal(ScaleConfig(sources=10, backfill_sources=20, steps=("nightly",), fresh=False), record)
    assert kept.portal_sources == 20
    fresh = _same_portal(ScaleConfig(sources=10, backfill_sources=20, steps=("nightly",)), record)
    assert fresh.portal_sources == 10  # a fresh data directory: the steps decide
    other_seed = ScaleConfig(sources=10, backfill_sources=20, steps=("nightly",), fresh=False, seed=1)
    assert _same_portal(other_seed, record).portal_sources == 10
    assert json.loads(record.read_text(encoding="utf-8"))["sources"] == 10
