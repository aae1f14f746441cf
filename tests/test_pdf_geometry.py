"""PDF cells read from geometry: every cell's printed box, rows of tables ruled only in part, and
vertical label text interleaved with the data rows (issue 9, failure class 7).

A drawn cell that holds a label and the row's first number (a rule left out), or several numbers,
must give every value to the column it is printed in; where geometry cannot tell, the row's cells
are ``ambiguous`` with the reason in their note, never shifted by one.
"""

from __future__ import annotations

from typing import Any

import pypdfium2 as pdfium
import pytest

from tests.corpus import corpus_path
from xxgk.extractors import extract_document, map_document
from xxgk.extractors.pdf import PdfSettings, extract_pdf, grid_from_cells
from xxgk.schemas.grid import BOX_POINTS, Grid
from xxgk.schemas.model import V2019, V2021
from xxgk.schemas.values import AMBIGUOUS
from xxgk.synth.generate import generate_report
from xxgk.synth.pdf import render_pdf, render_pdf_with_boxes

BACKENDS = ("pdfium", "pdfplumber")
_PLACED = "placed by its printed position: no rule drawn between it and the cell beside it"


def facts_of(result: Any) -> dict[tuple[str, str, str], tuple[object, ...]]:
    return {(f.table, f.row_key, f.column_key): (f.raw_text, f.value, f.unit, f.value_status) for f in result.facts}


def expected_of(report: Any) -> dict[tuple[str, str, str], tuple[object, ...]]:
    return {
        (e["table"], e["row_key"], e["column_key"]): (e["raw_text"], e["value"], e["unit"], e["status"])
        for e in report.expected_facts()
    }


def read(data: bytes, backend: str) -> Any:
    return map_document(extract_pdf(data, settings=PdfSettings(backend=backend)))


def cells_of(grid: Grid) -> list[list[tuple[str, str | None, tuple[float, ...] | None]]]:
    return [[(c.text, c.hint, c.bbox) for c in row] for row in grid.rows]


# ---------------------------------------------------------------------------------------------
# Failure class 7: vertical label text interleaved with data rows, rules left out
# ---------------------------------------------------------------------------------------------


def test_synthetic_text_layer_interleaves_vertical_label_with_data_rows() -> None:
    """The generator really writes the defect: 三 of the vertical label comes in the text layer
    between the data rows, on the line of （一）予以公开 and its numbers."""
    report = generate_report(3, versions=V2021, defects=())
    data = render_pdf(report, vertical_spread=True, interleaved_text=True)
    doc = pdfium.PdfDocument(data)
    try:
        text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()
    granted = expected_of(report)[("requests", "granted", "natural_person")][0]
    assert f"三 （一）予以公开 {granted} " in text


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("version", [V2019, V2021])
def test_vertical_label_text_does_not_shift_a_row(version: str, backend: str) -> None:
    """Vertical 三、本年度办理结果 spread over its merged cell, text layer interleaved, and no rule
    between each row label and its first number: before, the first number went into the label
    (``1.属于国家秘密 86``) and the row's other numbers moved one column to the left."""
    report = generate_report(5, versions=version, defects=())
    data = render_pdf(report, vertical_spread=True, interleaved_text=True, missing_rules=("label_value",))
    result = read(data, backend)
    assert result.status == "ok", result.reason
    assert facts_of(result) == expected_of(report)


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_rules_between_values_do_not_join_them(backend: str) -> None:
    """No rule between label and value nor between values (``43 14 553`` in one drawn cell):
    each number is read in the column it is printed in, never as one number 4314553."""
    report = generate_report(8, versions=V2021, defects=())
    data = render_pdf(report, vertical_spread=True, interleaved_text=True, missing_rules=("label_value", "value_value"))
    result = read(data, backend)
    assert result.status == "ok", result.reason
    assert facts_of(result) == expected_of(report)


