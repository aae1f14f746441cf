"""Digit runs settled by another copy of the same report (failure class 13, second half).

A text export can run a table-二 row's cells together (``规范性文件693665``): the table alone lets
the run split several ways, so its cells are ``ambiguous``. When another copy of the same report
(the page the export was made from) prints that row's cells apart and unambiguously, and
exactly one split of the run is what that copy prints, the run is split that way and its cells
say so: ``value_status = split_by_other_copy``, the other copy named in ``note``. Never otherwise:
a copy whose cells are not all plain ``ok`` numbers, or whose pieces do not make up the run, or
disagree with a cell the run had already settled, decides nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace

from xxgk.schemas.checks import derive_subtotals, run_checks
from xxgk.schemas.records import DocumentResult, Fact
from xxgk.schemas.soft_checks import narrative_checks
from xxgk.schemas.values import AMBIGUOUS, OK, SPLIT_BY_OTHER_COPY

_RUN = re.compile(r"digit run '([^']*)'")


def _digits(text: str) -> str:
    return "".join(text.split())


def _requests_layout(facts: list[Fact]) -> str:
    return "v2021" if any(f.table == "requests" and f.row_key.startswith("other.") for f in facts) else "v2019"


def _window(row: list[int], facts: list[Fact], run: str, members: set[int]) -> list[int] | None:
    """The consecutive facts of the row whose texts make up ``run`` and include every ambiguous member."""
    lo = min(row.index(i) for i in members)
    hi = max(row.index(i) for i in members)
    found = []
    for a in range(0, lo + 1):
        for b in range(hi, len(row)):
            window = row[a : b + 1]
            if "".join(_digits(facts[i].raw_text) for i in window) == run:
                found.append(window)
    return found[0] if len(found) == 1 else None


def split_by_other_copy(result: DocumentResult, other: DocumentResult, other_name: str) -> DocumentResult | None:
    """``result`` with its ambiguous runs split as ``other`` prints them, or None when ``other`` settles none."""
    facts = list(result.facts)
    printed = {(f.table, f.row_key, f.column_key): f for f in other.facts}
    rows: dict[tuple[str, str], list[int]] = {}
    for i, f in enumerate(facts):
        rows.setdefault((f.table, f.row_key), []).append(i)
    changed = False
    for (table, row_key), row in rows.items():
        runs: dict[str, set[int]] = {}
        for i in row:
            m = _RUN.search(facts[i].note or "")
            if facts[i].value_status == AMBIGUOUS and m:
                runs.setdefault(_digits(m.group(1)), set()).add(i)
        for run, members in runs.items():
            window = _window(row, facts, run, members)
            if window is None:
                continue
            theirs = [printed.get((table, row_key, facts[i].column_key)) for i in window]
            if any(t is None or t.value_status != OK or not _digits(t.raw_text) for t in theirs):
                continue
            pieces = [_digits(t.raw_text) for t in theirs]  # type: ignore[union-attr]
            if "".join(pieces) != run:
                continue
            if any(i not in members and _digits(facts[i].raw_text) != p for i, p in zip(window, pieces, strict=True)):
                continue  # the other copy contradicts a cell the run had settled: it decides nothing
            evidence = f"digit run {run!r} split {' / '.join(pieces)} as printed in the other copy {other_name}"
            for i, t in zip(window, theirs, strict=True):
                if i in members:
                    facts[i] = replace(
                        facts[i], raw_text=t.raw_text, value=t.value, value_status=SPLIT_BY_OTHER_COPY, note=evidence
                    )
                    changed = True
    if not changed:
        return None
    layout = _requests_layout(facts)
    return replace(
        result,
        facts=facts,
        checks=run_checks(facts, layout) + narrative_checks(result.narrative or "", facts),
        derived=derive_subtotals(facts, layout),
    )
