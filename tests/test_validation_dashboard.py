"""The validation index as a dashboard and the source page a reader follows (issue 13).

Regressions of what a reader met: a green ``ok`` beside failed checks, merged cells repeated,
harvest problems missing from the index, no history; plus the page crops and hostile text.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.test_warehouse import VERSION, make_info, make_result
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.records import CheckResult
from xxgk.warehouse import write_index, write_validation_reports
from xxgk.warehouse.validation import consistency_of
from xxgk.warehouse.validation.crops import MAX_HEIGHT_PX, MAX_WIDTH_PX
from xxgk.warehouse.validation.index import record_run

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _index(data: Path) -> dict:
    return json.loads((data / "validation" / "index.json").read_text(encoding="utf-8"))


def _row(html: str, source_id: str) -> str:
    match = re.search(rf'<tr class="r-[a-z]+"[^>]*>\s*<td>{re.escape(source_id)}</td>.*?</tr>', html, re.S)
    assert match, f"no index row for {source_id}"
    return match.group(0)


def test_failed_check_is_red_never_a_green_ok(tmp_path: Path) -> None:
    """Regression: the index gave hongze_2023 a green **ok** badge beside its 2 failed checks."""
    write_validation_reports(tmp_path, [(make_info("bad", 2023), make_result(), VERSION)])
    good = make_result(carried_over=["1", "0", "0", "0", "0", "0", "1"])
    write_validation_reports(tmp_path, [(make_info("good", 2023), good, VERSION)])
    entries = {e["source_id"]: e for e in _index(tmp_path)["entries"]}
    assert (entries["bad"]["consistency"], entries["bad"]["verdict"], entries["bad"]["failed_checks"]) == (
        "inconsistent",
        "bad",
        1,
    )
    assert (entries["good"]["consistency"], entries["good"]["verdict"]) == ("consistent", "good")
    html = (tmp_path / "validation" / "index.html").read_text(encoding="utf-8")
    bad_row = _row(html, "bad")
    assert bad_row.startswith('<tr class="r-bad"') and "v-good" not in bad_row and "badge v-bad" in bad_row
    assert _row(html, "good").startswith('<tr class="r-good"')
    # the extraction status "ok" is not painted green: green means consistent
    assert ".s-ok{background:#e3ecf7" in html


def test_consistency_field_of_the_result_wins_when_present() -> None:
    assert consistency_of(make_result()) == "inconsistent"
    assert consistency_of(make_result(carried_over=["1", "0", "0", "0", "0", "0", "1"])) == "consistent"
    result = make_result()
    result.checks = []
    assert consistency_of(result) == "not_assessable"
    # a result that carries its own verdict (the analyst API's ``consistency``) is taken as it is
    given = SimpleNamespace(consistency="consistent", checks=make_result().checks)
    assert consistency_of(given) == "consistent"  # type: ignore[arg-type]


def test_merged_cells_are_shown_once() -> None:
    """Regression: a merged cell was repeated in every position it spans (the 勾稽关系 note 9 times)."""
    note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    rows = [
        [Cell(note, 0, 0), Cell(note, 0, 1, span_of=(0, 0)), Cell(note, 0, 2, span_of=(0, 0))],
        [Cell("项目", 1, 0), Cell("自然人", 1, 1), Cell("总计", 1, 2)],
        [Cell("合计", 2, 0), Cell("3", 2, 1), Cell("3", 2, 2)],
        [Cell("合计", 3, 0, span_of=(2, 0)), Cell("1", 3, 1), Cell("1", 3, 2)],
    ]
    grid = Grid(rows, "html table 1")
    assert grid.spans() == [[0, 0, 1, 3], [2, 0, 2, 1]]

    from xxgk.warehouse.validation.render import render_source_html

    result = make_result()
    result.grids = [grid.texts(), *result.grids[1:]]
    result.grid_spans = [grid.spans(), []]
    report = {
        "source_id": "s",
        "year": 2023,
        "status": "ok",
        "failed_checks": 0,
        "documents": [],
    }
    from xxgk.warehouse.validation import document_report

    report["documents"] = [document_report(make_info("s", 2023), result, VERSION)]
    html = render_source_html(report)
    assert html.count(note) == 1
    assert f'colspan="3">{note}</td>' in html
    assert re.search(r'rowspan="2"[^>]*>合计</td>', html) and html.count(">合计</td>") == 1


def test_a_check_links_to_its_highlighted_cells(tmp_path: Path) -> None:
    write_validation_reports(tmp_path, [(make_info("a", 2023), make_result(), VERSION)])
    html = (tmp_path / "validation" / "a" / "2023.html").read_text(encoding="utf-8")
    link = re.search(r'<a class="goto" href="#(d0-t1-r2-c\d)" data-check="d0-c0">', html)
    assert link, "the failed check has no link to its cells"
    target = re.search(rf'<td id="{link.group(1)}"[^>]*data-checks="d0-c0"', html)
    assert target, "the link's target cell is not marked with the check"
    assert html.count('data-checks="d0-c0"') == 7  # the total and its six parts
    assert 'td[data-checks~="' in html  # the page's script highlights every cell of the check
    # keys beside labels: the row key in its own column, the cell's keys on hover
    assert '<td class="key">requests.carried_over</td>' in html
    assert 'title="requests.carried_over / total' in html


def test_harvest_problems_of_every_source_in_the_index(tmp_path: Path) -> None:
    """Regression: layout_changed, 404 and robots-refused were not in the index, though the README sends readers there."""
    archive = tmp_path / "archive"
    archive.mkdir()
    problems = [
        {
            "kind": "http_status",
            "url": "http://gov.example/a/2022.html",
            "detail": "HTTP 404",
            "status": 404,
            "year": 2022,
        },
        {"kind": "robots", "url": "http://gov.example/private/", "detail": "disallowed by robots.txt"},
    ]
    (archive / "harvest.json").write_text(
        json.dumps(
            {
                "run_id": "r1",
                "sources": [
                    {
                        "source_id": "a",
                        "publisher": "甲",
                        "status": "partial",
                        "reason": "1 of 2",
                        "problems": problems,
                        "seconds": 1.5,
                        "requests": 9,
                    },
                    {
                        "source_id": "gone",
                        "publisher": "乙",
                        "status": "layout_changed",
                        "reason": "listing layout changed: selector 'ul.list' matches nothing",
                        "problems": [
                            {"kind": "layout_changed", "url": "http://gov.example/list.html", "detail": "no match"}
                        ],
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    items = [(make_info("a", 2022), make_result(year=2022), VERSION)]
    write_validation_reports(tmp_path, items, harvest_file=archive / "harvest.json")
    model = _index(tmp_path)
    rows = {(e["source_id"], e["year"]): e for e in model["entries"]}
    assert rows[("a", 2022)]["harvest"] == "partial" and rows[("a", 2022)]["harvest_problems"] == 2
    assert rows[("gone", None)]["status"] == "no_document" and rows[("gone", None)]["verdict"] == "bad"
    assert model["totals"]["no_document"] == 1 and model["totals"]["harvest_troubled"] == 2
    html = (tmp_path / "validation" / "index.html").read_text(encoding="utf-8")
    for text in ("HTTP 404", "disallowed by robots.txt", "layout_changed", "http://gov.example/list.html"):
        assert text in html
    saved = json.loads((tmp_path / "validation" / "harvest.json").read_text(encoding="utf-8"))
    assert "seconds" not in json.dumps(saved)  # only what stays the same across an unchanged night

    # a later harvest of one source keeps the other's outcome
    (archive / "harvest.json").write_text(
        json.dumps({"sources": [{"source_id": "gone", "status": "ok", "reason": "1 report", "problems": []}]}),
        encoding="utf-8",
    )
    from xxgk.warehouse.validation import refresh_harvest

    assert refresh_harvest(tmp_path, archive / "harvest.json") is True
    assert refresh_harvest(tmp_path, archive / "harvest.json") is False  # same outcome: nothing rewritten
    rows = {(e["source_id"], e["year"]): e for e in _index(tmp_path)["entries"]}
    assert rows[("gone", None)]["harvest"] == "ok" and rows[("a", 2022)]["harvest"] == "partial"


def test_history_records_new_changed_and_nothing_for_an_identical_run(tmp_path: Path) -> None:
    vdir = tmp_path / "validation"
    write_validation_reports(tmp_path, [(make_info("a", 2023), make_result(), VERSION)])
    write_validation_reports(tmp_path, [(make_info("a", 2022), make_result(year=2022, status="failed"), VERSION)])
    history = json.loads((vdir / "history.json").read_text(encoding="utf-8"))
    assert [r["new"] for r in history["runs"]] == [["a/2023"], ["a/2022"]]
    assert history["runs"][1]["failed"] == ["a/2022"]
    assert set(history["updated"]) == {"a/2022", "a/2023"}

    before = {p: p.stat().st_mtime_ns for p in vdir.rglob("*.*")}
    write_validation_reports(tmp_path, [(make_info("a", 2023), make_result(), VERSION)])  # identical
    assert {p: p.stat().st_mtime_ns for p in vdir.rglob("*.*")} == before  # no entry, no file rewritten

    fixed = make_result(carried_over=["1", "0", "0", "0", "0", "0", "1"])
    write_validation_reports(tmp_path, [(make_info("a", 2023), fixed, VERSION)])
    last = json.loads((vdir / "history.json").read_text(encoding="utf-8"))["runs"][-1]
    assert (last["changed"], last["counts"]["new"], last["counts"]["unchanged"]) == (["a/2023"], 0, 0)
    script = (vdir / "history.js").read_text(encoding="ascii")
    assert script.startswith("window.XXGK_HISTORY = {") and "</" not in script
    assert '<script src="history.js"></script>' in (vdir / "index.html").read_text(encoding="utf-8")


def test_history_keeps_the_last_runs(tmp_path: Path) -> None:
    vdir = tmp_path / "validation"
    for i in range(35):
        record_run(
            vdir, new=[f"s/{i}"], changed=[], unchanged=[], failed=[], removed=[], now=datetime(2025, 1, 1, tzinfo=UTC)
        )
    history = json.loads((vdir / "history.json").read_text(encoding="utf-8"))
    assert len(history["runs"]) == 30 and history["runs"][0]["new"] == ["s/5"]
    assert len(history["updated"]) == 35


def test_hostile_text_is_escaped_everywhere(tmp_path: Path) -> None:
    """Document and harvest text is hostile input: nothing of it may become markup or script."""
    evil = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "harvest.json").write_text(
        json.dumps(
            {
                "sources": [
                    {
                        "source_id": "x" + evil,
                        "publisher": evil,
                        "status": "failed",
                        "reason": evil,
                        "problems": [{"kind": evil, "url": "javascript:alert(3)", "detail": evil}],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    result = make_result(title=evil)
    result.publisher = evil
    result.grids[1][2][0] = evil
    result.unmapped[0].label = evil
    result.warnings = [evil]
    result.checks[1].detail = evil
    info = make_info("s" + evil, 2023, publisher=evil)
    write_validation_reports(tmp_path, [(info, result, VERSION)], harvest_file=archive / "harvest.json")
    pages = [tmp_path / "validation" / "index.html", *(tmp_path / "validation").glob("*/2023.html")]
    assert len(pages) == 2
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<img" not in html and "<script>alert" not in html and "onerror=alert(1)>" not in html
        assert 'href="javascript:' not in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def _pdf_with_a_number(path: Path) -> tuple[float, float, float, float]:
    """A one-page PDF printing "17" in a box; returns its bbox in points from the top-left."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    _width, height = A4
    pdf.rect(200, height - 320, 60, 20)
    pdf.setFont("Helvetica", 12)
    pdf.drawString(220, height - 314, "17")
    pdf.save()
    return (200.0, 300.0, 260.0, 320.0)


