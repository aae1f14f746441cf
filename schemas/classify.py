"""What a document is: its year and publisher, and whether it is a (post-2019) annual report.

Reports before 2019 follow older local formats (legacy: unsupported, said so, never an empty
success); texts that are no annual report at all are ``not_a_report``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from xxgk.schemas.labels import PRE2019_MARKERS

_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?\s*(?:[^\n。，,]{0,40}?)政府信息公开(?:工作)?(?:年度)?(?:报告|年报)")
_ANY_REPORT_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?\s*政府信息公开")
_PUBLISHER_BEFORE = re.compile(r"([\u4e00-\u9fff（）()]{2,40}?)\s*(?:(?:19|20)\d{2})\s*年度?\s*政府信息公开")
_PUBLISHER_AFTER = re.compile(r"(?:19|20)\d{2}\s*年度?\s*([\u4e00-\u9fff（）()]{2,40}?)政府信息公开")
_REPORT_TITLE = re.compile(
    r"政府信息公开(?:工作)?年度报告|(?:19|20)\d{2}\s*年度?[^\n]{0,30}?政府信息公开[^\n]{0,6}?年报"
)


@dataclass(frozen=True, slots=True)
class DocumentIdentity:
    year: int | None
    publisher: str
    title: str


_TITLE_PREFIX = re.compile(r"^\s*(?:#+\s*)?(?:标题|题目|title)\s*[:：]\s*", re.IGNORECASE)


def find_title(text: str) -> str:
    """The report's title: the first line naming a 年度报告 (or a 政府信息公开…年报).

    A title wrapped before 年度报告 (or before its year: ``洪泽区人民政府`` / ``2023 年…``) is
    joined with the line above it; a whole paragraph on one line keeps only the sentence that
    names the report. A line that names a 政府信息公开 report is preferred over an earlier one
    that merely mentions a 年度报告. Whitespace inside the title is dropped (PDF text puts spaces
    between digits and characters).
    """
    lines = text.split("\n")
    first = ""
    for i, line in enumerate(lines[:400]):
        at = line.find("年度报告")
        end = at + 4
        if at < 0:
            m = _REPORT_TITLE.search(line)
            if not m:
                continue
            end = m.end()
        head = _TITLE_PREFIX.sub("", line[:end]).strip().lstrip("#").strip()
        prev = next((p.strip() for p in reversed(lines[:i]) if p.strip()), "")
        prev = _TITLE_PREFIX.sub("", prev).strip().lstrip("#").strip()
        wrapped_year = (
            re.match(r"^(?:19|20)\d{2}\s*年", head) and 0 < len(prev) <= 40 and not re.search(r"[。，,；;：:]$", prev)
        )
        if len(head) <= 6 or (wrapped_year and re.fullmatch(r"[\u4e00-\u9fff（）()]+", prev)):
            head = prev + head  # the title was wrapped: join the line before it
        if len(head) > 80:  # a whole paragraph on one line: keep the sentence that names the report
            head = re.split(r"[。；;！!？?]", head)[-1].strip()[-80:]
        head = re.sub(r"\s+", "", head)
        if _REPORT_TITLE.search(head):
            return head
        first = first or head
    return first


def identify(text: str, title: str = "") -> DocumentIdentity:
    """Report year and publisher as printed in the title (or the opening text)."""
    title = title or find_title(text)
    head = unicodedata.normalize("NFKC", title or text[:3000])
    year = None
    m = _TITLE_YEAR.search(head) or _ANY_REPORT_YEAR.search(head)
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
    publisher = re.sub(r"^(?:关于|标题)", "", publisher).strip("（）() ")
    return DocumentIdentity(year, publisher, title)


def legacy_reason(text: str, year: int | None, tables_found: int) -> str | None:
    """Why a document is a pre-2019 (legacy) report, or None when it is not one."""
    norm = unicodedata.normalize("NFKC", text)
    norm = re.sub(r"\s+", "", norm)
    markers = [m for m in PRE2019_MARKERS if m in norm]
    if year is not None and year <= 2018:
        return f"report year {year} predates the 2019 national format" + (
            f" (pre-2019 labels: {', '.join(markers[:4])})" if markers else ""
        )
    if len(markers) >= 2 and tables_found == 0:
        return f"pre-2019 table labels ({', '.join(markers[:4])}) and none of the national format"
    return None


def looks_like_report(text: str) -> bool:
    """True when the text calls itself a 政府信息公开 annual report (a 政府信息公开年报 column name is not enough)."""
    norm = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return bool(_REPORT_TITLE.search(norm))
