"""Parse one printed cell into value, unit and ``value_status``.

The parser never guesses: whatever does not fit a known pattern is ``unparseable`` with the
printed text kept, and blanks stay blanks (null), never 0.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from xxgk.schemas import lexicon as lx

OK = "ok"
BLANK = "blank"
DASH = "dash"
SLASH = "slash"
NONE_TEXT = "none_text"
UNPARSEABLE = "unparseable"
AMBIGUOUS = "ambiguous"
DERIVED = "derived"
#: A digit run the table alone could split several ways, split the one way the report's own
#: narrative (主动公开规章22件) allows: the value is as printed, the split is the narrative's.
SPLIT_BY_NARRATIVE = "split_by_narrative"
#: The same, settled by another copy of the same report (the page beside its text export).
SPLIT_BY_OTHER_COPY = "split_by_other_copy"

VALUE_STATUSES = (OK, BLANK, DASH, SLASH, NONE_TEXT, UNPARSEABLE, AMBIGUOUS, SPLIT_BY_NARRATIVE, SPLIT_BY_OTHER_COPY)

_WS = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_DASHES = frozenset(lx.DASH_TOKENS)
_SLASHES = frozenset(lx.SLASH_TOKENS)
_NONE_WORDS = frozenset(lx.NONE_WORDS)
_UNCHANGED_WORDS = frozenset(lx.UNCHANGED_WORDS)
_MONEY_FACTORS = lx.MONEY_UNITS


def _alternatives(words: tuple[str, ...] | list[str]) -> str:
    """A regex alternation of printed words, longest first (人次 before 次)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# The value-token grammar: what one printed value may look like. Every reader that has to tell a
# value from a label, or split a run of values, builds on these pieces.
NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
MEASURE = _alternatives(lx.COUNT_MEASURE_WORDS)
MONEY_UNIT = _alternatives(list(lx.MONEY_UNITS))
SIGN_PLUS = _alternatives(lx.SIGN_PLUS_WORDS)
SIGN_MINUS = _alternatives(lx.SIGN_MINUS_WORDS)
NULL_TOKEN = r"[-−–—―─/\\－／＼]{1,2}"
_SIGNED = re.compile(rf"^({SIGN_PLUS}|{SIGN_MINUS})?({NUMBER})(?:{MEASURE})?$")
_MONEY = re.compile(rf"^({NUMBER})({MONEY_UNIT})?$")
_COUNT = re.compile(rf"^({NUMBER})(?:{MEASURE})?$")
_MINUS = frozenset(lx.SIGN_MINUS_WORDS)
#: One printed value of any kind, as a token inside a line (layout text, converted tables).
VALUE_TOKEN = re.compile(
    rf"(?:{SIGN_PLUS}|{SIGN_MINUS})?\d[\d,]*(?:\.\d+)?(?:{MONEY_UNIT}|{MEASURE})?|{NULL_TOKEN}|{_alternatives(lx.NONE_WORDS)}"
)
_CN_DIGITS = lx.CN_DIGITS
_CN_UNITS = lx.CN_MULTIPLIERS
_CN_NUMERAL = re.compile(f"^[{''.join(lx.CN_DIGITS)}{''.join(lx.CN_MULTIPLIERS)}]+$")


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


#: Note of a cell printing a superscript, subscript, circled or fraction digit (``3²``, ``①``).
DIGIT_FORM = "digit_form: a superscript, subscript, circled or fraction digit is not a plain number"


def has_digit_form(text: str) -> bool:
    """Whether ``text`` holds a character NFKC turns into digits that is not itself a decimal digit.

    ``3²`` (a footnote mark) would read as 32 and ``①`` (a list marker) as 1 once folded: such a
    cell is ambiguous, never a number. Full-width digits are decimal digits and fold as they should.
    """
    return any(
        not ch.isdecimal() and any(c.isdigit() for c in unicodedata.normalize("NFKC", ch))
        for ch in text
        if not ch.isascii()
    )


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
        elif _CN_UNITS[ch] == 10000:
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
    if raw and not raw.isascii() and has_digit_form(raw):
        return ParsedValue(None, unit, AMBIGUOUS, _WS.sub("", raw), note=DIGIT_FORM)
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
                return ParsedValue(amount * _MONEY_FACTORS[printed_unit], lx.WAN_YUAN, OK, text)
            if unit_printed_in_header:
                return ParsedValue(amount, unit, OK, text)
            return ParsedValue(amount, None, OK, text, note="unit_unknown")
        return ParsedValue(None, unit, UNPARSEABLE, text, note="not an amount")

    if signed:
        if text in _UNCHANGED_WORDS:
            return ParsedValue(0.0, unit, OK, text)
        m = _SIGNED.match(text)
        if m:
            sign = -1.0 if m.group(1) in _MINUS else 1.0
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