def test_page_crops_of_failed_cells_from_their_bbox(tmp_path: Path) -> None:
    from PIL import Image

    pdf = tmp_path / "report.pdf"
    box = _pdf_with_a_number(pdf)
    result = make_result()
    result.format = "pdf"
    for fact in result.facts:
        if (fact.row_key, fact.column_key) == ("carried_over", "total"):
            fact.bbox, fact.box_unit, fact.page = box, "pt", 1
    info = make_info("p", 2023)
    info.path, info.format = str(pdf), "pdf"
    write_validation_reports(tmp_path, [(info, result, VERSION)])
    crops = sorted((tmp_path / "validation" / "p" / "2023-crops").glob("*.png"))
    assert len(crops) == 1
    with Image.open(crops[0]) as image:
        assert image.width <= MAX_WIDTH_PX and image.height <= MAX_HEIGHT_PX
        assert image.width > 100 and image.convert("L").getextrema()[0] < 100  # the printed ink is there
    report = json.loads((tmp_path / "validation" / "p" / "2023.json").read_text(encoding="utf-8"))
    cell = next(c for c in report["documents"][0]["failed_checks"][0]["cells"] if c["role"] == "total")
    assert cell["crop"] == f"2023-crops/{crops[0].name}" and cell["bbox"] == list(box)
    html = (tmp_path / "validation" / "p" / "2023.html").read_text(encoding="utf-8")
    assert f'<img class="crop" src="2023-crops/{crops[0].name}"' in html
    assert report["documents"][0]["document_href"] == pdf.as_uri()

    # the cell read correctly next time: its crop goes with it; a cell without a box gets none
    for fact in result.facts:
        fact.bbox = None
    write_validation_reports(tmp_path, [(info, result, VERSION)])
    assert not (tmp_path / "validation" / "p" / "2023-crops").exists()


