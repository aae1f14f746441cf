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

from xxgk.extractors import map_document
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