@pytest.mark.parametrize("backend", BACKENDS)
def test_vertical_label_text_without_rules_does_not_shift_a_row(backend: str) -> None:
    report = generate_report(3, versions=V2019, defects=())
    data = render_pdf(report, vertical_spread=True, interleaved_text=True, ruled=False)
    result = read(data, backend)
    assert result.status == "ok", result.reason
    assert facts_of(result) == expected_of(report)


# A small ruled table: header, one fully ruled row, then a row whose cells are drawn by the test.
_HEAD_CELLS = [
    (0, 0, 100, 20),
    (100, 0, 150, 20),
    (150, 0, 200, 20),
    (200, 0, 250, 20),
    (0, 20, 100, 40),
    (100, 20, 150, 40),
    (150, 20, 200, 40),
    (200, 20, 250, 40),
]


def _word(text: str, x0: float, top: float, width: float = 5.0) -> list[dict[str, Any]]:
    return [
        {"text": ch, "x0": x0 + i * width, "x1": x0 + (i + 1) * width, "top": top + 5, "bottom": top + 15, "size": 10.0}
        for i, ch in enumerate(text)
    ]


_HEAD_CHARS = [
    *_word("项目", 10, 0, 10),
    *_word("甲", 120, 0, 10),
    *_word("乙", 170, 0, 10),
    *_word("合计", 215, 0, 10),
    *_word("规章", 10, 20, 10),
    *_word("1", 120, 20),
    *_word("2", 170, 20),
    *_word("3", 220, 20),
]
_HEAD_ROWS = [
    [
        ("项目", None, (0, 0, 100, 20)),
        ("甲", None, (100, 0, 150, 20)),
        ("乙", None, (150, 0, 200, 20)),
        ("合计", None, (200, 0, 250, 20)),
    ],
    [
        ("规章", None, (0, 20, 100, 40)),
        ("1", None, (100, 20, 150, 40)),
        ("2", None, (150, 20, 200, 40)),
        ("3", None, (200, 20, 250, 40)),
    ],
]


def test_first_number_in_the_label_cell_is_placed_in_its_column() -> None:
    cells = [*_HEAD_CELLS, (0, 40, 150, 60), (150, 40, 200, 60), (200, 40, 250, 60)]
    chars = [
        *_HEAD_CHARS,
        *_word("文件", 10, 40, 10),
        *_word("4", 120, 40),
        *_word("6", 170, 40),
        *_word("10", 220, 40),
    ]
    grid = grid_from_cells(cells, chars, 1, "t")
    assert cells_of(grid) == [
        *_HEAD_ROWS,
        [
            ("文件", None, (0, 40, 100, 60)),
            ("4", None, (100, 40, 150, 60)),
            ("6", None, (150, 40, 200, 60)),
            ("10", None, (200, 40, 250, 60)),
        ],
    ]
    assert grid.rows[2][1].note == _PLACED
    assert "unplaced_rows" not in grid.meta


def test_a_value_printed_across_a_column_rule_is_ambiguous_not_shifted() -> None:
    cells = [*_HEAD_CELLS, (0, 40, 150, 60), (150, 40, 200, 60), (200, 40, 250, 60)]
    chars = [
        *_HEAD_CHARS,
        *_word("文件", 10, 40, 10),
        *_word("12345", 90, 40),
        *_word("6", 170, 40),
        *_word("7", 220, 40),
    ]
    grid = grid_from_cells(cells, chars, 1, "t")
    assert cells_of(grid) == [
        *_HEAD_ROWS,
        [
            ("文件 12345", AMBIGUOUS, (0, 40, 150, 60)),
            ("文件 12345", AMBIGUOUS, (0, 40, 150, 60)),
            ("6", AMBIGUOUS, (150, 40, 200, 60)),
            ("7", AMBIGUOUS, (200, 40, 250, 60)),
        ],
    ]
    assert all("文件 12345" in c.note for c in grid.rows[2])
    assert grid.meta["unplaced_rows"] == "2"


