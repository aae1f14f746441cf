"""Benchmark: extraction time per document, throughput on all cores and peak memory.

A corpus is generated (``synth.generate``) and rendered in every format that has a renderer
(PDF, HTML, text, DOCX, XLSX). Then, in fresh worker processes (so rendering does not count
towards memory):

- serial: each document once through ``extractors.extract_document`` (end to end: detect,
  extract, map, check), timed one by one; medians per format;
- baseline: the same PDFs through naive pdfplumber ``extract_tables()`` on every page, in the
  same worker, so the ratio compares like with like;
- parallel: all documents over a process pool of ``workers`` (docs per minute, all cores);
- peak RSS of the serial worker (after our extraction, before the baseline) and of the pool;
- DOC and WPS through LibreOffice, apart (``bench.office``: seconds per document, one soffice
  call per document vs one per batch), when soffice is installed;
- scanned reports through OCR, apart (``bench.ocr``: cells exact / ambiguous / wrong per
  degradation level, seconds per report and per page, peak RSS), when ``ocr_docs`` > 0.

Workers import everything, then ``gc.freeze()`` (DESIGN.md: ~30% of pdfplumber time is GC).
Results go to ``bench.json`` and ``bench.md``; ``python -m bench.run --help`` for options.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import importlib.util
import io
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Layout variants the PDF corpus cycles through (all realistic; see ``synth.pdf.render_pdf``).
PDF_VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {"cell_backgrounds": True},
    {"split_style": "closed", "rule_style": "thin_rects"},
    {"vertical_labels": False, "split_requests": False},
    {"rule_style": "rects", "split_style": "closed"},
)
TEXT_FORMS = ("cells", "layout", "markdown")
TARGET_PDF_MEDIAN_MS = 150.0
TARGET_OFFICE_MEDIAN_MS = 50.0  # DOCX and XLSX
#: Layout variants the DOCX and XLSX corpora cycle through (``synth.docx`` / ``synth.xlsx``).
DOCX_VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {"word_markup": True},
    {"split_requests": True, "nested_layout": True},
    {"word_markup": True, "title_box": True, "split_requests": True},
)
XLSX_VARIANTS: tuple[dict[str, Any], ...] = ({}, {"split_requests": True}, {"sheet_per_table": True, "hidden_sheet": True})
#: Reports rendered as DOC and as WPS for the LibreOffice measurement (each costs ~1 s or more).
OFFICE_DOCS = 8
#: Reports scanned (every level, both forms) for the OCR measurement by the command (~10-25 s each).
OCR_DOCS = 2
TARGET_RATIO = 0.6


@dataclass(frozen=True)
class Doc:
    """One rendered document of the benchmark corpus."""

    name: str
    format: str
    data: bytes
    expected: tuple[tuple[str, str, str, str], ...]


def _available_formats() -> list[str]:
    """PDF, plus every other format whose renderer exists."""
    formats = ["pdf"]
    for fmt in ("html", "text", "docx", "xlsx"):
        if importlib.util.find_spec(f"xxgk.synth.{fmt}") is not None:
            formats.append(fmt)
    return formats


def build_corpus(n_docs: int, seed: int = 0, formats: list[str] | None = None) -> list[Doc]:
    """``n_docs`` generated reports rendered in each requested (and available) format."""
    from xxgk.synth.generate import RUNS_INCOMPATIBLE, generate_corpus

    available = _available_formats()
    wanted = [f for f in (formats or available) if f in available]
    reports = generate_corpus(n_docs, seed, exclude_defects=RUNS_INCOMPATIBLE if "text" in wanted else ())
    docs: list[Doc] = []
    for i, report in enumerate(reports):
        expected = tuple(
            (str(f["table"]), str(f["row_key"]), str(f["column_key"]), str(f["raw_text"]))
            for f in report.expected_facts()
        )
        for fmt in wanted:
            if fmt == "pdf":
                from xxgk.synth.pdf import render_pdf

                data = render_pdf(report, **PDF_VARIANTS[i % len(PDF_VARIANTS)])
                name = f"doc{i:04d}.pdf"
            elif fmt == "docx":
                from xxgk.synth.docx import render_docx

                data = render_docx(report, **DOCX_VARIANTS[i % len(DOCX_VARIANTS)])
                name = f"doc{i:04d}.docx"
            elif fmt == "xlsx":
                from xxgk.synth.xlsx import render_xlsx

                data = render_xlsx(report, **XLSX_VARIANTS[i % len(XLSX_VARIANTS)])
                name = f"doc{i:04d}.xlsx"
            elif fmt == "html":
                from xxgk.synth.html import render_html

                data = render_html(report, word_markup=bool(i % 2), split_requests=bool(i % 3 == 0))
                name = f"doc{i:04d}.html"
            else:
                from xxgk.synth.text import render_text

                form = TEXT_FORMS[i % len(TEXT_FORMS)]
                data = render_text(report, form)
                name = f"doc{i:04d}.{'md' if form == 'markdown' else 'txt'}"
            docs.append(Doc(name, fmt, data, expected))
    return docs


# --- work done in the worker processes ---------------------------------------------------------


def _init_worker() -> None:
    """Import everything a document needs, then move those objects out of the GC's reach."""
    for module in (
        "pdfplumber",
        "pypdfium2",
        "xxgk.extractors",
        "xxgk.extractors.pdf",
        "xxgk.extractors.html",
        "xxgk.extractors.text",
        "xxgk.extractors.docx",
        "xxgk.extractors.sheets",
    ):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    gc.collect()
    gc.freeze()