def test_crops_skip_cleanly_without_the_document(tmp_path: Path) -> None:
    result = make_result()
    for fact in result.facts:
        fact.bbox, fact.box_unit, fact.page = (1.0, 1.0, 5.0, 5.0), "pt", 1
    info = make_info("q", 2023)  # its path points at nothing
    write_validation_reports(tmp_path, [(info, result, VERSION)])
    assert not (tmp_path / "validation" / "q" / "2023-crops").exists()
    report = json.loads((tmp_path / "validation" / "q" / "2023.json").read_text(encoding="utf-8"))
    assert report["documents"][0]["document_href"] is None


def test_image_crops_in_pixels(tmp_path: Path) -> None:
    from PIL import Image

    from xxgk.warehouse.validation.crops import render_crops

    image = Image.new("RGB", (2000, 1000), "white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    doc = {
        "document_sha256": "ab" * 32,
        "failed_checks": [{"cells": [{"bbox": [100, 100, 1900, 900], "box_unit": "px", "page": None}]}],
        "ambiguous_cells": [{"bbox": [10, 10, 50, 30], "box_unit": "px", "page": None}],
    }
    crops = render_crops(doc, buffer.getvalue(), "2023-crops")
    assert len(crops) == 2
    for data in crops.values():
        with Image.open(io.BytesIO(data)) as piece:
            assert piece.width <= MAX_WIDTH_PX and piece.height <= MAX_HEIGHT_PX
    assert doc["ambiguous_cells"][0]["crop"].startswith("2023-crops/")


