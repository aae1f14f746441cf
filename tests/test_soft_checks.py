"""Narrative-versus-table and cross-year checks, and document classification."""

from __future__ import annotations

from xxgk.schemas.classify import identify, legacy_reason, looks_like_report
from xxgk.schemas.records import FAIL, PASS, Fact
from xxgk.schemas.soft_checks import cross_year_checks, find_narrative_claims, narrative_checks


def fact(table: str, row: str, col: str, value: float | None, status: str = "ok") -> Fact:
    return Fact(table, row, col, value, "件", "" if value is None else str(int(value)), status, "v2021")


def test_narrative_claims_quote_their_sentence() -> None:
    text = "一、总体情况\n2023年全区受理政府信息公开申请 21 件。因政府信息公开引起的行政复议案件2件、行政诉讼案件7件。"
    claims = [(c.topic, c.value) for c in find_narrative_claims(text)]
    assert claims == [("requests", 21), ("admin_review", 2), ("litigation", 7)]
    facts = [
        fact("requests", "new_requests", "total", 21),
        fact("review_litigation", "admin_review", "total", 3),
        fact("review_litigation", "litigation_direct", "total", 4),
        fact("review_litigation", "litigation_after_review", "total", 3),
    ]
    checks = {c.row_key: c for c in narrative_checks(text, facts)}
    assert checks["new_requests"].status == PASS
    assert checks["admin_review"].status == FAIL
    assert checks["admin_review"].severity == "warning"
    assert "行政复议案件2件" in checks["admin_review"].detail
    assert checks["litigation_total"].status == PASS


def test_carry_continuity_and_in_force() -> None:
    y2023 = [
        fact("requests", "carried_forward", "total", 3),
        fact("proactive", "normative_docs", "in_force", 5),
    ]
    y2024 = [
        fact("requests", "carried_over", "total", 2),
        fact("proactive", "normative_docs", "in_force", 8),
        fact("proactive", "normative_docs", "issued", 3),
        fact("proactive", "normative_docs", "repealed", 0),
    ]
    checks = {c.check_id: c for c in cross_year_checks(y2024, y2023, 2024, 2023)}
    carry = checks["requests.carry_continuity"]
    assert (carry.status, carry.expected, carry.actual, carry.difference) == (FAIL, 2, 3, -1)
    assert checks["proactive.in_force_continuity"].status == PASS
    assert cross_year_checks(y2024, y2023, 2024, 2022) == []


def test_identify_title_year_and_publisher() -> None:
    ident = identify("长沙市岳麓区人民政府2020年政府信息公开工作年度报告\n\n根据……")
    assert (ident.year, ident.publisher) == (2020, "长沙市岳麓区人民政府")
    ident = identify("2019年上海市人民政府办公厅政府信息公开工作年度报告")
    assert (ident.year, ident.publisher) == (2019, "上海市人民政府办公厅")
    ident = identify("标题: 平潭综合实验区2019年度政府信息公开工作年度报告\n发布时间: 2020-01-20")
    assert (ident.year, ident.publisher) == (2019, "平潭综合实验区")


def test_legacy_and_not_a_report() -> None:
    legacy_text = "2016年政府信息公开工作年度报告 当面申请 3件 网上申请 5件 同意公开答复 4件"
    assert legacy_reason(legacy_text, 2016, 0) is not None
    assert legacy_reason(legacy_text, None, 0) is not None
    assert legacy_reason("2023年政府信息公开工作年度报告", 2023, 3) is None
    assert looks_like_report("某区2023年政府信息公开工作年度报告")
    assert not looks_like_report("关于开展2023年度安全生产检查的通知")
