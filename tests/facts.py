"""Facts of an extracted result and of a synthetic report in one comparable form, for golden tests."""

from __future__ import annotations

from typing import Any

from xxgk.synth.report import SyntheticReport

FactKey = tuple[str, str, str]


def printed_facts(result: Any) -> dict[FactKey, tuple[str, float | None]]:
    """``{(table, row_key, column_key): (raw_text, value)}`` of a ``DocumentResult``."""
    return {(f.table, f.row_key, f.column_key): (f.raw_text, f.value) for f in result.facts}


def expected_facts(report: SyntheticReport) -> dict[FactKey, tuple[str, float | None]]:
    """The same view of what a synthetic report printed."""
    return {
        (str(e["table"]), str(e["row_key"]), str(e["column_key"])): (str(e["raw_text"]), e["value"])  # type: ignore[misc]
        for e in report.expected_facts()
    }
