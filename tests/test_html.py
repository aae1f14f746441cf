"""HTML extraction: decoding, merged cells, Word markup, layout tables, chrome, corpus pages,
and synthetic pages round-tripped through ``extract_document``."""

from __future__ import annotations

import pytest

from tests.corpus import compare_with_expected, corpus_path, expected_meta, expected_rows
from xxgk.extractors import extract_document
from xxgk.extractors.base import ExtractionError
from xxgk.extractors.decoding import normalise_charset
from xxgk.extractors.html import decode_html, extract_html
from xxgk.schemas.grid import Grid
from xxgk.schemas.model import (
    PROACTIVE,
    PROACTIVE_SPEC,
    REQUESTS,
    REQUESTS_SPEC,
    REVIEW_CELL_ORDER,
    REVIEW_LITIGATION,
    V2019,
    V2021,
)
from xxgk.schemas.values import clean_cell_text
from xxgk.synth.generate import generate_legacy, generate_not_a_report, generate_report, printed_tables
from xxgk.synth.html import render_html, split_table

REPORT_TEXT = "二〇二三年政府信息公开工作年度报告：本年新收政府信息公开申请数量"


def squash(text: str) -> str:
    """A label without its whitespace (clean_cell_text would also fold full-width brackets)."""
    return "".join(text.split())


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def grid_of(body: str, n: int = 0) -> Grid:
    return extract_html(page(body).encode("utf-8")).grids[n]


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


def test_utf8_with_meta() -> None:
    data = page(f"<p>{REPORT_TEXT}</p>", '<meta charset="utf-8">').encode("utf-8")
    warnings: list[str] = []
    text, enc = decode_html(data, warnings=warnings)
    assert enc == "utf-8" and REPORT_TEXT in text and warnings == []


def test_short_gbk_page_without_meta_is_read_as_gb18030() -> None:
    # Generic detectors call short GBK pages Korean (EUC-KR); detection here only considers utf-8/gb18030.
    data = page("<p>政府信息公开</p>").encode("gbk")
    text, enc = decode_html(data)
    assert enc == "gb18030" and "政府信息公开" in text


def test_gb2312_declaration_decodes_gbk_only_characters() -> None:
    # 镕 and 堃 are GBK, not GB2312: pages declared gb2312 contain them all the time.
    data = page("<p>朱镕基 王堃</p>", '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode(
        "gbk"
    )
    text, enc = decode_html(data)
    assert enc == "gb18030" and "朱镕基 王堃" in text


def test_meta_in_head_wins_over_meta_in_body() -> None:
    body = '<meta charset="utf-8"><p>政府信息公开</p>'
    data = page(body, '<meta http-equiv="Content-Type" content="text/html; charset=gbk">').encode("gbk")
    text, enc = decode_html(data)
    assert enc == "gb18030" and "政府信息公开" in text


def test_meta_only_in_body_is_used() -> None:
    data = page('<meta charset="gbk"><p>政府信息公开</p>').encode("gbk")
    assert decode_html(data) == (page('<meta charset="gbk"><p>政府信息公开</p>'), "gb18030")


def test_http_charset_that_does_not_decode_yields_to_meta_with_warning() -> None:
    data = page("<p>政府信息公开年度报告</p>", '<meta charset="gbk">').encode("gbk")
    warnings: list[str] = []
    text, enc = decode_html(data, http_charset="utf-8", warnings=warnings)
    assert enc == "gb18030" and "政府信息公开年度报告" in text
    assert any("HTTP charset utf-8 does not decode" in w for w in warnings)


def test_http_charset_wins_over_meta_when_both_decode() -> None:
    # A GBK page re-encoded to UTF-8 by the CMS keeps its stale gb2312 meta; the server is right.
    data = page("<p>政府信息公开年度报告</p>", '<meta charset="gb2312">').encode("utf-8")
    assert decode_html(data, http_charset="UTF-8")[1] == "utf-8"


def test_valid_utf8_beats_a_legacy_declaration() -> None:
    data = page("<p>政府信息公开年度报告</p>").encode("utf-8")
    warnings: list[str] = []
    text, enc = decode_html(data, http_charset="gbk", warnings=warnings)
    assert enc == "utf-8" and "政府信息公开年度报告" in text
    assert any("valid UTF-8" in w for w in warnings)


