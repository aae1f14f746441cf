"""parse_cell_value: every printed form met in reports, and what it must never guess."""

from __future__ import annotations

import pytest

from xxgk.schemas.values import (
    AMBIGUOUS,
    BLANK,
    DASH,
    NONE_TEXT,
    OK,
    SLASH,
    UNPARSEABLE,
    looks_like_value,
    parse_cell_value,
    parse_chinese_numeral,
)


@pytest.mark.parametrize(
    ("raw", "value", "status"),
    [
        ("0", 0.0, OK),
        ("56284", 56284.0, OK),
        (" 1 2 ", 12.0, OK),  # whitespace inside a cell (PDF kerning)
        ("１２３", 123.0, OK),  # full-width digits
        ("1,234", 1234.0, OK),
        ("1，234", 1234.0, OK),  # full-width comma between digit groups
        ("12,34", None, UNPARSEABLE),  # not a thousands separator
        ("5件", 5.0, OK),
        ("", None, BLANK),
        ("\u00a0\u3000", None, BLANK),
        ("-", None, DASH),
        ("—", None, DASH),
        ("——", None, DASH),
        ("/", None, SLASH),
        ("／", None, SLASH),
        ("无", None, NONE_TEXT),
        ("1.5", None, UNPARSEABLE),
        ("-2", None, UNPARSEABLE),
        ("见附件", None, UNPARSEABLE),
        ("十二", 12.0, OK),
        ("一百零五", 105.0, OK),
    ],
)
def test_counts(raw: str, value: float | None, status: str) -> None:
    parsed = parse_cell_value(raw, unit="件")
    assert (parsed.value, parsed.status) == (value, status)
    assert parsed.unit == "件"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("增40", 40.0),
        ("减1", -1.0),
        ("+3", 3.0),
        ("-2", -2.0),
        ("0", 0.0),
        ("增加5", 5.0),
        ("减少2项", -2.0),
        ("持平", 0.0),
    ],
)
def test_signed_change(raw: str, value: float) -> None:
    parsed = parse_cell_value(raw, unit="项", signed=True)
    assert parsed.value == value
    assert parsed.status == OK
    assert parsed.raw_text == raw


@pytest.mark.parametrize(
    ("raw", "value", "unit"),
    [
        ("60167.14242万元", 60167.14242, "万元"),
        ("251000元", 25.1, "万元"),
        ("1.5亿元", 15000.0, "万元"),
        ("7730.28", 7730.28, "万元"),
    ],
)
def test_money(raw: str, value: float, unit: str) -> None:
    parsed = parse_cell_value(raw, unit="万元", money=True)
    assert parsed.value == pytest.approx(value)
    assert parsed.unit == unit


def test_money_without_any_unit_is_flagged_not_assumed() -> None:
    parsed = parse_cell_value("376", unit="万元", money=True, unit_printed_in_header=False)
    assert parsed.value == 376.0
    assert parsed.unit is None
    assert parsed.note == "unit_unknown"


def test_raw_text_keeps_the_printed_form() -> None:
    assert parse_cell_value(" 增 40 ", unit="项", signed=True).raw_text == "增40"
    assert parse_cell_value("１２", unit="件").raw_text == "12"


def test_ambiguous_is_a_status_the_parser_never_produces() -> None:
    assert AMBIGUOUS not in {parse_cell_value(t, unit="件").status for t in ["1", "", "-", "x"]}


def test_chinese_numerals() -> None:
    assert parse_chinese_numeral("十") == 10
    assert parse_chinese_numeral("二十三") == 23
    assert parse_chinese_numeral("三万零五") == 30005
    assert parse_chinese_numeral("规章") is None


@pytest.mark.parametrize(("text", "expected"), [("12", True), ("", True), ("增40", True), ("—", True), ("规章", False)])
def test_looks_like_value(text: str, expected: bool) -> None:
    assert looks_like_value(text) is expected


@pytest.mark.parametrize("raw", ["²", "3²", "1⁰", "①", "⑵", "⒈", "½", "12₃"])
def test_a_superscript_or_circled_digit_was_read_as_a_number(raw: str) -> None:
    """Found by hypothesis: NFKC turned ``3²`` (a footnote mark) into 32 and ``①`` into 1. Such a
    cell is ambiguous, its printed form kept; full-width digits still read as numbers."""
    parsed = parse_cell_value(raw, unit="件")
    assert (parsed.value, parsed.status, parsed.raw_text) == (None, AMBIGUOUS, raw)
    assert parse_cell_value("１２", unit="件").value == 12.0