@lru_cache(maxsize=1 << 16)
def looks_like_value(text: str | None) -> bool:
    """True when a cell reads as a value (number, null token, 增/减, money), not as a label.

    Cached: a pure function of the printed text, asked of every cell and word of a table."""
    t = clean_cell_text(text)
    if t == "":
        return True
    if t in _DASHES or t in _SLASHES or t in _NONE_WORDS or t in _UNCHANGED_WORDS:
        return True
    if re.fullmatch(r"[-－—–―─]+", t):
        return True
    return bool(_SIGNED.match(t) or _MONEY.match(t) or _COUNT.match(t))


_BARE_NUMBER = re.compile(r"[-+]?\d[\d,.]*")


def is_bare_number(token: str) -> bool:
    """A whitespace-separated token of running text that is a bare number (``3``, ``1,024``, ``１７``).

    Narrower than ``looks_like_value`` on purpose: that test also accepts blanks, dashes, slashes,
    无 and 增/减, which running prose is full of; a line of page text counts as a row of table
    values only on digits.
    """
    return bool(_BARE_NUMBER.fullmatch(unicodedata.normalize("NFKC", token)))


def has_digit(text: str) -> bool:
    """Whether a value-looking word carries a digit (a number, not a null token such as 无 or —)."""
    return any(map(str.isdigit, text))


_NULL_MARKS = frozenset("".join((*lx.DASH_TOKENS, *lx.SLASH_TOKENS, *lx.NONE_WORDS, *lx.UNCHANGED_WORDS)))


def may_print_a_value(text: str) -> bool:
    """Cheap test before splitting a text into words: only a text with a digit or a character of
    a null token (—, /, 无, 持平 …) can hold a value token."""
    return has_digit(text) or not _NULL_MARKS.isdisjoint(text)


# --- runs of values printed without separators (text exports: 规范性文件7777166) -------------

#: A number inside a run: no leading zero (a lone 0 is fine), so a run splits a finite number of ways.
RUN_NUMBER = r"(?:0|[1-9]\d{0,9}|[1-9]\d{0,2}(?:,\d{3})+)"
#: One cell of a run, per kind of column: ``count``, ``signed`` (本年增/减) or ``money``.
RUN_TOKENS: dict[str, re.Pattern[str]] = {
    "count": re.compile(rf"{RUN_NUMBER}(?:{MEASURE})?|{NULL_TOKEN}"),
    "signed": re.compile(rf"(?:{SIGN_PLUS}|{SIGN_MINUS})?{RUN_NUMBER}(?:{MEASURE})?|{NULL_TOKEN}"),
    "money": re.compile(rf"(?:0|[1-9]\d*|[1-9]\d{{0,2}}(?:,\d{{3}})+)(?:\.\d+)?(?:{MONEY_UNIT})?|{NULL_TOKEN}"),
}
#: The longest cell of each kind a run is split into.
RUN_TOKEN_MAX = {"count": 14, "signed": 16, "money": 30}
MEASURE_WORDS = lx.COUNT_MEASURE_WORDS


@lru_cache(maxsize=65536)
def token_value(token: str, kind: str = "count") -> float | None:
    """The number one printed token stands for (None for a dash, slash or anything unreadable).

    The same reading as ``parse_cell_value`` (it is what runs of cells are checked with), cached
    because a run is split many ways.
    """
    parsed = parse_cell_value(token, unit="", signed=kind == "signed", money=kind == "money")
    return parsed.value if parsed.status == OK else None


@lru_cache(maxsize=1 << 16)
def is_value_token(text: str) -> bool:
    """True when ``text`` (NFKC, stripped) is exactly one printed value token."""
    return bool(VALUE_TOKEN.fullmatch(unicodedata.normalize("NFKC", text).strip()))


def prints_only_values(text: str | None) -> bool:
    """True when a cell reads as a value or as several values (``3笔 125000元``), not as a label."""
    return looks_like_value(text) or bool(value_tokens(text))


def value_tokens(text: str | None) -> list[str]:
    """The value tokens one cell prints, when it prints only values (``3笔 125000元`` → two).

    Empty when any part of the cell is not a value token: a label is never read as values.
    """
    t = unicodedata.normalize("NFKC", text or "").strip()
    if not t:
        return []
    tokens: list[str] = []
    pos = 0
    for m in VALUE_TOKEN.finditer(t):
        if t[pos : m.start()].strip():
            return []
        tokens.append(m.group())
        pos = m.end()
    return tokens if not t[pos:].strip() else []
