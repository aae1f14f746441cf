"""The load-time benchmark (``bench/load.py``) runs, and its engines load the same rows.

Timings are not asserted (they belong in the benchmark's output); what is checked is that every
reading works on a tiny warehouse built the benchmark's way and that pandas, DuckDB and Polars
agree on the number of rows they load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import xxgk
from xxgk.bench.load import READINGS, _child, build_warehouse, measure, to_markdown

pytestmark = pytest.mark.slow  # extracts the sample set once to build the warehouse


class _Collect:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put(self, item: dict[str, Any]) -> None:
        self.items.append(item)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("load")
    data, published = build_warehouse(work, 4, 2)
    assert published is not None and published["documents"] == 4
    assert build_warehouse(work, 4, 2) == (data, None)  # built once, then reused
    return data


def test_every_engine_loads_the_same_rows(data_dir: Path) -> None:
    out = _Collect()
    for engine, what in READINGS:
        _child(engine, what, str(data_dir), out)
    rows: dict[str, set[int]] = {}
    for reading in out.items:
        rows.setdefault(reading["load"], set()).add(reading["rows"])
        assert reading["cold_s"] >= 0 and reading["warm_s"] >= 0 and reading["peak_rss_mb"] > 0
    wh = xxgk.open(data_dir)
    assert rows == {"facts": {len(wh.facts())}, "wide(requests)": {len(wh.wide("requests"))}}
    table = to_markdown({"readings": out.items})
    assert table.count("\n") == len(READINGS) + 1 and "| polars | wide(requests) |" in table


def test_a_reading_runs_in_its_own_process(data_dir: Path) -> None:
    reading = measure("pandas", "facts", data_dir)
    assert reading["rows"] == len(xxgk.open(data_dir).facts()) > 0
