"""PDF extraction: corpus reports cell by cell, synthetic PDFs round-tripped exactly, bad PDFs
with their status and reason, and the pieces (text cleaning, rules, frames, limits) on their own."""

from __future__ import annotations

import pytest

from tests.corpus import compare_with_expected, corpus_path, expected_meta
from xxgk.extractors import extract_document
from xxgk.extractors.base import ExtractionError
from xxgk.extractors.pdf import (
    PaintedPath,
    PdfSettings,
    check_inflated_size,
    clean_pdf_text,
    close_frames,
    extract_pdf,
    ruling_edges,
    table_pages,
)
from xxgk.schemas.grid import Grid
from xxgk.schemas.model import V2019, V2021
from xxgk.schemas.records import FAIL
from xxgk.synth.generate import generate_legacy, generate_not_a_report, generate_report
from xxgk.synth.pdf import bomb_pdf, render_pdf, scanned_pdf, truncated_pdf

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def texts(grid: Grid) -> list[list[str]]:
    return grid.texts()


def by_locator(grids: list[Grid]) -> dict[str, Grid]:
    return {g.locator: g for g in grids}


def facts_of(result: object) -> dict[tuple[str, str, str], tuple[object, ...]]:
    return {
        (f.table, f.row_key, f.column_key): (f.raw_text, f.value, f.unit, f.value_status)
        for f in result.facts  # type: ignore[attr-defined]
    }


def expected_of(report: object) -> dict[tuple[str, str, str], tuple[object, ...]]:
    return {
        (e["table"], e["row_key"], e["column_key"]): (e["raw_text"], e["value"], e["unit"], e["status"])
        for e in report.expected_facts()  # type: ignore[attr-defined]
    }


def failing(result: object) -> list[str]:
    """Hard identities that fail (soft narrative checks left out), named as the generator names them."""
    return sorted(
        f"{c.check_id}:{c.row_key or c.column_key}"
        for c in result.checks  # type: ignore[attr-defined]
        if c.status == FAIL and c.severity == "error" and not c.check_id.startswith("narrative.")
    )


# ---------------------------------------------------------------------------------------------
# Corpus: hongze_2023 / hongze_2024 (WPS, text layer)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hongze_2023() -> bytes:
    return corpus_path("hongze_2023.pdf").read_bytes()


@pytest.mark.corpus
def test_hongze_2023_grids_one_per_page_table(hongze_2023: bytes) -> None:
    raw = extract_pdf(hongze_2023)
    assert raw.format == "pdf"
    assert [g.locator for g in raw.grids] == [
        "pdf p.2 table 1",
        "pdf p.3 table 1",
        "pdf p.3 table 2",
        "pdf p.4 table 1",
        "pdf p.4 table 2",
    ]
    assert raw.title == "洪泽区人民政府2023年政府信息公开工作年度报告"
    assert raw.warnings == []
    assert "2023 年全区受理政府信息公开申请 21 件" in raw.text
    for grid in raw.grids:
        assert all(c.page == grid.page for row in grid.rows for c in row)


@pytest.mark.corpus
def test_hongze_2023_review_row_has_fifteen_printed_cells(hongze_2023: bytes) -> None:
    review = by_locator(extract_pdf(hongze_2023).grids)["pdf p.4 table 2"]
    assert texts(review)[3] == ["10", "1", "0", "0", "0", "0", "0", "0", "0", "0", "5", "0", "0", "0", "0"]
    # 总 计 printed letter-spaced; 结果/维持 wrapped in a narrow cell
    assert texts(review)[1][:5] == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    assert texts(review)[0][5] == "行政诉讼" and all(c.is_span_copy for c in review.rows[0][6:])
    assert review.rows[2][0].span_of == (1, 0)  # 结果维持 spans two header rows


