"""Match printed labels to canonical keys: the one label matcher every form uses.

Real labels carry line breaks, full-width punctuation, quotes, typos (其他法律行政止公开,
三类内容事务信息), glosses in parentheses, missing or extra enumerators (（一）, 1., 一、),
的/之, traditional forms from old fonts (結轉, 維持) and OCR confusions (己/已, 末/未). So a
label is first folded (``fold_label``: one canonical spelling of every variant), then matched
on keyword cores (``schemas.lexicon``, template_notes §8.2) in the group context of its row,
never on exact text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from xxgk.schemas import lexicon as lx
from xxgk.schemas.model import PROACTIVE, REQUESTS, REVIEW_LITIGATION

_SPACE_CLASS = r"\s\u00a0\u3000\u200b\u200c\u200d\u2060\ufeff\u00ad"
_WS = re.compile(f"[{_SPACE_CLASS}]+")
_DROPPED = re.compile(f"[{re.escape(lx.LABEL_DROPPED)}]+")
#: Runs of the characters a label keeps (the complement of whitespace and the dropped characters).
LABEL_KEPT = re.compile(f"[^{_SPACE_CLASS}{re.escape(lx.LABEL_DROPPED)}]+")
_NUMERALS = lx.CN_NUMERALS
_DIGIT = f"[\\d{re.escape(''.join(lx.OCR_DIGIT_CONFUSIONS))}]"
_NUMBERING = re.compile(
    rf"^(?:[{_NUMERALS}]+[、.,]|\(?[{_NUMERALS}]+\)[、.,]?|\d+[.、),]|{_DIGIT}{{1,2}}[.、),](?=\D)|\({_DIGIT}{{1,2}}\)[、.,]?)+"
)
_GLOSS = re.compile(r"\([^()]*\)")


@cache
def _fold_table() -> dict[int, str]:
    table = {ord(t): s for t, s in zip(lx.TRADITIONAL_FORMS, lx.SIMPLIFIED_FORMS, strict=True)}
    table.update({ord(a): b for a, b in lx.OCR_LABEL_CONFUSIONS.items()})
    table.update({ord(a): b for a, b in lx.BRACKET_FORMS.items()})
    return table


def fold_chars(text: str) -> str:
    """Fold every character of ``text`` to its canonical label spelling, one for one.

    Traditional forms, OCR confusions and brackets (after NFKC): the same length as the input,
    so an extractor can fold a whole text and still map positions back (the text stream does).
    """
    return text.translate(_fold_table())


def is_dropped(ch: str) -> bool:
    """Characters labels are compared without: whitespace, zero-width marks, quotes, 的/之."""
    return bool(_WS.fullmatch(ch) or ch in lx.LABEL_DROPPED)


@lru_cache(maxsize=1 << 15)
def fold_label(text: str | None) -> str:
    """The canonical spelling of a printed label: the form keyword cores are matched in.

    NFKC (full-width digits, letters and punctuation to ASCII: （）→(), ，→,), no whitespace or
    line breaks, no quotes, no 的/之, traditional forms and OCR confusions folded, every bracket
    as ASCII parentheses, no trailing colon.
    """
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", text)
    t = _DROPPED.sub("", _WS.sub("", t))
    if not t.isascii():  # a removed space or quote can leave a letter beside a combining mark: compose them
        t = unicodedata.normalize("NFKC", t)
    return fold_chars(t).rstrip(":")


#: The historical name of ``fold_label``.
normalize_label = fold_label


def strip_numbering(label: str) -> str:
    """Drop leading 一、 / (三) / 1. markers of a folded label."""
    return _NUMBERING.sub("", label)


def strip_glosses(label: str) -> str:
    """Drop parenthesised glosses (指2020年…) of a folded label."""
    return _GLOSS.sub("", label)


def _has_any(label: str, words: tuple[str, ...]) -> bool:
    return any(w in label for w in words)


# --- table 三 ------------------------------------------------------------------------------

#: Group markers of table 三; a label that is only a group sets the context of the rows below.
REQUESTS_GROUPS = set(lx.REQUEST_GROUP_CORES) - {"results"}


@lru_cache(maxsize=1 << 15)
def match_requests_leaf(label: str, parent: str | None = None) -> str | None:
    """The table-三 leaf row a folded label names, or None.

    ``parent`` is the current group (denied/unable/not_processed/other): a bare ``3.其他`` is only
    ``other.other`` under （六）.
    """
    if not label:
        return None
    for key, cores in lx.REQUEST_ROW_CORES.items():
        if key == "granted" and _has_any(label, lx.REQUEST_NOT_GRANTED):
            continue
        if _has_any(label, cores):
            return key
    core = strip_numbering(label)
    if core in lx.TOTAL_WORDS or lx.REQUEST_TOTAL_ROW.search(label):
        return "total_processed"
    if core in lx.OTHER_WORDS and (parent == "other" or label.startswith("3")):
        # no other group of table 三 has a child 其他; （六）'s third child is 3.其他
        return "other.other"
    return None


@lru_cache(maxsize=1 << 15)
def match_requests_group(label: str) -> str | None:
    """The group a label opens (三、本年度办理结果, （三）不予公开, ...), or None."""
    for key, cores in lx.REQUEST_GROUP_CORES.items():
        if _has_any(label, cores):
            return key
    return None


def is_requests_header(labels: list[str]) -> bool:
    """True for the header rows of table 三 (applicant columns, the 勾稽关系 note)."""
    joined = "".join(labels)
    if _has_any(joined, lx.REQUEST_NOTE_WORDS[:1]):
        return True
    words = (
        *lx.REQUEST_HEADER_GROUP_WORDS,
        *(
            c
            for k, cs in lx.REQUEST_COLUMN_CORES.items()
            if k.startswith(("natural", "legal_")) and k != "legal_other"
            for c in cs
        ),
    )
    return sum(1 for w in words if w in joined) >= 2


# --- table 二 ------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 15)
def match_proactive_row(label: str) -> str | None:
    """The table-二 row a folded label names (规章, 行政许可, ...), or None."""
    core = strip_glosses(strip_numbering(label))
    for key, cores in lx.PROACTIVE_ROW_CORES.items():
        if _has_any(core, cores):
            return key
    return None


@lru_cache(maxsize=1 << 15)
def match_proactive_column(label: str) -> str | None:
    """The table-二 column a folded header label names, or None."""
    for key, cores in lx.PROACTIVE_COLUMN_CORES.items():
        if _has_any(label, cores):
            return key
    return None


@lru_cache(maxsize=1 << 15)
def match_block_caption(label: str) -> str | None:
    """``第二十条第（五）项`` → ``art20_5``; None if the label is no block caption."""
    m = lx.BLOCK_CAPTION.search(label)
    if not m:
        return None
    return lx.BLOCK_BY_NUMERAL.get(m.group(1), f"art20_{m.group(1)}")


@lru_cache(maxsize=1 << 15)
def header_unit(label: str) -> str | None:
    """The money unit a table-二 header cell prints (本年收费金额（单位：万元）), or None."""
    if _has_any(label, lx.HEADER_UNIT_WAN):
        return lx.WAN_YUAN
    if _has_any(label, lx.HEADER_UNIT_YUAN):
        return lx.YUAN
    return None


# --- table 四 ------------------------------------------------------------------------------


def is_review_header(labels: list[str]) -> bool:
    """True for the header rows of table 四."""
    joined = "".join(labels)
    hits = sum(1 for w in lx.REVIEW_HEADER_WORDS if w in joined)
    return hits >= 2 or all(w in joined for w in lx.REVIEW_HEADER_PAIR)


@lru_cache(maxsize=1 << 15)
def match_review_row(label: str) -> str | None:
    """For a table 四 printed as three rows of five: which group a label names."""
    for key, cores in lx.REVIEW_GROUP_CORES.items():
        if _has_any(label, cores):
            return key
    return None


# --- rows of any table ---------------------------------------------------------------------


@lru_cache(maxsize=1 << 15)
def is_leaf_label(text: str, v2021_other: bool = False) -> bool:
    """A table row that prints values (not a group label, caption or heading).

    ``v2021_other``: the report splits （六）其他处理 into sub-rows, so （六） is a group label.
    """
    n = fold_label(text)
    if not n or len(n) > 60 or n in lx.TOTAL_WORDS:  # a bare 总计 is the column header, not （七）总计
        return False
    if match_requests_leaf(n, "other" if v2021_other else None) or match_proactive_row(n):
        return not match_block_caption(n)
    return match_requests_group(n) == "other" and not v2021_other  # （六）其他处理 is a leaf in v2019


@lru_cache(maxsize=1 << 15)
def is_complete_label(text: str) -> bool:
    """Whether a label already prints the whole canonical label of the row it names.

    Such a label is not wrapped: text printed below it belongs to another label.
    """
    from xxgk.schemas.model import PROACTIVE_SPEC, REQUESTS_SPEC

    folded = fold_label(text)
    key = match_requests_leaf(folded)
    spec = REQUESTS_SPEC if key else PROACTIVE_SPEC
    key = key or match_proactive_row(folded)
    if key is None:
        return False
    full = (fold_label(x) for x in spec.row(key).labels.values())
    return any(strip_numbering(f) and folded.endswith(strip_numbering(f)) for f in full)


def row_words(table: str, row_key: str) -> tuple[str, ...]:
    """Every folded word that prints a row of ``table``: its labels and its keyword cores."""
    from xxgk.schemas.model import SPECS

    labels = tuple(fold_label(x) for x in SPECS[table].row(row_key).labels.values())
    if table == REQUESTS:
        if row_key == "total_processed":
            cores: tuple[str, ...] = lx.REQUEST_TOTAL_CORES
        elif row_key == "other":
            cores = lx.REQUEST_GROUP_CORES["other"]
        else:
            cores = lx.REQUEST_ROW_CORES.get(row_key, ()) + tuple(lx.REQUEST_EXTRA_LABELS.get(row_key, ()))
    elif table == PROACTIVE:
        cores = lx.PROACTIVE_ROW_CORES[row_key]
    else:
        cores = lx.REVIEW_GROUP_CORES.get(row_key, ())
    return tuple(dict.fromkeys(w for w in (*labels, *cores) if w))


def row_printed(table: str, row_key: str, folded_text: str) -> bool:
    """Whether a document (its folded text and table cells) prints a row's label anywhere."""
    return any(w in folded_text for w in row_words(table, row_key))


# --- which table ---------------------------------------------------------------------------


@lru_cache(maxsize=1 << 15)
def table_of_heading(label: str) -> str | None:
    """The table a section heading (二、主动公开政府信息情况 ...) introduces, or None."""
    if _has_any(label, lx.TABLE_HEADING_CORES[PROACTIVE]):
        return PROACTIVE
    for table in (REQUESTS, REVIEW_LITIGATION):
        if _has_any(label, lx.TABLE_HEADING_CORES[table]) or all(w in label for w in lx.TABLE_HEADING_ALL_OF[table]):
            return table
    return None


@lru_cache(maxsize=1 << 15)
def is_closing_heading(label: str) -> bool:
    """五、存在的主要问题… / 六、其他需要报告的事项: the statistical part is over."""
    return _has_any(label, lx.CLOSING_HEADING_CORES)


# Re-exported for the modules that read them with the matcher.
PRE2019_MARKERS = lx.PRE2019_MARKERS
PROACTIVE_V2019_MARKERS = lx.PROACTIVE_V2019_MARKERS
PROACTIVE_V2021_MARKERS = lx.PROACTIVE_V2021_MARKERS
