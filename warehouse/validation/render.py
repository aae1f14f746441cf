"""HTML of the reports: the per-source page and the index dashboard (Jinja, autoescaped, inline SVG).

Document text is hostile input: every value reaches the page through Jinja's autoescaping (or
``markupsafe.escape`` in the SVG built here), never as markup, and the pages' scripts read the
DOM and set ``textContent`` only. Pages are self-contained (inline CSS and JS, no CDN) and work
from ``file://``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from xxgk.schemas.records import FAIL, NOT_ASSESSABLE, PASS
from xxgk.warehouse.validation.cells import marks
from xxgk.warehouse.validation.wording import check_comparison, number

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters["num"] = number
_ENV.filters["comparison"] = check_comparison

#: Chart colours per index row class, and their legend words.
_OUTCOMES = (
    ("good", "#3c9a3c", "consistent"),
    ("warn", "#e0a800", "warnings"),
    ("bad", "#c62828", "failed checks / unread"),
    ("none", "#9e9e9e", "not assessable"),
)


def _table_cells(doc: dict[str, Any], i: int, table: dict[str, Any], grid_marks: dict) -> list[list[dict[str, Any]]]:
    """Rows of one printed table, merged cells once (rowspan/colspan), each cell with its marks and keys."""
    spans = {(r, c): (h, w) for r, c, h, w in table.get("spans", [])}
    covered = {(r + dr, c + dc) for (r, c), (h, w) in spans.items() for dr in range(h) for dc in range(w) if dr or dc}
    row_keys = table.get("row_keys") or []
    col_keys = table.get("col_keys") or []
    rows = []
    for r, row in enumerate(table["rows"]):
        cells = []
        for c, text in enumerate(row):
            if (r, c) in covered:
                continue
            mark = grid_marks.get((r, c))
            height, width = spans.get((r, c), (1, 1))
            row_key = row_keys[r] if r < len(row_keys) else None
            col_key = col_keys[c] if c < len(col_keys) else None
            keys = " / ".join(k for k in (row_key, col_key) if k) if row_key and col_key else ""
            cells.append(
                {
                    "id": f"d{doc['_n']}-t{i}-r{r}-c{c}",
                    "text": text,
                    "mark": mark,
                    "rowspan": height,
                    "colspan": width,
                    "key_title": keys,
                }
            )
        rows.append({"cells": cells, "key": row_keys[r] if r < len(row_keys) else None})
    return rows


def _cell_id(doc: dict[str, Any], cell: dict[str, Any]) -> str | None:
    if cell.get("grid") is None:
        return None
    return f"d{doc['_n']}-t{cell['grid']}-r{cell['row']}-c{cell['col']}"


def _first_cell_id(doc: dict[str, Any], cells: list[dict[str, Any]]) -> str | None:
    """The id of the first located cell of a check (where its link scrolls to), if any."""
    return next((i for c in cells if (i := _cell_id(doc, c)) is not None), None)


_ENV.globals["cell_id"] = _cell_id
_ENV.globals["first_cell_id"] = _first_cell_id


def render_source_html(report: dict[str, Any]) -> str:
    """The HTML page of one source/year report (self-contained, inline CSS and JS, autoescaped).

    Failed identities (severity error) come first, each linking to its highlighted cells; then the
    failed soft checks ("Warnings": narrative numbers, cross-year continuity), ambiguous cells, the
    tables as printed (merged cells once, keys beside the labels), unmapped rows, document details.
    """
    docs = []
    for n, doc in enumerate(report["documents"]):
        doc = {**doc, "_n": n}
        doc.setdefault("ambiguous_cells", [])
        grid_marks = marks(doc)
        tables = [
            {
                "locator": t["locator"],
                "rows": _table_cells(doc, i, t, grid_marks.get(i, {})),
                "n_marked": len(grid_marks.get(i, {})),
                "has_keys": any(t.get("row_keys") or []),
            }
            for i, t in enumerate(doc["tables"])
        ]
        cross = doc.get("cross_year_checks", [])
        indexed = list(enumerate(doc["failed_checks"]))
        docs.append(
            {
                **doc,
                "rendered_tables": tables,
                "unlocated_cells": sum(
                    1 for c in doc["failed_checks"] if c["severity"] == "error" for x in c["cells"] if x["grid"] is None
                ),
                "error_checks": [(i, c) for i, c in indexed if c["severity"] == "error"],
                "warning_checks": [(i, c) for i, c in indexed if c["severity"] != "error"],
                "cross_failed": [(i, c) for i, c in enumerate(cross) if c["status"] == FAIL],
                "cross_summary": {
                    "checks": len(cross),
                    "passed": sum(1 for c in cross if c["status"] == PASS),
                    "failed": sum(1 for c in cross if c["status"] == FAIL),
                    "not_assessable": sum(1 for c in cross if c["status"] == NOT_ASSESSABLE),
                    "other_years": sorted({c["other_year"] for c in cross if c["other_year"] is not None}),
                },
            }
        )
    return _ENV.get_template("source_report.html.j2").render(report=report, documents=docs)


# --------------------------------------------------------------------------- charts


def _years(entries: list[dict[str, Any]]) -> list[int]:
    return sorted({e["year"] for e in entries if e["year"] is not None and e["year"] >= 0})


def _bar_chart(title: str, years: list[int], series: list[tuple[str, str, list[int]]], stacked: bool) -> Markup:
    """A small bar chart as inline SVG: one group (or stack) of bars per year, a legend, values on hover."""
    if not years:
        return Markup("")
    top = max((sum(s[2][i] for s in series) if stacked else max(s[2][i] for s in series)) for i in range(len(years)))
    top = max(top, 1)
    height, base, left = 150, 120, 34
    slot = 34 if stacked else 14 * len(series) + 10
    legend_width = sum(30 + 6 * len(name) for name, _, _ in series)
    width = max(left + slot * len(years) + 10, left + legend_width)
    parts = [
        f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 22}" '
        f'viewBox="0 0 {width} {height + 22}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{base}" x2="{width - 4}" y2="{base}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{base - 100 + 4}" text-anchor="end" font-size="10">{top}</text>',
        f'<text x="{left - 4}" y="{base + 4}" text-anchor="end" font-size="10">0</text>',
    ]
    for i, year in enumerate(years):
        x = left + slot * i + 6
        y = base
        for j, (name, colour, values) in enumerate(series):
            value = values[i]
            h = round(100 * value / top, 1)
            if stacked:
                y -= h
                bar_x, bar_y = x, y
                bar_w = slot - 10
            else:
                bar_x, bar_y, bar_w = x + 14 * j, base - h, 12
            if value:
                parts.append(
                    f'<rect x="{bar_x}" y="{bar_y}" width="{bar_w}" height="{h}" fill="{colour}">'
                    f"<title>{escape(f'{year}: {value} {name}')}</title></rect>"
                )
        parts.append(
            f'<text x="{x + (slot - 10) / 2}" y="{base + 14}" text-anchor="middle" font-size="10">{year}</text>'
        )
    legend_x = left
    for name, colour, _ in series:
        parts.append(f'<rect x="{legend_x}" y="{height + 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 13}" y="{height + 17}" font-size="10">{escape(name)}</text>')
        legend_x += 30 + 6 * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))


def charts(entries: list[dict[str, Any]]) -> dict[str, Markup]:
    """The index's two charts: reports per year by outcome; failed checks and warnings per year."""
    reports = [e for e in entries if e["year"] is not None]
    years = _years(reports)
    outcome = [
        (label, colour, [sum(1 for e in reports if e["year"] == y and e["verdict"] == key) for y in years])
        for key, colour, label in _OUTCOMES
    ]
    failures = [
        ("failed checks", "#c62828", [sum(e["failed_checks"] for e in reports if e["year"] == y) for y in years]),
        ("warnings", "#e0a800", [sum(e["warnings"] for e in reports if e["year"] == y) for y in years]),
    ]
    return {
        "by_status": _bar_chart("Reports per year by outcome", years, outcome, stacked=True),
        "failures": _bar_chart("Failed checks and warnings per year", years, failures, stacked=False),
    }


def render_index_html(model: dict[str, Any]) -> str:
    """The index dashboard: summary band with charts, sortable/filterable rows, harvest problems, history."""
    entries = model["entries"]
    return _ENV.get_template("index.html.j2").render(
        entries=entries,
        totals=model["totals"],
        harvest=model["harvest"],
        charts=charts(entries),
        years=_years(entries),
        statuses=sorted({e["status"] for e in entries}),
    )