def test_archived_document_link_is_relative_inside_the_data_directory(tmp_path: Path) -> None:
    raw = tmp_path / "archive" / "raw" / "ab" / ("ab" * 32)
    raw.parent.mkdir(parents=True)
    raw.write_bytes(b"<html></html>")
    info = make_info("r", 2023)
    info.path = raw.relative_to(tmp_path).as_posix()
    write_validation_reports(tmp_path, [(info, make_result(), VERSION)])
    html = (tmp_path / "validation" / "r" / "2023.html").read_text(encoding="utf-8")
    href = f"../../archive/raw/ab/{'ab' * 32}"
    assert f'<a href="{href}" class="source-document">' in html
    assert ((tmp_path / "validation" / "r") / href).resolve() == raw.resolve()


@pytest.mark.corpus
def test_hongze_2023_page_shows_its_two_failed_checks_with_page_crops(tmp_path: Path) -> None:
    """The issue's acceptance page: hongze_2023.pdf's two failed checks, their cells marked, page crops."""
    import hashlib

    path = CORPUS / "hongze_2023.pdf"
    if not path.exists():
        pytest.skip("corpus file hongze_2023.pdf not present (../shared/corpus)")
    from xxgk.extractors import EXTRACTOR_VERSION, extract_document
    from xxgk.warehouse import DocumentInfo

    data = path.read_bytes()
    result = extract_document(data, path.name)
    info = DocumentInfo(hashlib.sha256(data).hexdigest(), "hongze", None, None, None, None, None, str(path))
    write_validation_reports(tmp_path, [(info, result, EXTRACTOR_VERSION)])
    html = (tmp_path / "validation" / "hongze" / "2023.html").read_text(encoding="utf-8")
    assert html.count('class="goto"') == 2 and html.count(' class="fail-total"') == 2
    entry = _index(tmp_path)["entries"][0]
    assert (entry["consistency"], entry["verdict"], entry["failed_checks"]) == ("inconsistent", "bad", 2)
    assert all(f.bbox is not None and f.box_unit == "pt" and f.page for f in result.facts)
    crops = sorted((tmp_path / "validation" / "hongze" / "2023-crops").glob("*.png"))
    report = json.loads((tmp_path / "validation" / "hongze" / "2023.json").read_text(encoding="utf-8"))
    failed = report["documents"][0]["failed_checks"]
    assert len(failed) == 2 and all(cell.get("crop") for check in failed for cell in check["cells"])
    shown = {cell["crop"] for check in failed for cell in check["cells"]}
    assert {f"2023-crops/{p.name}" for p in crops} >= shown and len(shown) >= 2
    assert html.count('<img class="crop"') >= len(shown)


def test_write_index_alone_is_deterministic(tmp_path: Path) -> None:
    write_validation_reports(tmp_path, [(make_info("a", 2023), make_result(), VERSION)])
    index = tmp_path / "validation" / "index.html"
    before = index.read_bytes()
    write_index(tmp_path)
    assert index.read_bytes() == before
    bare = CheckResult("counts.non_negative", "requests", "*", "*", None, None, None, "pass")
    result = make_result()
    result.checks = [bare]
    assert consistency_of(result) == "not_assessable"  # a non-negative pass alone proves no identity
