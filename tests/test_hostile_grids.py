"""Grids have a bounded size whatever the document asks for (issue 14, item 3).

A 21 KB HTML page of rowspan/colspan took 420 MB to expand (0.97 MB passed 6 GB): expansion is
bounded where the cells are allocated (``extractors.html.table_to_grid``) and every reader's grids
are checked once more in ``extractors.read_document`` (``check_grid_size``).
"""

from __future__ import annotations

import resource
import time

import pytest

from xxgk.extractors import extract_document, read_document
from xxgk.extractors.base import MAX_GRID_CELLS, ExtractionError, check_grid_size
from xxgk.schemas.grid import Grid


def span_bomb_page(rows: int = 200) -> bytes:
    """A report-looking table whose every row asks for a cell covering all later rows and 1000 columns (~23 KB)."""
    body = "".join(
        f'<tr><td rowspan="65534" colspan="1000">收到申请数{r}</td><td>本年新收政府信息公开申请数量</td></tr>'
        for r in range(rows)
    )
    return f"<html><body><table>{body}</table></body></html>".encode()


def test_html_span_expansion_is_bounded() -> None:
    page = span_bomb_page()
    assert len(page) < 25_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = extract_document(page, "bomb.html")
    elapsed = time.perf_counter() - start
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.status == "failed"
    assert "MAX_GRID_CELLS" in result.reason and "html table 1" in result.reason
    assert elapsed < 5, elapsed
    assert grown_mb < 100, grown_mb


def test_span_bound_counts_all_tables_of_a_page() -> None:
    """Many tables each under the bound still stop at the document's bound; fewer pass it."""
    table = '<table><tr><td colspan="30" rowspan="30">申请数</td></tr>' + "<tr><td>办理结果</td></tr>" * 29 + "</table>"
    per_table = 30 * 30 + 29

    def page(n: int) -> bytes:
        return ("<html><body><p>年度报告</p>" + table * n + "</body></html>").encode()

    over = extract_document(page(MAX_GRID_CELLS // per_table + 1), "many.html")
    assert over.status == "failed" and "MAX_GRID_CELLS" in over.reason
    under = extract_document(page(MAX_GRID_CELLS // per_table - 1), "many.html")
    assert "MAX_GRID_CELLS" not in under.reason


def test_ordinary_merged_cells_are_untouched() -> None:
    page = b'<table><tr><td rowspan="2">a</td><td colspan="2">b</td></tr><tr><td>c</td><td>d</td></tr></table>'
    raw = read_document(page, "ok.html")
    assert raw.grids[0].texts() == [["a", "b", "b"], ["a", "c", "d"]]


def test_every_reader_is_checked_after_reading() -> None:
    """A markdown table of more cells than the bound fails with the bound named (any format)."""
    cols = 400
    rows = MAX_GRID_CELLS // cols + 2
    line = "|" + "|".join("1" for _ in range(cols)) + "|\n"
    data = ("# 年度报告\n\n" + line + "|" + "---|" * cols + "\n" + line * rows).encode()
    result = extract_document(data, "big.md")
    assert result.status == "failed" and "MAX_GRID_CELLS" in result.reason


def test_check_grid_size() -> None:
    small = Grid.from_texts([["a"] * 10] * 10, "t")
    check_grid_size([small])
    with pytest.raises(ExtractionError) as err:
        check_grid_size([small], limit=99)
    assert err.value.status == "failed" and "MAX_GRID_CELLS" in err.value.reason