def test_one_value_in_a_cell_the_rows_above_cut_is_ambiguous() -> None:
    """``9`` drawn across the columns 甲 and 乙 that the row above separates: merged on purpose or
    beside a blank whose rule is missing; its column cannot be told."""
    cells = [*_HEAD_CELLS, (0, 40, 100, 60), (100, 40, 200, 60), (200, 40, 250, 60)]
    chars = [*_HEAD_CHARS, *_word("文件", 10, 40, 10), *_word("9", 120, 40), *_word("7", 220, 40)]
    grid = grid_from_cells(cells, chars, 1, "t")
    assert cells_of(grid) == [
        *_HEAD_ROWS,
        [
            ("文件", None, (0, 40, 100, 60)),
            ("9", AMBIGUOUS, (100, 40, 200, 60)),
            ("9", AMBIGUOUS, (100, 40, 200, 60)),
            ("7", AMBIGUOUS, (200, 40, 250, 60)),
        ],
    ]
    assert grid.rows[2][1].note == "the ruled cell '9' spans columns that the rows above it separate"


# ---------------------------------------------------------------------------------------------
# Every PDF cell carries its printed box; facts keep it
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_pdf_facts_carry_the_box_their_cell_was_drawn_in(backend: str) -> None:
    report = generate_report(5, versions=V2021, defects=())
    # one table a page: rules of two tables on a page are snapped together (within 3 pt)
    data, drawn = render_pdf_with_boxes(report, break_before_tables=True)
    result = read(data, backend)
    assert result.status == "ok", result.reason
    assert len(result.facts) == len(expected_of(report))
    for fact in result.facts:
        assert fact.box_unit == BOX_POINTS
        (page, box), *_ = drawn[(fact.table, fact.row_key, fact.column_key)]
        assert fact.page == page
        assert fact.bbox == pytest.approx(box, abs=1e-3), (fact.table, fact.row_key, fact.column_key)


@pytest.mark.parametrize("backend", BACKENDS)
def test_word_position_cells_carry_the_box_of_their_text(backend: str) -> None:
    """Unruled tables: a value's box is its printed text, inside the cell the generator drew."""
    report = generate_report(5, versions=V2021, defects=())
    data, drawn = render_pdf_with_boxes(report, ruled=False)
    result = read(data, backend)
    assert result.status == "ok", result.reason
    raw = extract_pdf(data, settings=PdfSettings(backend=backend))
    assert all(g.box_unit == BOX_POINTS for g in raw.grids)
    boxed = [f for f in result.facts if f.raw_text]
    assert boxed
    for fact in boxed:
        assert fact.box_unit == BOX_POINTS and fact.bbox is not None
        x0, top, x1, bottom = fact.bbox
        assert any(
            page == fact.page and b[0] <= x0 < x1 <= b[2] and b[1] <= top < bottom <= b[3]
            for page, b in drawn[(fact.table, fact.row_key, fact.column_key)]
        ), (fact.table, fact.row_key, fact.column_key, fact.bbox)


def _pdfium_text_in(data: bytes, page_no: int, box: tuple[float, float, float, float]) -> str:
    """What PDFium itself reads inside a top-left box (its text page counts from the bottom-left),
    blanks dropped: a check of the boxes that does not go through the extractor's geometry."""
    doc = pdfium.PdfDocument(data)
    try:
        page = doc[page_no - 1]
        height = page.get_height()
        textpage = page.get_textpage()
        x0, top, x1, bottom = box
        text = textpage.get_text_bounded(left=x0, bottom=height - bottom, right=x1, top=height - top)
        textpage.close()
        page.close()
    finally:
        doc.close()
    return "".join(text.split())


#: A few cells of ``generate_report(5, versions=V2021)`` and where they are printed (page, box in
#: points from the top-left): the drawn cell when ruled, the printed digits when not.
_GOLDEN_BOXES: dict[bool, dict[tuple[str, str, str], tuple[int, tuple[float, float, float, float]]]] = {
    True: {
        ("proactive", "rules", "issued"): (1, (207.0, 520.4, 310.667, 539.4)),
        ("requests", "new_requests", "natural_person"): (2, (294.0, 154.0, 326.0, 173.0)),
        ("requests", "new_requests", "total"): (2, (486.0, 154.0, 518.0, 173.0)),
    },
    False: {
        ("proactive", "rules", "issued"): (1, (256.52, 525.61, 261.14, 535.61)),
        ("requests", "new_requests", "natural_person"): (2, (303.07, 159.21, 316.93, 169.21)),
        ("requests", "new_requests", "total"): (2, (495.07, 159.21, 508.93, 169.21)),
    },
}


