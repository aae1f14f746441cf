"""The benchmark command on a tiny generated corpus: it runs, counts and writes its files.

No timing is asserted here; figures belong in the benchmark's own result files.
"""

from __future__ import annotations

import json
from pathlib import Path

from xxgk.bench.run import _cli, build_corpus, main, to_markdown


def test_corpus_has_every_available_format() -> None:
    docs = build_corpus(2, seed=1)
    formats = {d.format for d in docs}
    assert "pdf" in formats
    assert len(docs) == 2 * len(formats)
    assert all(d.data[:5] == b"%PDF-" for d in docs if d.format == "pdf")
    assert all(d.expected for d in docs)


def test_bench_writes_json_and_markdown(tmp_path: Path) -> None:
    result = main(tmp_path, 2, seed=1, workers=1, formats=["pdf"], warmup=0)
    data = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert (tmp_path / "bench.md").read_text(encoding="utf-8") == to_markdown(data)
    assert set(data) >= {"machine", "corpus", "serial", "naive_pdfplumber_all_pages", "parallel", "peak_rss_mb"}
    pdf = data["serial"]["pdf"]
    assert pdf["n"] == 2 and pdf["statuses"] == {"ok": 2} and pdf["exact"] == 2
    assert 0 < pdf["cpu_median_ms"] < 10 * pdf["median_ms"]
    assert data["naive_pdfplumber_all_pages"]["n"] == 2
    assert data["pdf_vs_naive_ratio"] > 0
    assert data["parallel"]["all"]["docs"] == 2 and data["parallel"]["pdf"]["docs"] == 2
    assert data["peak_rss_mb"]["serial_worker_ours"] > 0
    assert result["files"] == [str(tmp_path / "bench.json"), str(tmp_path / "bench.md")]


def test_cli_with_a_json_path(tmp_path: Path, capsys: object) -> None:
    out = tmp_path / "run1.json"
    args = ["--out", str(out), "--docs", "1", "--workers", "1", "--formats", "pdf", "--warmup", "0", "--ocr-docs", "0"]
    assert _cli(args) == 0
    assert out.exists() and out.with_suffix(".md").exists()
    assert "# xxgk extraction benchmark" in capsys.readouterr().out  # type: ignore[attr-defined]


def test_ocr_bench_scores_cells_and_times_pages(tmp_path: Path) -> None:
    """One clean report page of table images: every cell exact, pages and seconds recorded."""
    from xxgk.bench.ocr import _cli as ocr_cli
    from xxgk.bench.ocr import to_markdown as ocr_markdown

    out = tmp_path / "ocr.json"
    assert ocr_cli(["--out", str(out), "--docs", "1", "--levels", "clean", "--forms", "html-ocr"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["available"] and data["scanned"]["documents"] == 1 and data["scanned"]["wrong"] == 0
    assert data["scanned"]["exact"] == data["scanned"]["cells"] > 100 and data["scanned"]["pages_median"] >= 2
    assert data["text_layer_pdf"]["exact_share"] == 1.0 and data["peak_rss_mb"] > 0
    assert "| level clean | 1 |" in out.with_suffix(".md").read_text(encoding="utf-8")
    assert "Not measured: no engine" in "\n".join(ocr_markdown({"available": False, "reason": "no engine"}))
