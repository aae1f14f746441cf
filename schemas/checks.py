"""The hard identities of keys.yaml, evaluated on printed facts, and the derived subtotals.

A printed total is compared with the sum of its printed parts and never replaced: the check
records expected (the printed total), actual (the sum), the difference and pass / fail /
not_assessable. A blank is never read as 0 for the verdict; ``blank_as_zero`` says only what
the identity would give if blank leaf cells were zeros (the usual reading of such tables).
"""

from __future__ import annotations

from collections.abc import Iterable

from xxgk.schemas.model import (
    APPLICANT_COLUMNS,
    LEGAL_COLUMNS,
    REQUESTS,
    REQUESTS_SPEC,
    REVIEW_LITIGATION,
    REVIEW_SPEC,
    SPECS,
)
from xxgk.schemas.records import FAIL, NOT_ASSESSABLE, PASS, CheckResult, Fact
from xxgk.schemas.values import BLANK, DASH, DERIVED, OK, SLASH

ERROR = "error"
WARNING = "warning"

#: Statuses that a reader of these tables usually takes for 0 (used for ``blank_as_zero`` only).
_ZERO_LIKE = {BLANK, DASH, SLASH}
_MONEY_TOLERANCE = 0.011

FactIndex = dict[tuple[str, str, str], Fact]


def index_facts(facts: Iterable[Fact]) -> FactIndex:
    return {(f.table, f.row_key, f.column_key): f for f in facts}


def _identity(
    idx: FactIndex,
    check_id: str,
    table: str,
    row_key: str,
    column_key: str,
    total_cells: list[tuple[str, str]],
    part_cells: list[tuple[str, str]],
    detail: str,
) -> CheckResult | None:
    """Compare sum(totals) with sum(parts); None when no operand was printed at all."""
    totals = [idx.get((table, r, c)) for r, c in total_cells]
    parts = [idx.get((table, r, c)) for r, c in part_cells]
    operands = totals + parts
    if all(f is None for f in operands):
        return None
    expected = _sum(totals)
    actual = _sum(parts)
    if expected is not None and actual is not None:
        diff = expected - actual
        status = PASS if abs(diff) < 1e-9 else FAIL
        verdict = status
    else:
        diff = None
        status = NOT_ASSESSABLE
        verdict = _blank_as_zero(totals, parts)
    return CheckResult(
        check_id=check_id,
        table=table,
        row_key=row_key,
        column_key=column_key,
        expected=expected,
        actual=actual,
        difference=diff,
        status=status,
        severity=ERROR,
        detail=detail,
        blank_as_zero=verdict,
        total_cells=[f"{r}/{c}" for r, c in total_cells],
        part_cells=[f"{r}/{c}" for r, c in part_cells],
    )


def _value(f: Fact | None) -> float | None:
    if f is None or f.value_status != OK:
        return None
    return f.value


def _sum(facts: list[Fact | None]) -> float | None:
    total = 0.0
    for f in facts:
        v = _value(f)
        if v is None:
            return None
        total += v
    return total


def _blank_as_zero(totals: list[Fact | None], parts: list[Fact | None]) -> str | None:
    """The verdict with blank/dash leaves read as 0; None when a total itself is not a number."""
    if any(_value(f) is None for f in totals):
        return None
    acc = 0.0
    for f in parts:
        v = _value(f)
        if v is None:
            if f is None or f.value_status not in _ZERO_LIKE:
                return None
            v = 0.0
        acc += v
    return PASS if abs(_sum(totals) - acc) < 1e-9 else FAIL  # type: ignore[operator]


def requests_outcome_rows(layout: str) -> list[str]:
    """The leaf outcome rows that add up to （七）总计 in this layout."""
    rows = [r.key for r in REQUESTS_SPEC.rows]
    start, end = rows.index("granted"), rows.index("total_processed")
    leaves = rows[start:end]
    if layout == "v2021":
        return [r for r in leaves if r != "other"]
    return [r for r in leaves if not r.startswith("other.")]


