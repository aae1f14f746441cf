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


def best_index(tried: Sequence[Tried]) -> int:
    """Position of the best of the candidates read (status, then facts, then order)."""
    if not tried:
        raise ValueError("no candidate was read")
    return min(range(len(tried)), key=lambda i: (_RANK.get(tried[i].status, 6), -tried[i].facts, i))


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


__all__ = ["DECISIVE", "Tried", "best_index", "chosen_because", "is_decisive", "not_chosen_because"]
