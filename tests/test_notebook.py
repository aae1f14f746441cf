"""The example notebook (docs/notebooks/analyst_questions.ipynb) runs and gives the known answers.

Executed with nbclient in the project venv's ``python3`` kernel (ipykernel; jupyter_client runs a
kernel spec whose command is ``python`` with this interpreter) over a warehouse of synthetic
reports published with ``xxgk extract``: three publishers, three or four years, one report with a wrong
printed total. A cell appended by the test hands the notebook's answers back as JSON, and they
are compared with the values the reports were generated from.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xxgk.flows.cli import app
from xxgk.synth import generate_report, render_text

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "analyst_questions.ipynb"
PUBLISHERS = {"示例一区人民政府": 21, "示例二县人民政府": 41, "示例三市人民政府": 61}
YEARS = (2022, 2023, 2024)
MOST_REPORTED = "示例三市人民政府"  # also reported 2021
INCONSISTENT = ("示例二县人民政府", 2023)

_ANSWERS = """
import json
print(json.dumps({
    "requests_per_year": {str(y): {s: v for s, v in row.items() if v == v} for y, row in requests_per_year.iterrows()},
    "outcome_share_sums": outcome_share.sum(axis=1).round(6).tolist(),
    "denial_reasons": denial_reasons.to_dict(),
    "publisher": publisher,
    "inconsistent_share": float(inconsistent_share),
    "failed_report_years": sorted({int(y) for y in identities_failed["year"]}),
}))
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Ten synthetic reports published with ``xxgk extract``; their printed values."""
    root = tmp_path_factory.mktemp("notebook")
    docs = root / "docs"
    docs.mkdir()
    printed: dict = {}
    for publisher, seed in PUBLISHERS.items():
        for year in (2021, *YEARS) if publisher == MOST_REPORTED else YEARS:
            defects = ("wrong_total",) if (publisher, year) == INCONSISTENT else ()
            report = generate_report(seed + year, year=year, publisher=publisher, defects=defects)
            (docs / f"{seed}_{year}.txt").write_bytes(render_text(report, "cells"))
            printed[(publisher, year)] = report
    out = root / "data"
    result = CliRunner().invoke(app, ["extract", str(docs), "--out", str(out), "--json", "-q"])
    assert result.exit_code == 0, result.output
    return out, printed


def test_the_notebook_answers_its_three_questions(
    warehouse: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, printed = warehouse
    monkeypatch.setenv("XXGK_DATA_DIR", str(data))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    charts = sum("plt.show()" in c.source for c in nb.cells if c.cell_type == "code")
    nb.cells.append(nbformat.v4.new_code_cell(_ANSWERS))
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()

    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == charts >= 3
    answers = json.loads("".join(o["text"] for o in nb.cells[-1].outputs if o.get("name") == "stdout"))

    expected: dict[str, dict[str, float]] = {}
    for (publisher, year), report in printed.items():
        expected.setdefault(str(year), {})[publisher] = float(report.cells[("requests", "new_requests", "total")])
    assert answers["requests_per_year"] == expected
    assert answers["publisher"] == MOST_REPORTED
    assert answers["outcome_share_sums"] == [1.0] * len(PUBLISHERS)
    denied = {
        key[1]: sum(float(printed[r].cells.get(key, 0) or 0) for r in printed)
        for key in printed[INCONSISTENT].cells
        if key[0] == "requests" and key[1].startswith("denied.") and key[2] == "total"
    }
    assert answers["denial_reasons"] == pytest.approx(denied)
    assert answers["inconsistent_share"] == pytest.approx(1 / len(printed))
    assert answers["failed_report_years"] == [INCONSISTENT[1]]
