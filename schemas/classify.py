"""What a document is: its year and publisher, and whether it is a (post-2019) annual report.

Reports before 2019 follow older local formats (legacy: unsupported, said so, never an empty
success); texts that are no annual report at all are ``not_a_report``, and so is a column page
that lists many reports without being one. The words are the lexicon's (``schemas.lexicon``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from xxgk.schemas import lexicon as lx
from xxgk.schemas.labels import fold_label

_BREAKS = "\n" + lx.SENTENCE_END.pattern.strip("[]")
_TITLE_YEAR = re.compile(rf"{lx.TITLE_YEAR_CAPTURE}\s*(?:[^{_BREAKS},]{{0,40}}?){lx.REPORT_NAME}")
_YEAR_BEFORE_NAME = re.compile(rf"{lx.TITLE_YEAR_CAPTURE}\s*{lx.REPORT_NAME_START}")
_YEAR_IN_TITLE = re.compile(rf"{lx.TITLE_YEAR_CAPTURE}[^{_BREAKS}]{{0,30}}?{lx.ANNUAL_REPORT_SHORT}")
_NAME = r"[\u4e00-\u9fff()（）]{2,40}?"
_PUBLISHER_BEFORE = re.compile(rf"({_NAME})\s*{lx.TITLE_YEAR}\s*{lx.REPORT_NAME_START}")
_PUBLISHER_AFTER = re.compile(rf"{lx.TITLE_YEAR}\s*({_NAME}){lx.REPORT_NAME_START}")
_TITLE_PREFIX = re.compile(f"^(?:{'|'.join(lx.TITLE_PREFIX_WORDS)})")
_WRAPPED_YEAR = re.compile(rf"^{lx.TITLE_YEAR}")


@dataclass(frozen=True, slots=True)
class DocumentIdentity:
    year: int | None
    publisher: str
    title: str


def find_title(text: str) -> str:
    """The report's title: the first line naming a 年度报告 (or a report title of the lexicon).

    A title wrapped before 年度报告 (or before its year: ``洪泽区人民政府`` / ``2023 年…``) is
    joined with the line above it; a whole paragraph on one line keeps only the sentence that
    names the report. A line that names a report title is preferred over an earlier one that
    merely mentions a 年度报告. Whitespace inside the title is dropped (PDF text puts spaces
    between digits and characters).
    """
    lines = text.split("\n")
    first = ""
    for i, line in enumerate(lines[:400]):
        at = line.find(lx.ANNUAL_REPORT)
        end = at + len(lx.ANNUAL_REPORT)
        if at < 0:
            m = lx.REPORT_TITLE.search(line)
            if not m:
                continue
            end = m.end()
        head = lx.TITLE_LABEL.sub("", line[:end]).strip().lstrip("#").strip()
        prev = next((p.strip() for p in reversed(lines[:i]) if p.strip()), "")
        prev = lx.TITLE_LABEL.sub("", prev).strip().lstrip("#").strip()
        wrapped_year = _WRAPPED_YEAR.match(head) and 0 < len(prev) <= 40 and not re.search(r"[。，,；;：:]$", prev)
        if len(head) <= 6 or (wrapped_year and re.fullmatch(r"[\u4e00-\u9fff（）()]+", prev)):
            head = prev + head  # the title was wrapped: join the line before it
        if len(head) > 80:  # a whole paragraph on one line: keep the sentence that names the report
            head = re.split(r"[。；;！!？?]", head)[-1].strip()[-80:]
        head = re.sub(r"\s+", "", head)
        if lx.REPORT_TITLE.search(head):
            return head
        first = first or head
    return first


def identify(text: str, title: str = "") -> DocumentIdentity:
    """Report year and publisher as printed in the title (or the opening text)."""
    title = title or find_title(text)
    head = unicodedata.normalize("NFKC", title or text[:3000])
    year = None
    m = _TITLE_YEAR.search(head) or _YEAR_BEFORE_NAME.search(head) or _YEAR_IN_TITLE.search(head)
    if m:
        year = int(m.group(1))
    publisher = ""
    p = _PUBLISHER_BEFORE.search(head)
    if p and not re.search(r"\d", p.group(1)):
        publisher = p.group(1)
    else:
        p = _PUBLISHER_AFTER.search(head)
        if p:
            publisher = p.group(1)
    publisher = _TITLE_PREFIX.sub("", publisher).strip("（）() ")
    return DocumentIdentity(year, publisher, title)


def legacy_reason(text: str, year: int | None, tables_found: int) -> str | None:
    """Why a document is a pre-2019 (legacy) report, or None when it is not one."""
    folded = fold_label(text)
    markers = [m for m in lx.PRE2019_MARKERS if m in folded]
    if year is not None and year <= 2018:
        return f"report year {year} predates the 2019 national format" + (
            f" (pre-2019 labels: {', '.join(markers[:4])})" if markers else ""
        )
    if len(markers) >= 2 and tables_found == 0:
        return f"pre-2019 table labels ({', '.join(markers[:4])}) and none of the national format"
    return None


def looks_like_report(text: str) -> bool:
    """True when the text calls itself an annual report (a 政府信息公开年报 column name is not enough)."""
    norm = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return bool(lx.REPORT_TITLE.search(norm))


def listing_reason(text: str) -> str | None:
    """Why a text is a column page listing reports rather than a report, or None.

    A listing names several different reports (other years or other bodies), most of its
    lines are short titles or dates, and it has no body: the national report's section
    headings are missing.
    """
    lines = [re.sub(r"\s+", "", unicodedata.normalize("NFKC", ln)) for ln in text.split("\n")]
    lines = [ln for ln in lines if ln]
    titles = {ln for ln in lines if len(ln) <= 80 and lx.REPORT_TITLE.search(ln)}
    if len(titles) < 3:
        return None
    years = {m.group(1) for t in titles for m in [_TITLE_YEAR.search(t) or _YEAR_IN_TITLE.search(t)] if m}
    if len(years) < 2 and len(titles) < 5:
        return None
    folded = fold_label(text)
    sections = sum(1 for cores in lx.TABLE_HEADING_CORES.values() if any(c in folded for c in cores))
    if sections >= 2:
        return None
    long_lines = [ln for ln in lines if len(ln) > 80 and not lx.PRINTED_DATE.search(ln)]
    if len(long_lines) > max(3, len(titles)):
        return None
    return f"a listing of {len(titles)} annual reports ({len(years)} years), not a report itself"