@pytest.mark.corpus
def test_hongze_2023_requests_split_over_pages(hongze_2023: bytes) -> None:
    grids = by_locator(extract_pdf(hongze_2023).grids)
    first, cont = grids["pdf p.3 table 2"], grids["pdf p.4 table 1"]
    assert first.meta.get("open_bottom") == "1" and cont.meta.get("open_top") == "1"
    rows = texts(first)
    # vertical 三、本年度办理结果 rebuilt into one label, copied down its merged cell
    assert rows[5][0] == "三、本年度办理结果" and not first.rows[5][0].is_span_copy
    assert all(r[0] == "三、本年度办理结果" and first.rows[i][0].is_span_copy for i, r in enumerate(rows) if i > 5)
    # a label wrapped mid-word, with a letter-spacing gap, read as printed
    assert rows[6][1] == "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    assert rows[8][2] == "2.其他法律行政止公开"  # the source's typo is kept
    assert rows[-1][2] == "2.没有现成信息需要另行制作" and rows[-1][3:] == ["3", "0", "0", "0", "0", "0", "3"]
    # the continuation: no header, empty cells where the merged labels continue
    cont_rows = texts(cont)
    assert cont_rows[0] == ["", "", "3.补正后申请内容仍不明确"] + ["0"] * 7
    assert cont.rows[1][0].span_of == (0, 0)
    assert cont_rows[4][2] == "4.无正当理由大量反复申请"
    assert cont_rows[5][2] == "5.要求行政机关确认或重新出具已获取信息"
    assert cont_rows[-1][0] == "四、结转下年度继续办理"


@pytest.mark.corpus
def test_hongze_2023_end_to_end_keeps_the_printed_wrong_totals(hongze_2023: bytes) -> None:
    result = extract_document(hongze_2023, "hongze_2023.pdf")
    assert result.status == expected_meta("hongze_2023.pdf")["expected_status"], result.reason
    assert compare_with_expected("hongze_2023.pdf", result) == []
    assert failing(result) == [
        "review_litigation.row_total:admin_review",
        "review_litigation.row_total:litigation_after_review",
    ]
    total = next(
        f for f in result.facts if (f.table, f.row_key, f.column_key) == ("review_litigation", "admin_review", "total")
    )
    assert (total.raw_text, total.value) == ("0", 0.0)  # printed 0 beside 10 + 1: kept, never repaired
    # provenance: page, table and cell position of every fact
    assert (total.page, total.locator, total.grid_row, total.grid_col) == (4, "pdf p.4 table 2", 3, 4)
    cont = next(f for f in result.facts if f.row_key == "unable.unclear_after_correction" and f.column_key == "total")
    assert (cont.page, cont.locator, cont.grid_row, cont.grid_col) == (4, "pdf p.4 table 1", 0, 9)


@pytest.mark.corpus
def test_hongze_2024_end_to_end() -> None:
    path = corpus_path("hongze_2024.pdf")
    result = extract_document(path.read_bytes(), path.name)
    assert result.status == "ok", result.reason
    assert compare_with_expected("hongze_2024.pdf", result) == []
    assert failing(result) == []
    assert result.template_versions == expected_meta("hongze_2024.pdf")["template"]


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["hongze_2023.pdf", "hongze_2024.pdf"])
def test_pdfium_and_pdfminer_readers_give_the_same_grids(name: str) -> None:
    data = corpus_path(name).read_bytes()
    fast = extract_pdf(data)
    slow = extract_pdf(data, settings=PdfSettings(backend="pdfplumber"))
    assert [(g.locator, texts(g)) for g in fast.grids] == [(g.locator, texts(g)) for g in slow.grids]


@pytest.mark.corpus
def test_only_table_pages_are_parsed(hongze_2023: bytes) -> None:
    from xxgk.extractors.pdf import open_document as _pdfium_open
    from xxgk.extractors.pdf import scan_pages

    doc = _pdfium_open(hongze_2023)
    try:
        pages = scan_pages(doc)
    finally:
        doc.close()
    assert [p.number for p in pages] == [1, 2, 3, 4, 5]
    assert table_pages(pages) == [2, 3, 4]


# ---------------------------------------------------------------------------------------------
# Synthetic PDFs: golden round trips
# ---------------------------------------------------------------------------------------------