def test_western_default_charset_is_ignored() -> None:
    data = page("<p>政府信息公开</p>").encode("gbk")
    warnings: list[str] = []
    text, enc = decode_html(data, http_charset="ISO-8859-1", warnings=warnings)
    assert enc == "gb18030" and "政府信息公开" in text and warnings


def test_source_setting_used_when_nothing_is_declared() -> None:
    data = page("<p>政府資訊公開</p>").encode("big5")
    text, enc = decode_html(data, source_encoding="big5")
    assert enc == "big5" and "政府資訊公開" in text


def test_bom_wins_over_everything() -> None:
    data = b"\xef\xbb\xbf" + page("<p>政府信息</p>", '<meta charset="gbk">').encode("utf-8")
    text, enc = decode_html(data, http_charset="gbk", source_encoding="gbk")
    assert enc == "utf-8" and "政府信息" in text and not text.startswith("\ufeff")


def test_content_type_value_accepted_as_http_charset() -> None:
    assert normalise_charset("text/html; charset=GB2312") == "gb18030"
    assert normalise_charset("x-unknown-charset") is None


def test_a_few_broken_bytes_are_replaced_with_a_warning() -> None:
    data = page("<p>" + "政府信息公开工作年度报告" * 20 + "</p>").encode("utf-8")
    data = data.replace("年度".encode(), "年度".encode()[:-1], 1)  # one truncated character
    warnings: list[str] = []
    text, enc = decode_html(data, warnings=warnings)
    assert enc == "utf-8" and text.count("\ufffd") >= 1
    assert any("replaced with U+FFFD" in w for w in warnings)


def test_garbage_bytes_fail_with_a_reason() -> None:
    data = b"<html><body>" + bytes(range(0x80, 0x100)) * 4 + b"\x80\xff" * 300 + b"</body></html>"
    with pytest.raises(ExtractionError) as err:
        decode_html(data)
    assert err.value.status == "failed" and "undecodable" in err.value.reason


@pytest.mark.parametrize("data", [b"", b"   \n\t "])
def test_empty_document_fails(data: bytes) -> None:
    with pytest.raises(ExtractionError) as err:
        extract_html(data)
    assert err.value.status == "failed"


def test_page_without_text_or_tables_fails() -> None:
    with pytest.raises(ExtractionError):
        extract_html(b"<html><head><title></title></head><body><script>var a = 1;</script></body></html>")


# ---------------------------------------------------------------------------------------------
# Merged cells
# ---------------------------------------------------------------------------------------------


def test_rowspan_and_colspan_expanded_with_span_of() -> None:
    grid = grid_of(
        "<table>"
        "<tr><th rowspan=2 colspan=2>A</th><th colspan=2>B</th></tr>"
        "<tr><td>b1</td><td>b2</td></tr>"
        "<tr><td>x</td><td rowspan=2>y</td><td>1</td><td></td></tr>"
        "<tr><td>z</td><td>2</td><td>3</td></tr>"
        "</table>"
    )
    assert grid.locator == "html table 1"
    assert grid.texts() == [
        ["A", "A", "B", "B"],
        ["A", "A", "b1", "b2"],
        ["x", "y", "1", ""],
        ["z", "y", "2", "3"],
    ]
    assert grid.rows[0][0].span_of is None and not grid.rows[0][0].is_span_copy
    assert [c.span_of for c in grid.rows[1][:2]] == [(0, 0), (0, 0)]
    assert grid.rows[0][3].span_of == (0, 2)
    assert grid.rows[3][1].span_of == (2, 1) and grid.rows[3][1].is_span_copy
    assert all((c.row, c.col) == (r, k) for r, row in enumerate(grid.rows) for k, c in enumerate(row))


def test_rowspan_past_the_table_end_is_clipped() -> None:
    doc = extract_html(page("<table><tr><td rowspan=5>a</td><td>1</td></tr><tr><td>2</td></tr></table>").encode())
    assert doc.grids[0].texts() == [["a", "1"], ["a", "2"]]
    assert any("runs past the table end" in w for w in doc.warnings)


def test_rowspan_zero_and_junk_span_values() -> None:
    grid = grid_of(
        "<table><tr><td rowspan=0>a</td><td colspan='2px'>b</td></tr><tr><td>1</td><td>2</td></tr>"
        "<tr><td colspan=x>3</td></tr></table>"
    )
    assert grid.texts() == [["a", "b", "b"], ["a", "1", "2"], ["a", "3"]]


