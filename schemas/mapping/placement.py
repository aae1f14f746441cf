"""Table-三 rows printed one or two cells short: where the printed cells go, proven or flagged.

A conversion can drop a cell of a row or pull it out of the table (PDF→Markdown converters
do), leaving six or five values for seven columns. Which column lost its cell cannot be read
from the row: every placement of the printed cells is tried against the table's identities
(row totals, the balance and the outcome sums of each column, with the missing cell taken as
what the row total implies). When exactly one placement keeps the fewest identities broken,
the printed cells take its columns and only the missing cell is ``ambiguous`` (its value is
what the identities imply, never presented as printed). Otherwise every cell whose reading
differs between the placements that remain is ``ambiguous``: a cell is never silently shifted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations

from xxgk.schemas.checks import run_checks
from xxgk.schemas.grid import Cell
from xxgk.schemas.mapping.cells import make_fact
from xxgk.schemas.mapping.rows import Row
from xxgk.schemas.model import APPLICANT_COLUMNS, REQUESTS, REQUESTS_SPEC, V2019
from xxgk.schemas.records import FAIL, Fact
from xxgk.schemas.values import AMBIGUOUS, OK

_COLUMNS = REQUESTS_SPEC.column_keys
_TOTAL = REQUESTS_SPEC.column("total")


@dataclass(slots=True)
class ShortRow:
    """A table-三 row that printed fewer than seven value cells."""

    key: str
    row: Row
    values: list[Cell]
    how: str = ""


def _facts(short: ShortRow, layout: str, missing: tuple[int, ...]) -> list[Fact]:
    """The row's facts under one placement: printed cells in the other columns, missing ones implied."""
    columns = [c for i, c in enumerate(_COLUMNS) if i not in missing]
    facts = [
        make_fact(REQUESTS, short.key, col, cell, layout, short.row, REQUESTS_SPEC.column(col).labels[V2019])
        for col, cell in zip(columns, short.values, strict=True)
    ]
    for i in missing:
        facts.append(_missing_fact(short, layout, _COLUMNS[i]))
    implied = _implied(facts, missing)
    for f in facts:
        if f.raw_text == "" and f.value_status == AMBIGUOUS and implied is not None and len(missing) == 1:
            f.value = implied
    return facts


def _implied(facts: list[Fact], missing: tuple[int, ...]) -> float | None:
    """What the row total implies for the one missing cell (None when it cannot say)."""
    if len(missing) != 1:
        return None
    by_col = {f.column_key: f for f in facts}
    known = {c: f.value for c, f in by_col.items() if f.value_status == OK}
    col = _COLUMNS[missing[0]]
    if col == "total":
        parts = [known.get(c) for c in APPLICANT_COLUMNS]
        return sum(parts) if all(p is not None for p in parts) else None  # type: ignore[arg-type]
    others = [known.get(c) for c in APPLICANT_COLUMNS if c != col]
    total = known.get("total")
    if total is None or any(p is None for p in others):
        return None
    return total - sum(others)  # type: ignore[arg-type]


def _missing_fact(short: ShortRow, layout: str, col: str) -> Fact:
    last = short.values[-1] if short.values else short.row.labels[-1]
    return Fact(
        table=REQUESTS,
        row_key=short.key,
        column_key=col,
        value=None,
        unit=_TOTAL.unit,
        raw_text="",
        value_status=AMBIGUOUS,
        template_version=layout,
        row_label=short.row.raw_label,
        column_label=REQUESTS_SPEC.column(col).labels[V2019],
        locator=short.row.grid.locator,
        page=last.page if last.page is not None else short.row.grid.page,
        grid_row=last.row,
        grid_col=None,
    )


def _broken(trial: list[Fact], others: list[Fact], layout: str, key: str) -> int:
    """Identities a placement breaks (a negative implied cell counts as one more)."""
    as_printed = [f if f.raw_text or f.value is None else _as_ok(f) for f in trial]
    checks = run_checks(others + as_printed, layout)
    mine = f"{key}/"
    failures = sum(
        1
        for c in checks
        if c.status == FAIL and c.table == REQUESTS and any(x.startswith(mine) for x in c.total_cells + c.part_cells)
    )
    negative = sum(1 for f in as_printed if f.value is not None and f.value < 0)
    return failures + negative


def _as_ok(f: Fact) -> Fact:
    """A missing cell with its implied value, read as a number so the identities can weigh it."""
    return replace(f, value_status=OK)


def place_short_row(short: ShortRow, others: list[Fact], layout: str) -> list[Fact]:
    """The facts of a row printed one or two cells short (see the module docstring)."""
    k = len(_COLUMNS) - len(short.values)
    default = tuple(range(len(_COLUMNS) - k, len(_COLUMNS)))  # the cells lost at the end of the row
    trials = {m: _facts(short, layout, m) for m in combinations(range(len(_COLUMNS)), k)}
    score = {m: _broken(facts, others, layout, short.key) for m, facts in trials.items()}
    least = min(score.values())
    best = [m for m in trials if score[m] == least]
    chosen = default if default in best else best[0]
    facts = trials[chosen]
    readings = {m: {f.column_key: f.raw_text for f in trials[m]} for m in best}
    for f in facts:
        missing = f.raw_text == "" and f.value_status == AMBIGUOUS
        texts = {r[f.column_key] for r in readings.values()}
        if missing:
            f.note = (
                f"cell missing: the row prints {len(short.values)} of {len(_COLUMNS)} cells"
                + ("; the identities place the printed cells" if len(best) == 1 else "")
                + ("; value implied by the row total, not printed" if f.value is not None else "")
            )
        elif len(best) > 1 and len(texts) > 1:
            f.value_status = AMBIGUOUS
            shown = " / ".join(sorted(t or "(missing)" for t in texts))
            f.note = f"row prints {len(short.values)} of {len(_COLUMNS)} cells and which one is missing cannot be told: this column reads {shown}"
        elif len(best) == 1 and chosen != default:
            f.note = (
                f"{f.note}; row prints one cell short, placed by the identities"
                if f.note
                else "row printed one cell short, placed by the identities"
            )
        if short.how:
            f.note = f"{f.note}; {short.how}" if f.note else short.how
    return facts
