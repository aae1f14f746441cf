"""Spreadsheet extraction (XLSX, XLS, WPS ET): numbers as printed, merged cells from the merge
list, sheet and cell references in locators, hostile workbooks, and synthetic round trips."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import python_calamine
import xlsxwriter

from tests.facts import expected_facts, printed_facts
from tests.office_docs import make_ods, render_xls
from xxgk.extractors import extract_document
from xxgk.extractors.base import ExtractionError
from xxgk.extractors.sheets import cell_ref, cell_text, extract_sheets, number_text
from xxgk.schemas.model import REQUESTS, V2019, V2021
from xxgk.synth.generate import generate_legacy, generate_report
from xxgk.synth.ole import as_written_by_wps
from xxgk.synth.xlsx import render_xlsx


def workbook(fill: object) -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    fill(wb)  # type: ignore[operator]
    wb.close()
    return out.getvalue()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3119.0, "3119"),
        (7730.28, "7730.28"),
        (0.1 + 0.2, "0.3"),
        (59237.2449, "59237.2449"),
        (-8.0, "-8"),
        (1e16, "10000000000000000"),
        (1.5e-7, "0.00000015"),
        (12345678.9, "12345678.9"),
    ],
)
def test_numbers_as_printed_without_float_noise(value: float, text: str) -> None:
    assert number_text(value) == text


def test_cell_values_rendered() -> None:
    assert cell_text(True) == "TRUE" and cell_text(False) == "FALSE"
    assert cell_text(3119) == "3119" and cell_text(" 增40 ") == " 增40 "
    assert cell_text(dt.date(2024, 1, 31)) == "2024-01-31"
    assert cell_text(dt.datetime(2024, 1, 31)) == "2024-01-31"
    assert cell_text(dt.datetime(2024, 1, 31, 9, 30)) == "2024-01-31 09:30"
    assert cell_text(dt.time(9, 30, 5)) == "09:30:05"
    assert cell_text(dt.timedelta(hours=26, minutes=3)) == "26:03:00"


def test_cell_references() -> None:
    assert [cell_ref(0, 0), cell_ref(4, 25), cell_ref(9, 26), cell_ref(0, 16383)] == ["A1", "Z5", "AA10", "XFD1"]


def test_merges_expanded_and_locator_names_sheet_and_range() -> None:
    def fill(wb: xlsxwriter.Workbook) -> None:
        ws = wb.add_worksheet("表三")
        ws.merge_range("B2:B4", "三、本年度办理结果")
        ws.merge_range("C2:D2", "法人或其他组织")
        ws.write("C3", "商业企业")
        ws.write("D3", 3119.0)
        ws.write("C4", "（七）总计")
        ws.write("D4", 7730.28)

    raw = extract_sheets(workbook(fill), "xlsx")
    (grid,) = raw.grids
    assert grid.locator == "xlsx sheet 表三!B2:D4" and grid.meta == {"sheet": "表三", "origin": "B2"}
    assert grid.texts() == [
        ["三、本年度办理结果", "法人或其他组织", "法人或其他组织"],
        ["三、本年度办理结果", "商业企业", "3119"],
        ["三、本年度办理结果", "（七）总计", "7730.28"],
    ]
    assert grid.rows[2][0].span_of == (0, 0) and grid.rows[0][2].span_of == (0, 1)
    value = grid.rows[2][2]
    assert cell_ref(1 + value.row, 1 + value.col) == "D4"  # origin B2 (row 1, col 1) + grid (2, 2)


def test_sheet_cut_into_grids_at_empty_rows_and_prose_kept_as_text() -> None:
    def fill(wb: xlsxwriter.Workbook) -> None:
        ws = wb.add_worksheet("报告")
        ws.merge_range("A1:D1", "某县2023年政府信息公开工作年度报告")
        ws.write("A3", "一、总体情况")
        ws.write("A4", "全年共收到申请21件。")
        ws.write("A6", "行政许可")
        ws.write("B6", 3)
        ws.write("A8", "行政处罚")
        ws.write("B8", 4)

    raw = extract_sheets(workbook(fill), "xlsx")
    assert [g.locator for g in raw.grids] == ["xlsx sheet 报告!A6:B6", "xlsx sheet 报告!A8:B8"]
    assert raw.text.splitlines()[:3] == ["某县2023年政府信息公开工作年度报告", "一、总体情况", "全年共收到申请21件。"]


def test_hidden_sheet_not_read_and_said_so() -> None:
    report = generate_report(2, versions=V2021)
    data = render_xlsx(report, hidden_sheet=True)
    stale = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("旧稿").to_python()
    assert stale and stale[-1] != []  # the decoy holds a table 四 with other numbers
    result = extract_document(data, "report.xlsx")
    assert printed_facts(result) == expected_facts(report)
    assert "hidden sheet '旧稿' not read" in result.warnings


def test_sheet_past_the_cell_bound_is_refused() -> None:
    def fill(wb: xlsxwriter.Workbook) -> None:
        ws = wb.add_worksheet("表")
        ws.write("A1", "报告")
        ws.write("XFD1048576", 1)

    data = workbook(fill)
    with pytest.raises(ExtractionError) as err:
        extract_sheets(data, "xlsx")  # calamine would abort the process allocating 17e9 cells
    assert err.value.status == "failed" and "17179869184 cells" in err.value.reason and "200000" in err.value.reason


def test_formatting_only_cells_far_away_do_not_count() -> None:
    def fill(wb: xlsxwriter.Workbook) -> None:
        ws = wb.add_worksheet("表")
        ws.write("A1", "行政许可")
        ws.write("B1", 3)
        ws.write_blank("XFD1048576", None, wb.add_format({"border": 1}))

    assert extract_sheets(workbook(fill), "xlsx").grids[0].texts() == [["行政许可", "3"]]


def test_xls_past_the_cell_bound_is_refused_before_loading() -> None:
    import xlwt

    book = xlwt.Workbook()
    ws = book.add_sheet("表")
    ws.write(0, 0, "报告")
    ws.write(65535, 255, 1)
    out = io.BytesIO()
    book.save(out)
    result = extract_document(out.getvalue(), "big.xls")
    assert result.status == "failed" and "16777216 cells" in result.reason


def test_unreadable_and_empty_workbooks_fail_with_a_reason() -> None:
    result = extract_document(render_xls(generate_report(1))[:3000], "a.xls")
    assert result.status == "failed" and "damaged OLE2" in result.reason
    empty = workbook(lambda wb: wb.add_worksheet("空"))
    result = extract_document(empty, "a.xlsx")
    assert result.status == "failed" and "no cell with content" in result.reason


VERSIONS = [(V2019, V2019), (V2021, V2021), (V2021, V2019)]
XLSX_OPTIONS = [{}, {"split_requests": True}, {"sheet_per_table": True, "hidden_sheet": True}]


@pytest.mark.parametrize("options", XLSX_OPTIONS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("versions", VERSIONS, ids=lambda v: f"{v[0]}-layout{v[1]}")
def test_synthetic_xlsx_round_trips_exactly(versions: tuple[str, str], options: dict) -> None:
    version, layout = versions
    report = generate_report(1, versions=version, requests_layout=layout)
    result = extract_document(render_xlsx(report, **options), "report.xlsx")
    assert (result.status, result.format) == ("ok", "xlsx"), result.reason
    assert printed_facts(result) == expected_facts(report)
    assert result.template_versions == report.versions and result.year == report.year


@pytest.mark.parametrize("fmt", ["xls", "et"])
@pytest.mark.parametrize("versions", VERSIONS[:2], ids=lambda v: v[0])
def test_synthetic_xls_and_et_round_trip_exactly(versions: tuple[str, str], fmt: str) -> None:
    version, layout = versions
    report = generate_report(2, versions=version, requests_layout=layout)
    data = render_xls(report, split_requests=True)
    if fmt == "et":
        data = as_written_by_wps(data)
    result = extract_document(data, f"report.{fmt}")
    assert (result.status, result.format) == ("ok", fmt), result.reason
    assert printed_facts(result) == expected_facts(report)


@pytest.mark.parametrize("seed", range(10, 18))
def test_synthetic_xlsx_with_random_defects_round_trips(seed: int) -> None:
    report = generate_report(seed)
    result = extract_document(render_xlsx(report, **XLSX_OPTIONS[seed % 3]), "report.xlsx")
    assert printed_facts(result) == expected_facts(report), report.defects


def test_facts_trace_back_to_their_cells() -> None:
    report = generate_report(3, versions=V2019, defects=())
    data = render_xlsx(report, split_requests=True)
    result = extract_document(data, "report.xlsx")
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("报告").to_python()
    requests = [f for f in result.facts if f.table == REQUESTS]
    assert len({f.locator for f in requests}) == 2  # the split table: two ranges of the sheet
    for fact in result.facts:
        origin = fact.locator.rsplit("!", 1)[1].split(":")[0]
        col = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(origin.rstrip("0123456789")))) - 1
        row = int(origin[len(origin.rstrip("0123456789")) :]) - 1
        assert cell_text(sheet[row + fact.grid_row][col + fact.grid_col]) == report.cells[(fact.table, fact.row_key, fact.column_key)]


def test_numbers_stay_number_cells_in_the_synthetic_workbook() -> None:
    report = generate_report(1, versions=V2021, defects=())
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(render_xlsx(report))).get_sheet_by_index(0)
    values = [v for row in sheet.to_python() for v in row]
    assert any(isinstance(v, float) for v in values)  # the reader meets real number cells


def test_legacy_workbook_gets_its_status() -> None:
    doc = generate_legacy(0)
    result = extract_document(render_xlsx(doc), "old.xlsx")
    assert result.status == "legacy", result.reason


_ODS_ROWS = (
    '<table:table-row><table:table-cell table:number-rows-spanned="2" office:value-type="string">'
    "<text:p>三、本年度办理结果</text:p></table:table-cell>"
    '<table:table-cell office:value-type="float" office:value="3119"><text:p>3119</text:p></table:table-cell></table:table-row>'
    '<table:table-row><table:covered-table-cell/><table:table-cell office:value-type="float" office:value="7730.28">'
    "<text:p>7730.28</text:p></table:table-cell></table:table-row>"
    '<table:table-row table:number-rows-repeated="1048570"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
)


def test_ods_merges_come_from_the_spans_calamine_does_not_report() -> None:
    raw = extract_sheets(make_ods(_ODS_ROWS), "ods")
    (grid,) = raw.grids
    assert grid.locator == "ods sheet 表!A1:B2"
    assert grid.texts() == [["三、本年度办理结果", "3119"], ["三、本年度办理结果", "7730.28"]]
    assert grid.rows[1][0].span_of == (0, 0)


def test_ods_repeated_filled_cell_past_the_bound_is_refused() -> None:
    rows = '<table:table-row table:number-rows-repeated="100000"><table:table-cell table:number-columns-repeated="100" office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
    result = extract_document(make_ods(rows), "a.ods")
    assert result.status == "failed" and "10000000 cells" in result.reason
