"""Text reports: decoding, the four forms, the digit-run splitter, and the corpus text files."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from tests.corpus import compare_with_expected
from xxgk.extractors import extract_document
from xxgk.extractors.base import ExtractionError
from xxgk.extractors.text import (
    decode_text,
    detect_form,
    extract_text,
    parse_layout,
    parse_stream,
    parse_tabbed,
    solve_requests,
    split_run,
)
from xxgk.extractors.text.markdown import parse_markdown
from xxgk.schemas.classify import find_title
from xxgk.schemas.model import REQUESTS_ROWS_V2021, REQUESTS_SPEC
from xxgk.schemas.values import AMBIGUOUS

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
ROW_TOTAL = ((6, (0, 1, 2, 3, 4, 5)),)
COUNT7 = ["count"] * 7


def corpus_file(name: str) -> Path:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus file {name} not present (../shared/corpus)")
    return path


def facts_by_key(result: object) -> dict[tuple[str, str, str], object]:
    return {(f.table, f.row_key, f.column_key): f for f in result.facts}  # type: ignore[attr-defined]


# --- decoding and title --------------------------------------------------------------------

TITLE = "某某区人民政府2021年政府信息公开工作年度报告"


def test_decode_bom_utf8_gb18030_utf16_and_newlines() -> None:
    assert decode_text(("\ufeff" + TITLE + "\r\n").encode("utf-8"))[:2] == (TITLE + "\n", "utf-8")
    assert decode_text(TITLE.encode("gb18030"))[:2] == (TITLE, "gb18030")
    assert decode_text(b"\xff\xfe" + TITLE.encode("utf-16-le"))[0] == TITLE
    assert decode_text(TITLE.encode("utf-8"), "gbk")[1] == "utf-8"  # valid UTF-8 beats a declared charset
    assert decode_text(TITLE.encode("gbk"), "gbk")[1] == "gb18030"  # GB labels read as the superset
    assert decode_text("臺灣政府資訊公開".encode("big5"), "big5")[1] == "big5"


def test_binary_and_undecodable_bytes_fail_with_a_reason() -> None:
    with pytest.raises(ExtractionError) as err:
        decode_text(b"\x00\x01\x02binary")
    assert err.value.status == "failed"
    assert "binary" in err.value.reason


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_one_stray_byte_fails_a_whole_text_report(encoding: str) -> None:
    """Issue 14 item 10: a single 0xFF used to fail the report; it is now replaced and counted,
    with the same bounded tolerance as HTML, and every fact is the clean report's."""
    from xxgk.synth.generate import generate_report
    from xxgk.synth.text import render_text

    clean = render_text(generate_report(3), "cells", encoding=encoding)
    first_line = clean.index(b"\n") + 1
    stray = clean[: first_line - 1] + b"\xff" + clean[first_line - 1 :]  # at the end of the title line
    want = extract_document(clean, "report.txt")
    got = extract_document(stray, "report.txt")
    assert got.status == want.status == "ok", got.reason
    assert got.facts == want.facts
    assert f"1 undecodable byte sequence(s) replaced with U+FFFD while decoding as {encoding}" in got.warnings
    garbage = clean[:first_line] + b"\x80\xff" * 2000 + clean[first_line:]  # beyond the bound
    failed = extract_document(garbage, "report.txt")
    assert failed.status == "failed" and failed.reason.startswith("undecodable text:"), failed.reason


def test_title_is_the_first_line_naming_the_report() -> None:
    assert find_title(f"标题: {TITLE}\n发布时间: 2022\n") == TITLE
    assert (
        find_title("正文\n2024 年上海市科委政府信息公开工作\n年度报告\n根据")
        == "2024年上海市科委政府信息公开工作年度报告"
    )
    assert find_title(f"{TITLE} 根据《条例》，现将本年度报告如下。" * 3).endswith("年度报告")
    assert find_title("没有标题的文本") == ""


