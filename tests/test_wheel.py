"""The built wheel installs one ``xxgk`` namespace and the analyst API works from it alone.

Builds the wheel with uv, installs it (``--no-deps``) into a fresh venv whose site-packages reaches
the project venv's third-party packages through a ``.pth`` line, but not the checkout: a ``.pth``
line adds a directory to ``sys.path`` without reading the ``.pth`` files inside it, so the
editable install's ``_xxgk.pth`` (the checkout) stays out. Only the wheel provides ``xxgk``, and
the repository's top-level folders (``schemas``, ``flows``, ...) are not importable. The
dependencies come from the project venv rather than an install so the test needs no network and
takes seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import xxgk
from xxgk.flows.cli import app
from xxgk.synth import generate_report, render_text

pytestmark = pytest.mark.slow  # builds a wheel and extracts a report: ~10 s on an idle machine

ROOT = Path(__file__).resolve().parents[1]
UV = next(
    (p for p in (Path(sysconfig.get_path("scripts")) / "uv", shutil.which("uv")) if p and Path(p).is_file()),
    None,
)

_PROBE = textwrap.dedent(
    """
    import importlib.util, json, sys
    import xxgk
    wide = xxgk.open(sys.argv[1]).wide("requests")
    top = {name: importlib.util.find_spec(name) is not None for name in sys.argv[2].split(",")}
    print(json.dumps({
        "xxgk_file": xxgk.__file__,
        "top_level_importable": top,
        "rows": len(wide),
        "new_requests_total": float(wide.loc[wide["row_key"] == "new_requests", "total"].sum()),
        "sys_path": sys.path,
    }))
    """
)


def _top_level_folders() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return sorted(pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"])


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh venv holding only the built wheel (third-party packages via .pth)."""
    if UV is None:
        pytest.skip("uv not found (make setup installs it into .venv)")
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    subprocess.run(
        [str(UV), "build", "--wheel", "--python", sys.executable, "--out-dir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheels = list(dist.glob("xxgk-*.whl"))
    assert len(wheels) == 1, wheels
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    project_site = Path(sysconfig.get_path("purelib"))
    (site / "_project_packages.pth").write_text(f"{project_site}\n", encoding="utf-8")
    subprocess.run(
        [str(UV), "pip", "install", "--no-deps", "--offline", "--python", str(python), str(wheels[0])],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return python


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """One synthetic report published with ``xxgk extract``; its printed new_requests total."""
    root = tmp_path_factory.mktemp("tiny")
    report = generate_report(3, year=2024, publisher="示例区人民政府", defects=())
    doc = root / "report_2024.txt"
    doc.write_bytes(render_text(report, "cells"))
    out = root / "data"
    result = CliRunner().invoke(app, ["extract", str(doc), "--out", str(out), "--json", "-q"])
    assert result.exit_code == 0, result.output
    return out, float(report.cells[("requests", "new_requests", "total")])


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def test_only_the_wheel_provides_xxgk_and_the_api_reads_a_warehouse(
    wheel_venv: Path, tiny_warehouse: tuple[Path, float], tmp_path: Path
) -> None:
    data, printed = tiny_warehouse
    folders = _top_level_folders()
    done = subprocess.run(
        [str(wheel_venv), "-c", _PROBE, str(data), ",".join(folders)],
        cwd=tmp_path,  # not the checkout: `python -c` puts the working directory on sys.path
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert Path(got["xxgk_file"]).is_relative_to(wheel_venv.parent.parent), got["xxgk_file"]
    assert str(ROOT) not in got["sys_path"]
    assert got["top_level_importable"] == dict.fromkeys(folders, False)  # no generic `schemas` in site-packages
    expected = xxgk.open(data).wide("requests")
    assert got["rows"] == len(expected) > 0
    assert got["new_requests_total"] == printed


def test_the_wheel_installs_the_xxgk_command(wheel_venv: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(wheel_venv.parent / "xxgk"), "--help"],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "export" in done.stdout and "extract" in done.stdout
