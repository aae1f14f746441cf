"""The benchmark's figures against the issue targets, and as a short markdown report."""

from __future__ import annotations

from typing import Any

from xxgk.bench.scale.config import (
    TARGET_BACKFILL_S,
    TARGET_OVERHEAD,
    TARGET_REQUESTS_PER_SOURCE,
    TARGET_RSS_MB,
    nightly_target_s,
)

#: What each kind of portal change must give on each night (``demo.scale.apply_scale_changes``):
#: the action the run takes on the report's document, or None when the report must be gone.
_EXPECTED = {
    "added": {"changes": "extracted", "due": "reused"},
    "relisted": {"changes": "extracted", "due": "reused"},
    "removed": {"changes": None, "due": None},
    "silent": {"changes": "reused", "due": "extracted"},
}


def per_source(run: dict[str, Any]) -> dict[str, float]:
    """Requests and CPU per harvested source of one run."""
    n = max(1, int(run.get("sources") or 0))
    return {
        "requests_per_source": round(float(run.get("requests") or 0) / n, 3),
        "cpu_ms_per_source": round(1000 * float(run.get("cpu_s") or 0) / n, 2),
    }


def correctness(
    expected: dict[str, list[list[Any]]], runs: dict[str, Any], revalidate: str | None = None
) -> dict[str, Any]:
    """Whether the portal's changes were found as specified, night by night (``ok`` overall).

    Added and re-listed reports are extracted on the night they appear on a listing, a removed
    report is gone from that night's documents, and a report page changed with its listing
    unchanged is extracted when it falls due (the ``due`` night; at once under ``--revalidate all``).
    """
    out: dict[str, Any] = {"checks": [], "ok": True}
    for night in ("changes", "due"):
        run = runs.get(night)
        if run is None:
            continue
        seen = run.get("watched") or {}
        for kind, pairs in expected.items():
            want = _EXPECTED.get(kind, {}).get(night)
            if kind == "silent" and revalidate == "all":
                want = "extracted" if night == "changes" else "reused"
            for slug, year in pairs:
                got = (seen.get(slug) or {}).get(str(year))
                ok = got == want
                out["checks"].append(
                    {"night": night, "kind": kind, "source": slug, "year": year, "want": want, "got": got, "ok": ok}
                )
                out["ok"] = out["ok"] and ok
    out["found"] = sum(1 for c in out["checks"] if c["ok"])
    out["total"] = len(out["checks"])
    return out


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets against the figures that were measured."""
    runs = results["runs"]
    out: dict[str, Any] = {}
    if "nightly" in runs:
        night = runs["nightly"]
        target = nightly_target_s(int(night.get("sources") or 0))
        out["nightly_s"] = {"value": night["wall_s"], "target": target, "met": night["wall_s"] <= target}
        rps = per_source(night)["requests_per_source"]
        out["nightly_requests_per_source"] = {
            "value": rps,
            "target": TARGET_REQUESTS_PER_SOURCE,
            "met": rps <= TARGET_REQUESTS_PER_SOURCE,
        }
        out["nightly_peak_rss_mb"] = {
            "value": night["peak_rss_mb"],
            "target": TARGET_RSS_MB,
            "met": night["peak_rss_mb"] <= TARGET_RSS_MB,
        }
        out["nightly_cpu_ms_per_source"] = per_source(night)["cpu_ms_per_source"]
        out["nightly_extracted"] = night.get("by_action", {}).get("extracted", 0)
    if "correctness" in results:
        check = results["correctness"]
        out["changes_found"] = {"value": f"{check['found']}/{check['total']}", "met": bool(check["ok"])}
    if "backfill" in runs:
        out["backfill_s"] = {"value": runs["backfill"]["wall_s"], "target": TARGET_BACKFILL_S}
        out["backfill_s"]["met"] = out["backfill_s"]["value"] <= TARGET_BACKFILL_S
        out["backfill_documents"] = runs["backfill"].get("documents")
    share = overhead(runs)
    if share:
        out["prefect_overhead"] = {**share, "target": TARGET_OVERHEAD}
        out["prefect_overhead"]["met"] = max(share.get("wall", 0), share.get("cpu", 0)) <= TARGET_OVERHEAD
    peaks = {name: r["peak_rss_mb"] for name, r in runs.items()}
    if peaks:
        worst = max(peaks, key=lambda k: peaks[k])
        out["peak_rss_mb"] = {"value": peaks[worst], "run": worst, "target": TARGET_RSS_MB}
        out["peak_rss_mb"]["met"] = peaks[worst] <= TARGET_RSS_MB
    return out


def overhead(runs: dict[str, Any]) -> dict[str, float]:
    """Prefect's share of the backfill: wall and CPU against the plain pool (and CPU against serial)."""
    b = runs.get("backfill")
    if not b:
        return {}
    cpu_b = b["cpu_s"] + b["helpers_cpu_s"].get("prefect-server", 0.0)
    out: dict[str, float] = {"backfill_cpu_with_server_s": round(cpu_b, 2)}
    plain = runs.get("backfill_plain")
    if plain:
        out["wall"] = round((b["wall_s"] - plain["wall_s"]) / b["wall_s"], 4)
        out["cpu"] = round((cpu_b - plain["cpu_s"]) / cpu_b, 4)
    serial = runs.get("backfill_serial")
    if serial:
        out["cpu_vs_serial"] = round((cpu_b - serial["cpu_s"]) / cpu_b, 4)
    return out