def test_detect_form() -> None:
    assert detect_form("| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n") == "markdown"
    assert detect_form("\t规章\n\t0\n\t0\n\t0\n\n\t规范性文件\n\t1\n\t2\n") == "tabbed"
    layout = (
        "规章        0     0     0\n规范性文件    6     6    64\n行政许可   175   40  5628\n行政处罚   15  6  507\n"
    )
    assert detect_form(layout) == "layout"
    assert detect_form("规章000规范性文件7777166行政许可2293") == "stream"


# --- tabbed --------------------------------------------------------------------------------

TABBED = "\n".join(
    [
        TITLE,
        "二、主动公开政府信息情况",
        "\t第二十条第（一）项",
        "",
        "\t信息内容",
        "\t本年新",
        "制作数量",
        "\t对外公开总数量",
        "",
        "\t规章",
        "\t0",
        "\t",
        "",
        "三、收到和处理政府信息公开申请情况",
        "\t行政复议\t行政诉讼",
        "",
    ]
)


def test_tabbed_cells_wrapped_labels_blank_cells_and_line_numbers() -> None:
    grids = parse_tabbed(TABBED)
    assert [g.texts() for g in grids] == [
        [["第二十条第（一）项"], ["信息内容", "本年新\n制作数量", "对外公开总数量"], ["规章", "0", ""]],
        [["行政复议", "行政诉讼"]],
    ]
    assert grids[0].locator == "text block 1"
    label = grids[0].rows[2][0]
    assert (label.row, label.col) == (10, 1)  # 1-based line, offset after the tab
    assert grids[0].rows[1][1].row == 6  # a wrapped cell keeps the line it starts on


# --- the digit-run splitter ----------------------------------------------------------------


def test_split_one_digit_per_cell_is_unique() -> None:
    assert split_run("000", ["count"] * 3).candidates == [("0", "0", "0")]


def test_split_without_identity_lists_every_split() -> None:
    split = split_run("898989", ["count"] * 3)
    assert len(split.spans) == 10
    assert ("89", "89", "89") in split.candidates
    assert all(not c.startswith("0") or c == "0" for cand in split.candidates for c in cand)


def test_split_respects_spaces_and_the_row_total() -> None:
    assert split_run("230 000023", COUNT7, ROW_TOTAL).candidates == [("23", "0", "0", "0", "0", "0", "23")]
    assert split_run("23 0 00 0 023", COUNT7, ROW_TOTAL).candidates == [("23", "0", "0", "0", "0", "0", "23")]
    assert split_run("270020130", COUNT7, ROW_TOTAL).candidates == [
        ("2", "7", "0", "0", "20", "1", "30"),
        ("27", "0", "0", "2", "0", "1", "30"),
    ]


def test_split_impossible_runs_give_no_split() -> None:
    assert split_run("12", ["count"] * 3).spans == ()
    assert split_run("05", ["count"]).spans == ()  # no leading zeros
    assert split_run("1 2 3 4", ["count"] * 3).spans == ()  # spaces always separate cells
    assert split_run("9" * 8, COUNT7, ROW_TOTAL).spans == ()


def test_split_money_signed_and_fullwidth_digits() -> None:
    money = split_run("13575394432.52元", ["count", "money"])
    assert len(money.spans) == 10
    assert ("135", "75394432.52元") in money.candidates
    signed = split_run("175增4056284", ["count", "signed", "count"])
    assert {c[0] for c in signed.candidates} == {"175"}  # 增 starts the second cell
    assert ("175", "增40", "56284") in signed.candidates
    assert split_run("７７７７１６６", ["count"] * 3).candidates[0] == ("7", "7", "77166")


def test_split_review_row_by_its_three_group_totals() -> None:
    groups = ((4, (0, 1, 2, 3)), (9, (5, 6, 7, 8)), (14, (10, 11, 12, 13)))
    split = split_run("10203120001200000", ["count"] * 15, groups)
    assert split.candidates == [("1", "0", "2", "0", "3", "12", "0", "0", "0", "12", "0", "0", "0", "0", "0")]


