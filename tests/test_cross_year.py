"""Cross-year checks in the warehouse: computed at publish time, recomputed when a neighbour changes,
shown in the validation reports; and the compact (dictionary-encoded) publish path they ride on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pytest

from tests.test_warehouse import REQ_COLS, REQ_HEADER, VERSION, make_info, snapshot
from xxgk.schemas.records import FAIL, NOT_ASSESSABLE, PASS, DocumentResult, Fact
from xxgk.schemas.soft_checks import cross_year_checks, narrative_checks
from xxgk.warehouse.cross_year import CONTINUITY_ROWS
from xxgk.warehouse.parquet import (
    compact_schema,
    partition_path,
    read_partition,
    read_table,
    sort_indices,
    sort_rows,
    table_bytes,
)
from xxgk.warehouse.publish import publish
from xxgk.warehouse.validation import write_validation_reports

PRO_HEADER = ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
PRO_COLS = ["issued", "repealed", "in_force"]
ROW_LABELS = {
    "new_requests": "一、本年新收政府信息公开申请数量",
    "carried_over": "二、上年结转政府信息公开申请数量",
    "carried_forward": "五、结转下年度继续办理",
    "rules": "规章",
    "normative_docs": "行政规范性文件",
}


def _cells(value: int | str | None) -> tuple[float | None, str, str]:
    if value is None or value == "":
        return None, "", "blank"
    if isinstance(value, str):
        return None, value, "dash"
    return float(value), str(value), "ok"


def report(
    year: int,
    *,
    carried_over: list[int | str | None] | None = None,
    carried_forward: list[int | str | None] | None = None,
    normative_docs: tuple[int, int, int] | None = None,
    narrative: str = "",
    status: str = "ok",
) -> DocumentResult:
    """A report with the continuity rows printed (one value per requests column, 总计 last), located in grids."""
    req_rows: dict[str, list[int | str | None]] = {"new_requests": [1, 0, 0, 0, 0, 0, 1]}
    if carried_over is not None:
        req_rows["carried_over"] = carried_over
    if carried_forward is not None:
        req_rows["carried_forward"] = carried_forward
    facts: list[Fact] = []
    req_grid = [REQ_HEADER]
    for r, (row, values) in enumerate(req_rows.items(), start=1):
        req_grid.append([ROW_LABELS[row], *("" if v is None else str(v) for v in values)])
        for c, (col, v) in enumerate(zip(REQ_COLS, values, strict=True), start=1):
            value, raw, vs = _cells(v)
            facts.append(
                Fact(
                    "requests",
                    row,
                    col,
                    value,
                    "件",
                    raw,
                    vs,
                    "v2021",
                    ROW_LABELS[row],
                    REQ_HEADER[c],
                    "html table 2",
                    None,
                    r,
                    c,
                )
            )
    grids = [req_grid]
    locators = ["html table 2"]
    if normative_docs is not None:
        pro_grid = [PRO_HEADER, [ROW_LABELS["normative_docs"], *(str(v) for v in normative_docs)]]
        for c, (col, v) in enumerate(zip(PRO_COLS, normative_docs, strict=True), start=1):
            facts.append(
                Fact(
                    "proactive",
                    "normative_docs",
                    col,
                    float(v),
                    "件",
                    str(v),
                    "ok",
                    "v2021",
                    ROW_LABELS["normative_docs"],
                    PRO_HEADER[c],
                    "html table 1",
                    None,
                    1,
                    c,
                )
            )
        grids.insert(0, pro_grid)
        locators.insert(0, "html table 1")
    checks = narrative_checks(narrative, facts) if narrative else []
    return DocumentResult(
        status=status,
        format="html",
        title=f"{year}年政府信息公开工作年度报告",
        year=year,
        template_versions={"requests": "v2021", **({"proactive": "v2021"} if normative_docs else {})},
        facts=facts,
        checks=checks,
        grids=grids,
        grid_locators=locators,
        narrative=narrative,
    )


CF_2022 = [3, 0, 0, 0, 0, 1, 4]


def item(source: str, year: int, key: str = "doc", **kw: object) -> tuple:
    return (make_info(source, year, key=f"{key}{year}"), report(year, **kw), VERSION)  # type: ignore[arg-type]


def cross_rows(data_dir: Path, year: int | None = None) -> list[dict]:
    rows = read_table(data_dir, "checks", years=None if year is None else [year]).to_pylist()
    return [r for r in rows if r["scope"] == "cross_year"]


def by_column(rows: list[dict]) -> dict[str, tuple]:
    return {r["column_key"]: (r["status"], r["expected"], r["actual"], r["other_value"]) for r in rows}


# ------------------------------------------------------------------------------------------- publish


def test_carry_continuity_pass_and_fail_between_two_years(tmp_path: Path) -> None:
    summary = publish(
        tmp_path,
        [
            item("a", 2022, carried_forward=CF_2022),
            item("a", 2023, carried_over=[3, 0, 0, 0, 0, 2, 5]),  # legal_other and total disagree
        ],
    )
    assert (summary.cross_year_checks, summary.cross_year_failed) == (7, 2)
    assert cross_rows(tmp_path, 2022) == []
    rows = cross_rows(tmp_path, 2023)
    assert by_column(rows) == {
        "natural_person": (PASS, 3.0, 3.0, 3.0),
        "legal_commercial": (PASS, 0.0, 0.0, 0.0),
        "legal_research": (PASS, 0.0, 0.0, 0.0),
        "legal_public_interest": (PASS, 0.0, 0.0, 0.0),
        "legal_law_firm": (PASS, 0.0, 0.0, 0.0),
        "legal_other": (FAIL, 2.0, 1.0, 1.0),
        "total": (FAIL, 5.0, 4.0, 4.0),
    }
    total = next(r for r in rows if r["column_key"] == "total")
    this_doc, prev_doc = make_info("a", 2023, key="doc2023"), make_info("a", 2022, key="doc2022")
    assert total["document_sha256"] == this_doc.document_sha256
    assert total["report_id"] == f"a/2023/{this_doc.document_sha256[:12]}"
    assert (total["other_year"], total["other_document_sha256"]) == (2022, prev_doc.document_sha256)
    assert (total["check_id"], total["table"], total["row_key"]) == (
        "requests.carry_continuity",
        "requests",
        "carried_over",
    )
    assert (total["severity"], total["difference"], total["extractor_version"]) == ("warning", 1.0, VERSION)
    assert total["detail"] == (
        "carried_over 2023 == carried_forward 2022: 2023 carried_over/total = 5; "
        "2022 carried_forward/total = 4 (differs by 1)"
    )
    # Warnings never count as failed checks of the report.
    reports = {r["year"]: r for r in read_table(tmp_path, "reports").to_pylist()}
    assert reports[2023]["n_failed_checks"] == 0 and reports[2023]["n_checks"] == 0


def test_three_years_and_in_force_continuity(tmp_path: Path) -> None:
    publish(
        tmp_path,
        [
            item("a", 2021, carried_forward=[1, 0, 0, 0, 0, 0, 1], normative_docs=(2, 0, 10)),
            item("a", 2022, carried_over=[1, 0, 0, 0, 0, 0, 1], carried_forward=CF_2022, normative_docs=(3, 1, 12)),
            item("a", 2023, carried_over=CF_2022, normative_docs=(5, 2, 14)),  # 12 + 5 - 2 = 15, not 14
        ],
    )
    assert cross_rows(tmp_path, 2021) == []
    for year in (2022, 2023):
        carry = [r for r in cross_rows(tmp_path, year) if r["check_id"] == "requests.carry_continuity"]
        assert len(carry) == 7 and {r["status"] for r in carry} == {PASS}
        assert {r["other_year"] for r in carry} == {year - 1}
    (in_force_2022,) = [r for r in cross_rows(tmp_path, 2022) if r["check_id"] == "proactive.in_force_continuity"]
    assert (in_force_2022["status"], in_force_2022["expected"], in_force_2022["actual"]) == (PASS, 12.0, 12.0)
    (in_force_2023,) = [r for r in cross_rows(tmp_path, 2023) if r["check_id"] == "proactive.in_force_continuity"]
    assert (in_force_2023["status"], in_force_2023["expected"], in_force_2023["actual"]) == (FAIL, 14.0, 15.0)
    assert (in_force_2023["other_value"], in_force_2023["difference"]) == (12.0, -1.0)
    assert in_force_2023["detail"] == (
        "in_force 2023 == in_force 2022 + issued 2023 - repealed 2023: 2023 normative_docs/in_force = 14, "
        "normative_docs/issued = 5, normative_docs/repealed = 2; 2022 normative_docs/in_force = 12 (differs by -1)"
    )


def test_republishing_the_previous_year_flips_the_check_of_the_next(tmp_path: Path) -> None:
    publish(tmp_path, [item("a", 2022, carried_forward=CF_2022), item("a", 2023, carried_over=CF_2022)])
    assert {r["status"] for r in cross_rows(tmp_path, 2023)} == {PASS}
    facts_2023 = partition_path(tmp_path, "facts", 2023).read_bytes()
    reports_2023 = partition_path(tmp_path, "reports", 2023).read_bytes()

    # 2022 is re-extracted with a different carried_forward: only 2022 is published.
    summary = publish(tmp_path, [item("a", 2022, carried_forward=[3, 0, 0, 0, 0, 2, 5])])
    assert summary.years == [2022]
    assert summary.cross_year_years == [2022, 2023]
    assert partition_path(tmp_path, "checks", 2023) in summary.written
    assert by_column(cross_rows(tmp_path, 2023))["total"] == (FAIL, 4.0, 5.0, 5.0)
    assert by_column(cross_rows(tmp_path, 2023))["legal_other"] == (FAIL, 1.0, 2.0, 2.0)
    # 2023 itself did not change: only its checks file was rewritten.
    assert partition_path(tmp_path, "facts", 2023).read_bytes() == facts_2023
    assert partition_path(tmp_path, "reports", 2023).read_bytes() == reports_2023

    # Republishing 2023 recomputes its check against 2022 as now published.
    publish(tmp_path, [item("a", 2023, carried_over=[3, 0, 0, 0, 0, 2, 5])])
    assert {r["status"] for r in cross_rows(tmp_path, 2023)} == {PASS}


def test_no_check_without_the_neighbouring_year(tmp_path: Path) -> None:
    publish(tmp_path, [item("a", 2021, carried_forward=CF_2022), item("a", 2023, carried_over=CF_2022)])
    assert cross_rows(tmp_path) == []  # 2021 and 2023 are not consecutive
    publish(tmp_path, [item("a", 2022, carried_over=CF_2022, carried_forward=CF_2022)])
    assert sorted({r["year"] for r in cross_rows(tmp_path)}) == [2022, 2023]
    # The neighbour disappears (a full rebuild of 2022 without source a): its checks go with it.
    summary = publish(tmp_path, [], years=[2022], replace=True)
    assert not partition_path(tmp_path, "reports", 2022).exists()
    assert 2023 in summary.cross_year_years
    assert cross_rows(tmp_path) == []


def test_other_sources_keep_their_rows_and_cells_missing_give_no_check(tmp_path: Path) -> None:
    publish(
        tmp_path,
        [
            item("a", 2022, carried_forward=CF_2022),
            item("a", 2023, carried_over=[3, None, 0, 0, 0, 1, "-"]),
            item("b", 2022, carried_forward=CF_2022),
            item("b", 2023, carried_over=CF_2022),
        ],
    )
    a = by_column([r for r in cross_rows(tmp_path, 2023) if r["source_id"] == "a"])
    assert a["legal_commercial"] == (NOT_ASSESSABLE, None, None, 0.0)  # blank this year: never read as 0
    assert a["total"] == (NOT_ASSESSABLE, None, None, 4.0)
    before = [r for r in cross_rows(tmp_path, 2023) if r["source_id"] == "b"]
    summary = publish(tmp_path, [item("a", 2022, carried_forward=[0, 0, 0, 0, 0, 0, 0])])
    assert summary.cross_year_years == [2022, 2023]
    assert [r for r in cross_rows(tmp_path, 2023) if r["source_id"] == "b"] == before
    # a source without the continuity rows printed gets no row, not a failure
    publish(tmp_path, [item("c", 2022), item("c", 2023)])
    assert not [r for r in cross_rows(tmp_path) if r["source_id"] == "c"]


def test_several_documents_of_a_year_compare_the_ok_one_with_most_facts(tmp_path: Path) -> None:
    partial = (make_info("a", 2022, key="page"), report(2022, carried_forward=[9] * 7, status="partial"), VERSION)
    fuller = report(2022, carried_forward=CF_2022, normative_docs=(1, 0, 1))
    small = report(2022, carried_forward=[8] * 7)
    items = [
        partial,
        (make_info("a", 2022, key="pdf"), fuller, VERSION),
        (make_info("a", 2022, key="doc"), small, VERSION),
        item("a", 2023, carried_over=CF_2022),
    ]
    publish(tmp_path, items)
    rows = cross_rows(tmp_path, 2023)
    assert {r["status"] for r in rows} == {PASS}
    assert {r["other_document_sha256"] for r in rows} == {make_info("a", 2022, key="pdf").document_sha256}
    sha = make_info("a", 2022, key="pdf").document_sha256[:12]
    assert rows[0]["detail"].endswith(
        f". 2022 has 3 documents; compared {sha} (ok, 17 facts: the ok one with most facts)"
    )


def test_publish_with_cross_year_checks_is_idempotent_and_order_independent(tmp_path: Path) -> None:
    items = [
        item("a", 2021, carried_forward=[1, 0, 0, 0, 0, 0, 1], normative_docs=(2, 0, 10)),
        item("a", 2022, carried_over=[1, 0, 0, 0, 0, 0, 2], carried_forward=CF_2022, normative_docs=(3, 1, 12)),
        item("a", 2023, carried_over=CF_2022, normative_docs=(5, 2, 15)),
        item("b", 2022, carried_forward=CF_2022),
        item("b", 2023, carried_over=[0] * 7),
    ]
    publish(tmp_path / "one", items)
    before = snapshot(tmp_path / "one")
    again = publish(tmp_path / "one", items)
    assert not again.changed and again.cross_year_checks == 23
    assert snapshot(tmp_path / "one") == before
    # Built year by year, newest first, in separate runs: the same bytes.
    for year in (2023, 2021, 2022):
        publish(tmp_path / "other", [i for i in reversed(items) if i[0].year == year])
    assert snapshot(tmp_path / "other") == before


def test_unknown_year_has_no_neighbours(tmp_path: Path) -> None:
    info = make_info("a", None, key="x")
    publish(tmp_path, [(info, report(2023, carried_over=CF_2022), VERSION), item("a", 2022, carried_forward=CF_2022)])
    assert len(cross_rows(tmp_path, 2023)) == 7  # the document's own year is 2023
    result = report(2023, carried_over=CF_2022)
    result.year = None
    publish(tmp_path, [(make_info("z", None, key="y"), result, VERSION), item("z", 0, carried_forward=CF_2022)])
    assert not [r for r in cross_rows(tmp_path) if r["source_id"] == "z"]


def test_the_rules_read_only_the_continuity_rows() -> None:
    """CONTINUITY_ROWS lists every row cross_year_checks reads: the same results on those rows alone."""
    prev = report(2022, carried_over=[1] * 7, carried_forward=CF_2022, normative_docs=(3, 1, 12)).facts
    cur = report(2023, carried_over=[3, 0, 0, 0, 0, 2, 5], carried_forward=[2] * 7, normative_docs=(5, 2, 14)).facts
    extra = [Fact("requests", r, c, 1.0, "件", "1", "ok", "v2021") for r in ("granted", "other") for c in REQ_COLS]
    extra += [Fact("proactive", r, c, 1.0, "件", "1", "ok", "v2021") for r in ("rules", "licensing") for c in PRO_COLS]
    keep = set(CONTINUITY_ROWS)

    def only(facts: list[Fact]) -> list[Fact]:
        return [f for f in facts if (f.table, f.row_key) in keep]

    full = cross_year_checks(cur + extra, prev + extra, 2023, 2022)
    assert len(full) == 9
    assert cross_year_checks(only(cur + extra), only(prev + extra), 2023, 2022) == full


# --------------------------------------------------------------------------------- validation report


def _warning_rows(html: str) -> list[str]:
    return re.findall(r'<tr id="d0-x\d+">(.*?)</tr>', html, re.S)


def test_validation_report_shows_the_cross_year_warning_with_both_years(tmp_path: Path) -> None:
    items = [item("a", 2022, carried_forward=CF_2022), item("a", 2023, carried_over=[3, 0, 0, 0, 0, 2, 5])]
    publish(tmp_path, items)
    write_validation_reports(tmp_path, items)
    vdir = tmp_path / "validation" / "a"
    report_2023 = json.loads((vdir / "2023.json").read_text(encoding="utf-8"))
    assert (report_2023["failed_checks"], report_2023["warnings"]) == (0, 2)
    (doc,) = report_2023["documents"]
    assert (doc["counts"]["cross_year_checks"], doc["counts"]["cross_year_failed"]) == (7, 2)
    failed = [c for c in doc["cross_year_checks"] if c["status"] == FAIL]
    total = next(c for c in failed if c["column_key"] == "total")
    assert (total["year"], total["expected"], total["other_year"], total["other_value"], total["actual"]) == (
        2023,
        5.0,
        2022,
        4.0,
        4.0,
    )
    (cell,) = total["cells"]
    assert (cell["grid"], cell["row"], cell["col"], cell["raw_text"]) == (0, 2, 7, "5")

    html = (vdir / "2023.html").read_text(encoding="utf-8")
    assert "<h3>Warnings</h3>" in html and "Continuity with the previous year" in html
    rows = _warning_rows(html)
    assert len(rows) == 2
    total_row = next(r for r in rows if "<td>total</td>" in r)
    numbers = re.findall(r'<td class="num">([^<]*)', total_row)
    assert numbers == ["2", "5", "4 ", "4", "1"]  # #, this year, previous year (linked), expected from it, difference
    assert 'href="2022.html">2022</a>' in total_row
    assert "2023 carried_over/total = 5; 2022 carried_forward/total = 4" in total_row
    assert 'class="warn-total"' in html  # this year's printed cell is marked, as a warning
    assert "7 evaluated, 5 passed, 2 failed" in html
    index = json.loads((tmp_path / "validation" / "index.json").read_text(encoding="utf-8"))
    assert [(e["year"], e["warnings"]) for e in index["entries"]] == [(2022, 0), (2023, 2)]


def test_validation_report_of_the_next_year_is_refreshed(tmp_path: Path) -> None:
    items = [item("a", 2022, carried_forward=CF_2022), item("a", 2023, carried_over=CF_2022)]
    publish(tmp_path, items)
    write_validation_reports(tmp_path, items)
    path = tmp_path / "validation" / "a" / "2023.html"
    assert not _warning_rows(path.read_text(encoding="utf-8"))

    # The flow publishes, then writes the reports of the documents it published: 2022 only.
    changed = [item("a", 2022, carried_forward=[3, 0, 0, 0, 0, 1, 5])]
    publish(tmp_path, changed)
    write_validation_reports(tmp_path, changed)
    rows = _warning_rows(path.read_text(encoding="utf-8"))
    assert len(rows) == 1 and "2022 carried_forward/total = 5" in rows[0]
    report_2023 = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert report_2023["warnings"] == 1
    (cell,) = next(c for c in report_2023["documents"][0]["cross_year_checks"] if c["status"] == FAIL)["cells"]
    assert (cell["grid"], cell["row"], cell["col"]) == (0, 2, 7)  # located from the published facts

    # Nothing changed: a second identical run rewrites nothing.
    vdir = tmp_path / "validation"
    mtimes = {p: p.stat().st_mtime_ns for p in vdir.rglob("*.*")}
    publish(tmp_path, changed)
    write_validation_reports(tmp_path, changed)
    assert {p: p.stat().st_mtime_ns for p in vdir.rglob("*.*")} == mtimes


def test_narrative_warning_quotes_the_sentence(tmp_path: Path) -> None:
    text = "一、总体情况\n本年度共收到政府信息公开申请 3 件，均已按时答复。"
    result = report(2023, carried_over=CF_2022, narrative=text)
    (check,) = result.checks
    assert (check.check_id, check.status, check.expected, check.actual) == ("narrative.matches_tables", FAIL, 3.0, 1.0)
    write_validation_reports(tmp_path, [(make_info("a", 2023), result, VERSION)])
    report_json = json.loads((tmp_path / "validation" / "a" / "2023.json").read_text(encoding="utf-8"))
    assert (report_json["failed_checks"], report_json["warnings"]) == (0, 1)
    html = (tmp_path / "validation" / "a" / "2023.html").read_text(encoding="utf-8")
    warnings = html[html.index("<h3>Warnings</h3>") : html.index("Tables as printed")]
    assert "The text against the tables" in warnings
    assert "“本年度共收到政府信息公开申请 3 件,均已按时答复。”" in warnings  # quoted as read (NFKC)
    failed = html[html.index("<h3>Failed checks</h3>") : html.index("<h3>Warnings</h3>")]
    assert "narrative.matches_tables" not in failed and "None." in failed


# -------------------------------------------------------------------------------- compact publishing


def test_compact_tables_sort_and_write_like_plain_ones() -> None:
    n = 300
    sources = [f"s{(i * 7) % 13:02d}" for i in range(n)]
    shas = [f"{(i * 31) % 17:064x}" for i in range(n)]
    schema = compact_schema("checks")
    plain_cols = {f.name: pa.nulls(n, pa.string() if pa.types.is_dictionary(f.type) else f.type) for f in schema}
    plain_cols.update(
        source_id=pa.array(sources),
        document_sha256=pa.array(shas),
        scope=pa.array(["cross_year" if i % 5 == 0 else "document" for i in range(n)]),
        check_index=pa.array([i % 11 for i in range(n)], pa.int32()),
        detail=pa.array([f"detail {i}" if i % 3 else None for i in range(n)]),
    )
    plain = pa.table(plain_cols)
    # the compact copy is built from differently encoded chunks, as the spool and old partitions give
    chunks = [plain.slice(0, 100), plain.slice(100, 200)]
    compact = pa.concat_tables([c.cast(schema) for c in chunks])
    assert compact.column("source_id").chunk(0).dictionary != compact.column("source_id").chunk(1).dictionary
    expected = table_bytes(sort_rows(plain, "checks"), "checks")
    assert table_bytes(compact, "checks", sort_indices(compact, "checks")) == expected
    assert table_bytes(sort_rows(compact, "checks"), "checks") == expected


def test_old_checks_files_without_scope_read_as_document_scope(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "old.parquet"
    pq.write_table(pa.table({"source_id": ["a"], "check_id": ["requests.row_total"]}), path)
    for compact in (False, True):
        table = read_partition(path, "checks", compact=compact)
        assert table.column("scope").to_pylist() == ["document"]
        assert table.column("other_year").to_pylist() == [None]


@pytest.mark.parametrize("years", [[2023], [2022, 2023]])
def test_spool_keeps_only_the_chosen_duplicate(tmp_path: Path, years: list[int]) -> None:
    items = [item("a", y, carried_over=CF_2022, carried_forward=CF_2022) for y in years]
    newer = (items[-1][0], report(years[-1], carried_over=[0] * 7, carried_forward=CF_2022), "9.9")
    summary = publish(tmp_path, [*items, newer])
    assert summary.duplicate_documents == 1
    facts = read_table(tmp_path, "facts", years=[years[-1]])
    assert set(facts.column("extractor_version").to_pylist()) == {"9.9"}
    assert facts.num_rows == 21
