"""What the PDF reader knows of printed text: how a cell's text is cleaned, and the printed words
that locate the tables (table labels, section headings, page numbers).

Every printed-word list of the PDF reader is one module-level constant here, so that it can move
into the project's lexicon as a whole: ``EXTRA_TABLE_LABELS``, ``TABLE_MARKERS`` (built from
``schemas.model``), ``TABLE_HEADING_KEYS``, ``LABEL_NUMBERING``, ``SECTION_HEADING``,
``PAGE_NUMBER``, ``BLOCK_CAPTION_WORD`` and ``REPORT_PHRASE``.
"""

from __future__ import annotations

import re

from xxgk.schemas.model import PROACTIVE_BLOCK_CAPTIONS, SPECS, TABLE_HEADINGS
from xxgk.schemas.values import clean_cell_text

# --- printed words -----------------------------------------------------------------------------

#: Table labels that no key of ``schemas.model`` prints whole: header cells of table 三 and 四.
EXTRA_TABLE_LABELS = ("信息内容", "申请人情况", "法人或其他组织", "未经复议直接起诉", "复议后起诉")

#: Numbering in front of a label (一、 / （三） / 2.), cut off before a label's core is taken.
LABEL_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\d+\.)")

#: A report section heading (二、主动公开政府信息情况, 五、…改进情况, 六、…事项): a table ends there.
#: Row labels of table 三 also start with 一、/二、/四、 but never end in 情况 or 事项.
SECTION_HEADING = re.compile(r"^[一二三四五六七八九十]+、.*(?:情况|事项)")

#: A page footer or header that only numbers the page: ``- 3 -``, ``第3页共5页``, ``3/5``.
PAGE_NUMBER = re.compile(r"^(?:[-—–－]+\d+[-—–－]+|第\d+页(?:共\d+页)?|\d+/\d+)$")

#: The caption of a block of table 二 (第二十条第（一）项) spans the table: it is a row of its own.
BLOCK_CAPTION_WORD = "第二十条"

#: Every report names the regulation's subject; a PDF without it and without table labels is no report.
REPORT_PHRASE = "政府信息公开"


def norm(text: str) -> str:
    """Matching form of page text or labels: NFKC, no whitespace (``schemas.values.clean_cell_text``)."""
    return clean_cell_text(text)


def label_core(label: str) -> str:
    """The first six characters of a label without its numbering or gloss: typos further on still match."""
    core = LABEL_NUMBERING.sub("", norm(label))
    core = re.sub(r"\(.*$", "", core)
    return core[:6]


def _build_markers() -> tuple[str, ...]:
    """Label cores that show a page holds one of the statistical tables (typos survive: prefixes)."""
    markers: set[str] = set()
    for heading in TABLE_HEADINGS.values():
        markers.add(norm(heading.split("、", 1)[1]))
    for caption in PROACTIVE_BLOCK_CAPTIONS.values():
        markers.add(norm(caption))
    for spec in SPECS.values():
        for row in spec.rows:
            for label in row.labels.values():
                core = label_core(label)
                if len(core) >= 4:
                    markers.add(core)
        for col in spec.columns:
            for label in col.labels.values():
                core = label_core(label)
                if len(core) >= 4:
                    markers.add(core)
    markers.update(EXTRA_TABLE_LABELS)
    return tuple(sorted(markers))


#: Label cores whose presence marks a page (or a region of one) as holding a statistical table.
TABLE_MARKERS = _build_markers()

#: The table headings without their numbering (主动公开政府信息情况 …): a table region ends at one.
TABLE_HEADING_KEYS = tuple(norm(h.split("、", 1)[1]) for h in TABLE_HEADINGS.values())


def marker_hits(page_text: str, markers: tuple[str, ...] = TABLE_MARKERS) -> int:
    """How many distinct table labels a page's text contains."""
    text = norm(page_text)
    return sum(1 for m in markers if m in text)


# --- numbers in running text -------------------------------------------------------------------

_NUMBER_TOKEN = re.compile(r"^[-+]?[\d０-９][\d０-９,.，]*$")


def is_number_token(token: str) -> bool:
    """A whitespace-separated token of page text that is a bare number (``3``, ``1,024``, ``１７``).

    Narrower than ``schemas.values.looks_like_value`` on purpose: that test also accepts blanks,
    dashes, slashes, 无 and 增/减, which running prose is full of; a line of page text counts as a
    row of table values only on digits.
    """
    return bool(_NUMBER_TOKEN.match(token))


def has_digit(text: str) -> bool:
    """Whether a value-looking word carries a digit (a number, not a null token such as 无 or —)."""
    return any(ch.isdigit() for ch in text)


# --- cell text ---------------------------------------------------------------------------------

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])[ \t\u00a0]+(?=[{_CJK}])")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def clean_pdf_text(text: str | None) -> str:
    """One cell's text as a reader sees it: wrapped lines joined, spaces inside CJK text dropped.

    PDF producers justify CJK labels by spacing characters apart (``总 计``) and wrap them over
    lines (``只计这一情 形，不`` / ``计其他情形``); vertical labels put one character per line. All
    of these read as one string. A space survives only between two Latin words.
    """
    if not text:
        return ""
    out = ""
    for raw_line in text.split("\n"):
        line = _SPACES.sub(" ", raw_line).strip()
        if not line:
            continue
        if out and out[-1].isascii() and out[-1].isalpha() and line[0].isascii() and line[0].isalpha():
            out += " "
        out += line
    return _CJK_GAP.sub("", out)