def _requests_runs(overrides: dict[str, str]) -> dict[str, object]:
    runs = {key: "0000000" for key in REQUESTS_ROWS_V2021}
    runs.update(overrides)
    return {key: split_run(run, COUNT7, ROW_TOTAL) for key, run in runs.items()}


def test_solve_requests_fixes_a_row_jointly() -> None:
    spaced = "27 0 0 2 0 1 30"
    splits = _requests_runs({"new_requests": spaced, "granted": "270020130", "total_processed": spaced})
    assert len(splits["granted"].spans) == 2  # the row's own total leaves two splits
    solved, level, count = solve_requests(splits)  # type: ignore[arg-type]
    assert (level, count) == ("all identities", 1)
    assert solved["granted"].candidates == [("27", "0", "0", "2", "0", "1", "30")]


def test_solve_requests_explains_a_misprinted_total_by_one_cell() -> None:
    runs = {"new_requests": "5000005", "granted": "5000005", "total_processed": "5000006"}  # （七）总计 says 6, not 5
    splits = _requests_runs(runs)
    assert splits["total_processed"].spans == ()  # no split keeps its own total
    solved, level, _ = solve_requests(splits, lambda key: split_run(runs.get(key, "0000000"), COUNT7))  # type: ignore[arg-type]
    assert level == "one misprinted cell"
    assert solved["total_processed"].candidates == [("5", "0", "0", "0", "0", "0", "6")]  # kept as printed
    assert all(len(sp.spans) == 1 for sp in solved.values())


def test_solve_requests_gives_up_on_two_misprints() -> None:
    runs = {"carried_forward": "1000001"}  # 0 + 0 != 0 + 1 in two columns: no single cell explains it
    splits = _requests_runs(runs)
    solved, level, _ = solve_requests(splits, lambda key: split_run(runs.get(key, "0000000"), COUNT7))  # type: ignore[arg-type]
    assert level == "rows"
    assert solved["carried_forward"].candidates == [("1", "0", "0", "0", "0", "0", "1")]


def test_review_split_with_a_misprinted_group_total() -> None:
    groups = ((4, (0, 1, 2, 3)), (9, (5, 6, 7, 8)), (14, (10, 11, 12, 13)))
    run = "2 0 0 0 3 1 0 0 0 1 0 0 0 0 0".replace(" ", "")  # 行政复议 total printed 3 for 2+0+0+0
    assert split_run(run, ["count"] * 15, groups).spans == ()
    split = split_run(run, ["count"] * 15, groups, max_violations=1)
    assert split.candidates == [tuple("200031000100000")]


# --- the stream form -----------------------------------------------------------------------


def _stream_report(requests: dict[str, tuple[int, ...]], review: tuple[int, ...], proactive: str) -> str:
    """A crawler export: the whole report on one line, cells run together."""
    rows = "".join(
        ("三、本年度办理结果" if key == "granted" else "")
        + REQUESTS_SPEC.row(key).labels.get("v2021", "")
        + "".join(str(v) for v in requests[key])
        for key in REQUESTS_ROWS_V2021
    )
    review_header = "行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计未经复议直接起诉复议后起诉" + (
        "结果维持结果纠正其他结果尚未审结总计" * 2
    )
    return (
        f"标题: {TITLE}\n==== 正文 ====\n{TITLE} 根据《条例》编制。一、总体情况本年度收到申请{requests['new_requests'][6]}件。"
        f"二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数{proactive}"
        "三、收到和处理政府信息公开申请情况（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
        "申请人情况自然人法人或其他组织总计商业企业科研机构社会公益组织法律服务机构其他"
        f"{rows}四、政府信息公开行政复议、行政诉讼情况{review_header}{''.join(str(v) for v in review)}"
        "五、存在的主要问题及改进情况无。六、其他需要报告的事项无。\n"
    )


