"""What the PDF reader knows of printed text: how a cell's text is cleaned, and the table labels
that locate the tables (``TABLE_MARKERS``, ``TABLE_HEADING_KEYS``), built from ``schemas.model``
and ``schemas.lexicon`` (the one home of printed words).
"""

from __future__ import annotations

import re

from xxgk.schemas import lexicon as lx
from xxgk.schemas.model import PROACTIVE_BLOCK_CAPTIONS, SPECS, TABLE_HEADINGS
from xxgk.schemas.values import clean_cell_text

#: Numbering in front of a label (一、 / （三） / 2.), cut off before a label's core is taken.
_LABEL_NUMBERING = re.compile(rf"^(?:[{lx.CN_NUMERALS}]+、|\([{lx.CN_NUMERALS}]+\)|\d+\.)")


def norm(text: str) -> str:
    """Matching form of page text or labels: NFKC, no whitespace (``schemas.values.clean_cell_text``)."""
    return clean_cell_text(text)


def label_core(label: str) -> str:
    """The first six characters of a label without its numbering or gloss: typos further on still match."""
    core = _LABEL_NUMBERING.sub("", norm(label))
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
    markers.update(lx.TABLE_HEADER_LABELS)
    return tuple(sorted(markers))


#: Label cores whose presence marks a page (or a region of one) as holding a statistical table.
TABLE_MARKERS = _build_markers()

#: The table headings without their numbering (主动公开政府信息情况 …): a table region ends at one.
TABLE_HEADING_KEYS = tuple(norm(h.split("、", 1)[1]) for h in TABLE_HEADINGS.values())


def marker_hits(page_text: str, markers: tuple[str, ...] = TABLE_MARKERS) -> int:
    """How many distinct table labels a page's text contains."""
    text = norm(page_text)
    return sum(1 for m in markers if m in text)


# --- cell text ---------------------------------------------------------------------------------

#: CJK characters and punctuation (a character class body; escapes, as it is no printed word).
_CJK = r"\u2e80-\u2fff\u3000-\u303f\u3040-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
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
