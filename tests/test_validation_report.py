"""Validation reports: failing identities spelled out, their cells marked, the index accumulating."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.test_warehouse import VERSION, make_info, make_result
from xxgk.schemas.checks import run_checks
from xxgk.schemas.records import FAIL, CheckResult, Fact
from xxgk.warehouse import DocumentInfo, stage_result, write_index, write_validation_reports
from xxgk.warehouse.validation import check_operands

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _cell_classes(html: str, text: str) -> list[str]:
    """Classes of the table cells whose content is ``text`` (marked cells wrap it in a link)."""
    found = []
    for m in re.finditer(r"<td([^>]*)>(?:<a [^>]*>)?([^<]*)(?:</a>)?</td>", html):
        if m.group(2) == text:
            cls = re.search(r'class="([^"]*)"', m.group(1))
            found.append(cls.group(1) if cls else "")
    return found


def test_failed_identity_is_spelled_out_and_its_cells_marked(tmp_path: Path) -> None:
    info = make_info("src-a", 2023)
    written = write_validation_reports(tmp_path, [(info, make_result(), VERSION)])
    vdir = tmp_path / "validation"
    assert written == [vdir / "src-a" / "2023.json", vdir / "src-a" / "2023.html", vdir / "index.html"]

    report = json.loads((vdir / "src-a" / "2023.json").read_text(encoding="utf-8"))
    assert (report["source_id"], report["year"], report["status"], report["failed_checks"]) == ("src-a", 2023, "ok", 1)
    (doc,) = report["documents"]
    assert doc["document_sha256"] == info.document_sha256
    assert doc["warnings"] == ["header row repeated on page 2"]
    assert doc["counts"]["failed"] == 1 and doc["counts"]["not_assessable"] == 1
    (failed,) = doc["failed_checks"]
    assert (failed["check_id"], failed["row_key"], failed["column_key"]) == (
        "requests.row_total",
        "carried_over",
        "total",
    )
    assert (failed["expected"], failed["actual"], failed["difference"]) == (2.0, 1.0, 1.0)
    cells = {(c["column_key"], c["role"]): (c["grid"], c["row"], c["col"], c["raw_text"]) for c in failed["cells"]}
    assert cells[("total", "total")] == (1, 2, 7, "2")
    assert cells[("natural_person", "part")] == (1, 2, 1, "1")
    assert len(failed["cells"]) == 7
    assert doc["unmapped"][0]["label"] == "其中：网上申请"
    assert doc["tables"][1]["rows"][2][0] == "二、上年结转政府信息公开申请数量"

    html = (vdir / "src-a" / "2023.html").read_text(encoding="utf-8")
    assert "requests.row_total" in html
    # self-contained: inline style and script, nothing loaded from elsewhere
    assert "<style>" in html and "<link" not in html and "<script src" not in html
    # The failed row: its printed total "2" is marked as the total, its parts as parts; the passing
    # row above it (total 6) is not marked.
    assert "fail-total" in _cell_classes(html, "2")
    assert "fail-part" in _cell_classes(html, "1")
    assert _cell_classes(html, "6") == [""]
    row = re.search(r'<tr id="d0-c0">(.*?)</tr>', html, re.S)
    assert row is not None
    numbers = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    assert numbers == ["1", "2", "1", "1"]  # #, expected, actual, difference
    assert "其中：网上申请" in html and "header row repeated on page 2" in html


def test_html_is_escaped(tmp_path: Path) -> None:
    result = make_result(title="<script>alert(1)</script>")
    result.grids[0][0][0] = "<b>标题</b>"
    write_validation_reports(tmp_path, [(make_info(), result, VERSION)])
    html = (tmp_path / "validation" / "src-a" / "2023.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;标题&lt;/b&gt;" in html


def test_status_reason_and_unknown_year(tmp_path: Path) -> None:
    result = make_result(status="partial", year=None)
    write_validation_reports(tmp_path, [(make_info("b", None), result, VERSION)])
    path = tmp_path / "validation" / "b" / "unknown.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    assert (report["year"], report["status"]) == (-1, "partial")
    assert report["documents"][0]["reason"] == "table review_litigation not found"
    html = path.with_suffix(".html").read_text(encoding="utf-8")
    assert "table review_litigation not found" in html and "year unknown" in html


def test_index_accumulates_runs_and_is_deterministic(tmp_path: Path) -> None:
    write_validation_reports(tmp_path, [(make_info("b/x", 2023), make_result(), VERSION)])
    staged = stage_result(tmp_path / "staging", make_info("a", 2022), make_result(status="partial"), VERSION)
    write_validation_reports(tmp_path, [staged])  # a later run over another source, from a staged file
    vdir = tmp_path / "validation"
    index = json.loads((vdir / "index.json").read_text(encoding="utf-8"))
    entries = [(e["source_id"], e["year"], e["status"], e["failed_checks"], e["href"]) for e in index["entries"]]
    assert entries == [
        ("a", 2022, "partial", 1, "a/2022.html"),
        ("b/x", 2023, "ok", 1, "b%252Fx/2023.html"),
    ]
    assert (vdir / "b%2Fx" / "2023.html").is_file()
    html = (vdir / "index.html").read_text(encoding="utf-8")
    assert 'href="a/2022.html"' in html and 'href="b%252Fx/2023.html"' in html

    before = {p: p.read_bytes() for p in sorted(vdir.rglob("*.*"))}
    write_validation_reports(tmp_path, [staged])
    write_index(tmp_path)
    assert {p: p.read_bytes() for p in sorted(vdir.rglob("*.*"))} == before


def test_operands_are_the_cells_each_identity_names() -> None:
    facts = [
        Fact("requests", row, col, 1.0, "件", "1", "ok", "v2019")
        for row in ("new_requests", "carried_over", "granted", "denied.state_secret", "other", "total_processed")
        for col in ("natural_person", "total")
    ] + [Fact("review_litigation", "admin_review", c, 1.0, "件", "1", "ok", "v2019") for c in ("upheld", "total")]
    checks = {(c.check_id, c.row_key, c.column_key): c for c in run_checks(facts, "v2019")}
    totals, parts = check_operands(checks[("requests.outcomes", "total_processed", "natural_person")])
    assert totals == [("total_processed", "natural_person")]
    assert ("denied.state_secret", "natural_person") in parts and ("other", "natural_person") in parts
    totals, parts = check_operands(checks[("requests.balance", "*", "total")])
    assert totals == [("new_requests", "total"), ("carried_over", "total")]
    assert parts == [("total_processed", "total"), ("carried_forward", "total")]
    totals, parts = check_operands(checks[("review_litigation.row_total", "admin_review", "total")])
    assert totals == [("admin_review", "total")] and len(parts) == 4
    # a check that names no operands marks the cell it is about
    bare = CheckResult("counts.non_negative", "requests", "granted", "total", None, None, None, FAIL)
    assert check_operands(bare) == ([("granted", "total")], [])


@pytest.mark.corpus
def test_real_report_with_a_printed_error(tmp_path: Path) -> None:
    """hongze_2023.pdf prints review_litigation totals 0 beside non-zero parts: both rows are shown failing."""
    path = CORPUS / "hongze_2023.pdf"
    if not path.exists():
        pytest.skip("corpus file hongze_2023.pdf not present (../shared/corpus)")
    from xxgk.extractors import EXTRACTOR_VERSION, extract_document
    from xxgk.warehouse.parquet import read_table
    from xxgk.warehouse.publish import publish

    data = path.read_bytes()
    result = extract_document(data, path.name)
    info = DocumentInfo(hashlib.sha256(data).hexdigest(), "hongze", None, None, None, None, None, str(path))
    write_validation_reports(tmp_path, [(info, result, EXTRACTOR_VERSION)])
    report = json.loads((tmp_path / "validation" / "hongze" / "2023.json").read_text(encoding="utf-8"))
    failing = {
        (c["check_id"], c["row_key"], c["expected"], c["actual"])
        for c in report["documents"][0]["failed_checks"]
        if c["severity"] == "error"
    }
    assert failing == {
        ("review_litigation.row_total", "admin_review", 0.0, 11.0),
        ("review_litigation.row_total", "litigation_after_review", 0.0, 5.0),
    }
    for c in report["documents"][0]["failed_checks"]:
        if c["check_id"] == "review_litigation.row_total":
            total = [x for x in c["cells"] if x["role"] == "total"]
            assert [x["raw_text"] for x in total] == ["0"] and total[0]["grid"] is not None
    html = (tmp_path / "validation" / "hongze" / "2023.html").read_text(encoding="utf-8")
    assert html.count(' class="fail-total"') == 2

    publish(tmp_path, [(info, result, EXTRACTOR_VERSION)])
    reports = read_table(tmp_path, "reports").to_pylist()
    assert [(r["year"], r["year_source"], r["publisher"], r["format"]) for r in reports] == [
        (2023, "document", result.publisher, "pdf")
    ]
    checks = read_table(tmp_path, "checks").to_pandas()
    failed = checks[(checks.status == "fail") & (checks.severity == "error")]
    assert sorted(failed["row_key"]) == ["admin_review", "litigation_after_review"]
    assert failed["difference"].tolist() == [-11.0, -5.0]


def test_documents_of_one_source_year_share_a_report_even_when_interleaved(tmp_path: Path) -> None:
    items = [
        (make_info("a", 2023, key="page"), make_result(), VERSION),
        (make_info("b", 2023), make_result(), VERSION),
        (make_info("a", 2023, key="pdf"), make_result(status="partial"), VERSION),
    ]
    write_validation_reports(tmp_path, items)
    report = json.loads((tmp_path / "validation" / "a" / "2023.json").read_text(encoding="utf-8"))
    assert len(report["documents"]) == 2
    assert (report["status"], report["failed_checks"]) == ("partial", 2)
    one_go = (tmp_path / "validation" / "a" / "2023.json").read_bytes()
    write_validation_reports(tmp_path / "sorted", sorted(items, key=lambda i: i[0].source_id))
    assert (tmp_path / "sorted" / "validation" / "a" / "2023.json").read_bytes() == one_go