def _row(*parts: int) -> tuple[int, ...]:
    return (*parts, sum(parts))


REQUESTS_VALUES = {key: _row(0, 0, 0, 0, 0, 0) for key in REQUESTS_ROWS_V2021}
REQUESTS_VALUES.update(
    {
        "new_requests": _row(64, 0, 0, 2, 0, 4),
        "carried_over": _row(1, 0, 0, 0, 0, 0),
        "granted": _row(27, 0, 0, 2, 0, 1),
        "partially_granted": _row(5, 0, 0, 0, 0, 0),
        "unable.not_held": _row(22, 0, 0, 0, 0, 3),
        "other.other": _row(10, 0, 0, 0, 0, 0),
        "total_processed": _row(64, 0, 0, 2, 0, 4),
        "carried_forward": _row(1, 0, 0, 0, 0, 0),
    }
)
REVIEW_VALUES = (1, 0, 2, 0, 3, 12, 0, 0, 0, 12, 0, 0, 0, 0, 0)
PROACTIVE_RUNS = (
    "规章000行政规范性文件693665第二十条第（五）项信息内容本年处理决定数量行政许可2293"
    "第二十条第（六）项信息内容本年处理决定数量行政处罚1282行政强制42"
    "第二十条第（八）项信息内容本年收费金额（单位：万元）行政事业性收费24252.311082"
)


def test_stream_report_end_to_end() -> None:
    text = _stream_report(REQUESTS_VALUES, REVIEW_VALUES, PROACTIVE_RUNS)
    result = extract_document(text.encode("utf-8"), "page.txt")
    assert result.status == "ok", result.reason
    assert result.format == "text"
    got = facts_by_key(result)
    for key in REQUESTS_ROWS_V2021:  # 四、结转下年度继续办理 is a row, not the section 四
        for col, want in zip(REQUESTS_SPEC.column_keys, REQUESTS_VALUES[key], strict=True):
            fact = got[("requests", key, col)]
            assert (fact.value, fact.value_status) == (want, "ok"), (key, col)
    review = [f for f in result.facts if f.table == "review_litigation"]
    assert [f.value for f in review] == list(REVIEW_VALUES)
    assert {f.value_status for f in review} == {"ok"}
    assert [got[("proactive", "rules", c)].value_status for c in ("issued", "repealed", "in_force")] == ["ok"] * 3
    doc = got[("proactive", "normative_docs", "issued")]
    assert doc.value_status == AMBIGUOUS  # table 二 has no identity: 693665 splits 10 ways
    assert "10 ways" in doc.note
    assert result.checks and not result.failed_checks
    assert result.year == 2021


def test_stream_cells_trace_back_to_their_line() -> None:
    text = _stream_report(REQUESTS_VALUES, REVIEW_VALUES, PROACTIVE_RUNS)
    raw = extract_text(text.encode("utf-8"))
    assert [g.locator for g in raw.grids] == ["text block 1", "text block 2", "text block 3"]
    cell = raw.grids[2].rows[-1][5]
    assert cell.text == "12"
    line = text.split("\n")[cell.row - 1]
    assert line[cell.col : cell.col + 2] == "12"


def test_stream_unsplittable_run_is_kept_ambiguous_with_a_warning() -> None:
    text = _stream_report(REQUESTS_VALUES, (1, 0, 2), PROACTIVE_RUNS)
    raw = extract_text(text.encode("utf-8"))
    assert any("table 四" in w and "cannot be split into 15 cells" in w for w in raw.warnings)
    review = raw.grids[2].rows[-1]
    assert [(c.text, c.hint) for c in review] == [("102", AMBIGUOUS)]


def test_stream_finds_no_table_in_prose() -> None:
    grids, warnings = parse_stream("四、结转下年度继续办理的事项很多。五、存在的主要问题：人员不足12人。")
    assert grids == []
    assert warnings == []


def test_not_a_report() -> None:
    result = extract_document("今天天气很好，我们去公园散步。\n".encode(), "note.txt")
    assert result.status == "not_a_report"
    assert result.facts == []