VERSIONS = [(V2019, V2019), (V2021, V2021), (V2021, V2019)]
LAYOUTS = [
    {},
    {"split_style": "closed", "rule_style": "thin_rects"},
    {"cell_backgrounds": True, "spaced_labels": True},
    {"rule_style": "rects", "split_style": "closed", "vertical_labels": False},
    {"split_requests": "denied.process_info", "font_size": 9},
    {"split_requests": False, "break_before_tables": True},
]


def _id(options: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in options.items()) or "default"


@pytest.mark.parametrize("options", LAYOUTS, ids=_id)
@pytest.mark.parametrize("versions", VERSIONS, ids=lambda v: f"{v[0]}-layout{v[1]}")
def test_synthetic_pdf_round_trips_exactly(versions: tuple[str, str], options: dict) -> None:
    version, layout = versions
    report = generate_report(len(options) + 3, versions=version, requests_layout=layout)
    result = extract_document(render_pdf(report, **options), "report.pdf")
    assert result.status == "ok", result.reason
    assert result.format == "pdf"
    assert facts_of(result) == expected_of(report)
    assert result.template_versions == report.versions
    assert result.year == report.year


@pytest.mark.parametrize("seed", range(30, 38))
def test_synthetic_pdf_with_random_defects_round_trips(seed: int) -> None:
    report = generate_report(seed)
    result = extract_document(render_pdf(report, **LAYOUTS[seed % len(LAYOUTS)]), "report.pdf")
    assert facts_of(result) == expected_of(report), report.defects
    assert failing(result) == sorted(report.failing_checks), report.defects


def test_synthetic_wrong_total_is_kept_and_fails_its_check() -> None:
    report = generate_report(7, versions=V2021, defects=("wrong_total",))
    assert report.failing_checks
    result = extract_document(render_pdf(report), "report.pdf")
    assert facts_of(result) == expected_of(report)
    assert failing(result) == sorted(report.failing_checks)


def test_synthetic_grid_structure_split_vertical_and_wrapped() -> None:
    report = generate_report(5, versions=V2019, defects=())
    raw = extract_pdf(render_pdf(report))
    requests = [g for g in raw.grids if any("申请人情况" in c.text for row in g.rows for c in row)]
    assert len(requests) == 1
    first = requests[0]
    cont = raw.grids[raw.grids.index(first) + 1]
    assert first.page is not None and cont.page == first.page + 1
    assert first.meta.get("open_bottom") == "1" and cont.meta.get("open_top") == "1"
    assert texts(first)[5][0] == "三、本年度办理结果"
    partial = next(r for r in texts(first) if r[1].startswith("（二）"))
    assert partial[1] == "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    assert texts(cont)[0][:3] == ["", "", "3.补正后申请内容仍不明确"]
    assert all(len(row) == 10 for g in (first, cont) for row in g.rows)


def test_closed_split_style_frames_both_parts() -> None:
    report = generate_report(5, versions=V2019, defects=())
    raw = extract_pdf(render_pdf(report, split_style="closed"))
    assert not any(g.meta.get("open_top") or g.meta.get("open_bottom") for g in raw.grids)
    assert facts_of(extract_document(render_pdf(report, split_style="closed"), "r.pdf")) == expected_of(report)


@pytest.mark.parametrize("seed", [3, 8])
@pytest.mark.parametrize("versions", VERSIONS[:2], ids=lambda v: v[0])
def test_tables_without_rules_are_read_from_word_positions(versions: tuple[str, str], seed: int) -> None:
    report = generate_report(seed, versions=versions[0], requests_layout=versions[1])
    data = render_pdf(report, ruled=False)
    raw = extract_pdf(data)
    assert raw.grids and all(g.meta["method"] == "words" for g in raw.grids)
    assert any("read from word positions" in w for w in raw.warnings)
    result = extract_document(data, "report.pdf")
    assert result.status == "ok", result.reason
    assert facts_of(result) == expected_of(report)


