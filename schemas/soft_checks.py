"""Soft checks (warnings): numbers quoted in the narrative, and continuity across years.

They often fail for legitimate reasons (a narrative about the whole district beside a table of
one office, amended documents), so they never fail a report; they point a reader at a place
to look, with the sentence or the neighbouring year that disagrees.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from xxgk.schemas import lexicon as lx
from xxgk.schemas.checks import index_facts
from xxgk.schemas.model import PROACTIVE, REQUESTS, REQUESTS_SPEC
from xxgk.schemas.records import FAIL, NOT_ASSESSABLE, PASS, CheckResult, Fact
from xxgk.schemas.values import OK

WARNING = "warning"


@dataclass(frozen=True, slots=True)
class NarrativeClaim:
    """A headline number quoted in the text, with the sentence it stands in."""

    topic: str  # requests | admin_review | litigation
    value: int
    sentence: str


def _sentence_around(text: str, start: int, end: int) -> str:
    left = max((m.end() for m in lx.SENTENCE_END.finditer(text, 0, start)), default=0)
    right_match = lx.SENTENCE_END.search(text, end)
    right = right_match.start() + 1 if right_match else len(text)
    return text[left:right].strip()[:200]


def find_narrative_claims(text: str) -> list[NarrativeClaim]:
    """Headline numbers the narrative quotes: requests received, reviews, lawsuits."""
    norm = unicodedata.normalize("NFKC", text)
    claims: list[NarrativeClaim] = []
    seen: set[tuple[str, int]] = set()
    for topic, pattern in lx.NARRATIVE_CLAIMS.items():
        for m in pattern.finditer(norm):
            value = int(m.group(1).replace(",", ""))
            if (topic, value) in seen:
                continue
            seen.add((topic, value))
            claims.append(NarrativeClaim(topic, value, _sentence_around(norm, m.start(), m.end())))
    return claims


def _number(idx: dict[tuple[str, str, str], Fact], table: str, row: str, col: str) -> float | None:
    f = idx.get((table, row, col))
    return f.value if f is not None and f.value_status == OK else None


def narrative_checks(text: str, facts: list[Fact]) -> list[CheckResult]:
    """narrative.matches_tables: each quoted headline number against the table cell(s) it can mean."""
    idx = index_facts(facts)
    out: list[CheckResult] = []
    for claim in find_narrative_claims(text):
        if claim.topic == "requests":
            new = _number(idx, REQUESTS, "new_requests", "total")
            carried = _number(idx, REQUESTS, "carried_over", "total")
            candidates = [new] + ([new + carried] if new is not None and carried is not None else [])
            row, col, what = "new_requests", "total", "new_requests.total (or with carried_over)"
            cells = ["new_requests/total", "carried_over/total"]
        elif claim.topic == "admin_review":
            candidates = [_number(idx, "review_litigation", "admin_review", "total")]
            row, col, what = "admin_review", "total", "admin_review.total"
            cells = ["admin_review/total"]
        elif claim.topic == "review_and_litigation":
            parts = [
                _number(idx, "review_litigation", r, "total")
                for r in ("admin_review", "litigation_direct", "litigation_after_review")
            ]
            candidates = [sum(parts) if all(p is not None for p in parts) else None]  # type: ignore[misc]
            row, col, what = "*", "total", "admin_review + litigation totals"
            cells = ["admin_review/total", "litigation_direct/total", "litigation_after_review/total"]
        else:
            direct = _number(idx, "review_litigation", "litigation_direct", "total")
            after = _number(idx, "review_litigation", "litigation_after_review", "total")
            candidates = [direct + after if direct is not None and after is not None else None]
            row, col, what = "litigation_total", "total", "litigation_direct.total + litigation_after_review.total"
            cells = ["litigation_direct/total", "litigation_after_review/total"]
        known = [c for c in candidates if c is not None]
        table = REQUESTS if claim.topic == "requests" else "review_litigation"
        if not known:
            status, actual, diff = NOT_ASSESSABLE, None, None
        else:
            actual = next((c for c in known if c == claim.value), known[0])
            diff = claim.value - actual
            status = PASS if diff == 0 else FAIL
        out.append(
            CheckResult(
                check_id="narrative.matches_tables",
                table=table,
                row_key=row,
                column_key=col,
                expected=float(claim.value),
                actual=actual,
                difference=diff,
                status=status,
                severity=WARNING,
                detail=f"text says {claim.value} ({what}): “{claim.sentence}”",
                part_cells=cells,
            )
        )
    return out


def cross_year_checks(current: list[Fact], previous: list[Fact], year: int, previous_year: int) -> list[CheckResult]:
    """requests.carry_continuity and proactive.in_force_continuity between consecutive years."""
    now, before = index_facts(current), index_facts(previous)
    out: list[CheckResult] = []
    if year - previous_year != 1:
        return out
    for col in REQUESTS_SPEC.column_keys:
        cur = now.get((REQUESTS, "carried_over", col))
        prev = before.get((REQUESTS, "carried_forward", col))
        if cur is None or prev is None:
            continue
        out.append(
            _soft(
                "requests.carry_continuity",
                REQUESTS,
                "carried_over",
                col,
                cur,
                [prev],
                f"carried_over {year} == carried_forward {previous_year}",
            )
        )
    for row in ("rules", "normative_docs"):
        cur = now.get((PROACTIVE, row, "in_force"))
        prev = before.get((PROACTIVE, row, "in_force"))
        issued = now.get((PROACTIVE, row, "issued"))
        repealed = now.get((PROACTIVE, row, "repealed"))
        if cur is None or prev is None or issued is None or repealed is None:
            continue
        out.append(
            _soft(
                "proactive.in_force_continuity",
                PROACTIVE,
                row,
                "in_force",
                cur,
                [prev, issued],
                f"in_force {year} == in_force {previous_year} + issued {year} - repealed {year}",
                minus=[repealed],
                current_parts=[f"{row}/issued", f"{row}/repealed"],
            )
        )
    return out


def _soft(
    check_id: str,
    table: str,
    row: str,
    col: str,
    total: Fact,
    parts: list[Fact],
    detail: str,
    minus: Iterable[Fact] = (),
    current_parts: Iterable[str] = (),
) -> CheckResult:
    """``current_parts`` names the operands printed in this year's report (the others are last year's)."""
    minus = list(minus)
    values = [f.value if f.value_status == OK else None for f in [total, *parts, *minus]]
    operands = {"total_cells": [f"{total.row_key}/{total.column_key}"], "part_cells": list(current_parts)}
    if any(v is None for v in values):
        return CheckResult(check_id, table, row, col, None, None, None, NOT_ASSESSABLE, WARNING, detail, **operands)
    expected = values[0]
    actual = sum(values[1 : 1 + len(parts)]) - sum(values[1 + len(parts) :])  # type: ignore[arg-type]
    diff = expected - actual  # type: ignore[operator]
    status = PASS if diff == 0 else FAIL
    return CheckResult(check_id, table, row, col, expected, actual, diff, status, WARNING, detail, **operands)