# --- the layout form -----------------------------------------------------------------------


def _line(*cells: tuple[int, str], wide: bool = False) -> str:
    """A layout line with every text starting at its column (characters, or display columns)."""
    out = ""
    for col, text in cells:
        width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in out) if wide else len(out)
        out += " " * max(col - width, 1 if out else 0) + text
    return out


V = (40, 50, 60, 70)  # the value columns
LAYOUT = "\n".join(
    [
        "二、主动公开政府信息情况",
        _line((17, "第二十条第（一）项")),
        _line((3, "信息内容"), (38, "本年新制作数量"), (48, "本年新公开数量"), (58, "对外公开总数量")),
        _line((0, "规章"), (V[0], "0"), (V[2], "0")),
        _line((0, "规范性文件"), (V[0], "6"), (V[1], "6"), (V[2], "64")),
        "三、收到和处理政府信息公开申请情况",
        _line((45, "申请人情况")),
        _line(
            (0, "（本列数据的勾稽关系为：第一项加"), (40, "自然人"), (50, "商业企业"), (60, "科研机构"), (70, "总计")
        ),
        _line((0, "第二项之和，等于第三项加第四项之和）")),
        _line((0, "一、本年新收政府信息公开申请数量"), (V[0], "292"), (V[1], "0"), (V[2], "2"), (V[3], "294")),
        _line((0, "（二）部分公开（区分处理的，只计这")),
        _line((V[0], "41"), (V[1], "0"), (V[2], "0"), (V[3], "41")),
        _line((0, "一情形，不计其他情形）")),
        _line((0, "1.属于国家秘密"), (V[0], "3"), (V[3], "3")),
        _line((V[0], "5"), (V[1], "1"), (V[2], "0"), (V[3], "6")),
        _line((0, "2.其他法律行政法规禁止公开")),
        "五、存在的主要问题及改进情况",
    ]
)


def _rows(grids: list) -> list[list[str]]:
    return [[c.text for c in row] for g in grids for row in g.rows]