def run_checks(facts: list[Fact], requests_layout: str | None) -> list[CheckResult]:
    """Every hard identity that the printed tables allow, per row and per column."""
    idx = index_facts(facts)
    results: list[CheckResult] = []
    tables = {f.table for f in facts}

    def add(result: CheckResult | None) -> None:
        if result is not None:
            results.append(result)

    if REQUESTS in tables:
        layout = requests_layout or "v2019"
        outcome_rows = requests_outcome_rows(layout)
        printed_rows = [
            r.key for r in REQUESTS_SPEC.rows if any((REQUESTS, r.key, c) in idx for c in APPLICANT_COLUMNS)
        ]
        for col in REQUESTS_SPEC.column_keys:
            add(
                _identity(
                    idx,
                    "requests.balance",
                    REQUESTS,
                    "*",
                    col,
                    [("new_requests", col), ("carried_over", col)],
                    [("total_processed", col), ("carried_forward", col)],
                    "new_requests + carried_over == total_processed + carried_forward",
                )
            )
            add(
                _identity(
                    idx,
                    "requests.outcomes",
                    REQUESTS,
                    "total_processed",
                    col,
                    [("total_processed", col)],
                    [(r, col) for r in outcome_rows],
                    "total_processed == sum of the outcome rows",
                )
            )
        for row in printed_rows:
            add(
                _identity(
                    idx,
                    "requests.row_total",
                    REQUESTS,
                    row,
                    "total",
                    [(row, "total")],
                    [(row, c) for c in APPLICANT_COLUMNS],
                    "total == natural_person + the five legal_* columns",
                )
            )
    if REVIEW_LITIGATION in tables:
        for row in REVIEW_SPEC.row_keys:
            add(
                _identity(
                    idx,
                    "review_litigation.row_total",
                    REVIEW_LITIGATION,
                    row,
                    "total",
                    [(row, "total")],
                    [(row, c) for c in ("upheld", "corrected", "other", "pending")],
                    "total == upheld + corrected + other + pending",
                )
            )
    results += _non_negative(facts)
    return results


def _non_negative(facts: list[Fact]) -> list[CheckResult]:
    """counts.non_negative: one failing row per offending cell, one passing row per clean table."""
    out: list[CheckResult] = []
    bad_tables: set[str] = set()
    for f in facts:
        offending = f.value_status != OK and f.note in {"negative count", "count is not an integer"}
        if offending:
            bad_tables.add(f.table)
            out.append(
                CheckResult(
                    "counts.non_negative",
                    f.table,
                    f.row_key,
                    f.column_key,
                    None,
                    None,
                    None,
                    FAIL,
                    ERROR,
                    f"{f.note}: printed {f.raw_text!r}",
                )
            )
    for table in sorted({f.table for f in facts} - bad_tables):
        out.append(
            CheckResult(
                "counts.non_negative",
                table,
                "*",
                "*",
                None,
                None,
                None,
                PASS,
                ERROR,
                "every count is an integer >= 0",
            )
        )
    return out


def _unit_of(table: str, column: str) -> str:
    """The unit of a derived cell: its column's (the derived legal_subtotal counts as 件 like its parts)."""
    spec = SPECS[table]
    return spec.column(column).unit if column in spec.column_keys else spec.columns[0].unit


def derive_subtotals(facts: list[Fact], requests_layout: str | None) -> list[Fact]:
    """Derived cells (never printed): table 三 group subtotals and legal_subtotal, table 四 litigation_total.

    A derived cell is null when one of its parts is not a number; its note says which.
    """
    idx = index_facts(facts)
    out: list[Fact] = []
    version = {f.table: f.template_version for f in facts}

    def derived(table: str, row: str, col: str, parts: list[tuple[str, str]], how: str) -> None:
        got = [idx.get((table, r, c)) for r, c in parts]
        if all(f is None for f in got):
            return
        total = _sum(got)
        missing = [f"{r}.{c}" for (r, c), f in zip(parts, got, strict=True) if _value(f) is None]
        out.append(
            Fact(
                table=table,
                row_key=row,
                column_key=col,
                value=total,
                unit=_unit_of(table, col),
                raw_text="",
                value_status=DERIVED,
                template_version=version.get(table, ""),
                note=how if total is not None else f"{how}; not computable, no number in: {', '.join(missing)}",
            )
        )

    if any(f.table == REQUESTS for f in facts):
        groups = ["denied", "unable", "not_processed"] + (["other"] if requests_layout == "v2021" else [])
        for col in REQUESTS_SPEC.column_keys:
            for group in groups:
                leaves = [r.key for r in REQUESTS_SPEC.rows if r.parent == group]
                derived(REQUESTS, group, col, [(r, col) for r in leaves], f"sum of {group}.*")
        rows = sorted({f.row_key for f in facts if f.table == REQUESTS})
        for row in rows:
            derived(
                REQUESTS, row, "legal_subtotal", [(row, c) for c in LEGAL_COLUMNS], "sum of the five legal_* columns"
            )
    if any(f.table == REVIEW_LITIGATION for f in facts):
        for col in REVIEW_SPEC.column_keys:
            derived(
                REVIEW_LITIGATION,
                "litigation_total",
                col,
                [("litigation_direct", col), ("litigation_after_review", col)],
                "litigation_direct + litigation_after_review",
            )
    return out
