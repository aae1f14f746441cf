"""Parse one printed cell into value, unit and ``value_status``.

The parser never guesses: whatever does not fit a known pattern is ``unparseable`` with the
printed text kept, and blanks stay blanks (null), never 0.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

OK = "ok"
BLANK = "blank"
DASH = "dash"
SLASH = "slash"
NONE_TEXT = "none_text"
UNPARSEABLE = "unparseable"
AMBIGUOUS = "ambiguous"
DERIVED = "derived"

VALUE_STATUSES = (OK, BLANK, DASH, SLASH, NONE_TEXT, UNPARSEABLE, AMBIGUOUS)

_WS = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_DASHES = {"-", "－", "—", "–", "──", "——", "―", "--", "N/A", "n/a", "NA"}
_SLASHES = {"/", "／", "\\", "＼"}
_NONE_WORDS = {"无", "空"}
_UNCHANGED_WORDS = {"持平", "无变化", "不变"}
_MONEY_FACTORS = {"元": 0.0001, "万元": 1.0, "亿元": 10000.0}
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SIGNED = re.compile(rf"^(增加|增|新增|减少|减|\+|-|−|－)?({_NUMBER})(项|个|件)?$")
_MONEY = re.compile(rf"^({_NUMBER})(亿元|万元|元)?$")
_COUNT = re.compile(rf"^({_NUMBER})(件|项|个|条)?$")
_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_NUMERAL = re.compile(r"^[〇零一二两三四五六七八九十百千万]+$")


@dataclass(frozen=True, slots=True)
class ParsedValue:
    """What a cell says: ``value`` is None unless ``status`` is ok (or ambiguous with a best guess)."""

    value: float | None
    unit: str | None
    status: str
    raw_text: str
    note: str = ""


def clean_cell_text(text: str | None) -> str:
    """NFKC and all whitespace removed: the form kept as ``raw_text``."""
    if not text:
        return ""
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def _to_number(digits: str) -> float:
    return float(digits.replace(",", ""))


def parse_chinese_numeral(text: str) -> int | None:
    """Read a cell written entirely in Chinese numerals (e.g. 十二, 一百零五); None if not one."""
    if not _CN_NUMERAL.match(text):
        return None
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch == "万":
            section = (section + (digit or 0)) * 10000
            total += section
            section, digit = 0, None
        else:
            section += (digit if digit is not None else 1) * _CN_UNITS[ch]
            digit = None
    return total + section + (digit or 0)


def parse_cell_value(
    raw: str | None,
    *,
    unit: str,
    signed: bool = False,
    money: bool = False,
    unit_printed_in_header: bool = True,
) -> ParsedValue:
    """Parse a printed cell for a column of ``unit``.

    ``signed`` admits 增40/减1/+3/-2 (本年增/减). ``money`` converts 元/亿元 in the cell to 万元;
    when a money cell has no unit and the header printed none either, the unit is unknown (None)
    and the note says so rather than assuming 万元.
    """
    text = clean_cell_text(raw)
    if text == "":
        return ParsedValue(None, unit, BLANK, text)
    if text in _DASHES or re.fullmatch(r"[-－—–―─]+", text):
        return ParsedValue(None, unit, DASH, text)
    if text in _SLASHES:
        return ParsedValue(None, unit, SLASH, text)
    if text in _NONE_WORDS:
        return ParsedValue(None, unit, NONE_TEXT, text)

    if money:
        m = _MONEY.match(text)
        if m:
            amount, printed_unit = _to_number(m.group(1)), m.group(2)
            if printed_unit:
                return ParsedValue(amount * _MONEY_FACTORS[printed_unit], "万元", OK, text)
            if unit_printed_in_header:
                return ParsedValue(amount, unit, OK, text)
            return ParsedValue(amount, None, OK, text, note="unit_unknown")
        return ParsedValue(None, unit, UNPARSEABLE, text, note="not an amount")

    if signed:
        if text in _UNCHANGED_WORDS:
            return ParsedValue(0.0, unit, OK, text)
        m = _SIGNED.match(text)
        if m:
            sign = -1.0 if m.group(1) in {"减", "减少", "-", "−", "－"} else 1.0
            number = _to_number(m.group(2))
            if number != int(number):
                return ParsedValue(None, unit, UNPARSEABLE, text, note="count is not an integer")
            return ParsedValue(sign * number if number else 0.0, unit, OK, text)
        return ParsedValue(None, unit, UNPARSEABLE, text, note="not a signed count")

    m = _COUNT.match(text)
    if m:
        number = _to_number(m.group(1))
        if number != int(number):
            return ParsedValue(None, unit, UNPARSEABLE, text, note="count is not an integer")
        return ParsedValue(number, unit, OK, text)
    cn = parse_chinese_numeral(text)
    if cn is not None:
        return ParsedValue(float(cn), unit, OK, text, note="chinese_numeral")
    if re.match(r"^[-−－]\d", text):
        return ParsedValue(None, unit, UNPARSEABLE, text, note="negative count")
    return ParsedValue(None, unit, UNPARSEABLE, text, note="not a count")


def looks_like_value(text: str | None) -> bool:
    """True when a cell reads as a value (number, null token, 增/减, money), not as a label."""
    t = clean_cell_text(text)
    if t == "":
        return True
    if t in _DASHES or t in _SLASHES or t in _NONE_WORDS or t in _UNCHANGED_WORDS:
        return True
    if re.fullmatch(r"[-－—–―─]+", t):
        return True
    return bool(_SIGNED.match(t) or _MONEY.match(t) or _COUNT.match(t))