@pytest.mark.parametrize("ruled", [True, False], ids=["ruled", "word-positions"])
def test_every_fact_of_a_pdf_has_its_page_and_the_box_its_text_is_printed_in(ruled: bool) -> None:
    """Through ``extract_document``, the pipeline's entry point: every fact read from a PDF has its
    page and box (``pt``), PDFium finds the fact's printed text inside that box, and known cells sit
    where the golden boxes say.

    Regression: the pass that reads pictures on PDF pages imported the PDFium lock by a name the
    pdf package no longer exported, so every PDF read through ``extract_document`` raised
    ImportError (only the corpus tests, which skip without ../shared/corpus, went that way)."""
    report = generate_report(5, versions=V2021, defects=())
    data = render_pdf(report, ruled=ruled)
    result = extract_document(data, "report.pdf")
    assert (result.status, result.format) == ("ok", "pdf"), result.reason
    assert facts_of(result) == expected_of(report)
    for fact in result.facts:
        where = (fact.table, fact.row_key, fact.column_key, fact.bbox)
        assert fact.page is not None and fact.bbox is not None and fact.box_unit == BOX_POINTS, where
        assert _pdfium_text_in(data, fact.page, fact.bbox) == "".join(fact.raw_text.split()), where
    by_key = {(f.table, f.row_key, f.column_key): f for f in result.facts}
    for key, (page, box) in _GOLDEN_BOXES[ruled].items():
        assert by_key[key].page == page, key
        assert by_key[key].bbox == pytest.approx(box, abs=0.05), key


def _merged_groups(grid: Grid) -> dict[tuple[int, int], list[Any]]:
    groups: dict[tuple[int, int], list[Any]] = {}
    for row in grid.rows:
        for cell in row:
            groups.setdefault(cell.span_of or (cell.row, cell.col), []).append(cell)
    return groups


@pytest.mark.parametrize("source", ["synthetic", "hongze_2023.pdf"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_merged_ruled_cells_carry_the_box_of_the_merged_area(source: str, backend: str) -> None:
    """A merged cell (the vertical 三、本年度办理结果 over many rows, 行政诉讼 over columns) and all its
    copies have one box: the drawn cell, from the rule before its first row/column to the rule after
    its last, which are the same rules every other cell of those rows/columns uses."""
    if source == "synthetic":
        data = render_pdf(generate_report(5, versions=V2021, defects=()))
    else:
        data = corpus_path(source).read_bytes()
    grids = extract_pdf(data, settings=PdfSettings(backend=backend)).grids
    assert grids and all(g.meta["method"] == "rules" for g in grids)
    spans_rows = spans_cols = 0
    for grid in grids:
        rules: dict[tuple[str, int], set[float]] = {}
        for anchor, cells in _merged_groups(grid).items():
            boxes = {c.bbox for c in cells}
            assert len(boxes) == 1 and None not in boxes, (grid.locator, anchor, boxes)
            x0, top, x1, bottom = boxes.pop()
            rows, cols = {c.row for c in cells}, {c.col for c in cells}
            spans_rows += len(rows) > 1
            spans_cols += len(cols) > 1
            for side, value in (
                (("x", min(cols)), x0),
                (("x", max(cols) + 1), x1),
                (("y", min(rows)), top),
                (("y", max(rows) + 1), bottom),
            ):
                rules.setdefault(side, set()).add(round(value, 3))
        assert all(len(at) == 1 for at in rules.values()), (
            grid.locator,
            {k: v for k, v in rules.items() if len(v) > 1},
        )
    assert spans_rows and spans_cols
