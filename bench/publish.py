"""Publish benchmark: CPU time and peak memory of one full publish of N staged documents.

Not a test (timings belong in a benchmark, not in assertions). Builds a staging directory of N
documents once (the sample reports in ``data/sample`` extracted, then replicated over sources and
years with their numbers shifted so strings repeat as little as in real data), then publishes it
into a fresh data directory in a child process and reports the child's CPU seconds and peak RSS::

    uv run python -m bench.publish --docs 10000 --work /tmp/xxgk-bench
    uv run python -m bench.publish --docs 10000 --work /tmp/xxgk-bench --validation   # + the reports

The staging directory is reused by later runs with the same ``--docs``/``--years``; nothing is
written inside the repository.

Measured on the 2-core build machine (10,000 documents, 2.51M fact rows, 0.53M check rows; CPU s /
peak RSS MB of the child; "again" = the same publish over the warehouse it just wrote):

=====================================  ===============  ===============
publish                                5 years           1 year
=====================================  ===============  ===============
before (all rows plain, all years)     27.1 / 1159      31.7 / 3175
  again                                30.3 / 1482      36.7 / 4324
spool + compact, one year at a time    28.7 / 431       24.0 / 791
  again                                26.8 / 442       25.4 / 782
=====================================  ===============  ===============

(the 5-year "after" runs also compute 60,000 cross-year checks; CPU figures vary by ±2 s with load.)
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import multiprocessing
import resource
import shutil
import sys
import time
from pathlib import Path

from xxgk.schemas.records import DocumentResult, Fact

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
VERSION = "bench"


def _base_results() -> list[DocumentResult]:
    """The sample set's reports as extracted (the documents that yield facts)."""
    from xxgk.extractors import extract_document

    results = []
    for path in sorted(SAMPLE_DIR.iterdir()):
        if path.suffix in (".yaml", ".json", ".csv"):
            continue
        result = extract_document(path.read_bytes(), path.name)
        if result.facts:
            results.append(result)
    if not results:
        raise SystemExit(f"no sample reports with facts under {SAMPLE_DIR}")
    return results


def _shifted(fact: Fact, k: int) -> Fact:
    """A copy of ``fact`` whose printed number is shifted by ``k`` (text and value agree)."""
    if fact.value is None or not fact.raw_text:
        return fact
    value = fact.value + k
    text = str(int(value)) if float(value).is_integer() else f"{value:.2f}"
    return dataclasses.replace(fact, value=value, raw_text=text)


def build_staging(staging: Path, n_docs: int, years: int) -> list[Path]:
    """Stage ``n_docs`` documents: ``n_docs // years`` sources × ``years`` consecutive years."""
    from xxgk.warehouse.documents import DocumentInfo
    from xxgk.warehouse.staging import iter_staged, stage_result

    marker = staging / "bench.json"
    spec = {"docs": n_docs, "years": years}
    if marker.is_file() and json.loads(marker.read_text()) == spec:
        return list(iter_staged(staging, VERSION))
    shutil.rmtree(staging, ignore_errors=True)
    bases = _base_results()
    paths = []
    for i in range(n_docs):
        source, y = divmod(i, years)
        year = 2019 + y
        base = bases[i % len(bases)]
        k = (i * 7919) % 997
        result = dataclasses.replace(
            base,
            year=year,
            facts=[_shifted(f, k) for f in base.facts],
            derived=[_shifted(f, k) for f in base.derived],
        )
        sid = f"bench-{source:05d}"
        info = DocumentInfo(
            document_sha256=hashlib.sha256(f"{sid}:{year}".encode()).hexdigest(),
            source_id=sid,
            publisher=f"测试{source:05d}区人民政府",
            year=year,
            format=result.format or "text",
            source_url=f"https://example.gov.cn/{sid}/{year}.html",
            fetched_at="2024-03-01T08:30:00+00:00",
            path=f"raw/{sid}/{year}",
            region_code=f"{350000 + source:06d}",
        )
        paths.append(stage_result(staging, info, result, VERSION))
    marker.write_text(json.dumps(spec))
    return sorted(paths)


def _folder(path: Path) -> dict[str, object]:
    files = [p for p in path.rglob("*") if p.is_file()]
    index = path / "index.html"
    return {
        "files": len(files),
        "mb": round(sum(p.stat().st_size for p in files) / 1e6, 1),
        "index_html_kb": round(index.stat().st_size / 1e3, 1) if index.is_file() else None,
    }


def _child(data_dir: str, staged: list[str], queue: multiprocessing.Queue, validation: bool = False) -> None:  # type: ignore[type-arg]
    from xxgk.warehouse.publish import publish

    start_cpu, start = time.process_time(), time.perf_counter()
    summary = publish(Path(data_dir), staged)
    out: dict[str, object] = {
        "cpu_s": round(time.process_time() - start_cpu, 2),
        "wall_s": round(time.perf_counter() - start, 2),
        "documents": summary.documents,
        "rows": summary.rows,
    }
    if validation:  # the validation reports and the index, as the publish step writes them after the tables
        from xxgk.warehouse.layout import validation_dir
        from xxgk.warehouse.validation import write_validation_reports

        start_cpu, start = time.process_time(), time.perf_counter()
        write_validation_reports(Path(data_dir), staged, prune=True)
        out["validation"] = {
            "cpu_s": round(time.process_time() - start_cpu, 2),
            "wall_s": round(time.perf_counter() - start, 2),
            **_folder(validation_dir(data_dir)),
        }
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    queue.put(out)


def measure_publish(data_dir: Path, staged: list[Path], validation: bool = False) -> dict[str, object]:
    """Publish ``staged`` into ``data_dir`` in a fresh child process; its CPU, wall time and peak RSS.

    ``validation``: then write the validation reports too, timed apart, with the folder's size.
    """
    ctx = multiprocessing.get_context("spawn")  # a clean interpreter: peak RSS is the publish's own
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(str(data_dir), [str(p) for p in staged], queue, validation))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/xxgk-bench"))
    parser.add_argument("--republish", action="store_true", help="also time a second, identical publish")
    parser.add_argument("--validation", action="store_true", help="also write and measure the validation reports")
    args = parser.parse_args(argv)
    staged = build_staging(args.work / "staging", args.docs, args.years)
    data_dir = args.work / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    results = {"first": measure_publish(data_dir, staged, args.validation)}
    if args.republish:
        results["second"] = measure_publish(data_dir, staged, args.validation)
    json.dump(results, sys.stdout, indent=1, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
