"""What reading DOC and WPS files costs: LibreOffice conversion, one document per soffice call vs a batch.

Generated reports are rendered as DOC and WPS-style files (``synth.office``), then read end to
end through ``extract_document`` three ways: the first call of a process (a fresh private
profile: LibreOffice creates it), one soffice call per document (what a reader pays when
documents arrive one at a time), and one call for the whole batch (``converter.preconvert``)
followed by the per-document reads. Figures are seconds per document; the DOCX reading itself
is in the main benchmark's ``docx`` row.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from typing import Any

from xxgk.extractors import converter, extract_document
from xxgk.synth import office
from xxgk.synth.generate import generate_corpus

FORMATS = ("doc", "wps")


def _exact(result: Any, report: Any) -> bool:
    got = {(f.table, f.row_key, f.column_key, f.raw_text) for f in result.facts}
    want = {(str(e["table"]), str(e["row_key"]), str(e["column_key"]), str(e["raw_text"])) for e in report.expected_facts()}
    return got == want


def _seconds(values: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(values), 3),
        "mean_s": round(statistics.fmean(values), 3),
        "max_s": round(max(values), 3),
    }


def _version(soffice: str) -> str:
    try:
        done = subprocess.run([soffice, "--version"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"unknown ({err})"
    return done.stdout.decode("utf-8", "replace").strip().splitlines()[-1] if done.stdout else "unknown"


def measure(n_docs: int, seed: int = 0, formats: tuple[str, ...] = FORMATS) -> dict[str, Any]:
    """Seconds per DOC/WPS document through LibreOffice, per call style (see the module docstring)."""
    soffice = converter.find_soffice()
    if soffice is None:
        return {"available": False, "reason": converter.missing_converter("doc").reason}
    reports = generate_corpus(n_docs, seed)
    out: dict[str, Any] = {"available": True, "soffice": soffice, "version": _version(soffice), "n": n_docs}
    for fmt in formats:
        start = time.perf_counter()
        docs = office.render_office(reports, fmt, word_markup=True)
        rendered = time.perf_counter() - start

        converter._PROFILES.remove_all()  # the next call creates its profile, as a fresh worker does
        converter._CACHE.clear()
        start = time.perf_counter()
        first = extract_document(docs[0], f"first.{fmt}")
        first_s = time.perf_counter() - start

        single: list[float] = []
        exact = 0
        statuses: dict[str, int] = {}
        for data, report in zip(docs, reports, strict=True):
            converter._CACHE.clear()
            start = time.perf_counter()
            result = extract_document(data, f"report.{fmt}")
            single.append(time.perf_counter() - start)
            exact += _exact(result, report)
            statuses[result.status] = statuses.get(result.status, 0) + 1

        converter._CACHE.clear()
        start = time.perf_counter()
        converted = converter.preconvert(docs)
        batch_convert = time.perf_counter() - start
        batch_exact = 0
        for data, report in zip(docs, reports, strict=True):
            batch_exact += _exact(extract_document(data, f"report.{fmt}"), report)
        batch_total = time.perf_counter() - start
        out[fmt] = {
            "documents": len(docs),
            "render_s": round(rendered, 2),
            "first_call_fresh_profile_s": round(first_s, 3),
            "first_status": first.status,
            "one_call_per_document": {**_seconds(single), "exact": exact, "statuses": statuses},
            "one_call_per_batch": {
                "converted": converted,
                "convert_s": round(batch_convert, 3),
                "total_s": round(batch_total, 3),
                "per_document_s": round(batch_total / len(docs), 3),
                "exact": batch_exact,
            },
        }
    return out


def to_markdown(result: dict[str, Any]) -> list[str]:
    """The LibreOffice section of ``bench.md``."""
    lines = ["", "## DOC / WPS through LibreOffice (seconds per document)", ""]
    if not result.get("available"):
        return [*lines, f"Not measured: {result.get('reason', 'LibreOffice not installed')}.", ""]
    lines += [
        f"{result['version']} ({result['soffice']}), {result['n']} generated reports per format.",
        "",
        "| format | first call (fresh profile) | one call per document: median / max | exact | one call per batch: per document | batch convert | exact |",
        "|---|---|---|---|---|---|---|",
    ]
    for fmt in FORMATS:
        if fmt not in result:
            continue
        r = result[fmt]
        one, batch = r["one_call_per_document"], r["one_call_per_batch"]
        lines.append(
            f"| {fmt} | {r['first_call_fresh_profile_s']} s | {one['median_s']} / {one['max_s']} s | "
            f"{one['exact']}/{r['documents']} | {batch['per_document_s']} s | {batch['convert_s']} s | "
            f"{batch['exact']}/{r['documents']} |"
        )
    return [*lines, ""]


__all__ = ["FORMATS", "measure", "to_markdown"]
