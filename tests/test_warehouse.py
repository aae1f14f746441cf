"""Staging round-trips, publishing (idempotent, atomic, partial re-publish) and the Parquet contract."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from xxgk.schemas.records import FAIL, NOT_ASSESSABLE, PASS, CheckResult, DocumentResult, Fact, Unmapped
from xxgk.warehouse import (
    UNKNOWN_YEAR,
    DocumentInfo,
    is_staged,
    iter_staged,
    load_staged,
    stage_result,
    staged_path,
)
from xxgk.warehouse.dictionary import DOC_PATH, render_data_dictionary
from xxgk.warehouse.parquet import ROW_GROUP_SIZE, partition_path, partitioning, read_table, table_bytes
from xxgk.warehouse.publish import publish
from xxgk.warehouse.schema import TABLES, arrow_schema, dataset_schema

VERSION = "1.0.0"

REQ_HEADER = ["", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
REQ_COLS = [
    "natural_person",
    "legal_commercial",
    "legal_research",
    "legal_public_interest",
    "legal_law_firm",
    "legal_other",
    "total",
]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_info(source_id: str = "src-a", year: int | None = 2023, key: str = "doc", **kw: object) -> DocumentInfo:
    """Provenance of a hand-made document; ``key`` picks its (fake) bytes and so its sha256."""
    return DocumentInfo(
        document_sha256=sha(f"{source_id}:{key}"),
        source_id=source_id,
        publisher=kw.pop("publisher", f"{source_id} 人民政府"),  # type: ignore[arg-type]
        year=year,
        format="html",
        source_url=f"https://example.gov.cn/{source_id}/{key}.html",
        fetched_at=datetime(2024, 3, 1, 8, 30, tzinfo=UTC),
        path=f"raw/{source_id}/{key}.html",
        **kw,  # type: ignore[arg-type]
    )


def make_result(
    new_requests: list[str] | None = None,
    carried_over: list[str] | None = None,
    *,
    year: int | None = 2023,
    status: str = "ok",
    title: str = "2023年政府信息公开工作年度报告",
) -> DocumentResult:
    """A two-row requests table as printed, its facts (with grid positions), checks and an unmapped row.

    The second row's 总计 is checked against the sum of its parts: pass when it adds up, fail otherwise.
    """
    rows = {
        "new_requests": ("一、本年新收政府信息公开申请数量", new_requests or ["5", "1", "0", "0", "0", "", "6"]),
        "carried_over": ("二、上年结转政府信息公开申请数量", carried_over or ["1", "0", "0", "0", "0", "0", "2"]),
    }
    grid = [REQ_HEADER]
    facts: list[Fact] = []
    checks: list[CheckResult] = []
    for r, (row_key, (label, cells)) in enumerate(rows.items(), start=1):
        grid.append([label, *cells])
        for c, (col, text) in enumerate(zip(REQ_COLS, cells, strict=True), start=1):
            value = float(text) if text else None
            facts.append(
                Fact(
                    table="requests",
                    row_key=row_key,
                    column_key=col,
                    value=value,
                    unit="件",
                    raw_text=text,
                    value_status="ok" if text else "blank",
                    template_version="v2021",
                    row_label=label,
                    column_label=REQ_HEADER[c],
                    locator="html table 2",
                    page=None,
                    grid_row=r,
                    grid_col=c,
                )
            )
        values = [float(t) if t else None for t in cells]
        parts = values[:-1]
        total = values[-1]
        if total is not None and all(v is not None for v in parts):
            actual = sum(v for v in parts if v is not None)
            status_ = PASS if actual == total else FAIL
            diff = total - actual
        else:
            actual, diff, status_ = None, None, NOT_ASSESSABLE
        checks.append(
            CheckResult(
                "requests.row_total",
                "requests",
                row_key,
                "total",
                total,
                actual,
                diff,
                status_,
                detail="total == natural_person + the five legal_* columns",
                total_cells=[f"{row_key}/total"],
                part_cells=[f"{row_key}/{c}" for c in REQ_COLS[:-1]],
            )
        )
    return DocumentResult(
        status=status,
        reason="" if status == "ok" else "table review_litigation not found",
        format="html",
        title=title,
        publisher="示例区人民政府",
        year=year,
        template_versions={"requests": "v2021"},
        facts=facts,
        derived=[Fact("requests", "denied", "total", None, "件", "", "derived", "v2021", note="sum of denied.*")],
        unmapped=[Unmapped("requests", "其中：网上申请", ["3", "", "1"], "no canonical key", "html table 2", None, 3)],
        checks=checks,
        grids=[[["标题"]], grid],
        grid_locators=["html table 1", "html table 2"],
        narrative="本年共收到申请6件。",
        warnings=["header row repeated on page 2"],
    )


def snapshot(data_dir: Path) -> dict[str, bytes]:
    root = data_dir / "warehouse"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


# ---------------------------------------------------------------------------------------------- staging


def test_stage_round_trip_is_exact(tmp_path: Path) -> None:
    info = make_info(region_code="350128", level="county", http_status=200, etag='"abc"', last_modified="Mon")
    result = make_result()
    path = stage_result(tmp_path, info, result, VERSION)
    back = load_staged(path)
    assert back.info == info
    assert back.result == result
    assert back.extractor_version == VERSION
    assert back.info.fetched_at == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    # Same input, same bytes (gzip mtime 0, no timestamps): restaging never looks like a change.
    first = path.read_bytes()
    stage_result(tmp_path, info, result, VERSION)
    assert path.read_bytes() == first


def test_staged_key_and_incremental_lookup(tmp_path: Path) -> None:
    info = make_info(source_id="gov/a b.c")
    assert not is_staged(tmp_path, info.document_sha256, VERSION)
    path = stage_result(tmp_path, info, make_result(), VERSION)
    assert path == staged_path(tmp_path, info.document_sha256, VERSION, "gov/a b.c")
    assert path.parent.parent.parent == tmp_path  # the odd source id did not create directories
    assert is_staged(tmp_path, info.document_sha256, VERSION)
    assert is_staged(tmp_path, info.document_sha256.upper(), VERSION, source_id="gov/a b.c")
    assert not is_staged(tmp_path, info.document_sha256, VERSION, source_id="other")
    assert not is_staged(tmp_path, info.document_sha256, "1.0.1")  # a new extractor version re-extracts
    stage_result(tmp_path, make_info(source_id="b"), make_result(), "1.0.1")
    assert list(iter_staged(tmp_path, VERSION)) == [path]
    assert len(list(iter_staged(tmp_path))) == 2
    assert not list(tmp_path.rglob("*.tmp"))


def test_document_info_normalises_fetched_at() -> None:
    a = make_info()
    b = DocumentInfo(a.document_sha256.upper(), "src-a", None, None, None, None, "2024-03-01T16:30:00+08:00", None)
    assert b.fetched_at == a.fetched_at
    assert b.document_sha256 == a.document_sha256
    naive = DocumentInfo(a.document_sha256, "s", None, None, None, None, datetime(2024, 3, 1, 8, 30), None)
    assert naive.fetched_at == a.fetched_at
    with pytest.raises(ValueError):
        DocumentInfo("", "s", None, None, None, None, None, None)


# --------------------------------------------------------------------------------------------- publish


def test_publish_writes_partitions_with_exact_values(tmp_path: Path) -> None:
    info = make_info(region_code="350128")
    summary = publish(tmp_path, [(info, make_result(), VERSION)])
    assert summary.documents == 1
    assert summary.years == [2023]
    assert summary.new_rows == {"facts": 15, "reports": 1, "checks": 2, "unmapped": 1}
    for name in TABLES:
        assert partition_path(tmp_path, name, 2023).is_file()

    facts = read_table(tmp_path, "facts").to_pylist()
    assert len(facts) == 15
    cell = next(f for f in facts if f["row_key"] == "new_requests" and f["column_key"] == "total")
    assert cell["value"] == 6.0
    assert cell["raw_text"] == "6"
    assert cell["year"] == 2023
    assert (cell["grid_row"], cell["grid_col"], cell["locator"]) == (1, 7, "html table 2")
    assert cell["document_sha256"] == info.document_sha256
    assert cell["source_url"] == info.source_url
    assert cell["extractor_version"] == VERSION
    assert cell["region_code"] == "350128"
    assert cell["report_id"] == f"src-a/2023/{info.document_sha256[:12]}"
    blank = next(f for f in facts if f["row_key"] == "new_requests" and f["column_key"] == "legal_other")
    assert blank["value"] is None and blank["value_status"] == "blank" and blank["raw_text"] == ""
    derived = [f for f in facts if f["is_derived"]]
    assert [(f["row_key"], f["value_status"], f["fact_index"]) for f in derived] == [("denied", "derived", 14)]

    (report,) = read_table(tmp_path, "reports").to_pylist()
    assert report["status"] == "ok"
    assert report["publisher"] == "src-a 人民政府"  # the registry's name wins
    assert report["document_publisher"] == "示例区人民政府"
    assert report["year_source"] == "registry"
    assert report["fetched_at"] == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    assert report["template_requests"] == "v2021" and report["template_proactive"] is None
    assert json.loads(report["template_versions"]) == {"requests": "v2021"}
    assert (report["n_facts"], report["n_derived"], report["n_checks"], report["n_failed_checks"]) == (14, 1, 2, 1)
    assert report["warnings"] == ["header row repeated on page 2"]

    checks = read_table(tmp_path, "checks").to_pylist()
    assert [(c["row_key"], c["status"], c["expected"], c["actual"]) for c in checks] == [
        ("new_requests", NOT_ASSESSABLE, 6.0, None),
        ("carried_over", FAIL, 2.0, 1.0),
    ]
    assert checks[1]["difference"] == 1.0
    (unmapped,) = read_table(tmp_path, "unmapped").to_pylist()
    assert unmapped["label"] == "其中：网上申请" and unmapped["values"] == ["3", "", "1"]


def test_readers_see_year_as_integer_and_the_documented_schema(tmp_path: Path) -> None:
    publish(
        tmp_path,
        [
            (make_info("a", 2022), make_result(year=2022), VERSION),
            (make_info("b", 2023), make_result(), VERSION),
            (make_info("c", None), make_result(year=None), VERSION),
        ],
    )
    root = tmp_path / "warehouse" / "facts"
    expected_columns = [c.name for c in TABLES["facts"].columns]

    df = pd.read_parquet(root, partitioning=partitioning())
    assert df["year"].dtype == "int64"
    assert sorted(df["year"].unique().tolist()) == [UNKNOWN_YEAR, 2022, 2023]
    assert sorted(df.columns) == sorted(expected_columns)
    assert df["value"].dtype == "float64"

    table = ds.dataset(root, partitioning=partitioning()).to_table()
    assert table.schema.field("year").type == pa.int64()

    rel = duckdb.sql(f"select * from read_parquet('{root}/*/*.parquet', hive_partitioning=true)")
    types = dict(zip(rel.columns, [str(t) for t in rel.types], strict=True))
    assert types["year"] == "BIGINT" and types["value"] == "DOUBLE"
    assert sorted(rel.columns) == sorted(expected_columns)
    n = duckdb.sql(f"select count(*) from read_parquet('{root}/*/*.parquet', hive_partitioning=true) where year=2023")
    assert n.fetchall() == [(15,)]

    lf = pl.scan_parquet(f"{root}/", hive_partitioning=True)
    schema = lf.collect_schema()
    assert schema["year"] == pl.Int64 and schema["value"] == pl.Float64
    assert sorted(schema.names()) == sorted(expected_columns)
    assert lf.filter(pl.col("year") == UNKNOWN_YEAR).collect().height == 15

    (unknown,) = read_table(tmp_path, "reports", years=[UNKNOWN_YEAR]).to_pylist()
    assert unknown["year_source"] == "unknown" and unknown["report_id"].startswith("c/unknown/")
    assert (tmp_path / "warehouse" / "reports" / "year=-1" / "part-0.parquet").is_file()


def test_year_falls_back_to_the_document(tmp_path: Path) -> None:
    publish(tmp_path, [(make_info("a", None), make_result(year=2021), VERSION)])
    (report,) = read_table(tmp_path, "reports").to_pylist()
    assert (report["year"], report["year_source"], report["document_year"]) == (2021, "document", 2021)


def test_second_identical_run_changes_nothing(tmp_path: Path) -> None:
    staged = [
        stage_result(tmp_path / "staging", make_info(s, y), make_result(year=y), VERSION)
        for s, y in [("a", 2022), ("b", 2023), ("c", 2023)]
    ]
    first = publish(tmp_path / "data", staged)
    before = snapshot(tmp_path / "data")
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "data" / "warehouse").rglob("*.parquet")}
    second = publish(tmp_path / "data", staged)
    assert first.changed and not second.changed
    assert second.unchanged and not second.written
    assert snapshot(tmp_path / "data") == before
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    assert read_table(tmp_path / "data", "reports").num_rows == 3  # no duplicates

    # Independent of input order and of how the run was sliced: a fresh warehouse built in two
    # runs, in reverse order, is byte-identical.
    publish(tmp_path / "other", staged[2:])
    publish(tmp_path / "other", list(reversed(staged[:2])))
    assert snapshot(tmp_path / "other") == before


def test_files_carry_no_varying_metadata(tmp_path: Path) -> None:
    publish(tmp_path, [(make_info(), make_result(), VERSION)])
    meta = pq.ParquetFile(partition_path(tmp_path, "facts", 2023)).metadata
    keys = set(meta.metadata)
    assert keys == {b"ARROW:schema", *arrow_schema("facts").metadata}
    assert meta.created_by.startswith("parquet-cpp-arrow")
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_partial_republish_keeps_other_sources(tmp_path: Path) -> None:
    publish(tmp_path, [(make_info(s, 2023), make_result(), VERSION) for s in ("a", "b", "c")])
    # Source b again, same document, corrected extraction: its rows are replaced, a and c kept.
    result = make_result(carried_over=["1", "1", "0", "0", "0", "0", "2"])
    summary = publish(tmp_path, [(make_info("b", 2023), result, "1.0.1")])
    assert summary.years == [2023]
    assert summary.replaced_documents == 0
    reports = read_table(tmp_path, "reports").to_pandas()
    assert sorted(reports["source_id"]) == ["a", "b", "c"]
    assert dict(zip(reports["source_id"], reports["extractor_version"], strict=True)) == {
        "a": VERSION,
        "b": "1.0.1",
        "c": VERSION,
    }
    facts = read_table(tmp_path, "facts").to_pandas()
    assert facts.groupby("source_id").size().to_dict() == {"a": 15, "b": 15, "c": 15}
    checks = read_table(tmp_path, "checks").to_pandas()
    b = checks[(checks.source_id == "b") & (checks.row_key == "carried_over")]
    assert b["status"].tolist() == [PASS]


def test_new_document_replaces_the_old_one_of_its_source_year(tmp_path: Path) -> None:
    old = make_info("a", 2023, key="v1")
    publish(tmp_path, [(old, make_result(), VERSION), (make_info("a", 2022), make_result(year=2022), VERSION)])
    new = make_info("a", 2023, key="v2")  # the report was re-issued: new bytes, new sha256
    summary = publish(tmp_path, [(new, make_result(), VERSION)])
    assert summary.replaced_documents == 1
    reports = read_table(tmp_path, "reports").to_pandas().sort_values("year")
    assert reports[["year", "document_sha256"]].values.tolist() == [
        [2022, make_info("a", 2022).document_sha256],
        [2023, new.document_sha256],
    ]
    assert set(read_table(tmp_path, "facts", years=[2023]).column("document_sha256").to_pylist()) == {
        new.document_sha256
    }


def test_document_whose_year_changed_leaves_its_old_partition(tmp_path: Path) -> None:
    info = make_info("a", None)
    publish(tmp_path, [(info, make_result(year=None), VERSION)])
    assert partition_path(tmp_path, "facts", UNKNOWN_YEAR).is_file()
    summary = publish(tmp_path, [(info, make_result(year=2023), "1.0.1")])  # the new extractor reads the year
    assert summary.years == [UNKNOWN_YEAR, 2023]
    assert not partition_path(tmp_path, "facts", UNKNOWN_YEAR).exists()
    assert partition_path(tmp_path, "facts", UNKNOWN_YEAR) in summary.removed
    reports = read_table(tmp_path, "reports").to_pylist()
    assert [(r["year"], r["extractor_version"]) for r in reports] == [(2023, "1.0.1")]


def test_years_filter_and_full_rebuild_of_a_year(tmp_path: Path) -> None:
    publish(tmp_path, [(make_info(s, 2023), make_result(), VERSION) for s in ("a", "b")])
    items = [(make_info("c", 2023), make_result(), VERSION), (make_info("c", 2022), make_result(year=2022), VERSION)]
    summary = publish(tmp_path, items, years=[2022])
    assert (summary.documents, summary.skipped_documents, summary.years) == (1, 1, [2022])
    assert sorted(read_table(tmp_path, "reports", years=[2023]).column("source_id").to_pylist()) == ["a", "b"]
    # A full backfill of 2023 from source a alone: b (no longer published) disappears.
    publish(tmp_path, [(make_info("a", 2023), make_result(), VERSION)], years=[2023], replace=True)
    assert read_table(tmp_path, "reports", years=[2023]).column("source_id").to_pylist() == ["a"]
    assert read_table(tmp_path, "reports", years=[2022]).column("source_id").to_pylist() == ["c"]
    with pytest.raises(ValueError, match="needs years"):
        publish(tmp_path, [], replace=True)


def test_duplicate_items_are_published_once(tmp_path: Path) -> None:
    info = make_info()
    summary = publish(tmp_path, [(info, make_result(), "1.0.1"), (info, make_result(), VERSION)])
    assert (summary.documents, summary.duplicate_documents) == (1, 1)
    assert summary.warnings
    assert read_table(tmp_path, "reports").column("extractor_version").to_pylist() == ["1.0.1"]
    assert read_table(tmp_path, "facts").num_rows == 15


def _crash_during_publish(data_dir: str, staged: str) -> None:
    """Child process: the first rename of a new partition file kills the process (a hard crash)."""

    def die(src: object, dst: object) -> None:
        os._exit(17)

    os.replace = die  # type: ignore[assignment]
    publish(Path(data_dir), [Path(staged)])


def test_crash_between_write_and_rename_leaves_old_files_readable(tmp_path: Path) -> None:
    publish(tmp_path, [(make_info("a", 2023), make_result(), VERSION)])
    before = snapshot(tmp_path)
    staged = stage_result(tmp_path / "staging", make_info("b", 2023), make_result(), VERSION)

    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_crash_during_publish, args=(str(tmp_path), str(staged)))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 17

    # The crashed run's files were written aside and never renamed: readers see the old tables only.
    assert snapshot(tmp_path) == before
    assert read_table(tmp_path, "reports").column("source_id").to_pylist() == ["a"]
    leftovers = list((tmp_path / "warehouse" / "_tmp").iterdir())
    assert leftovers and all(p.name.startswith(".") and p.name.endswith(".tmp") for p in leftovers)
    facts_dir = tmp_path / "warehouse" / "facts"
    assert sorted(p.name for p in facts_dir.rglob("*") if p.is_file()) == ["part-0.parquet"]

    # The next run cleans up and publishes.
    publish(tmp_path, [staged])
    assert sorted(read_table(tmp_path, "reports").column("source_id").to_pylist()) == ["a", "b"]
    assert not (tmp_path / "warehouse" / "_tmp").exists()


def test_failed_rename_raises_and_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(tmp_path, [(make_info("a", 2023), make_result(), VERSION)])
    before = snapshot(tmp_path)

    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        publish(tmp_path, [(make_info("b", 2023), make_result(), VERSION)])
    monkeypatch.undo()
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------------------------------- schema


def test_row_groups_of_128k_rows() -> None:
    n = 2 * ROW_GROUP_SIZE + 10
    schema = arrow_schema("checks")
    cols = {f.name: pa.nulls(n, f.type) for f in schema}
    cols["source_id"] = pa.array(["s"] * n)
    cols["check_index"] = pa.array(range(n), pa.int32())
    data = table_bytes(pa.Table.from_pydict(cols, schema=schema), "checks")
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    assert meta.num_row_groups == 3
    assert meta.row_group(0).num_rows == ROW_GROUP_SIZE


def test_schema_metadata_describes_every_column(tmp_path: Path) -> None:
    publish(tmp_path, [(make_info(), make_result(), VERSION)])
    for name, tdef in TABLES.items():
        schema = pq.read_schema(partition_path(tmp_path, name, 2023))
        assert schema.metadata[b"xxgk.table"] == name.encode()
        described = json.loads(schema.metadata[b"xxgk.columns"])
        assert list(described) == [c.name for c in tdef.columns]
        for field in schema:
            assert field.metadata[b"description"].decode() == tdef.column(field.name).description
            assert field.type == tdef.column(field.name).type
        assert "year" not in schema.names  # the partition column lives in the path
        assert [f.name for f in dataset_schema(name)] == [c.name for c in tdef.columns if not c.partition] + ["year"]


def test_design_contract_columns_are_present() -> None:
    contract = {
        "facts": "document_sha256 source_id publisher year table row_key column_key value unit raw_text "
        "value_status template_version source_url extractor_version",
        "reports": "document_sha256 source_id publisher year format status reason source_url",
        "checks": "document_sha256 check_id table row_key column_key expected actual status",
    }
    for name, cols in contract.items():
        names = {c.name for c in TABLES[name].columns}
        assert set(cols.split()) <= names, name
    assert TABLES["facts"].column("value").type == pa.float64()


def test_data_dictionary_document_agrees_with_the_schema() -> None:
    text = render_data_dictionary()
    for tdef in TABLES.values():
        assert f"## `{tdef.name}`" in text
        for col in tdef.columns:
            assert f"| `{col.name}` |" in text
    assert DOC_PATH.read_text(encoding="utf-8") == text, "run: uv run python -m warehouse.dictionary"


def _crash_after_first_commit(data_dir: str, staged: str) -> None:
    """Child process: the new facts file is moved into place, then the process dies."""
    real = os.replace
    calls = []

    def die_second(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) > 1:
            os._exit(17)
        real(src, dst)

    os.replace = die_second  # type: ignore[assignment]
    publish(Path(data_dir), [Path(staged)])


def test_crash_mid_partition_never_lists_a_report_without_its_facts(tmp_path: Path) -> None:
    publish(tmp_path, [(make_info("a", 2023), make_result(), VERSION)])
    staged = stage_result(tmp_path / "staging", make_info("b", 2024), make_result(year=2024), VERSION)
    child = multiprocessing.get_context("fork").Process(
        target=_crash_after_first_commit, args=(str(tmp_path), str(staged))
    )
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 17
    # facts of 2024 landed, reports (the manifest, committed last) did not: b is not listed.
    assert partition_path(tmp_path, "facts", 2024).is_file()
    assert not partition_path(tmp_path, "reports", 2024).exists()
    assert read_table(tmp_path, "reports").column("source_id").to_pylist() == ["a"]
    # Any later publish removes the orphan partition; re-running the crashed one completes it.
    summary = publish(tmp_path, [(make_info("a", 2023), make_result(), VERSION)])
    assert 2024 in summary.years and not partition_path(tmp_path, "facts", 2024).exists()
    publish(tmp_path, [staged])
    assert read_table(tmp_path, "facts", years=[2024]).num_rows == 15


def test_damaged_staged_file_fails_loudly(tmp_path: Path) -> None:
    path = stage_result(tmp_path, make_info(), make_result(), VERSION)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="damaged staged file"):
        load_staged(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="damaged staged file"):
        publish(tmp_path / "data", [path])


def _publish_one(data_dir: str, staged: str) -> None:
    publish(Path(data_dir), [Path(staged)])


def test_concurrent_publishers_do_not_lose_each_others_rows(tmp_path: Path) -> None:
    staged = [
        stage_result(tmp_path / "staging", make_info(s, 2023), make_result(), VERSION) for s in ("a", "b", "c", "d")
    ]
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_publish_one, args=(str(tmp_path), str(p))) for p in staged]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert sorted(read_table(tmp_path, "reports").column("source_id").to_pylist()) == ["a", "b", "c", "d"]
    assert read_table(tmp_path, "facts").num_rows == 60


def test_staged_files_and_in_memory_results_publish_the_same_bytes(tmp_path: Path) -> None:
    """Staged paths are read column-wise (no record objects); the rows must be exactly those of the objects."""
    docs = [(make_info(s, y), make_result(year=y), VERSION) for s, y in [("a", 2022), ("b", 2023), ("c", None)]]
    staged = [stage_result(tmp_path / "staging", *d) for d in docs]
    publish(tmp_path / "from_files", staged)
    publish(tmp_path / "from_objects", docs)
    assert snapshot(tmp_path / "from_files") == snapshot(tmp_path / "from_objects")
    assert read_table(tmp_path / "from_files", "facts").num_rows == 45