@pytest.mark.parametrize("unruled", [("requests", "review_litigation"), ("proactive",)], ids=["three-four", "two"])
def test_ruled_and_unruled_tables_on_the_same_pages(unruled: tuple[str, ...]) -> None:
    report = generate_report(12, versions=V2021, defects=())
    data = render_pdf(report, unruled_tables=unruled, split_requests=False)
    raw = extract_pdf(data)
    methods = {g.meta["method"] for g in raw.grids}
    assert methods == {"rules", "words"}
    tops = [(g.page, float(g.meta["bbox"].split(",")[1])) for g in raw.grids]
    assert tops == sorted(tops)  # document order, ruled and unruled interleaved
    assert facts_of(extract_document(data, "report.pdf")) == expected_of(report)


def test_word_positions_keep_blank_cells_in_their_columns() -> None:
    report = generate_report(11, versions=V2021, defects=("blank_zeros",))
    result = extract_document(render_pdf(report, ruled=False), "report.pdf")
    assert facts_of(result) == expected_of(report)


def test_lone_glyphs_of_a_non_embedded_font_are_not_lost() -> None:
    report = generate_report(6, versions=V2019, defects=())
    data = render_pdf(report, lone_glyphs=True)
    raw = extract_pdf(data)
    assert any("page read with pdfminer" in w for w in raw.warnings)
    assert facts_of(extract_document(data, "report.pdf")) == expected_of(report)


def test_pdfium_and_pdfminer_readers_agree_on_synthetic() -> None:
    data = render_pdf(generate_report(9))
    fast = extract_pdf(data)
    slow = extract_pdf(data, settings=PdfSettings(backend="pdfplumber"))
    assert [texts(g) for g in fast.grids] == [texts(g) for g in slow.grids]


def test_table_pages_left_open_by_the_cheap_pass_read_as_pages_loaded_again() -> None:
    # The table pass takes the pages (and text layers) the cheap pass left open instead of
    # loading them again: only pages with table labels stay open, and they read the same.
    from xxgk.extractors.pdf.pages import close_pages, scan_pages
    from xxgk.extractors.pdf.pdfium_page import open_document, pdfium_content

    data = render_pdf(generate_report(9))
    doc = open_document(data)
    opened: dict[int, tuple[object, object]] = {}
    try:
        pages = scan_pages(doc, keep=opened)
        assert sorted(opened) == [p.number for p in pages if p.hits] and opened
        for number in list(opened):
            kept = pdfium_content(doc, number, opened=opened.pop(number))
            again = pdfium_content(doc, number)
            assert kept.chars and kept.chars == again.chars
            assert [(p.subpaths, p.stroked, p.filled) for p in kept.paths] == [
                (p.subpaths, p.stroked, p.filled) for p in again.paths
            ]
    finally:
        close_pages(opened)
        doc.close()


def test_both_readers_map_exactly_without_rules() -> None:
    # Word positions differ by fractions of a point between the readers (loose boxes vs font
    # boxes), enough to move a centred group label by one row; the facts must not move.
    report = generate_report(9)
    data = render_pdf(report, ruled=False)
    for backend in ("pdfium", "pdfplumber"):
        from xxgk.extractors import map_document

        result = map_document(extract_pdf(data, settings=PdfSettings(backend=backend)))
        assert facts_of(result) == expected_of(report), backend


def test_cjk_text_layer_is_extractable() -> None:
    report = generate_report(2, versions=V2021, defects=())
    raw = extract_pdf(render_pdf(report))
    assert "主动公开政府信息情况" in raw.text
    assert report.publisher in raw.title


def test_legacy_and_non_report_pdfs_get_their_status() -> None:
    for doc in (generate_legacy(1), generate_not_a_report(0), generate_not_a_report(1)):
        result = extract_document(render_pdf(doc), "doc.pdf")
        assert result.status == doc.expected_status, (doc.kind, result.reason)
        assert result.facts == []


# ---------------------------------------------------------------------------------------------
# Bad PDFs: a status and a reason, never a crash
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_pdf() -> bytes:
    return render_pdf(generate_report(4, versions=V2021, defects=()))