def _peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _extract_one(doc: Doc) -> tuple[float, str, bool, float]:
    """Wall ms, status, exact, and CPU ms of this process (the figure a shared machine does not inflate)."""
    from xxgk.extractors import extract_document

    start, cpu = time.perf_counter(), time.process_time()
    result = extract_document(doc.data, doc.name)
    elapsed = (time.perf_counter() - start) * 1000
    cpu_ms = (time.process_time() - cpu) * 1000
    got = {(f.table, f.row_key, f.column_key, f.raw_text) for f in result.facts}
    return elapsed, result.status, got == set(doc.expected), cpu_ms


def _serial(docs: list[Doc], warmup: int) -> dict[str, Any]:
    """Ours on every document, then the naive baseline on the PDFs, in this (fresh) process."""
    _init_worker()
    for doc in docs[:warmup]:
        _extract_one(doc)
    ours = [(doc.format, *_extract_one(doc)) for doc in docs]
    rss_ours = _peak_rss_mb()
    naive: list[float] = []
    for doc in (d for d in docs if d.format == "pdf"):
        naive.append(_naive_pdfplumber(doc.data))
    return {"ours": ours, "naive": naive, "rss_ours_mb": rss_ours, "rss_after_naive_mb": _peak_rss_mb()}


def _naive_pdfplumber(data: bytes) -> float:
    """Milliseconds for pdfplumber ``extract_tables()`` on every page: what one would write first."""
    import pdfplumber

    start = time.perf_counter()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_tables()
    return (time.perf_counter() - start) * 1000


def _batch(docs: list[Doc]) -> tuple[int, float]:
    for doc in docs:
        _extract_one(doc)
    return len(docs), _peak_rss_mb()


def _warm() -> float:
    return _peak_rss_mb()


# --- the run -----------------------------------------------------------------------------------


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 2),
        "mean_ms": round(statistics.fmean(values), 2),
        "p90_ms": round(p90, 2),
        "max_ms": round(ordered[-1], 2),
    }


