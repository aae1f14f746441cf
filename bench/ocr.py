"""What reading scanned reports costs and how exact it is: the OCR path on synthetic scans.

Generated reports (tables split over pages) are printed, rasterised and degraded at each level
of ``synth.scan.LEVELS`` (skew, blur, noise, uneven light, JPEG quality, 150-200 dpi), then
delivered in two forms: an image-only PDF (``pdf-ocr``) and a report page whose tables are
``<img>`` elements, packed as the harvester packs it (``html-ocr``). Each document is read end to
end by ``extract_document`` in one fresh worker process (the engine's first build is timed
apart), and every printed cell is scored against the generator's expectation:

- exact: the fact's printed text, value and status are the expected ones;
- ambiguous: the fact is ``ambiguous`` (not read with certainty: its readings are in the note);
- wrong: anything else (a different reading, or the cell missing). The target is 0.

Figures: cells exact / ambiguous / wrong per document and per level, seconds per document
(median, p90), pages recognised per document, seconds per recognised page, the worker's peak
RSS (and after each document: ``rss_after_mb``), and the text-layer PDF of the same reports in
the same worker (what OCR must not slow down). ``--corpus hongze_2024,...`` adds real reports of
``../shared/corpus`` rasterised at 200 dpi with the ``medium`` degradation, scored against their
expected rows.
``python -m xxgk.bench.ocr --help``; ``xxgk bench --ocr-docs N`` adds it to the main benchmark.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import resource
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from xxgk.schemas.values import AMBIGUOUS

FORMS = ("pdf-ocr", "html-ocr")
LEVELS = ("light", "medium", "heavy")
#: Issue 10's targets: exact share over the set, wrong cells, median seconds per report, peak RSS.
TARGET_EXACT = 0.99
TARGET_MEDIAN_S = 20.0
TARGET_PEAK_RSS_MB = 1536.0
_PAGES_READ = re.compile(r"read by OCR: (\d+)(?: of \d+)? page")


def cell_outcomes(expected: list[dict[str, Any]], result: Any) -> dict[str, list[str]]:
    """Every expected cell as exact, ambiguous or wrong (missing counts as wrong), named."""
    got = {(f.table, f.row_key, f.column_key): f for f in result.facts}
    out: dict[str, list[str]] = {"exact": [], "ambiguous": [], "wrong": []}
    for e in expected:
        key = (e["table"], e["row_key"], e["column_key"])
        f = got.get(key)
        name = ".".join(map(str, key))
        if f is not None and f.value_status == AMBIGUOUS:
            out["ambiguous"].append(f"{name}: printed {e['raw_text']!r}, {f.note}")
        elif f is not None and f.raw_text == e["raw_text"] and f.value == e["value"] and f.value_status == e["status"]:
            out["exact"].append(name)
        else:
            shown = "missing" if f is None else f"{f.raw_text!r} ({f.value_status})"
            out["wrong"].append(f"{name}: printed {e['raw_text']!r}, read {shown}")
    return out


def pages_recognised(result: Any) -> int | None:
    """Pages the OCR path read, from its warning (None when it did not say)."""
    for w in result.warnings:
        m = _PAGES_READ.search(w)
        if m:
            return int(m.group(1))
    return None


def _documents(n_reports: int, seed: int, levels: tuple[str, ...], forms: tuple[str, ...]) -> list[dict[str, Any]]:
    from xxgk.extractors.ocr.bundle import TableImagePage, pack
    from xxgk.synth.generate import generate_report
    from xxgk.synth.pdf import render_pdf
    from xxgk.synth.scan import scanned_report_pdf, table_image_page

    docs: list[dict[str, Any]] = []
    for i in range(n_reports):
        version = ("v2019", "v2021")[i % 2]
        report = generate_report(seed + i, versions=version, defects=())
        expected = report.expected_facts()
        docs.append({"name": f"r{i}", "form": "pdf", "level": "-", "data": render_pdf(report), "expected": expected})
        for level in levels:
            if "pdf-ocr" in forms:
                data = scanned_report_pdf(report, level, seed=seed + i)
                docs.append({"name": f"r{i}", "form": "pdf-ocr", "level": level, "data": data, "expected": expected})
            if "html-ocr" in forms:
                page, images = table_image_page(report, level, seed=seed + i)
                urls = tuple((f"http://bench/r{i}/{name}", body) for name, body in images)
                data = pack(TableImagePage(f"http://bench/r{i}.html", page, "utf-8", urls))
                docs.append({"name": f"r{i}", "form": "html-ocr", "level": level, "data": data, "expected": expected})
    return docs


def _corpus_documents(names: tuple[str, ...], seed: int) -> list[dict[str, Any]]:
    """Real reports of ``../shared/corpus`` rasterised at 200 dpi with the ``medium`` skew, blur,
    noise and JPEG quality; their expected rows (``bench.corpus``) are the expectation."""
    import random

    from xxgk.bench.corpus import DEFAULT_CORPUS, expected_rows
    from xxgk.synth.scan import degrade, encode, images_to_pdf, rasterise, with_dpi

    level = with_dpi("medium", 200)
    out = []
    for name in names:
        path = DEFAULT_CORPUS / f"{name}.pdf"
        if not path.exists():
            continue
        rng = random.Random(seed)
        pages = [
            encode(degrade(p, level, rng), "jpeg", level.jpeg_quality, 200) for p in rasterise(path.read_bytes(), 200)
        ]
        rows = expected_rows(name)
        out.append(
            {"name": name, "form": "corpus-scan", "level": "medium@200", "data": images_to_pdf(pages), "rows": rows}
        )
    return out


def _corpus_outcomes(rows: list[dict[str, str]], result: Any) -> dict[str, list[str]]:
    """The expected rows of a real report as exact, ambiguous or wrong (``bench.corpus.cell_difference``)."""
    from xxgk.bench.corpus import cell_difference

    got = {(f.table, f.row_key, f.column_key): f for f in result.facts}
    out: dict[str, list[str]] = {"exact": [], "ambiguous": [], "wrong": []}
    for r in rows:
        f = got.get((r["table"], r["row_key"], r["column_key"]))
        diff = cell_difference(r, f)
        name = ".".join((r["table"], r["row_key"], r["column_key"]))
        if diff is None:
            out["exact"].append(name)
        elif f is not None and f.value_status == AMBIGUOUS:
            out["ambiguous"].append(f"{name}: printed {r['raw_text']!r}, {f.note}")
        else:
            out["wrong"].append(diff)
    return out


def _worker(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every document read once in this (fresh) process; the engine is built first, timed apart."""
    from xxgk.extractors import extract_document
    from xxgk.extractors.ocr.engine import get_engine

    start = time.perf_counter()
    get_engine()
    engine_s = time.perf_counter() - start
    rows = []
    for d in docs:
        start = time.perf_counter()
        result = extract_document(d["data"], f"{d['name']}.{d['form']}")
        seconds = time.perf_counter() - start
        cells = _corpus_outcomes(d["rows"], result) if "rows" in d else cell_outcomes(d["expected"], result)
        rows.append(
            {
                "name": d["name"],
                "form": d["form"],
                "level": d["level"],
                "format": result.format,
                "status": result.status,
                "seconds": round(seconds, 3),
                "pages": pages_recognised(result),
                "kb": round(len(d["data"]) / 1024, 1),
                "cells": len(d["rows"] if "rows" in d else d["expected"]),
                "exact": len(cells["exact"]),
                "ambiguous": len(cells["ambiguous"]),
                "wrong": len(cells["wrong"]),
                "ambiguous_cells": cells["ambiguous"],
                "wrong_cells": cells["wrong"],
                "rss_after_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"engine_build_s": round(engine_s, 2), "rows": rows, "peak_rss_mb": round(rss_mb, 1)}


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [r["seconds"] for r in rows]
    pages = [r["pages"] for r in rows if r["pages"]]
    cells = sum(r["cells"] for r in rows)
    return {
        "documents": len(rows),
        "statuses": dict(Counter(r["status"] for r in rows)),
        "cells": cells,
        "exact": sum(r["exact"] for r in rows),
        "ambiguous": sum(r["ambiguous"] for r in rows),
        "wrong": sum(r["wrong"] for r in rows),
        "wrong_with_status_ok": sum(r["wrong"] for r in rows if r["status"] == "ok"),
        "exact_share": round(sum(r["exact"] for r in rows) / cells, 4) if cells else None,
        "median_s": round(statistics.median(seconds), 2),
        "p90_s": round(_p90(seconds), 2),
        "pages_median": statistics.median(pages) if pages else None,
        "seconds_per_page": round(sum(seconds) / sum(pages), 2) if pages else None,
    }


def measure(
    n_reports: int,
    seed: int = 0,
    levels: tuple[str, ...] = LEVELS,
    forms: tuple[str, ...] = FORMS,
    corpus: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The scanned set's figures (see the module docstring)."""
    try:
        from xxgk.extractors.ocr.engine import bundled_models

        bundled_models()
    except (ImportError, RuntimeError) as exc:  # OcrUnavailable
        return {"available": False, "reason": str(exc)}
    start = time.perf_counter()
    docs = _documents(n_reports, seed, levels, forms) + _corpus_documents(corpus, seed)
    rendered = time.perf_counter() - start
    with ProcessPoolExecutor(max_workers=1) as pool:
        worker = pool.submit(_worker, docs).result()
    rows = worker["rows"]
    scanned = [r for r in rows if r["form"] in FORMS]
    real = [r for r in rows if r["form"] == "corpus-scan"]
    overall = _summary(scanned)
    return {
        "available": True,
        "n_reports": n_reports,
        "seed": seed,
        "levels": list(levels),
        "forms": list(forms),
        "render_s": round(rendered, 1),
        "engine_build_s": worker["engine_build_s"],
        "peak_rss_mb": worker["peak_rss_mb"],
        "text_layer_pdf": _summary([r for r in rows if r["form"] == "pdf"]),
        "scanned": overall,
        "by_level": {lv: _summary([r for r in scanned if r["level"] == lv]) for lv in levels},
        "by_form": {f: _summary([r for r in scanned if r["form"] == f]) for f in forms},
        "corpus": _summary(real) if real else None,
        "documents": rows,
        "targets": {
            "exact_share": TARGET_EXACT,
            "exact_met": overall["exact_share"] is not None and overall["exact_share"] >= TARGET_EXACT,
            "wrong_with_status_ok_met": overall["wrong_with_status_ok"] == 0,
            "median_s": TARGET_MEDIAN_S,
            "median_met": overall["median_s"] <= TARGET_MEDIAN_S,
            "peak_rss_mb": TARGET_PEAK_RSS_MB,
            "peak_rss_met": worker["peak_rss_mb"] <= TARGET_PEAK_RSS_MB,
        },
    }


def to_markdown(result: dict[str, Any]) -> list[str]:
    """The scanned-reports section of ``bench.md``."""
    lines = ["", "## Scanned reports (OCR)", ""]
    if not result.get("available"):
        return [*lines, f"Not measured: {result.get('reason', 'OCR unavailable')}.", ""]
    lines += [
        f"{result['n_reports']} generated reports × levels {', '.join(result['levels'])} × forms "
        f"{', '.join(result['forms'])}; one worker process, engine built in {result['engine_build_s']} s; "
        f"peak RSS {result['peak_rss_mb']} MB.",
        "",
        "| set | docs | statuses | cells | exact | ambiguous | wrong | exact % | median s | p90 s | pages (median) | s per page |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    sets = [("all scanned", result["scanned"])]
    sets += [(f"level {k}", v) for k, v in result["by_level"].items()]
    sets += [(f"form {k}", v) for k, v in result["by_form"].items()]
    if result.get("corpus"):
        sets += [("real reports rasterised (200 dpi, medium)", result["corpus"])]
    sets += [("text-layer PDF (same run)", result["text_layer_pdf"])]
    for name, s in sets:
        share = "" if s["exact_share"] is None else f"{100 * s['exact_share']:.2f}"
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(s["statuses"].items()))
        lines.append(
            f"| {name} | {s['documents']} | {statuses} | {s['cells']} | {s['exact']} | {s['ambiguous']} | {s['wrong']} | "
            f"{share} | {s['median_s']} | {s['p90_s']} | {s['pages_median'] or ''} | {s['seconds_per_page'] or ''} |"
        )
    t = result["targets"]
    lines += [
        "",
        f"Targets: exact ≥ {100 * t['exact_share']:.0f}%: **{'met' if t['exact_met'] else 'NOT met'}**; "
        f"0 wrong cells with status ok: **{'met' if t['wrong_with_status_ok_met'] else 'NOT met'}**; "
        f"median ≤ {t['median_s']:g} s: **{'met' if t['median_met'] else 'NOT met'}**; "
        f"peak RSS ≤ {t['peak_rss_mb']:g} MB: **{'met' if t['peak_rss_met'] else 'NOT met'}**.",
        "",
    ]
    ambiguous = [c for r in result["documents"] for c in r["ambiguous_cells"]]
    wrong = [
        f"{r['name']} {r['form']} {r['level']} ({r['status']}): {c}"
        for r in result["documents"]
        for c in r["wrong_cells"]
    ]
    if wrong:
        lines += ["Wrong cells:", "", *[f"- {w}" for w in wrong[:30]], ""]
    if ambiguous:
        lines += [f"Ambiguous cells ({len(ambiguous)}; first 20):", "", *[f"- {a}" for a in ambiguous[:20]], ""]
    return lines


def _cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xxgk.bench.ocr", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out", type=Path, default=Path("data/bench/ocr.json"), help=".json file (a .md is written beside it)"
    )
    parser.add_argument(
        "--docs", type=int, default=3, help="generated reports (each scanned at every level, in every form)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--levels", default=",".join(LEVELS), help=f"comma list of {', '.join(LEVELS)} (and clean)")
    parser.add_argument("--forms", default=",".join(FORMS), help=f"comma list of {', '.join(FORMS)}")
    parser.add_argument(
        "--corpus", default="", help="comma list of ../shared/corpus PDFs (e.g. hongze_2024) rasterised and read too"
    )
    args = parser.parse_args(argv)
    levels = tuple(x.strip() for x in args.levels.split(",") if x.strip())
    forms = tuple(x.strip() for x in args.forms.split(",") if x.strip())
    corpus = tuple(x.strip() for x in args.corpus.split(",") if x.strip())
    result = measure(args.docs, args.seed, levels, forms, corpus)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    markdown = "\n".join(to_markdown(result))
    args.out.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"written: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())


__all__ = ["FORMS", "LEVELS", "cell_outcomes", "measure", "pages_recognised", "to_markdown"]