def test_layout_headers_wrapped_labels_and_numbers_on_their_own_line() -> None:
    rows = _rows(parse_layout(LAYOUT))
    assert ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"] in rows
    assert ["规章", "0", "", "0"] in rows  # the blank stays in its column
    assert ["规范性文件", "6", "6", "64"] in rows
    assert ["一、本年新收政府信息公开申请数量", "292", "0", "2", "294"] in rows
    # a label wrapped around the line carrying its numbers
    assert ["（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "41", "0", "0", "41"] in rows
    assert ["1.属于国家秘密", "3", "", "", "3"] in rows
    # numbers printed on the line above their label take the nearest open label
    assert ["2.其他法律行政法规禁止公开", "5", "1", "0", "6"] in rows
    header = next(r for r in rows if any("勾稽" in c for c in r))
    assert "自然人" in header and "总计" in header


def test_layout_columns_aligned_by_display_width() -> None:
    # aligned for a terminal: every CJK character takes two columns
    text = "\n".join(
        [
            "二、主动公开政府信息情况",
            _line((14, "第二十条第（一）项"), wide=True),
            _line((3, "信息内容"), (18, "本年制发"), (29, "本年废止"), (40, "现行有效"), wide=True),
            _line((0, "规章"), (20, "0"), (42, "3"), wide=True),
            _line((0, "行政规范性文件"), (20, "4"), (31, "3"), (42, "6"), wide=True),
        ]
    )
    rows = _rows(parse_layout(text))
    assert ["规章", "0", "", "3"] in rows
    assert ["行政规范性文件", "4", "3", "6"] in rows


# --- markdown ------------------------------------------------------------------------------

MARKDOWN = f"""{TITLE}

二、主动公开政府信息情况
第二十条第（五）项
信息内容本年处理决定数量
行政许可 97
| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |
|---|---|---|---|
| 规章 | 0 | 0 | 0 |
| 规范性文件 | 13 | 0 | 55 |

二、收到和处理政府信息公开申请情况
| 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |  |  |
|---|---|---|---|---|---|---|---|---|
| 一、本年新收政府信息公开申请数量 | 32 | 2 | 0 | 0 | 0 | 0 | 34 |  |
| 三、 | （一）予以公开 | 9 | 0 | 0 | 0 | 0 | 0 | 9 |
- 3 -
| 0 | 0 | 0 | 0 | 0 | 0 | 0 |
|---|---|---|---|---|---|---|
| 四、结转下年度继续办理 | 1 | 0 | 0 | 0 | 0 | 0 |  |
"""


def test_markdown_fragments_padding_loose_rows_and_a_lost_cell() -> None:
    raw = extract_text(MARKDOWN.encode("utf-8"))
    assert raw.format == "markdown"
    texts = [g.texts() for g in raw.grids]
    # loose lines of table 二 (label + value) come first, in document order
    assert texts[0] == [["第二十条第（五）项"], ["信息内容", "本年处理决定数量"], ["行政许可", "97"]]
    assert texts[1][2] == ["规范性文件", "13", "0", "55"]
    # a row with fewer label cells than its fragment is padded: the padding goes
    assert texts[2][1] == ["一、本年新收政府信息公开申请数量", "32", "2", "0", "0", "0", "0", "34"]
    assert texts[2][2][:2] == ["三、", "（一）予以公开"]
    # fragments stay separate grids; the footer "- 3 -" is no row
    assert texts[3] == [["0"] * 7, ["四、结转下年度继续办理", "1", "0", "0", "0", "0", "0", ""]]
    lost = raw.grids[3].rows[1][-1]
    assert lost.hint == AMBIGUOUS  # the only empty value cell of a report that prints its zeros
    assert "lost in conversion" in lost.note


def test_markdown_merged_cells_repeated_are_span_copies_and_blanks_stay_blank() -> None:
    text = "\n".join(
        [
            "| 第二十条第（五）项 | 第二十条第（五）项 |",
            "|---|---|",
            "| 信息内容 | 本年处理决定数量 |",
            "| 行政许可 | 21683 |",
            "| 第二十条第（一）项 | 第二十条第（一）项 | 第二十条第（一）项 | 第二十条第（一）项 |",
            "|---|---|---|---|",
            "| 信息内容 | 本年制发件数 | 本年制发件数 | 现行有效件数 |",
            "| 规章 | 7 | 7 | 0 |",
            "| 行政规范性文件 |  |  |  |",
            "| 信息内容 | 本年废止件数 | 本年废止件数 | 本年废止件数 |",
            "| 行政许可 | 3 | 3 | 3 |",
        ]
    )
    grids, _ = parse_markdown(text)
    rules = grids[1].rows[2]
    assert [c.text for c in rules] == ["规章", "7", "7", "0"]
    assert [c.is_span_copy for c in rules] == [False, False, True, False]  # under a merged header
    blank_row = grids[1].rows[3]
    assert [c.text for c in blank_row] == ["行政规范性文件", "", "", ""]
    assert all(c.hint is None for c in blank_row)  # many blanks: the report's style, not losses
    assert [c.is_span_copy for c in grids[1].rows[5]] == [False, False, True, True]


# --- the corpus ----------------------------------------------------------------------------


@pytest.mark.corpus
def test_corpus_yuelu_grids() -> None:
    raw = extract_text(corpus_file("yuelu_2020.txt").read_bytes())
    assert raw.format == "text"
    assert raw.title == "长沙市岳麓区人民政府2020年政府信息公开工作年度报告"
    assert len(raw.grids) == 3
    requests = raw.grids[1].texts()
    assert requests[2][-1] == "0"  # the stray 0 of the flattened 总计 header is kept, as printed
    assert requests[-1] == ["四、结转下年度继续办理", "12", "0", "0", "0", "0", "0", "12"]
    assert raw.grids[2].texts()[-1] == ["5", "0", "0", "1", "6", "0", "0", "2", "0", "2", "0", "0", "2", "0", "2"]


@pytest.mark.corpus
def test_corpus_pingtan_2019_runs() -> None:
    raw = extract_text(corpus_file("pingtan_2019.txt").read_bytes())
    assert raw.warnings == []
    proactive, requests, review = (g.texts() for g in raw.grids)
    assert ["规章", "0", "0", "0"] in proactive  # one digit per cell: unique
    normative = next(r for r in raw.grids[0].rows if r[0].text == "规范性文件")
    assert [c.hint for c in normative[1:]] == [AMBIGUOUS] * 3
    assert "splits 10 ways" in normative[1].note
    assert ["一、本年新收政府信息公开申请数量", "23", "0", "0", "0", "0", "0", "23"] in requests  # "230 000023"
    assert requests[-1] == ["四、结转下年度继续办理", "0", "0", "0", "0", "0", "0", "0"]  # " 0 0 00 00 0 "
    assert review[-1] == ["0"] * 15


@pytest.mark.corpus
def test_corpus_legacy_report() -> None:
    path = corpus_file("pingtan_2016_legacy.txt")
    result = extract_document(path.read_bytes(), path.name)
    assert result.status == "legacy"
    assert result.facts == []


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["yuelu_2020.txt", "pingtan_2024.txt"])
def test_corpus_text_survives_other_whitespace(name: str) -> None:
    """The same report exported with whitespace collapsed, removed, or with full-width digits."""
    text = corpus_file(name).read_text(encoding="utf-8")
    import re

    variants = {
        "single spaces": re.sub(r"\s+", " ", text),
        "no whitespace": re.sub(r"\s+", "", text),
        "full-width digits": re.sub(r"\s+", " ", text).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    }
    for label, variant in variants.items():
        result = extract_document(variant.encode("utf-8"), name)
        assert result.status == "ok", (label, result.reason)
        # without separators table 二 runs become ambiguous; every other cell must still be exact
        assert compare_with_expected(name, result, accept_ambiguous=True) == [], label


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["hongze_2023.pdf", "hongze_2024.pdf"])
def test_corpus_layout_text_of_the_pdfs(name: str) -> None:
    """``-layout`` text of the real PDFs (made here with pdfplumber) gives every expected cell."""
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(corpus_file(name)) as pdf:
        text = "\n".join(page.extract_text(layout=True) or "" for page in pdf.pages)
    raw = extract_text(text.encode("utf-8"))
    assert detect_form(text) == "layout"
    from xxgk.extractors import map_document

    result = map_document(raw)
    assert result.status == "ok", result.reason
    assert compare_with_expected(name, result) == []


# --- synthetic reports in every text form --------------------------------------------------


@pytest.mark.parametrize("form", ["cells", "layout", "markdown", "runs"])
def test_synthetic_reports_round_trip(form: str) -> None:
    """Reports generated from known values (with real-world defects) come back exactly; in the
    run-together form a cell may instead be ambiguous, never silently wrong."""
    synth_text = pytest.importorskip("xxgk.synth.text")
    generate = pytest.importorskip("xxgk.synth.generate")
    checked = 0
    for seed in range(12):
        report = generate.generate_report(seed)
        try:
            data = synth_text.render_text(report, form)
        except ValueError:  # the run-together form cannot show blank cells
            continue
        result = extract_document(data, "report.md" if form == "markdown" else "report.txt")
        got = facts_by_key(result)
        for want in report.expected_facts():
            fact = got.get((want["table"], want["row_key"], want["column_key"]))
            assert fact is not None, (seed, want)
            if form == "runs" and fact.value_status == AMBIGUOUS:
                continue
            assert (fact.raw_text, fact.value_status) == (want["raw_text"], want["status"]), (seed, want)
        checked += 1
    assert checked >= 6