def test_scanned_pdf_needs_ocr() -> None:
    data = scanned_pdf(generate_report(4, versions=V2021, defects=()), pages=2)
    result = extract_document(data, "scan.pdf")
    assert result.status == "needs_ocr"
    assert "image-only" in result.reason and "text layer" in result.reason


def test_truncated_pdf_fails_with_reason(good_pdf: bytes) -> None:
    result = extract_document(truncated_pdf(good_pdf), "cut.pdf")
    assert (result.status, result.format) == ("failed", "pdf")
    assert "truncated" in result.reason


def test_encrypted_pdf_fails_with_reason() -> None:
    data = render_pdf(generate_report(4, versions=V2021, defects=()), password="secret")
    result = extract_document(data, "locked.pdf")
    assert result.status == "failed"
    assert "encrypted" in result.reason and "password" in result.reason


def test_owner_password_only_pdf_is_read() -> None:
    report = generate_report(4, versions=V2021, defects=())
    data = render_pdf(report, owner_password="owner")
    assert b"/Encrypt" in data
    assert facts_of(extract_document(data, "restricted.pdf")) == expected_of(report)


def test_corrupt_pdf_fails_with_reason() -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    result = extract_document(data, "junk.pdf")
    assert result.status == "failed"
    assert "corrupt" in result.reason


def test_decompression_bomb_stops_at_the_limit() -> None:
    data = bomb_pdf(4 * 1024 * 1024)
    assert len(data) < 20_000
    with pytest.raises(ExtractionError) as err:
        extract_pdf(data, settings=PdfSettings(max_inflated_bytes=1024 * 1024))
    assert err.value.status == "failed" and "decompression" in err.value.reason
    assert check_inflated_size(data, 8 * 1024 * 1024) == 4 * 1024 * 1024


def test_a_page_content_bomb_is_refused_before_pdfium_loads_the_page() -> None:
    """Issue 14 harness: 150 MiB of text operators (under the inflate limit) made PDFium abort the
    process under a 1 GiB limit (64 MiB took 930 MB). A page's content is bounded, also when it
    is split over an array of streams."""
    from xxgk.bench.hostile.files import MIB, content_bomb_pdf, write_pdf, zlib_bomb

    settings = PdfSettings(max_page_content_bytes=MIB)
    with pytest.raises(ExtractionError) as err:
        extract_pdf(content_bomb_pdf(2 * MIB), settings=settings)
    assert err.value.status == "failed" and err.value.reason.startswith("page content limit:")
    part = b"<< /Length %d /Filter /FlateDecode >>\nstream\n"
    piece = zlib_bomb(b"BT /F1 9 Tf 72 720 Td (0) Tj ET\n" * 1000, 40)  # ~1.3 MB each, two of them
    split = write_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R >>",
            part % len(piece) + piece + b"\nendstream",
            part % len(piece) + piece + b"\nendstream",
            b"[4 0 R 5 0 R]",
        ]
    )
    with pytest.raises(ExtractionError, match="page content limit"):
        extract_pdf(split, settings=PdfSettings(max_page_content_bytes=2 * MIB))
    try:  # under the bound the page is read (it is no report: whatever else it says is not the bound)
        extract_pdf(split, settings=PdfSettings(max_page_content_bytes=3 * MIB))
    except ExtractionError as other:
        assert "page content" not in other.reason


def test_size_and_page_limits(good_pdf: bytes) -> None:
    with pytest.raises(ExtractionError, match="too large"):
        extract_pdf(good_pdf, settings=PdfSettings(max_bytes=1000))
    with pytest.raises(ExtractionError, match="too many pages"):
        extract_pdf(good_pdf, settings=PdfSettings(max_pages=1))
    with pytest.raises(ExtractionError, match="characters"):
        extract_pdf(good_pdf, settings=PdfSettings(max_page_chars=50))
    # a page with too many drawing objects is skipped with a warning: its tables go missing
    raw = extract_pdf(good_pdf, settings=PdfSettings(max_page_objects=20))
    assert raw.grids == [] and any("page skipped: more than 20 drawing objects" in w for w in raw.warnings)


