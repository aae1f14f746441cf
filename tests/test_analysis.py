"""The analyst's warehouse: ``xxgk.open``, primary copies, wide views, keys, consistency, export.

Documents are synthetic reports (known values) extracted and published through ``xxgk extract``,
so every figure below is exact.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

import xxgk
from xxgk.flows.cli import app
from xxgk.synth import generate_report, render_text
from xxgk.synth.html import render_html
from xxgk.warehouse.analysis import MissingDependency, Warehouse, _optional
from xxgk.warehouse.copies import choose_primaries
from xxgk.warehouse.export import export_warehouse

runner = CliRunner()
PUBLISHER = "示例区人民政府"


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, object]]:
    """Two years of one publisher, 2024 as a page and its text export, one inconsistent report, a README."""
    root = tmp_path_factory.mktemp("analysis")
    docs = root / "docs"
    clean = {y: generate_report(10 + y, year=y, publisher=PUBLISHER, defects=()) for y in (2023, 2024)}
    _write(docs / "a_2023.txt", render_text(clean[2023], "cells"))
    _write(docs / "a_2024_page.html", render_html(clean[2024]))
    _write(docs / "a_2024_export.txt", render_text(clean[2024], "cells"))
    wrong = generate_report(7, year=2022, publisher="另一县人民政府", defects=("wrong_total",))
    _write(docs / "b_2022.txt", render_text(wrong, "cells"))
    _write(
        docs / "README.md",
        b"# Reports\n\nThese files are annual reports used as test inputs; see the expected values.\n",
    )
    out = root / "out"
    result = runner.invoke(app, ["extract", str(docs), str(docs / "README.md"), "--out", str(out), "--json", "-q"])
    assert result.exit_code == 0, result.output
    return out, {**clean, 2022: wrong}


def test_import_and_open_need_no_prefect(corpus: tuple[Path, dict]) -> None:
    out, _ = corpus
    code = (
        "import sys, xxgk; wh = xxgk.open(sys.argv[1]); wh.facts(); wh.wide('requests'); wh.keys();"
        "print(sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_copies_of_one_report_count_once(corpus: tuple[Path, dict]) -> None:
    out, reports = corpus
    wh = xxgk.open(out)
    every = wh.reports(primary_only=False)
    ours = every[every["year"] == 2024]
    assert len(ours) == 2 and ours["source_id"].nunique() == 1  # filed under the publisher, not the file name
    primary = ours[ours["is_primary"]]
    assert list(primary["format"]) == ["html"]  # same status and cells: the page wins over the export
    assert (ours["primary_document_sha256"] == primary["document_sha256"].iloc[0]).all()
    assert (ours["n_copies"] == 2).all()
    wide = wh.wide("requests", years=2024)
    printed = reports[2024].cells[("requests", "new_requests", "total")]
    assert len(wide[wide["row_key"] == "new_requests"]) == 1
    assert wide.loc[wide["row_key"] == "new_requests", "total"].sum() == float(printed)
    every_copy = wh.wide("requests", years=2024, primary_only=False)
    assert every_copy.loc[every_copy["row_key"] == "new_requests", "total"].sum() == 2 * float(printed)


def test_one_publishers_years_meet_so_cross_year_checks_run(corpus: tuple[Path, dict]) -> None:
    out, _ = corpus
    wh = xxgk.open(out)
    checks = wh.checks(years=2024)
    assert (checks["scope"] == "cross_year").any()
    assert set(wh.reports(years=[2023, 2024])["source_id"]) == {wh.reports(years=2024)["source_id"].iloc[0]}


def test_a_readme_beside_the_reports_is_not_a_report(corpus: tuple[Path, dict]) -> None:
    out, _ = corpus
    reports = Warehouse(out).reports(primary_only=False)
    readme = reports[reports["path"].str.endswith("README.md")]
    assert list(readme["status"]) == ["not_a_report"] and "Latin script" in readme["reason"].iloc[0]
    assert not readme["is_primary"].iloc[0]


def test_a_report_with_failed_identities_is_inconsistent(corpus: tuple[Path, dict]) -> None:
    out, reports = corpus
    rows = xxgk.open(out).reports()
    assert reports[2022].failing_checks
    assert dict(zip(rows["year"], rows["consistency"], strict=True)) == {
        2022: "inconsistent",
        2023: "consistent",
        2024: "consistent",
    }
    assert set(rows["status"]) == {"ok"}  # the status says what was read; consistency whether it adds up


def test_integer_columns_are_integers_and_blank_is_null(corpus: tuple[Path, dict]) -> None:
    facts = xxgk.open(corpus[0]).facts()
    assert {str(facts[c].dtype) for c in ("grid_row", "grid_col", "page", "fact_index")} == {"Int32"}
    assert str(facts["is_derived"].dtype) == "boolean" and str(facts["year"].dtype) == "Int64"
    assert facts.loc[facts["value_status"] == "blank", "value"].isna().all()


def test_other_means_the_same_in_both_formats(corpus: tuple[Path, dict]) -> None:
    wh = xxgk.open(corpus[0])
    facts = wh.facts(tables="requests")
    derived = facts[facts["is_derived"]]
    assert set(zip(derived["row_key"], derived["template_version"], strict=True)) <= {("other", "v2021")}
    assert wh.facts(include_derived=True)["is_derived"].sum() > derived["is_derived"].sum()
    keys = wh.keys().set_index(["table", "row_key", "column_key"])
    assert keys.loc[("requests", "other", "total"), ["in_v2019", "in_v2021"]].tolist() == ["printed", "derived"]


def test_wide_views_have_labels_statuses_and_a_named_computed_total(corpus: tuple[Path, dict]) -> None:
    wide = xxgk.open(corpus[0]).wide("requests")
    assert list(wide.columns[wide.columns.get_loc("natural_person") :]) == [
        "natural_person",
        "legal_commercial",
        "legal_research",
        "legal_public_interest",
        "legal_law_firm",
        "legal_other",
        "total",
        "total_computed",
        "value_status",
    ]
    assert wide.groupby(["document_sha256", "row_key"]).size().max() == 1
    granted = wide[wide["row_key"] == "granted"]
    assert set(granted["row_label_zh"]) == {"（一）予以公开"} and set(granted["row_name_en"]) == {"Granted (disclosed)"}
    assert wide.loc[wide["total"].notna(), "total_computed"].isna().all()


def test_wide_computed_total_only_where_the_printed_total_is_blank() -> None:
    from xxgk.warehouse.wide import wide_frame

    keys = xxgk.warehouse.keys.keys_table().to_pandas()
    base = {"source_id": "s", "document_sha256": "d", "report_id": "s/2020/d", "publisher": "p", "region_code": None}
    rows = [
        {
            **base,
            "year": 2020,
            "table": "requests",
            "row_key": "granted",
            "column_key": c,
            "value": v,
            "value_status": "ok" if v is not None else "blank",
            "template_version": "v2019",
            "row_label": "x",
        }
        for c, v in [("natural_person", 3.0), ("legal_commercial", None), ("legal_other", 2.0), ("total", None)]
    ]
    wide = wide_frame("requests", pd.DataFrame(rows), keys)
    assert wide["total"].isna().all() and wide["total_computed"].tolist() == [5.0]
    assert wide["value_status"].tolist() == ["legal_commercial=blank; total=blank"]


def test_duckdb_and_polars_see_the_same_primary_sums(corpus: tuple[Path, dict]) -> None:
    wh = xxgk.open(corpus[0])
    expected = wh.wide("requests").query("row_key == 'new_requests'")["total"].sum()
    con = wh.duckdb()
    got = con.execute("select sum(total) from wide_requests where row_key = 'new_requests'").fetchone()[0]
    facts = con.execute(
        "select sum(value) from primary_facts where row_key = 'new_requests' and column_key = 'total'"
    ).fetchone()[0]
    assert got == facts == expected
    frames = wh.polars()
    import polars as pl

    lazy = frames["primary_facts"].filter((pl.col("row_key") == "new_requests") & (pl.col("column_key") == "total"))
    assert lazy.select(pl.col("value").sum()).collect().item() == expected
    assert {"facts", "reports", "checks", "unmapped", "keys", "wide_requests"} <= set(frames)


def test_missing_optional_engine_says_how_to_install_it() -> None:
    with pytest.raises(MissingDependency, match=r"xxgk\[analysis\]"):
        _optional("a_module_that_is_not_installed")


def test_export_opens_in_pandas_and_duckdb(corpus: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = corpus
    xlsx = export_warehouse(out, "xlsx", tmp_path / "x.xlsx")[0]
    sheets = pd.read_excel(xlsx, sheet_name=None, engine="openpyxl")
    assert {"wide_requests", "reports", "failed_checks", "keys"} <= set(sheets)
    assert not sheets["failed_checks"].empty and (sheets["failed_checks"]["status"] == "fail").all()
    db = export_warehouse(out, "duckdb", tmp_path / "x.duckdb")[0]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from wide_requests").fetchone()[0] == len(sheets["wide_requests"])
    result = runner.invoke(app, ["export", str(out), "--format", "csv", "--out", str(tmp_path / "csv")])
    assert result.exit_code == 0, result.output
    keys = pd.read_csv(tmp_path / "csv" / "keys.csv", encoding="utf-8-sig")
    assert "（一）予以公开 / 自然人" in set(keys["label_zh"])


def test_open_without_a_warehouse_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="xxgk extract"):
        xxgk.open(tmp_path)


def test_primary_rule_status_then_cells_then_format() -> None:
    def row(sha: str, status: str, n: int, fmt: str, source: str = "s") -> dict:
        return {"source_id": source, "document_sha256": sha, "status": status, "n_facts": n, "format": fmt}

    rows = [
        row("a", "partial", 200, "html"),
        row("b", "ok", 150, "text"),
        row("c", "ok", 180, "pdf"),
        row("d", "ok", 180, "html"),
        row("e", "not_a_report", 0, "markdown"),
        row("f", "ok", 1, "text", source="t"),
    ]
    marks = choose_primaries(rows, 2024)
    assert [m[0] for m in marks] == [False, False, False, True, False, True]
    assert [m[1] for m in marks] == ["d", "d", "d", "d", None, "f"] and [m[2] for m in marks] == [4, 4, 4, 4, 0, 1]


def test_publisher_names_meet_the_registry() -> None:
    from xxgk.flows.identity import resolved_info
    from xxgk.harvest.publishers import Publisher, PublisherDirectory, same_publisher
    from xxgk.warehouse.documents import DocumentInfo

    directory = PublisherDirectory(
        [
            Publisher("js-huaian-hongze", "淮安市洪泽区人民政府", "320813", "county"),
            Publisher("fj", "平潭综合实验区管委会"),
        ]
    )
    info = DocumentInfo("ab", "hongze_2023", None, None, None, None, None, None, source_from_name=True)
    got = resolved_info(info, "洪泽区人民政府", directory)
    assert (got.source_id, got.publisher, got.region_code) == ("js-huaian-hongze", "淮安市洪泽区人民政府", "320813")
    assert resolved_info(info, "平潭综合实验区", directory).source_id == "fj"
    assert resolved_info(info, "上海市科委", directory).source_id == "上海市科委"
    assert resolved_info(info, "", directory).source_id == "hongze_2023"
    named = DocumentInfo("ab", "given-id", None, None, None, None, None, None)
    assert resolved_info(named, "洪泽区人民政府", directory) is named  # a source id someone gave is kept
    assert not same_publisher("人民政府", "淮安市洪泽区人民政府") and not same_publisher(
        "上海市", "上海市人民政府办公厅"
    )


@pytest.mark.corpus
def test_corpus_pingtan_2024_counts_218_new_requests_not_436(tmp_path: Path) -> None:
    corpus_dir = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    if not corpus_dir.is_dir():
        pytest.skip("../shared/corpus not present")
    files = sorted(str(p) for p in corpus_dir.iterdir() if p.is_file())
    result = runner.invoke(app, ["extract", *files, "--out", str(tmp_path), "--json", "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"] == len(files)
    wh = xxgk.open(tmp_path)
    wide = wh.wide("requests", sources="fj-pingtan", years=2024)
    assert wide.loc[wide["row_key"] == "new_requests", "total"].sum() == 218
    reports = wh.reports(primary_only=False)
    assert set(reports.loc[reports["publisher"].str.contains("洪泽", na=False), "source_id"]) == {"js-huaian-hongze"}
    assert reports["region_code"].notna().sum() >= 8
    assert list(reports.loc[reports["path"].str.endswith("README.md"), "status"]) == ["not_a_report"]
    assert (wh.checks(sources="fj-pingtan")["scope"] == "cross_year").any()
