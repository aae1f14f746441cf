"""schemas.mapping and schemas.checks on hand-built grids: every layout variant the mapper must read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xxgk.schemas.checks import derive_subtotals, run_checks
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.labels import match_requests_leaf, normalize_label
from xxgk.schemas.mapping import map_grids
from xxgk.schemas.model import (
    PROACTIVE,
    PROACTIVE_CELLS,
    REQUESTS,
    REQUESTS_SPEC,
    REVIEW_LITIGATION,
    SPECS,
    V2019,
    V2021,
    expected_cells,
)
from xxgk.schemas.records import FAIL, NOT_ASSESSABLE, PASS

SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec"

REQ_HEADER = [
    ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "", "", "申请人情况"],
    ["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
    ["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
]


def requests_rows(layout: str, values: dict[str, list[str]]) -> list[list[str]]:
    """Table 三 rows as a Word-pasted table flattens them: group labels repeated in front."""
    rows = [list(r) for r in REQ_HEADER]
    group_label = {g: lab for g, lab in REQUESTS_SPEC.derived_rows.items()}
    keys = [r.key for r in REQUESTS_SPEC.rows if (V2021 if layout == V2021 else V2019) in r.labels]
    for key in keys:
        spec = REQUESTS_SPEC.row(key)
        label = spec.labels.get(layout) or spec.labels[V2019]
        if spec.parent:
            cells = ["三、本年度办理结果", group_label[spec.parent], label]
        elif key in ("granted", "partially_granted", "other") or key == "total_processed":
            cells = ["三、本年度办理结果", label, label]
        else:
            cells = [label, label, label]
        rows.append(cells + values[key])
    return rows


def balanced_requests(layout: str) -> dict[str, list[str]]:
    """Values where every identity holds: 10 new + 2 carried = 9 processed + 3 carried forward."""
    keys = [r.key for r in REQUESTS_SPEC.rows if (V2021 if layout == V2021 else V2019) in r.labels]
    vals = {k: ["0"] * 7 for k in keys}
    vals["new_requests"] = ["8", "1", "0", "0", "1", "0", "10"]
    vals["carried_over"] = ["2", "0", "0", "0", "0", "0", "2"]
    vals["granted"] = ["5", "1", "0", "0", "0", "0", "6"]
    vals["unable.not_held"] = ["2", "0", "0", "0", "0", "0", "2"]
    vals["not_processed.duplicate"] = ["0", "0", "0", "0", "1", "0", "1"]
    vals["total_processed"] = ["7", "1", "0", "0", "1", "0", "9"]
    vals["carried_forward"] = ["3", "0", "0", "0", "0", "0", "3"]
    return vals


REVIEW_ROWS = [
    ["行政复议", "", "", "", "", "行政诉讼"],
    ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "未经复议直接起诉", "", "", "", "", "复议后起诉"],
    ["", "", "", "", "", *(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2)],
    ["5", "0", "0", "1", "6", "0", "0", "2", "0", "2", "0", "0", "2", "0", "2"],
]

PROACTIVE_V2021_ROWS = [
    ["第二十条第（一）项"],
    ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
    ["规章", "0", "0", "5"],
    ["行政规范性文件", "3", "0", "8"],
    ["第二十条第（五）项"],
    ["信息内容", "本年处理决定数量"],
    ["行政许可", "1203"],
    ["第二十条第（六）项"],
    ["信息内容", "本年处理决定数量"],
    ["行政处罚", "88"],
    ["行政强制", "0"],
    ["第二十条第（八）项"],
    ["信息内容", "本年收费金额（单位：万元）"],
    ["行政事业性收费", "7730.28"],
]


def facts_by_key(facts):
    return {(f.table, f.row_key, f.column_key): f for f in facts}


def test_model_agrees_with_keys_yaml() -> None:
    path = SPEC_DIR / "keys.yaml"
    if not path.exists():
        pytest.skip("../shared/spec not present")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))["tables"]
    for table, tspec in SPECS.items():
        assert tuple(spec[table]["columns"]) == tspec.column_keys
        assert tuple(spec[table]["rows"]) == tspec.row_keys
    for version in (V2019, V2021):
        cells = {k: tuple(v) for k, v in spec[PROACTIVE]["cells"][version].items()}
        assert cells == PROACTIVE_CELLS[version]
    for key, label in spec[REQUESTS]["rows"].items():
        row = REQUESTS_SPEC.row(key)
        assert label in row.labels.values()


@pytest.mark.parametrize("layout", [V2019, V2021])
def test_requests_every_leaf_and_column(layout: str) -> None:
    grid = Grid.from_texts(requests_rows(layout, balanced_requests(layout)), "t")
    mapped = map_grids([grid])
    assert mapped.versions[REQUESTS] == layout
    got = facts_by_key(mapped.facts)
    want = expected_cells(REQUESTS, layout)
    assert sorted(k[1:] for k in got) == sorted(want)
    assert got[(REQUESTS, "total_processed", "total")].value == 9
    assert mapped.missing == {}
    # the header rows print no values and are not facts
    assert not [u for u in mapped.unmapped if u.reason != "numbers printed in a header row (ignored)"]
    checks = run_checks(mapped.facts, mapped.requests_layout)
    assert {c.status for c in checks} == {PASS}


def test_requests_labels_with_typos_breaks_and_ascii_punctuation() -> None:
    vals = balanced_requests(V2019)
    rows = requests_rows(V2019, vals)
    replace = {
        "2.其他法律行政法规禁止公开": "2.其他法律行政止公开",
        "5.属于三类内部事务信息": "5.属于三类内容事务信息",
        "3.危及“三安全一稳定”": '3.危及"三安全一稳定"',
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）": "(二)部分公开(区分处理的,只计这一情 形,不\n计其他情形)",
        "四、结转下年度继续办理": "四、结转下年度\n继续办理",
    }
    rows = [[replace.get(c, c) for c in r] for r in rows]
    mapped = map_grids([Grid.from_texts(rows, "t")])
    assert len(mapped.facts) == len(expected_cells(REQUESTS, V2019))


def test_bare_other_is_the_third_child_of_other() -> None:
    assert match_requests_leaf(normalize_label("3.其他"), "other") == "other.other"
    assert match_requests_leaf(normalize_label("3.其他"), "not_processed") == "other.other"
    assert match_requests_leaf(normalize_label("其他"), "not_processed") is None
    assert match_requests_leaf(normalize_label("（七）总计")) == "total_processed"


def test_table_split_over_two_grids_continues() -> None:
    rows = requests_rows(V2021, balanced_requests(V2021))
    cut = 12
    first = Grid.from_texts(rows[:cut], "pdf p.3 table 1", page=3)
    # the continuation on the next page repeats no header and has empty leading cells
    second = Grid.from_texts([["", "", r[2], *r[3:]] for r in rows[cut:]], "pdf p.4 table 1", page=4)
    mapped = map_grids([first, second])
    got = facts_by_key(mapped.facts)
    assert len(got) == len(expected_cells(REQUESTS, V2021))
    assert got[(REQUESTS, "carried_forward", "total")].page == 4
    assert got[(REQUESTS, "new_requests", "total")].page == 3


def test_rowspan_copies_give_context_but_are_not_values() -> None:
    rows = [
        [Cell("三、本年度办理结果", 0, 0), Cell("（三）不予公开", 0, 1), Cell("1.属于国家秘密", 0, 2)]
        + [Cell("1", 0, 3 + i) for i in range(7)],
        [Cell("三、本年度办理结果", 1, 0, span_of=(0, 0)), Cell("（三）不予公开", 1, 1, span_of=(0, 1))]
        + [Cell("2.其他法律行政法规禁止公开", 1, 2)]
        + [Cell("2", 1, 3 + i) for i in range(7)],
        # a value cell spanning two grid columns is one printed value
        [Cell("行政许可", 2, 0), Cell("5", 2, 1), Cell("5", 2, 2, span_of=(2, 1)), Cell("增1", 2, 3), Cell("9", 2, 4)],
    ]
    mapped = map_grids([Grid(rows, "html table 1")])
    got = facts_by_key(mapped.facts)
    assert got[(REQUESTS, "denied.law_prohibited", "total")].raw_text == "2"
    assert got[(PROACTIVE, "admin_licensing", "items_change")].value == 1
    assert got[(PROACTIVE, "admin_licensing", "decisions")].value == 9


def test_proactive_v2021_and_review_and_wrong_total_kept() -> None:
    review = [list(r) for r in REVIEW_ROWS]
    review[3][4] = "0"  # printed total 0 beside non-zero cells (a real published error)
    grids = [
        Grid.from_texts(PROACTIVE_V2021_ROWS, "t1"),
        Grid.from_texts(requests_rows(V2019, balanced_requests(V2019)), "t2"),
        Grid.from_texts(review, "t3"),
    ]
    mapped = map_grids(grids)
    assert mapped.versions == {PROACTIVE: V2021, REQUESTS: V2019, REVIEW_LITIGATION: V2021}
    got = facts_by_key(mapped.facts)
    assert got[(PROACTIVE, "admin_fees", "fee_amount")].value == 7730.28
    assert got[(PROACTIVE, "admin_fees", "fee_amount")].unit == "万元"
    assert got[(PROACTIVE, "normative_docs", "in_force")].value == 8
    assert got[(REVIEW_LITIGATION, "admin_review", "total")].value == 0  # kept as printed
    checks = run_checks(mapped.facts, mapped.requests_layout)
    failed = [c for c in checks if c.status == FAIL]
    assert [(c.check_id, c.row_key, c.expected, c.actual, c.difference) for c in failed] == [
        ("review_litigation.row_total", "admin_review", 0.0, 6.0, -6.0)
    ]
    derived = facts_by_key(derive_subtotals(mapped.facts, mapped.requests_layout))
    assert derived[(REVIEW_LITIGATION, "litigation_total", "total")].value == 4
    assert derived[(REQUESTS, "unable", "total")].value == 2
    assert derived[(REQUESTS, "new_requests", "legal_subtotal")].value == 2


def test_review_printed_as_three_rows_of_five() -> None:
    rows = [
        ["", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"],
        ["行政复议", "1", "1", "0", "0", "2"],
        ["行政诉讼（未经复议直接起诉）", "1", "0", "0", "0", "1"],
        ["行政诉讼（复议后起诉）", "2", "0", "1", "0", "3"],
    ]
    got = facts_by_key(map_grids([Grid.from_texts(rows, "t")]).facts)
    assert got[(REVIEW_LITIGATION, "litigation_after_review", "other")].value == 1
    assert len(got) == 15


def test_blank_total_is_not_assessable_never_zero() -> None:
    vals = balanced_requests(V2019)
    vals["granted"] = ["5", "1", "", "", "", "", ""]
    mapped = map_grids([Grid.from_texts(requests_rows(V2019, vals), "t")])
    checks = {(c.check_id, c.row_key, c.column_key): c for c in run_checks(mapped.facts, mapped.requests_layout)}
    row_total = checks[("requests.row_total", "granted", "total")]
    assert row_total.status == NOT_ASSESSABLE
    assert row_total.blank_as_zero is None  # the total itself is blank
    outcomes = checks[("requests.outcomes", "total_processed", "legal_research")]
    assert outcomes.status == NOT_ASSESSABLE
    assert outcomes.blank_as_zero == PASS


def test_unknown_row_is_unmapped_with_its_label() -> None:
    rows = [*PROACTIVE_V2021_ROWS[:4], ["其他主动公开文件", "4", "0", "9"]]
    mapped = map_grids([Grid.from_texts(rows, "t")])
    assert [(u.label, u.values, u.reason) for u in mapped.unmapped] == [
        ("其他主动公开文件", ["4", "0", "9"], "label matches no row")
    ]


def test_v2019_proactive_with_units_and_changes() -> None:
    rows = [
        ["第二十条第（一）项"],
        ["信息内容", "本年新\n制作数量", "本年新\n公开数量", "对外公开总数量"],
        ["规章", "0", "0", "0"],
        ["规范性文件", "6", "6", "64"],
        ["第二十条第（八）项"],
        ["信息内容", "上一年项目数量", "本年增/减"],
        ["行政事业性收费", "8", "减1"],
        ["第二十条第（九）项"],
        ["信息内容", "采购项目数量", "采购总金额"],
        ["政府集中采购", "376", "251000元"],
    ]
    mapped = map_grids([Grid.from_texts(rows, "t")])
    got = facts_by_key(mapped.facts)
    assert mapped.versions[PROACTIVE] == V2019
    assert got[(PROACTIVE, "normative_docs", "published_total")].value == 64
    assert got[(PROACTIVE, "admin_fees", "items_change")].value == -1
    assert got[(PROACTIVE, "gov_procurement", "procurement_amount")].value == pytest.approx(25.1)
    assert got[(PROACTIVE, "gov_procurement", "procurement_amount")].unit == "万元"


def test_ambiguous_hint_becomes_status() -> None:
    rows = [
        [Cell("第二十条第（一）项", 0, 0)],
        [Cell("规范性文件", 1, 0)]
        + [Cell(t, 1, i + 1, hint="ambiguous", note="digit run 898989: 10 splits") for i in range(3) for t in ["89"]],
    ]
    got = facts_by_key(map_grids([Grid(rows, "text block 1")]).facts)
    fact = got[(PROACTIVE, "normative_docs", "new_made")]
    assert (fact.value, fact.value_status, fact.note) == (89.0, "ambiguous", "digit run 898989: 10 splits")


def test_rows_that_lost_their_labels_take_the_template_positions_between_neighbours() -> None:
    vals = balanced_requests(V2021)
    rows = requests_rows(V2021, vals)
    labelled = {r[2]: r for r in rows[3:]}
    lost = {"2.其他法律行政法规禁止公开", "1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作"}
    rows = rows[:3] + [(["", "", "", *r[3:]]) if r[2] in lost else r for r in labelled.values()]
    mapped = map_grids([Grid.from_texts(rows, "md table 2")])
    got = facts_by_key(mapped.facts)
    assert len(got) == len(expected_cells(REQUESTS, V2021))
    fact = got[(REQUESTS, "unable.not_held", "total")]
    assert fact.raw_text == "2"
    assert "placed by template order between denied.admin_query and unable.unclear_after_correction" in fact.note


def test_unlabelled_rows_that_do_not_fit_stay_unmapped() -> None:
    rows = requests_rows(V2019, balanced_requests(V2019))
    # two label-less rows where the template has one free position
    rows.insert(5, ["", "", "", "9", "0", "0", "0", "0", "0", "9"])
    rows[6][:3] = ["", "", ""]
    mapped = map_grids([Grid.from_texts(rows, "t")])
    assert {u.reason for u in mapped.unmapped} >= {"row without a label that no template position fits"}
    assert ("requests", "granted", "total") not in facts_by_key(mapped.facts)


def test_row_one_cell_short_marks_the_lost_total_ambiguous() -> None:
    rows = requests_rows(V2019, balanced_requests(V2019))
    rows = [[*r, ""] for r in rows]  # a conversion added an empty column everywhere...
    rows[-1] = rows[-1][:-2]  # ...and lost the last cell of the carried_forward row
    mapped = map_grids([Grid.from_texts(rows, "md")])
    got = facts_by_key(mapped.facts)
    total = got[(REQUESTS, "carried_forward", "total")]
    assert (total.value_status, total.value, total.raw_text) == ("ambiguous", 3.0, "")
    assert got[(REQUESTS, "carried_forward", "legal_other")].value_status == "ok"
    assert got[(REQUESTS, "new_requests", "total")].value == 10