def test_not_a_pdf_and_a_pdf_without_report_text() -> None:
    with pytest.raises(ExtractionError, match="no %PDF- header"):
        extract_pdf(b"<html></html>")
    doc = generate_not_a_report(1)
    doc.blocks = [b for b in doc.blocks if isinstance(b, str) and "政府信息公开" not in b]
    doc.title = "会议通知"
    with pytest.raises(ExtractionError) as err:
        extract_pdf(render_pdf(doc))
    assert err.value.status == "not_a_report"


@pytest.mark.parametrize(
    "bad",
    [{"max_pages": 0}, {"snap_tolerance": -1}, {"backend": "mupdf"}, {"word_gap_em": 0}, {"max_bytes": 1.5}],
)
def test_settings_are_validated(bad: dict) -> None:
    with pytest.raises(ValueError):
        PdfSettings(**bad)


# ---------------------------------------------------------------------------------------------
# Pieces
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("总 计", "总计"),
        (
            "（二）部分公开（区分处理的，只计这一情 形，不\n计其他情形）",
            "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        ),
        ("三\n、\n本\n年\n度", "三、本年度"),
        ("5.要求行政机关确认或重 新出具\n已获取信息", "5.要求行政机关确认或重新出具已获取信息"),
        ("773\n0.28", "7730.28"),
        ("Open\nData  portal", "Open Data portal"),
        ("", ""),
    ],
)
def test_clean_pdf_text(raw: str, clean: str) -> None:
    assert clean_pdf_text(raw) == clean


def _latin_table_pdf(rotation: int = 0, in_form: bool = False) -> bytes:
    """A small ruled table in an embedded font (reportlab's Vera), displayed upright on a page
    turned by /Rotate, or drawn inside a form XObject moved by a matrix."""
    import io

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
    height = 842 if rotation == 180 else 595
    buf = io.BytesIO()
    cv = canvas.Canvas(buf, pagesize=(842, 595) if rotation == 0 else (595, 842))
    if rotation:
        cv.setPageRotation(rotation)
        cv.transform(*{90: (0, 1, -1, 0, 595, 0), 180: (-1, 0, 0, -1, 595, 842), 270: (0, -1, 1, 0, 0, 842)}[rotation])
    if in_form:
        cv.beginForm("table")
    cv.setFont("Vera", 10)
    cv.drawString(60, height - 60, "Applicants Table")
    ys, xs = [height - 80, height - 100, height - 120, height - 140], [60, 260, 320, 380]
    for y in ys:
        cv.line(xs[0], y, xs[-1], y)
    for x in xs:
        cv.line(x, ys[0], x, ys[-1])
    for i, row in enumerate([["Content", "Person", "Total"], ["New requests", "5", "6"], ["Carried over", "0", "1"]]):
        for j, text in enumerate(row):
            cv.drawString(xs[j] + 3, ys[i] - 14, text)
    if in_form:
        cv.endForm()
        cv.translate(10, -20)
        cv.doForm("table")
    cv.showPage()
    cv.save()
    return buf.getvalue()


LATIN = {"min_marker_hits": 1, "extra_markers": ("ApplicantsTable",)}
LATIN_GRID = [["Content", "Person", "Total"], ["New requests", "5", "6"], ["Carried over", "0", "1"]]


@pytest.mark.parametrize("backend", ["pdfium", "pdfplumber"])
@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_rotated_pages_are_read_upright(rotation: int, backend: str) -> None:
    raw = extract_pdf(_latin_table_pdf(rotation), settings=PdfSettings(backend=backend, **LATIN))
    assert [texts(g) for g in raw.grids] == [LATIN_GRID]


@pytest.mark.parametrize("backend", ["pdfium", "pdfplumber"])
def test_tables_inside_form_xobjects(backend: str) -> None:
    raw = extract_pdf(_latin_table_pdf(in_form=True), settings=PdfSettings(backend=backend, **LATIN))
    assert [texts(g) for g in raw.grids] == [LATIN_GRID]
    assert raw.grids[0].meta["bbox"] == "70.0,100.0,390.0,160.0"  # moved by the form's matrix


