"""Which of a report's documents is the report: the rule, and the words that explain it.

A report page may hold the tables itself or only link them: a PDF, a Word or WPS file, a
spreadsheet, a zip, scanned images, often several of these at once. The harvester orders the
candidates (the page first when it holds report tables, else the attachments, structured files
before renderings); extraction reads them in that order and stops at the first that settles the
question. This module is the rule both use (``harvest.extract_report`` and the flow), so the
warehouse and a one-off extraction always choose the same document.

The rule: a candidate read ``ok`` (or ``legacy``: a pre-2019 report, which no other copy of it
will change) is taken at once; otherwise every candidate is read and the best is kept: by
status (ok, partial, legacy, needs_ocr / needs_converter, then failed and not_a_report alike),
then by the number of facts, then by the candidates' order (so when nothing is readable, the
first candidate's reason stands, not that of a notice page tried last).

The same report also arrives as documents that are not one page's candidates: a page and its text
export given to ``xxgk extract``, a re-upload. ``warehouse.copies`` groups them (one report per
publisher and year) and keeps one as ``reports.is_primary`` by this same rule (``copy_rank``):
status, then facts; with no page order to fall back on, the kind of file stands in for it, in the
order the harvester tries a report's files (``file_order``: a page holding the tables, structured
files, PDFs, archives, text exports, pictures), then the lowest sha256.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xxgk.schemas.records import (
    STATUS_FAILED,
    STATUS_LEGACY,
    STATUS_NEEDS_CONVERTER,
    STATUS_NEEDS_OCR,
    STATUS_NOT_A_REPORT,
    STATUS_OK,
    STATUS_PARTIAL,
)

#: Statuses that end the search: nothing later in the order can be better.
DECISIVE = (STATUS_OK, STATUS_LEGACY)
_RANK = {
    STATUS_OK: 0,
    STATUS_PARTIAL: 1,
    STATUS_LEGACY: 2,
    STATUS_NEEDS_OCR: 3,
    STATUS_NEEDS_CONVERTER: 3,
    STATUS_FAILED: 4,
    STATUS_NOT_A_REPORT: 4,
}


#: Kinds of file in the order a report's files are tried and, at equal status and facts, preferred:
#: structured files first (their cells are exact), then renderings (a PDF's table is rebuilt from
#: lines), archives, plain-text exports, web pages (an attachment that is a page is mostly a notice);
#: pictures (OCR) last. Names are the harvester's (file extension, Content-Type) and the extractors'.
_FILE_ORDER = {
    "docx": 0, "doc": 0, "wps": 0, "rtf": 0, "odt": 0, "wordml": 0,
    "xlsx": 1, "xls": 1, "et": 1, "ods": 1,
    "pdf": 2, "ofd": 2,
    "zip": 3,
    "mhtml": 4, "txt": 4, "md": 4, "text": 4, "markdown": 4,
    "html": 5,
}  # fmt: skip
_OTHER_FILE = 6
_PICTURE = 7
#: The extractors' name for a picture (``extractors.detect_format``).
PICTURE_FORMAT = "image"


@dataclass(slots=True, frozen=True)
class Tried:
    """One candidate as read: what it is (``label``: its URL or file name) and what it gave."""

    label: str
    status: str
    reason: str
    facts: int


def is_decisive(status: str) -> bool:
    """True when a candidate with this status is the report and the rest need not be read."""
    return status in DECISIVE


def status_rank(status: str) -> int:
    """How good a reading with this status is (0 is best; unknown statuses last)."""
    return _RANK.get(status, 6)


def file_order(fmt: str, *, picture: bool = False) -> int:
    """Rank of a file of format ``fmt`` among a report's files (lower is tried first and preferred)."""
    if picture or fmt == PICTURE_FORMAT:
        return _PICTURE
    return _FILE_ORDER.get(fmt, _OTHER_FILE)


def best_index(tried: Sequence[Tried]) -> int:
    """Position of the best of the candidates read (status, then facts, then order)."""
    if not tried:
        raise ValueError("no candidate was read")
    return min(range(len(tried)), key=lambda i: (status_rank(tried[i].status), -tried[i].facts, i))


def copy_rank(status: str, facts: int | None, fmt: str | None, sha256: str) -> tuple[int, int, int, str]:
    """Sort key of one copy of a report read on its own (the smallest is the report; module docstring).

    An ``html`` copy that read as well as the others is the report page holding the tables, which
    the harvester tries before the page's files; the others go in ``file_order``.
    """
    kind = -1 if fmt == "html" else file_order(fmt or "")
    return (status_rank(status), -(facts or 0), kind, sha256)


def chosen_because(tried: Sequence[Tried], chosen: int, total: int) -> str:
    """Why candidate ``chosen`` of ``total`` is the report, in words a report shows."""
    this = tried[chosen]
    if total == 1:
        return "the report's only document"
    if chosen == 0 and is_decisive(this.status):
        return f"first of {total} documents in order, read {this.status}"
    earlier = "; ".join(f"{t.label}: {t.status}" for t in tried[:chosen])
    if is_decisive(this.status):
        return f"document {chosen + 1} of {total}, read {this.status} after {earlier}"
    return f"best of the {len(tried)} documents read ({this.status}, {this.facts} facts) of {total}"


def not_chosen_because(tried: Tried | None, chosen: Tried) -> str:
    """Why a candidate is not the report: what it gave, or that it was not read at all."""
    if tried is None:
        return f"not read: {chosen.label} came before it and read {chosen.status}"
    reason = f" ({tried.reason})" if tried.reason else ""
    return f"{tried.status}{reason}, {tried.facts} facts"


__all__ = [
    "DECISIVE",
    "PICTURE_FORMAT",
    "Tried",
    "best_index",
    "chosen_because",
    "copy_rank",
    "file_order",
    "is_decisive",
    "not_chosen_because",
    "status_rank",
]