def to_markdown(results: dict[str, Any]) -> str:
    """The figures as a short report (``scale.md``)."""
    c, m, p = results["config"], results["machine"], results["portal"]
    lines = [
        "# xxgk scale benchmark",
        "",
        f"{c['sources']} sources × {c['years']} years (backfill over {c['backfill_sources']} sources), seed "
        f"{c['seed']}; forms {p['forms']}; one {p['hosts'][:-2] if p['hosts'].endswith('es') else p['hosts']} per "
        f"source; politeness delay {c['delay']} s per source; {c['workers']} workers, batch {c['batch_size']}; "
        f"{m['cpus']} CPUs, {m['memory_gb']} GB, load {m['load_at_start']} → {m['load_at_end']}.",
        "",
        "| run | wall s | CPU s (tree) | server CPU s | portal CPU s | peak RSS MB (tree) | largest process MB | "
        "documents | actions | requests / 304 / not due | requests per source | CPU ms per source | phases s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["runs"].items():
        helpers = r.get("helpers_cpu_s", {})
        phases = ", ".join(f"{k[:-2]} {v}" for k, v in r.get("phases", {}).items())
        each = per_source(r) if r.get("sources") else {}
        lines.append(
            f"| {name} | {r['wall_s']} | {r['cpu_s']} | {helpers.get('prefect-server', '—')} | "
            f"{helpers.get('portal', '—')} | {r['peak_rss_mb']} | {r['max_process_rss_mb']} | {r.get('documents')} | "
            f"{r.get('by_action')} | {r.get('requests', '—')} / {r.get('not_modified', '—')} / "
            f"{r.get('not_due', '—')} | {each.get('requests_per_source', '—')} | "
            f"{each.get('cpu_ms_per_source', '—')} | {phases} |"
        )
    lines += ["", "Peak RSS of the tree (MB) up to each point of the run:", ""]
    for name, r in results["runs"].items():
        marks = ", ".join(f"{k} {v}" for k, v in r.get("peak_rss_by_mark_mb", {}).items())
        lines.append(f"- {name}: {marks or '—'}; end {r['peak_rss_mb']}")
    staleness = next((r["staleness"] for r in results["runs"].values() if r.get("staleness")), "")
    if staleness:
        lines += ["", f"Staleness bound (revisit policy defaults): {staleness}."]
    check = results.get("correctness")
    if check:
        lines += ["", f"Portal changes found as specified: {check['found']}/{check['total']}:", ""]
        for c in check["checks"]:
            mark = "ok" if c["ok"] else "MISSED"
            lines.append(
                f"- {c['night']}: {c['kind']} {c['source']} {c['year']}: want {c['want']}, got {c['got']} ({mark})"
            )
    lines += ["", "Targets:", ""]
    for key, v in results.get("verdict", {}).items():
        lines.append(f"- {key}: {v}")
    lines.append("")
    return "\n".join(lines)
