"""The trend over years of a source's key numbers on its validation pages (issue 13, item 2).

Golden style: a source's reports published for some years with known printed cells, and the exact
trend each page holds; a year without a value is a gap (never 0); republishing or removing one
year updates the trend on the pages of the other years, and an unchanged run rewrites nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.test_warehouse import VERSION, make_info
from xxgk.schemas.model import REQUESTS, REVIEW_LITIGATION, SPECS, V2021
from xxgk.schemas.records import DocumentResult, Fact
from xxgk.schemas.values import AMBIGUOUS, parse_cell_value
from xxgk.warehouse.publish import publish
from xxgk.warehouse.validation import prune_validation_reports, write_validation_reports
from xxgk.warehouse.validation.trend import KEY_NUMBERS, NO_REPORT, NOT_PRINTED

#: The printed cells of each synthetic report: (table, row_key, column_key) -> text as printed.
Cells = dict[tuple[str, str, str], str]


def _cells(
    new: str, processed: str, forward: str, reviews: str, direct: str | None = "0", after: str = "0"
) -> Cells:
    cells = {
        (REQUESTS, "new_requests", "natural_person"): "99",  # not a key number: never in the trend
        (REQUESTS, "new_requests", "total"): new,
        (REQUESTS, "total_processed", "total"): processed,
        (REQUESTS, "carried_forward", "total"): forward,
        (REVIEW_LITIGATION, "admin_review", "total"): reviews,
        (REVIEW_LITIGATION, "litigation_after_review", "total"): after,
    }
    if direct is not None:
        cells[(REVIEW_LITIGATION, "litigation_direct", "total")] = direct
    return cells


def _report(year: int, cells: Cells) -> DocumentResult:
    """A report printing ``cells``, one grid per table, each cell located in its grid."""
    facts, grids, locators = [], [], []
    for t, table in enumerate((REQUESTS, REVIEW_LITIGATION)):
        spec = SPECS[table]
        mine = [(row, col, text) for (tbl, row, col), text in cells.items() if tbl == table]
        columns = sorted({c for _, c, _ in mine}, key=spec.column_keys.index)
        rows = sorted({r for r, _, _ in mine}, key=spec.row_keys.index)
        grid = [["", *(spec.column(c).labels[V2021] for c in columns)]]
        for r, row in enumerate(rows, start=1):
            label = spec.row(row).labels[V2021]
            printed = {c: text for rw, c, text in mine if rw == row}
            grid.append([label, *(printed.get(c, "") for c in columns)])
            for c, col in enumerate(columns, start=1):
                if col not in printed:
                    continue
                parsed = parse_cell_value(printed[col], unit="件")
                value, status = parsed.value, parsed.status
                if printed[col].endswith("?"):  # read without certainty: a best guess kept beside the text
                    value, status = float(printed[col][:-1]), AMBIGUOUS
                facts.append(
                    Fact(
                        table, row, col, value, "件", printed[col], status, V2021,
                        label, grid[0][c], f"html table {t + 1}", None, r, c,
                    )
                )  # fmt: skip
        grids.append(grid)
        locators.append(f"html table {t + 1}")
    return DocumentResult(
        status="ok",
        format="html",
        title=f"{year} report",
        year=year,
        template_versions={REQUESTS: V2021, REVIEW_LITIGATION: V2021},
        facts=facts,
        grids=grids,
        grid_locators=locators,
    )


def _item(year: int, cells: Cells, source: str = "a") -> tuple:
    return (make_info(source, year, key=f"doc{year}"), _report(year, cells), VERSION)


def _publish_and_write(data: Path, items: list[tuple]) -> None:
    publish(data, items)
    write_validation_reports(data, items)


def _trend(data: Path, year: int, source: str = "a") -> dict:
    return json.loads((data / "validation" / source / f"{year}.json").read_text(encoding="utf-8"))["trend"]


def _values(trend: dict) -> dict[str, list[tuple]]:
    return {n["key"]: [(v["year"], v["value"], v["printed"], v["value_status"]) for v in n["values"]] for n in trend["numbers"]}


def test_trend_holds_each_years_key_numbers_as_printed_with_gaps(tmp_path: Path) -> None:
    items = [
        _item(2020, _cells("6", "5", "1", "2")),
        _item(2021, _cells("12", "10", "—", "0", direct=None)),  # a dash and a cell not printed
        _item(2023, _cells("8", "9", "3", "<b>1</b>", after="5?")),  # no report for 2022; hostile text; ambiguous
    ]
    _publish_and_write(tmp_path, items)
    trend = _trend(tmp_path, 2023)
    assert trend["years"] == [2020, 2021, 2022, 2023]
    assert [n["key"] for n in trend["numbers"]] == [k.key for k in KEY_NUMBERS]
    gap = (2022, None, None, NO_REPORT)
    assert _values(trend) == {
        "requests.new_requests.total": [(2020, 6.0, "6", "ok"), (2021, 12.0, "12", "ok"), gap, (2023, 8.0, "8", "ok")],
        "requests.total_processed.total": [
            (2020, 5.0, "5", "ok"),
            (2021, 10.0, "10", "ok"),
            gap,
            (2023, 9.0, "9", "ok"),
        ],
        "requests.carried_forward.total": [
            (2020, 1.0, "1", "ok"),
            (2021, None, "—", "dash"),
            gap,
            (2023, 3.0, "3", "ok"),
        ],
        "review_litigation.admin_review.total": [
            (2020, 2.0, "2", "ok"),
            (2021, 0.0, "0", "ok"),
            gap,
            (2023, None, "<b>1</b>", "unparseable"),
        ],
        "review_litigation.litigation_direct.total": [
            (2020, 0.0, "0", "ok"),
            (2021, None, None, NOT_PRINTED),
            gap,
            (2023, 0.0, "0", "ok"),
        ],
        "review_litigation.litigation_after_review.total": [
            (2020, 0.0, "0", "ok"),
            (2021, 0.0, "0", "ok"),
            gap,
            (2023, None, "5?", AMBIGUOUS),  # its best guess (5) is never drawn
        ],
    }
    (new,) = [n for n in trend["numbers"] if n["key"] == "requests.new_requests.total"]
    assert (new["label"], new["unit"]) == (
        f"{SPECS[REQUESTS].row('new_requests').labels[V2021]} / {SPECS[REQUESTS].column('total').labels[V2021]}",
        "件",
    )
    # every page of the source holds the same trend; only the marked year differs
    assert _trend(tmp_path, 2020) == _trend(tmp_path, 2021) == trend

    html = (tmp_path / "validation" / "a" / "2021.html").read_text(encoding="utf-8")
    assert '<h2 id="trend">Trend over years</h2>' in html and 'href="#trend"' in html
    charts = re.findall(r'<svg class="trend".*?</svg>', html, re.S)
    assert len(charts) == 6
    new_chart = charts[0]
    assert "<title>new requests received (" in new_chart
    # the current year is shaded and bold; the gap year 2022 has no point and breaks the line
    assert new_chart.count('class="current"') == 1 and 'font-weight="700">2021</text>' in new_chart
    assert new_chart.count("<circle") == 3
    assert len(re.findall(r"<polyline", new_chart)) == 1  # 2020–2021; 2023 stands alone after the gap
    assert "<title>2022: no value (no_report)</title>" in new_chart
    assert ">12</text>" in new_chart  # the value labelled
    assert "<title>2021: no value (dash, printed “—”)</title>" in charts[2]
    # the text fallback: a table of what was printed, the current year's column marked
    table = re.search(r'<table class="trend-table">.*?</table>', html, re.S)
    assert table and '<th class="num cur">2021</th>' in table.group(0)
    assert "&lt;b&gt;1&lt;/b&gt; (unparseable)" in table.group(0) and "<b>1</b>" not in html


def test_republishing_an_earlier_year_updates_the_later_years_trend(tmp_path: Path) -> None:
    _publish_and_write(tmp_path, [_item(2022, _cells("6", "5", "1", "2")), _item(2023, _cells("8", "9", "3", "1"))])
    page_2023 = tmp_path / "validation" / "a" / "2023.html"
    assert [v[1] for v in _values(_trend(tmp_path, 2023))["requests.new_requests.total"]] == [6.0, 8.0]

    # The flow publishes, then writes the reports of what it published: 2022 only.
    changed = [_item(2022, _cells("7", "5", "1", "2"))]
    _publish_and_write(tmp_path, changed)
    assert [v[1:3] for v in _values(_trend(tmp_path, 2023))["requests.new_requests.total"]] == [(7.0, "7"), (8.0, "8")]
    assert ">7</text>" in re.findall(r'<svg class="trend".*?</svg>', page_2023.read_text(encoding="utf-8"), re.S)[0]

    # Nothing changed: a second identical run rewrites nothing.
    vdir = tmp_path / "validation"
    mtimes = {p: p.stat().st_mtime_ns for p in vdir.rglob("*.*")}
    _publish_and_write(tmp_path, changed)
    assert {p: p.stat().st_mtime_ns for p in vdir.rglob("*.*")} == mtimes


def test_a_year_removed_from_the_warehouse_leaves_the_other_years_trend(tmp_path: Path) -> None:
    years = {2021: "4", 2022: "5", 2023: "6"}
    _publish_and_write(tmp_path, [_item(y, _cells(n, n, "0", "0")) for y, n in years.items()])
    assert _trend(tmp_path, 2023)["years"] == [2021, 2022, 2023]
    # a backfill rebuilds 2022 without source a
    publish(tmp_path, [_item(2022, _cells("1", "1", "0", "0"), source="b")], years=[2022], replace=True)
    prune_validation_reports(tmp_path)
    assert not (tmp_path / "validation" / "a" / "2022.json").exists()
    assert _values(_trend(tmp_path, 2021))["requests.new_requests.total"] == [
        (2021, 4.0, "4", "ok"),
        (2022, None, None, NO_REPORT),
        (2023, 6.0, "6", "ok"),
    ]
    assert _trend(tmp_path, 2023) == _trend(tmp_path, 2021)


def test_no_trend_section_without_published_years(tmp_path: Path) -> None:
    """Reports written without a publish (no warehouse) say nothing about a trend rather than show zeros."""
    write_validation_reports(tmp_path, [_item(2023, _cells("8", "9", "3", "1"))])
    assert _trend(tmp_path, 2023) == {"years": [], "documents": [], "numbers": []}
    assert "Trend over years" not in (tmp_path / "validation" / "a" / "2023.html").read_text(encoding="utf-8")
