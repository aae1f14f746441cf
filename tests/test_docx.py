"""DOCX extraction: Word's merge model, markup that must not leak into labels, layout tables,
text boxes, hostile packages, and synthetic reports round-tripped through ``extract_document``."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.facts import expected_facts, printed_facts
from tests.office_docs import make_docx, p, tbl, tc, tr
from xxgk.extractors import extract_document
from xxgk.extractors.base import ExtractionError
from xxgk.extractors.docx import MAX_EXPANDED_CELLS, extract_docx
from xxgk.schemas.model import REQUESTS, REQUESTS_SPEC, V2019, V2021
from xxgk.synth.docx import render_docx
from xxgk.synth.generate import generate_legacy, generate_not_a_report, generate_report


def grid_texts(data: bytes, n: int = 0) -> list[list[str]]:
    return extract_docx(data).grids[n].texts()


def run(text: str, rpr: str = "") -> str:
    return f'<w:r><w:rPr>{rpr}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'


# ---------------------------------------------------------------------------------------------
# Merged cells
# ---------------------------------------------------------------------------------------------


def test_grid_span_and_vmerge_expanded_with_span_of() -> None:
    body = tbl(
        tr(tc("三、本年度办理结果", vmerge="restart"), tc("法人或其他组织", span=2)),
        tr(tc(vmerge="continue"), tc("商业企业"), tc("科研机构")),
        tr(tc("（七）总计"), tc("1"), tc("2")),
    )
    grid = extract_docx(make_docx(body)).grids[0]
    assert grid.texts() == [
        ["三、本年度办理结果", "法人或其他组织", "法人或其他组织"],
        ["三、本年度办理结果", "商业企业", "科研机构"],
        ["（七）总计", "1", "2"],
    ]
    assert [c.span_of for c in grid.rows[0]] == [None, None, (0, 1)]
    assert grid.rows[1][0].span_of == (0, 0) and grid.rows[1][0].is_span_copy
    assert grid.locator == "docx table 1" and grid.rows[2][2].row == 2 and grid.rows[2][2].col == 2


def test_vmerge_continue_shows_the_anchor_text_not_its_own() -> None:
    body = tbl(tr(tc("（三）不予公开", vmerge="restart"), tc("1.属于国家秘密")), tr(tc("残留", vmerge="continue"), tc("2.其他")), cols=2)
    assert grid_texts(make_docx(body)) == [["（三）不予公开", "1.属于国家秘密"], ["（三）不予公开", "2.其他"]]


def test_vmerge_continue_with_nothing_mergeable_above_stands_alone() -> None:
    body = tbl(tr(tc("甲"), tc("乙")), tr(tc("丙", vmerge="continue"), tc("丁")), cols=2)
    grid = extract_docx(make_docx(body)).grids[0]
    assert grid.texts() == [["甲", "乙"], ["丙", "丁"]] and grid.rows[1][0].span_of is None


def test_vmerge_spanning_several_columns_and_rows() -> None:
    body = tbl(
        tr(tc("表头", span=2, vmerge="restart"), tc("总计")),
        tr(tc(span=2, vmerge="continue"), tc("5")),
        tr(tc(span=2, vmerge="continue"), tc("6")),
    )
    grid = extract_docx(make_docx(body)).grids[0]
    assert grid.texts() == [["表头", "表头", "总计"], ["表头", "表头", "5"], ["表头", "表头", "6"]]
    assert [c.span_of for c in grid.rows[2]] == [(0, 0), (0, 0), None]


def test_grid_before_and_hmerge() -> None:
    before = tr(tc("a"), tc("b"), props='<w:gridBefore w:val="1"/>')
    hmerge = tr(tc("x"), '<w:tc><w:tcPr><w:hMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>y</w:t></w:r></w:p></w:tc>',
                '<w:tc><w:tcPr><w:hMerge/></w:tcPr><w:p/></w:tc>')
    grid = extract_docx(make_docx(tbl(before, hmerge))).grids[0]
    assert grid.texts() == [["", "a", "b"], ["x", "y", "y"]]
    assert grid.rows[0][0].note == "no cell at this position in the source table"
    assert grid.rows[1][2].span_of == (1, 1)


def test_deleted_row_and_rows_in_content_controls() -> None:
    deleted = tr(tc("旧行"), tc("9"), props='<w:del w:id="1" w:author="a" w:date="2024-01-01T00:00:00Z"/>')
    wrapped = f"<w:sdt><w:sdtPr/><w:sdtContent>{tr(tc('行政许可'), tc('3'))}</w:sdtContent></w:sdt>"
    cell_in_sdt = tr(tc("行政处罚"), f"<w:sdt><w:sdtContent>{tc('4')}</w:sdtContent></w:sdt>")
    assert grid_texts(make_docx(tbl(deleted, wrapped, cell_in_sdt, cols=2))) == [["行政许可", "3"], ["行政处罚", "4"]]


def test_expansion_past_the_cell_bound_is_refused() -> None:
    rows = "".join(tr(tc("x", span=1000)) for _ in range(MAX_EXPANDED_CELLS // 1000 + 1))
    data = make_docx(tbl(rows, tr(tc("a"), tc("b"))))
    assert len(data) < 20_000  # a small file that would expand to >200,000 cells
    with pytest.raises(ExtractionError) as err:
        extract_docx(data)
    assert err.value.status == "failed" and str(MAX_EXPANDED_CELLS) in err.value.reason
    assert extract_document(data, "x.docx").status == "failed"


# ---------------------------------------------------------------------------------------------
# Word markup never reaches a label
# ---------------------------------------------------------------------------------------------


def test_field_code_dropped_field_result_kept() -> None:
    field = (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> =SUM(LEFT) </w:instrText></w:r>'
        '<w:r><w:t>CODE AS TEXT</w:t></w:r>'  # some writers put code text in w:t: still code
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>12</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    simple = '<w:fldSimple w:instr=" PAGE "><w:r><w:t>3</w:t></w:r></w:fldSimple>'
    body = tbl(tr(tc("总计"), tc(inner=f"<w:p>{field}</w:p>"), tc(inner=f"<w:p>{simple}</w:p>")))
    assert grid_texts(make_docx(body)) == [["总计", "12", "3"]]


def test_nested_fields() -> None:
    inner = (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>IF </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
        '<w:r><w:instrText> = 1 "A" "B"</w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>A</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    assert extract_docx(make_docx(f"<w:p>{run('值')}{inner}</w:p>")).text == "值A"


def test_hidden_deleted_and_moved_text_left_out() -> None:
    label = (
        "<w:p>"
        + run("1.属于")
        + run("隐藏", "<w:vanish/>")
        + '<w:del w:id="1" w:author="a" w:date="2024-01-01T00:00:00Z"><w:r><w:delText>删除</w:delText></w:r></w:del>'
        + '<w:moveFrom w:id="2" w:author="a" w:date="2024-01-01T00:00:00Z"><w:r><w:t>移走</w:t></w:r></w:moveFrom>'
        + '<w:ins w:id="3" w:author="a" w:date="2024-01-01T00:00:00Z"><w:r><w:t>国家</w:t></w:r></w:ins>'
        + '<w:moveTo w:id="4" w:author="a" w:date="2024-01-01T00:00:00Z"><w:r><w:t>秘</w:t></w:r></w:moveTo>'
        + run("密", '<w:vanish w:val="0"/>')
        + '<w:proofErr w:type="spellStart"/><w:bookmarkStart w:id="0" w:name="a"/><w:bookmarkEnd w:id="0"/>'
        + "</w:p>"
    )
    body = tbl(tr(tc(inner=label), tc("7")), cols=2)
    assert grid_texts(make_docx(body)) == [["1.属于国家秘密", "7"]]


def test_text_hidden_by_character_and_paragraph_styles() -> None:
    styles = (
        '<w:style w:type="character" w:styleId="Secret"><w:rPr><w:vanish/></w:rPr></w:style>'
        '<w:style w:type="character" w:styleId="Secret2"><w:basedOn w:val="Secret"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="HiddenPara"><w:rPr><w:vanish/></w:rPr></w:style>'
    )
    body = (
        '<w:p><w:pPr><w:pStyle w:val="HiddenPara"/></w:pPr>' + run("2017年政府信息公开工作年度报告") + "</w:p>"
        + "<w:p>" + run("行政") + run("X", '<w:rStyle w:val="Secret"/>') + run("Y", '<w:rStyle w:val="Secret2"/>')
        + run("许可", '<w:rStyle w:val="Secret"/><w:vanish w:val="0"/>') + "</w:p>"
    )
    assert extract_docx(make_docx(body, styles=styles)).text == "行政许可"


def test_soft_hyphens_zero_width_and_special_characters() -> None:
    body = (
        "<w:p>"
        + run("政府\u00ad信息\u200b公开")
        + "<w:r><w:softHyphen/><w:t>工作</w:t><w:noBreakHyphen/><w:t>年度</w:t><w:tab/><w:t>报告</w:t></w:r>"
        + '<w:r><w:sym w:font="Wingdings" w:char="F0FC"/><w:footnoteReference w:id="1"/></w:r>'
        + "</w:p>"
    )
    assert extract_docx(make_docx(body)).text == "政府信息公开工作-年度\t报告"


def test_text_box_read_once_after_its_paragraph() -> None:
    box = "<w:txbxContent>" + p("某某区2023年政府信息公开工作年度报告") + "</w:txbxContent>"
    drawing = (
        "<w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wps:wsp><wps:txbx>"
        f"{box}</wps:txbx></wps:wsp></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>"
        f"{box}</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    raw = extract_docx(make_docx(f"<w:p>{run('封面')}{drawing}</w:p>" + p("正文")))
    assert raw.text == "封面\n某某区2023年政府信息公开工作年度报告\n正文"


def test_table_inside_a_text_box_is_a_grid() -> None:
    table = tbl(tr(tc("行政许可"), tc("3")), cols=2)
    drawing = f"<w:r><w:pict><v:shape><v:textbox><w:txbxContent>{table}<w:p/></w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
    raw = extract_docx(make_docx(f"<w:p>{drawing}</w:p>"))
    assert [g.texts() for g in raw.grids] == [[["行政许可", "3"]]]


def test_frame_table_around_a_table_gives_the_inner_grid_only() -> None:
    inner = tbl(tr(tc("行政许可"), tc("3")), tr(tc("行政处罚"), tc("4")), cols=2)
    frame = tbl(tr(tc(inner=p("表格标题") + inner + "<w:p/>")), cols=1)
    raw = extract_docx(make_docx(frame))
    assert [g.texts() for g in raw.grids] == [[["行政许可", "3"], ["行政处罚", "4"]]]
    assert raw.grids[0].locator == "docx table 1" and raw.text.startswith("表格标题")


def test_prose_in_a_table_cell_is_text_not_a_grid() -> None:
    prose = "本机关" + "认真贯彻落实政府信息公开条例。" * 30
    raw = extract_docx(make_docx(tbl(tr(tc("说明"), tc(prose)), cols=2)))
    assert raw.grids == [] and prose in raw.text


def test_alt_chunk_html_is_read_in_place() -> None:
    html = "<html><body><p>附表</p><table><tr><td>行政许可</td><td>3</td></tr><tr><td>行政处罚</td><td>4</td></tr></table></body></html>"
    rel = '<Relationship Id="rIdC" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk" Target="chunk.htm"/>'
    data = make_docx(p("前言") + '<w:altChunk r:id="rIdC"/>', doc_rels=rel, parts={"word/chunk.htm": html.encode()})
    raw = extract_docx(data)
    assert [g.texts() for g in raw.grids] == [[["行政许可", "3"], ["行政处罚", "4"]]]
    assert raw.grids[0].locator == "docx table 1 (altChunk rIdC)"


# ---------------------------------------------------------------------------------------------
# Hostile and broken packages
# ---------------------------------------------------------------------------------------------


def test_external_entities_are_not_resolved() -> None:
    doc = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        "<w:p><w:r><w:t>报告&x;</w:t></w:r></w:p></w:body></w:document>"
    )
    data = make_docx("", parts={})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, doc if info.filename == "word/document.xml" else src.read(info))
    raw = extract_docx(out.getvalue())
    assert raw.text == "报告"


def test_zip_bomb_part_is_refused() -> None:
    data = make_docx(p("报告"), parts={"word/media/filler.bin": b"\0" * (4 * 1024 * 1024)})
    result = extract_document(data, "report.docx")
    assert result.status == "failed" and "zip bomb" in result.reason


def test_package_without_main_part_or_body_fails_with_a_reason() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/styles.xml", "<w:styles/>")
    result = extract_document(out.getvalue(), "a.docx")
    assert result.status == "failed" and "main document part" in result.reason
    assert extract_document(make_docx(""), "a.docx").status == "failed"


# ---------------------------------------------------------------------------------------------
# Synthetic reports
# ---------------------------------------------------------------------------------------------

VERSIONS = [(V2019, V2019), (V2021, V2021), (V2021, V2019)]
OPTIONS = [
    {},
    {"word_markup": True},
    {"split_requests": True},
    {"nested_layout": True, "title_box": True},
    {"word_markup": True, "split_requests": True, "nested_layout": True, "title_box": True},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("versions", VERSIONS, ids=lambda v: f"{v[0]}-layout{v[1]}")
def test_synthetic_docx_round_trips_exactly(versions: tuple[str, str], options: dict) -> None:
    version, layout = versions
    report = generate_report(1, versions=version, requests_layout=layout)
    result = extract_document(render_docx(report, **options), "report.docx")
    assert (result.status, result.format) == ("ok", "docx"), result.reason
    assert printed_facts(result) == expected_facts(report)
    assert result.template_versions == report.versions
    assert (result.year, result.publisher) == (report.year, report.publisher)


@pytest.mark.parametrize("seed", range(10, 18))
def test_synthetic_docx_with_random_defects_round_trips(seed: int) -> None:
    report = generate_report(seed)
    result = extract_document(render_docx(report, **OPTIONS[seed % len(OPTIONS)]), "report.docx")
    assert printed_facts(result) == expected_facts(report), report.defects


def test_synthetic_docx_grid_structure() -> None:
    report = generate_report(5, versions=V2019, defects=())
    raw = extract_docx(render_docx(report, word_markup=True))
    proactive, requests, review = raw.grids
    assert proactive.rows[0][0].text == "第二十条第（一）项"
    assert [c.is_span_copy for c in proactive.rows[0]] == [False, True, True, True]
    assert len(requests.rows) == 3 + 23 and all(len(row) == 10 for row in requests.rows)
    assert [c.text for c in requests.rows[2][4:9]] == [c.labels[V2019] for c in REQUESTS_SPEC.columns[1:6]]
    results = [row[0] for row in requests.rows[5:25]]  # 三、本年度办理结果 over 20 rows
    assert {c.text for c in results} == {"三、本年度办理结果"} and results[1].span_of == (5, 0)
    assert len(review.rows) == 4 and len(review.rows[3]) == 15 and review.rows[2][0].span_of == (1, 0)


def test_split_requests_table_gives_two_grids_continued_by_the_mapper() -> None:
    report = generate_report(4, versions=V2021, defects=())
    raw = extract_docx(render_docx(report, split_requests=True))
    assert len(raw.grids) == 4
    continuation = raw.grids[2]
    assert [c.text for c in continuation.rows[0][:3]] == ["", "", "6.属于四类过程性信息"]
    facts = [f for f in extract_document(render_docx(report, split_requests=True), "a.docx").facts if f.table == REQUESTS]
    assert {f.locator for f in facts} == {"docx table 2", "docx table 3"}
    assert printed_facts(extract_document(render_docx(report, split_requests=True), "a.docx")) == expected_facts(report)


@pytest.mark.parametrize("seed", [0, 1])
def test_legacy_and_non_reports_as_docx_get_their_status(seed: int) -> None:
    for doc in (generate_legacy(seed), generate_not_a_report(seed)):
        result = extract_document(render_docx(doc, word_markup=True), "page.docx")
        assert result.status == doc.expected_status, result.reason
        assert result.facts == []


def test_hidden_paragraph_naming_another_year_does_not_decide_the_year() -> None:
    report = generate_report(6, year=2022, versions=V2021)
    result = extract_document(render_docx(report, word_markup=True), "report.docx")
    assert result.year == 2022 and "2017" not in result.narrative