def _rect(x0: float, top: float, x1: float, bottom: float) -> list[tuple[float, float]]:
    return [(x0, top), (x1, top), (x1, bottom), (x0, bottom), (x0, top)]


def test_rules_come_from_strokes_and_thin_fills_not_cell_backgrounds() -> None:
    paths = [
        PaintedPath([_rect(10, 10, 110, 40)], stroked=False, filled=True),  # a cell background
        PaintedPath([_rect(10, 10, 110, 10.5)], stroked=False, filled=True),  # a Word rule
        PaintedPath([_rect(10, 50, 110, 80)], stroked=True, filled=False),  # a stroked cell
        PaintedPath([[(0, 0), (50, 50)]], stroked=True, filled=False),  # a diagonal
    ]
    edges = ruling_edges(paths)
    assert sorted(
        (e["orientation"], round(e["x0"]), round(e["top"]), round(e["x1"]), round(e["bottom"])) for e in edges
    ) == [
        ("h", 10, 10, 110, 10),
        ("h", 10, 50, 110, 50),
        ("h", 10, 80, 110, 80),
        ("v", 10, 50, 10, 80),
        ("v", 110, 50, 110, 80),
    ]


def test_close_frames_adds_the_rule_a_page_break_left_out() -> None:
    paths = [PaintedPath([[(10, 10), (110, 10)], [(10, 30), (110, 30)]], stroked=True, filled=False)]
    paths += [PaintedPath([[(x, 10), (x, 50)]], stroked=True, filled=False) for x in (10, 60, 110)]
    edges, frames = close_frames(ruling_edges(paths), 3.0)
    assert frames == [{"bbox": (10, 10, 110, 50), "open": ["bottom"]}]
    added = [e for e in edges if e["object_type"] == "frame"]
    assert [(e["orientation"], e["top"], e["x0"], e["x1"]) for e in added] == [("h", 50, 10, 110)]


def test_pdfium_is_used_by_one_thread_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """PDFium is not thread-safe (two PDFs in two threads crashed a run): the extractor holds a lock."""
    import xxgk.extractors.pdf.reader as pdf_module

    held: list[bool] = []
    real_open = pdf_module._pdfium_open

    def probe(data: bytes) -> object:
        held.append(pdf_module._PDFIUM_LOCK.locked())
        return real_open(data)

    monkeypatch.setattr(pdf_module, "_pdfium_open", probe)
    extract_pdf(render_pdf(generate_report(3)))
    assert held == [True]
    assert not pdf_module._PDFIUM_LOCK.locked()


def test_non_embedded_font_boxes_come_from_the_pdf_widths_not_the_machine_fonts() -> None:
    # PDFium drew the boxes of a non-embedded font with the outlines of whatever font the machine
    # substitutes (fonts-noto-cjk installed: 7 tests here failed). The boxes must follow the file's
    # own metrics (/W advances, descriptor descent, text matrix), which is what pdfminer reads.
    import io

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    cv = canvas.Canvas(buf)
    cv.saveState()
    cv.translate(100, 700)
    cv.scale(12, 12)
    text = cv.beginText(0, 0)
    text.setFont("STSong-Light", 1)
    text.textOut("\u603b\u8ba112")
    cv.drawText(text)
    cv.restoreState()
    cv.saveState()
    cv.translate(300, 500)
    cv.rotate(90)
    text = cv.beginText(0, 0)
    text.setFont("STSong-Light", 10)
    text.textOut("\u5408\u8ba13")
    cv.drawText(text)
    cv.restoreState()
    cv.showPage()
    cv.save()
    data = buf.getvalue()
    import pdfplumber

    from xxgk.extractors.pdf.pdfium_page import open_document, pdfium_content

    keys = ("x0", "x1", "top", "bottom")
    fast = [(c["text"], *(round(c[k], 2) for k in keys)) for c in pdfium_content(open_document(data), 1).chars]
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        slow = [(c["text"], *(round(c[k], 2) for k in keys)) for c in pdf.pages[0].chars]
    assert len(fast) == 7 and fast == slow