def test_empty_rows_dropped_and_holes_kept_blank() -> None:
    grid = grid_of(
        "<table><tr><td rowspan=2>a</td><td>b</td><td rowspan=2>c</td></tr><tr></tr>"
        "<tr></tr><tr><td>d</td></tr></table>"
    )
    # Row 1 has no cell of its own but the merged a and c cover it; the empty <tr> after it is dropped.
    assert grid.texts() == [["a", "b", "c"], ["a", "", "c"], ["d"]]
    assert grid.rows[1][1].note and grid.rows[1][1].span_of is None
    assert grid.rows[2][0].row == 2


def test_cells_without_tr_and_stray_wrappers() -> None:
    grid = grid_of("<table><td>a</td><td>b</td></table>")
    assert grid.texts() == [["a", "b"]]
    grid = grid_of("<table><tbody><tr><td>a</td><div><td>b</td></div></tr></tbody><tr><td>c</td></tr></table>")
    assert grid.texts() == [["a", "b"], ["c"]]


# ---------------------------------------------------------------------------------------------
# Word markup
# ---------------------------------------------------------------------------------------------

WORD_TABLE = (
    "<table class=MsoNormalTable border=1><![if !supportMisalignedColumns]><![endif]>"
    "<tr style='mso-yfti-irow:0'><td><p class=MsoNormal align=center><span style='font-family:宋体'>本年"
    "</span><span lang=EN-US>新<o:p></o:p></span><br><font face=宋体>制作</font>数量&nbsp;&nbsp;&nbsp;</p></td>"
    "<td><p class=MsoNormal><span lang=EN-US>&nbsp;<o:p></o:p></span></p></td>"
    "<td><p class=MsoNormal>1<span style='display:none;mso-hide:all'>9</span>3<!--[if gte mso 9]><xml>x</xml>"
    "<![endif]--></p></td></tr>"
    "<tr><td><p>规范性</p><p>文件</p></td><td><p>&nbsp;</p><p>60</p></td><td>&#12288;</td></tr>"
    "<![if !supportMisalignedColumns]><tr height=0><td width=60 style='border:none'></td>"
    "<td width=60></td><td width=60></td></tr><![endif]></table>"
)


def test_word_runs_joined_br_kept_blanks_empty() -> None:
    grid = grid_of(WORD_TABLE)
    assert grid.texts() == [["本年新\n制作数量", "", "13"], ["规范性\n文件", "60", ""]]
    assert clean_cell_text(grid.rows[0][0].text) == "本年新制作数量"


# ---------------------------------------------------------------------------------------------
# Content, layout tables, chrome
# ---------------------------------------------------------------------------------------------

STAT_TABLE = "<table><tr><td>信息内容</td><td>本年制发件数</td></tr><tr><td>规章</td><td>{n}</td></tr></table>"


def test_nested_layout_tables_give_no_grid_but_their_tables_do() -> None:
    inner = STAT_TABLE.format(n=1) + "<p>中间的说明文字</p>" + STAT_TABLE.format(n=2)
    body = (
        "<table width=1000><tr><td><a href='/'>首页</a></td><td>"
        f"<p>{REPORT_TEXT}</p><table width=100%><tr><td>{inner}</td></tr></table>"
        "</td></tr></table>"
    )
    doc = extract_html(page(body).encode())
    assert [g.locator for g in doc.grids] == ["html table 1", "html table 2"]
    assert [g.texts()[1] for g in doc.grids] == [["规章", "1"], ["规章", "2"]]
    assert "中间的说明文字" in doc.text


def test_layout_cell_holding_prose_is_not_a_grid() -> None:
    prose = "本报告根据条例要求编制，" * 40
    body = f"<table><tr><td><p>{prose}</p></td><td>右栏</td></tr></table>{STAT_TABLE.format(n=5)}"
    doc = extract_html(page(body).encode())
    assert len(doc.grids) == 1 and doc.grids[0].texts()[1] == ["规章", "5"]


def test_deep_nesting_parsed_beyond_libxml2_default_limit() -> None:
    inner = f"<p>{REPORT_TEXT}</p>" + STAT_TABLE.format(n=1)
    doc = extract_html(("<div>" * 300 + inner + "</div>" * 300).encode())
    assert len(doc.grids) == 1 and doc.warnings == []


