"""How a check's numbers are said: what was printed, what was computed, by what kind of check."""

from __future__ import annotations

from typing import Any


def number(value: float | None) -> str:
    """Numbers as a person writes them: 12 not 12.0, money keeps its decimals."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def check_comparison(check: dict[str, Any]) -> str:
    """One phrase comparing a failed check's two sides, named for what each side is.

    An identity compares a *printed* total with the *sum* of its printed parts; a narrative check
    compares a number in the text with the tables; a cross-year check compares this year's printed
    value with what the previous report implies. A check without numbers says its detail.
    """
    expected, actual = check.get("expected"), check.get("actual")
    difference = check.get("difference")
    check_id = str(check.get("check_id") or "")
    if expected is None and actual is None:
        return str(check.get("detail") or "failed")
    diff = f" (difference {number(difference)})" if difference is not None else ""
    if check_id.startswith("narrative."):
        return f"the text says {number(expected)}, the tables say {number(actual)}{diff}"
    if check_id.startswith("cross_year."):
        return f"printed {number(expected)}, the previous year implies {number(actual)}{diff}"
    return f"printed total {number(expected)}, its parts add up to {number(actual)}{diff}"