def _parallel(docs: list[Doc], workers: int, chunk: int) -> dict[str, Any]:
    chunks = [docs[i : i + chunk] for i in range(0, len(docs), chunk)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
        list(pool.map(_warm_task, range(workers * 2)))  # start and warm every worker
        start = time.perf_counter()
        results = list(pool.map(_batch, chunks))
        wall = time.perf_counter() - start
    done = sum(n for n, _ in results)
    return {
        "workers": workers,
        "docs": done,
        "wall_s": round(wall, 3),
        "docs_per_minute": round(done / wall * 60, 1) if wall > 0 else None,
        "peak_rss_mb": round(max(r for _, r in results), 1),
    }


def _warm_task(_: int) -> float:
    time.sleep(0.05)
    return _warm()


def run(
    n_docs: int,
    *,
    seed: int = 0,
    workers: int = 2,
    formats: list[str] | None = None,
    warmup: int = 2,
    log: Callable[[str], None] | None = None,
    office_docs: int = OFFICE_DOCS,
    ocr_docs: int = 0,
) -> dict[str, Any]:
    """The benchmark figures as a dict (see the module docstring)."""
    say = log or (lambda _msg: None)
    t0 = time.perf_counter()
    docs = build_corpus(n_docs, seed, formats)
    say(f"corpus: {len(docs)} documents rendered in {time.perf_counter() - t0:.1f} s")
    fmts = sorted({d.format for d in docs})

    with ProcessPoolExecutor(max_workers=1) as pool:
        serial = pool.submit(_serial, docs, warmup).result()
    say("serial pass and baseline done")
    per_format: dict[str, Any] = {}
    for fmt in fmts:
        rows = [r for r in serial["ours"] if r[0] == fmt]
        per_format[fmt] = {
            **_stats([r[1] for r in rows]),
            "statuses": dict(Counter(r[2] for r in rows)),
            "exact": sum(1 for r in rows if r[3]),
            "cpu_median_ms": round(statistics.median(r[4] for r in rows), 2),
        }
    parallel: dict[str, Any] = {}
    if docs:  # none when only doc/wps (LibreOffice) were asked for
        parallel["all"] = _parallel(docs, workers, chunk=max(1, len(docs) // (workers * 4)))
    for fmt in fmts:
        subset = [d for d in docs if d.format == fmt]
        parallel[fmt] = _parallel(subset, workers, chunk=max(1, len(subset) // (workers * 4)))
    say("parallel passes done")
    office: dict[str, Any] | None = None
    wanted_office = [f for f in ("doc", "wps") if formats is None or f in formats]
    if wanted_office and office_docs > 0:
        from xxgk.bench.office import measure

        office = measure(office_docs, seed, tuple(wanted_office))
        say("LibreOffice pass done" if office.get("available") else "LibreOffice not installed: DOC/WPS not measured")
    scanned: dict[str, Any] | None = None
    if ocr_docs > 0:
        from xxgk.bench.ocr import measure as measure_ocr

        scanned = measure_ocr(ocr_docs, seed)
        say("OCR pass done" if scanned.get("available") else f"OCR not measured: {scanned.get('reason')}")

    naive = _stats(serial["naive"])
    ratio = None
    if naive and "pdf" in per_format:
        ratio = round(per_format["pdf"]["median_ms"] / naive["median_ms"], 3)
    pdf_median = per_format.get("pdf", {}).get("median_ms")
    office_medians = {f: per_format[f]["median_ms"] for f in ("docx", "xlsx") if f in per_format}
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        },
        "corpus": {
            "n_reports": n_docs,
            "seed": seed,
            "documents": {f: sum(1 for d in docs if d.format == f) for f in fmts},
            "mean_kb": {f: round(statistics.fmean(len(d.data) for d in docs if d.format == f) / 1024, 1) for f in fmts},
            "pdf_variants": list(PDF_VARIANTS),
        },
        "serial": per_format,
        "naive_pdfplumber_all_pages": naive,
        "pdf_vs_naive_ratio": ratio,
        "parallel": parallel,
        "peak_rss_mb": {
            "serial_worker_ours": round(serial["rss_ours_mb"], 1),
            "serial_worker_after_naive": round(serial["rss_after_naive_mb"], 1),
            "pool_worker_max": max((p["peak_rss_mb"] for p in parallel.values()), default=0.0),
        },
        "targets": {
            "pdf_median_ms": TARGET_PDF_MEDIAN_MS,
            "pdf_median_met": pdf_median is not None and pdf_median <= TARGET_PDF_MEDIAN_MS,
            "ratio": TARGET_RATIO,
            "ratio_met": ratio is not None and ratio <= TARGET_RATIO,
            "office_median_ms": TARGET_OFFICE_MEDIAN_MS,
            "office_median_met": {f: m <= TARGET_OFFICE_MEDIAN_MS for f, m in office_medians.items()},
        },
        "libreoffice": office,
        "ocr": scanned,
        "elapsed_s": round(time.perf_counter() - t0, 1),
    }


def to_markdown(result: dict[str, Any]) -> str:
    """A short human-readable report of one benchmark run."""
    m, c = result["machine"], result["corpus"]
    lines = [
        "# xxgk extraction benchmark",
        "",
        f"{c['n_reports']} generated reports (seed {c['seed']}), documents per format: "
        + ", ".join(f"{k} {v}" for k, v in c["documents"].items())
        + f"; {m['cpus']} CPUs, Python {m['python']}, load average at the end {m['load_average']}.",
        "",
        "## Serial, end to end through `extract_document` (ms per document)",
        "",
        "| format | n | median | mean | p90 | max | CPU median | exact | statuses |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for fmt, s in result["serial"].items():
        lines.append(
            f"| {fmt} | {s['n']} | {s['median_ms']} | {s['mean_ms']} | {s['p90_ms']} | {s['max_ms']} | "
            f"{s['cpu_median_ms']} | {s['exact']}/{s['n']} | {', '.join(f'{k} {v}' for k, v in s['statuses'].items())} |"
        )
    naive = result["naive_pdfplumber_all_pages"]
    if naive:
        lines += [
            "",
            f"Baseline, same PDFs, same worker: pdfplumber `extract_tables()` on every page: median "
            f"{naive['median_ms']} ms (mean {naive['mean_ms']}, p90 {naive['p90_ms']}). "
            f"Ratio ours/baseline (medians): **{result['pdf_vs_naive_ratio']}**.",
        ]
    lines += [
        "",
        "## Parallel (process pool)",
        "",
        "| set | workers | docs | wall s | docs/minute | peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for name, p in result["parallel"].items():
        lines.append(
            f"| {name} | {p['workers']} | {p['docs']} | {p['wall_s']} | {p['docs_per_minute']} | {p['peak_rss_mb']} |"
        )
    rss, t = result["peak_rss_mb"], result["targets"]
    lines += [
        "",
        f"Peak RSS: serial worker {rss['serial_worker_ours']} MB after our extraction "
        f"({rss['serial_worker_after_naive']} MB after the baseline), pool workers at most {rss['pool_worker_max']} MB.",
        "",
        f"Targets: PDF median ≤ {t['pdf_median_ms']} ms: **{'met' if t['pdf_median_met'] else 'NOT met'}**; "
        f"ratio ≤ {t['ratio']}: **{'met' if t['ratio_met'] else 'NOT met'}**"
        + "".join(
            f"; {fmt.upper()} median ≤ {t['office_median_ms']} ms: **{'met' if met else 'NOT met'}**"
            for fmt, met in t.get("office_median_met", {}).items()
        )
        + ".",
        "",
    ]
    if result.get("libreoffice") is not None:
        from xxgk.bench.office import to_markdown as office_markdown

        lines += office_markdown(result["libreoffice"])
    if result.get("ocr") is not None:
        from xxgk.bench.ocr import to_markdown as ocr_markdown

        lines += ocr_markdown(result["ocr"])
    return "\n".join(lines)


def main(
    out: Path,
    n_docs: int = 40,
    *,
    seed: int = 0,
    workers: int = 2,
    formats: list[str] | None = None,
    warmup: int = 2,
    log: Callable[[str], None] | None = None,
    office_docs: int = OFFICE_DOCS,
    ocr_docs: int = 0,
) -> dict[str, Any]:
    """Run the benchmark and write ``bench.json`` and ``bench.md`` (or ``out`` if it ends in .json)."""
    result = run(
        n_docs,
        seed=seed,
        workers=workers,
        formats=formats,
        warmup=warmup,
        log=log,
        office_docs=office_docs,
        ocr_docs=ocr_docs,
    )
    out = Path(out)
    if out.suffix == ".json":
        json_path, md_path = out, out.with_suffix(".md")
    else:
        json_path, md_path = out / "bench.json", out / "bench.md"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(to_markdown(result), encoding="utf-8")
    result["files"] = [str(json_path), str(md_path)]
    return result


def _cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/bench"), help="directory (or .json file) for results")
    parser.add_argument("--docs", type=int, default=40, help="generated reports (each rendered in every format)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--formats", default="", help="comma list of pdf,html,text,docx,xlsx,doc,wps (default: all available)"
    )
    parser.add_argument(
        "--office-docs", type=int, default=OFFICE_DOCS, help="reports rendered as DOC and WPS for LibreOffice (0: skip)"
    )
    parser.add_argument(
        "--ocr-docs", type=int, default=OCR_DOCS, help="reports scanned at every level for the OCR pass (0: skip)"
    )
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()] or None
    result = main(
        args.out,
        args.docs,
        seed=args.seed,
        workers=args.workers,
        formats=formats,
        warmup=args.warmup,
        log=lambda msg: print(msg, file=sys.stderr),
        office_docs=args.office_docs,
        ocr_docs=args.ocr_docs,
    )
    print(to_markdown(result))
    print("written:", ", ".join(result["files"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())