def test_parser_giving_up_is_never_silent() -> None:
    inner = f"<p>{REPORT_TEXT}</p>" + STAT_TABLE.format(n=1)
    try:
        doc = extract_html(("<font>" * 50000 + inner).encode())
    except ExtractionError as err:
        assert "parser stopped early" in err.reason
    else:  # a libxml2 without a depth limit: then everything must be there
        assert len(doc.grids) == 1 or any("parser stopped early" in w for w in doc.warnings)


def test_split_table_gives_consecutive_grids() -> None:
    body = (
        "<p>三、收到和处理政府信息公开申请情况</p>"
        "<table><tr><td>一、本年新收政府信息公开申请数量</td><td>5</td></tr></table><p>&nbsp;</p>"
        "<table><tr><td>二、上年结转政府信息公开申请数量</td><td>1</td></tr></table>"
    )
    doc = extract_html(page(body).encode())
    assert [g.texts() for g in doc.grids] == [
        [["一、本年新收政府信息公开申请数量", "5"]],
        [["二、上年结转政府信息公开申请数量", "1"]],
    ]
    assert doc.grids[0].meta["preceding_text"] == "三、收到和处理政府信息公开申请情况"


def test_chrome_is_left_out() -> None:
    nav = "".join(f"<li><a href='/{i}'>导航栏目{i}</a></li>" for i in range(30))
    links = "".join(
        f"<tr><td><a href='/r{i}'>某某区{2020 - i}年政府信息公开工作年度报告</a></td></tr>" for i in range(3)
    )
    body = (
        f"<div class=header><ul>{nav}</ul></div><div class=crumb>当前位置：<a>首页</a> &gt; <a>政务公开</a></div>"
        "<div class=main><div class=column_title>政府信息公开年报</div><table class=links>" + links + "</table>"
        "<div class=article><table><tr><td>索引号：</td><td>11350100/2021-001</td><td>发布机构：</td><td>某某区政府</td></tr>"
        "<tr><td>发文日期：</td><td>2021-01-20</td><td>主题分类：</td><td>年报</td></tr></table>"
        "<h1 class=title>某某区2020年政府信息公开工作年度报告</h1>"
        f"<div class=content><p>{'一、总体情况。' * 30}</p>{STAT_TABLE.format(n=7)}<p>六、其他需要报告的事项</p></div>"
        "</div></div><div class=footer><p>版权所有：某某区人民政府 地址：某某路1号</p></div>"
    )
    doc = extract_html(page(body, "<title>年报_某某区人民政府</title>").encode())
    assert [g.texts() for g in doc.grids] == [[["信息内容", "本年制发件数"], ["规章", "7"]]]
    assert doc.title == "某某区2020年政府信息公开工作年度报告"
    assert doc.text.startswith("一、总体情况。") and doc.text.endswith("六、其他需要报告的事项")
    for chrome in ("导航栏目", "当前位置", "索引号", "版权所有"):
        assert chrome not in doc.text


def test_menu_table_of_links_is_chrome_even_with_report_words() -> None:
    menu = "".join(
        f"<tr><td><a href='/{i}'>{w}</a></td></tr>"
        for i, w in enumerate(("主动公开", "依申请公开", "行政复议", "信息内容"))
    )
    body = (
        f"<table width=1000><tr><td width=200><table class=menu>{menu}</table></td>"
        f"<td><p>{'本年度政府信息公开工作情况良好。' * 30}</p>{STAT_TABLE.format(n=9)}</td></tr></table>"
    )
    doc = extract_html(page(body).encode())
    assert [g.texts()[1] for g in doc.grids] == [["规章", "9"]]
    assert "依申请公开" not in doc.text


def test_report_tables_outside_the_prose_container_are_kept() -> None:
    body = (
        f"<div class=a><p>{'本年度政府信息公开工作情况良好。' * 40}</p></div>"
        f"<div class=b>{STAT_TABLE.format(n=3)}</div><div class=c><p>底部信息</p></div>"
    )
    doc = extract_html(page(body).encode())
    assert len(doc.grids) == 1 and doc.grids[0].texts()[1] == ["规章", "3"]


def test_title_from_title_tag_segment_and_meta() -> None:
    doc = extract_html(page("<p>正文</p>", "<title>XX局2022年政府信息公开工作年度报告_年报_XX局</title>").encode())
    assert doc.title == "XX局2022年政府信息公开工作年度报告"
    head = '<meta name="ArticleTitle" content="YY县2023年政府信息公开工作年度报告"><title>YY县</title>'
    assert extract_html(page("<p>正文</p>", head).encode()).title == "YY县2023年政府信息公开工作年度报告"


def test_paragraph_breaks_kept_and_table_rows_tab_separated() -> None:
    doc = extract_html(page("<p>第一段</p><div>第二<br>段</div>" + STAT_TABLE.format(n=4)).encode())
    assert doc.text == "第一段\n第二\n段\n信息内容\t本年制发件数\n规章\t4"


# ---------------------------------------------------------------------------------------------
# Corpus pages at grid level: the grids hold exactly the printed cells
# ---------------------------------------------------------------------------------------------

CORPUS_HTML = ["shanghai_office_2019.html", "pingtan_2024_page.html"]


def _expected_by_row(name: str, table: str) -> list[list[str]]:
    rows: dict[str, list[str]] = {}
    for row in expected_rows(name):
        if row["table"] == table:
            rows.setdefault(row["row_key"], []).append(row["raw_text"])
    return list(rows.values())


def _corpus_grids(name: str) -> list[Grid]:
    doc = extract_html(corpus_path(name).read_bytes())
    assert [g.locator for g in doc.grids] == ["html table 1", "html table 2", "html table 3"]
    assert doc.warnings == []
    return doc.grids


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_HTML)
def test_corpus_requests_grid_holds_the_printed_cells(name: str) -> None:
    grid = _corpus_grids(name)[1]
    data_rows = grid.rows[3:]
    assert [[clean_cell_text(c.text) for c in row[3:]] for row in data_rows] == _expected_by_row(name, REQUESTS)
    assert all(c.text == "" for row in data_rows for c in row[3:] if clean_cell_text(c.text) == "")
    # 三、本年度办理结果 spans every outcome row: copies point at the anchor.
    anchor = next(r for r, row in enumerate(grid.rows) if "理结果" in row[0].text and not row[0].is_span_copy)
    copies = [row[0] for row in grid.rows if row[0].span_of == (anchor, 0)]
    outcomes = 22 if expected_meta(name)["template"][REQUESTS] == V2021 else 20
    assert len(copies) == outcomes - 1
    assert [squash(c.text) for c in grid.rows[1][3:]] == ["自然人"] + ["法人或其他组织"] * 5 + ["总计"]


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_HTML)
def test_corpus_review_grid_holds_the_printed_cells(name: str) -> None:
    grid = _corpus_grids(name)[2]
    assert len(grid.rows) == 4 and len(grid.rows[3]) == len(REVIEW_CELL_ORDER)
    want = {
        (r["row_key"], r["column_key"]): r["raw_text"] for r in expected_rows(name) if r["table"] == REVIEW_LITIGATION
    }
    assert [clean_cell_text(c.text) for c in grid.rows[3]] == [want[k] for k in REVIEW_CELL_ORDER]


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_HTML)
def test_corpus_proactive_grid_holds_the_printed_cells(name: str) -> None:
    grid = _corpus_grids(name)[0]
    version = expected_meta(name)["template"][PROACTIVE]
    labels = {r.labels[version] for r in PROACTIVE_SPEC.rows if version in r.labels}
    got = [
        [clean_cell_text(c.text) for c in row[1:] if not c.is_span_copy]
        for row in grid.rows
        if clean_cell_text(row[0].text) in labels
    ]
    assert got == _expected_by_row(name, PROACTIVE)
    captions = [squash(row[0].text) for row in grid.rows if "第二十条" in row[0].text]
    assert all(c.startswith("第二十条第（") for c in captions) and len(captions) == (5 if version == V2019 else 4)


@pytest.mark.corpus
def test_corpus_page_chrome_title_and_text() -> None:
    doc = extract_html(corpus_path("pingtan_2024_page.html").read_bytes())
    assert doc.title == "平潭综合实验区2024年度政府信息公开工作年度报告"
    assert doc.text.startswith("本报告根据《中华人民共和国政府信息公开条例》")
    assert "一、总体情况" in doc.text and "六、其他需要报告的事项" in doc.text
    for chrome in ("闽ICP备", "版权所有", "登录", "新媒体矩阵", "相关链接"):
        assert chrome not in doc.text
    shanghai = extract_html(corpus_path("shanghai_office_2019.html").read_bytes())
    assert shanghai.title == "2019年上海市人民政府办公厅政府信息公开工作年度报告"
    assert shanghai.grids[0].rows[1][1].text == "本年新\n制作数量"


# ---------------------------------------------------------------------------------------------
# End to end: corpus and synthetic pages through extract_document
# ---------------------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_HTML)
def test_corpus_html_facts_equal_expected(name: str) -> None:
    path = corpus_path(name)
    result = extract_document(path.read_bytes(), path.name)
    assert result.format == "html"
    assert result.status == expected_meta(name)["expected_status"], result.reason
    assert compare_with_expected(name, result) == []


def _facts(result: object) -> dict[tuple[str, str, str], tuple[object, ...]]:
    return {
        (f.table, f.row_key, f.column_key): (f.raw_text, f.value, f.unit, f.value_status)
        for f in result.facts  # type: ignore[attr-defined]
    }


def _expected(report: object) -> dict[tuple[str, str, str], tuple[object, ...]]:
    return {
        (e["table"], e["row_key"], e["column_key"]): (e["raw_text"], e["value"], e["unit"], e["status"])
        for e in report.expected_facts()  # type: ignore[attr-defined]
    }


VERSIONS = [(V2019, V2019), (V2021, V2021), (V2021, V2019)]
OPTIONS = [
    {"encoding": "utf-8"},
    {"encoding": "gbk", "word_markup": True},
    {"encoding": "gb18030", "nested_layout": True, "split_requests": True},
    {"encoding": "utf-8", "word_markup": True, "nested_layout": True, "split_requests": True, "chrome": False},
    {"encoding": "gb2312", "word_markup": True, "split_requests": True, "chrome": False},
]


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("versions", VERSIONS, ids=lambda v: f"{v[0]}-layout{v[1]}")
def test_synthetic_html_round_trips_exactly(versions: tuple[str, str], options: dict, seed: int) -> None:
    version, layout = versions
    report = generate_report(seed, versions=version, requests_layout=layout)
    data = render_html(report, **options)
    result = extract_document(data, "report.html")
    assert result.status == "ok", result.reason
    assert result.format == "html"
    assert _facts(result) == _expected(report)
    assert result.template_versions == report.versions
    assert result.year == report.year


@pytest.mark.parametrize("seed", range(10, 22))
def test_synthetic_html_with_random_defects_round_trips(seed: int) -> None:
    report = generate_report(seed)
    options = OPTIONS[seed % len(OPTIONS)]
    result = extract_document(render_html(report, **options), "report.html")
    assert _facts(result) == _expected(report), report.defects


def test_synthetic_gbk_page_without_declaration() -> None:
    report = generate_report(3, versions=V2021)
    data = render_html(report, encoding="gbk", chrome=False).replace(
        b'<meta http-equiv="Content-Type" content="text/html; charset=gbk">', b""
    )
    assert b"charset" not in data
    assert _facts(extract_document(data, "report.html")) == _expected(report)


@pytest.mark.parametrize("seed", [0, 1])
def test_legacy_and_non_reports_rendered_as_html_get_their_status(seed: int) -> None:
    for doc in (generate_legacy(seed), generate_not_a_report(seed)):
        result = extract_document(render_html(doc, encoding="gbk", word_markup=True), "page.html")
        assert result.status == doc.expected_status, result.reason
        assert result.facts == []


def test_synthetic_page_grid_structure() -> None:
    report = generate_report(5, versions=V2019, defects=())
    doc = extract_html(render_html(report, word_markup=True, nested_layout=True))
    assert len(doc.grids) == 3
    proactive, requests, review = doc.grids
    assert squash(proactive.rows[0][0].text) == "第二十条第（一）项"
    assert [c.is_span_copy for c in proactive.rows[0]] == [False, True, True, True]
    assert len(requests.rows) == 3 + 23 and all(len(row) == 10 for row in requests.rows)
    assert [squash(c.text) for c in requests.rows[2][4:9]] == [c.labels[V2019] for c in REQUESTS_SPEC.columns[1:6]]
    assert len(review.rows) == 4 and len(review.rows[3]) == 15
    assert review.rows[2][0].span_of == (1, 0)


def test_split_table_continues_merged_cells() -> None:
    table = printed_tables(generate_report(4, versions=V2019, defects=()))[REQUESTS]
    first, second = split_table(table, 10)
    assert len(first.rows) + len(second.rows) == len(table.rows)
    assert [s.text for s in second.rows[0][:2]] == ["", ""]  # 三、本年度办理结果 and （三）不予公开 continue
    assert sum(s.rowspan for s in first.rows[5][:1]) + second.rows[0][0].rowspan == 20
