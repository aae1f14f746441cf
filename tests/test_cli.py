"""The ``xxgk`` command: options, exit codes, one-line errors, the summary; one real run as a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

# As in test_flows: Prefect (imported by the commands) gets a temp home and an ephemeral API.
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault(
    "PREFECT_HOME",
    str(Path(tempfile.gettempdir()) / f"xxgk-test-prefect-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"),
)

from xxgk.flows.cli import app, sample_manifest

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "data" / "sample" / "manifest.yaml"
CORPUS = ROOT.parent / "shared" / "corpus"

runner = CliRunner()


def manifest_entries() -> list[dict]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["documents"]


def demo_reports() -> int:
    """Reports on the demo portal's own sites (the sample set's documents come on top)."""
    from xxgk.demo import demo_spec

    return sum(len(site.reports) for site in demo_spec().sites if site.layout != "changed")


def free_port() -> int:
    """A port free now, for a demo portal that must keep its URLs across two runs of one test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_version_and_help_do_not_import_prefect() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from flows.cli import app; "
        "r = CliRunner().invoke(app, ['--version']); print(r.output.strip()); "
        "CliRunner().invoke(app, ['run', '--help']); print('prefect' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    version, imported = out.strip().splitlines()
    assert version.startswith("xxgk ") and "(extractor " in version
    assert imported == "False"


def test_sample_manifest_is_in_the_repository() -> None:
    assert sample_manifest() == MANIFEST
    assert MANIFEST.is_file()


def test_default_run_harvests_the_demo_portal_json_summary_and_rerun(tmp_path: Path) -> None:
    entries = manifest_entries()
    port = str(free_port())
    args = ["run", "--data-dir", str(tmp_path), "--no-prefect", "--portal-port", port]
    result = runner.invoke(app, [*args, "--json", "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    n = len(entries) + demo_reports()
    assert summary["documents"] == n
    assert summary["portal"] == f"http://127.0.0.1:{port}"
    assert summary["runner"] == "local"
    assert Path(summary["validation_index"]).is_file()
    # every sample document harvested from the portal and extracted as when read from disk
    sample = {e["source_id"] for e in entries}
    statuses = Counter(p["status"] for p in summary["problems"] if p["source_id"] in sample)
    expected = Counter(e["expected_status"] for e in entries if e["expected_status"] != "ok")
    assert statuses == expected
    harvest = {s["source_id"]: s for s in summary["sources"]}
    assert {sid: harvest[sid]["status"] for sid in sample} == dict.fromkeys(sample, "ok")
    # the faults of the demo sites, per source
    assert (harvest["demo-city"]["status"], harvest["demo-dept"]["status"]) == ("partial", "layout_changed")
    assert {p["kind"] for p in harvest["demo-city"]["problems"]} == {
        "http_status",
        "offsite_redirect",
        "robots_disallowed",
    }
    assert len(harvest["demo-county"]["recovered"]) == 3
    assert (tmp_path / "archive" / "harvest.json").is_file()

    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    out = again.stdout
    assert "xxgk run (demo portal: sample set)" in out
    assert f"0 / {n}" in out  # nothing extracted, everything reused
    assert "0 files written" in out
    for status in set(summary["by_status"]):
        assert status in out
    assert "validation/index.html" in out
    assert "demo-dept" in out and "layout_changed" in out and "1 source gave no documents" in out
    assert "HTTP 404" in out and "recovered" in out
    assert "xxgk: harvested demo-city: partial" in again.stderr

    # the portal is gone: a backfill reads the raw archive only, parses nothing staged, writes nothing
    backfill = runner.invoke(app, ["backfill", "--data-dir", str(tmp_path), "--no-prefect", "--json", "-q"])
    assert backfill.exit_code == 0, backfill.output
    replayed = json.loads(backfill.stdout)
    assert replayed["documents"] == n and replayed["by_action"] == {"reused": n}
    assert (replayed["files_written"], replayed["files_removed"]) == (0, 0)
    assert "raw archive, no network" in replayed["inputs"]
    one = ["backfill", "-d", str(tmp_path), "--no-prefect", "--years", "2021", "--sources", "changsha-chengdong"]
    shown = runner.invoke(app, [*one, "--force-extract"])
    assert shown.exit_code == 0, shown.output
    assert "xxgk backfill 2021: 1 documents" in shown.stdout and "1 / 0" in shown.stdout
    assert "0 files written" in shown.stdout


def test_documents_file_keeps_working_with_filters(tmp_path: Path) -> None:
    entries = manifest_entries()
    filters = ["--sources-only", "fuzhou-gaoxin,changsha-chengdong", "--years", "2019-2021"]
    args = ["run", "--sources", str(MANIFEST), "--data-dir", str(tmp_path), "--no-prefect", "--json", "-q"]
    result = runner.invoke(app, [*args, *filters])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    wanted = [
        e
        for e in entries
        if e["source_id"] in ("fuzhou-gaoxin", "changsha-chengdong") and e["year"] in (2019, 2020, 2021)
    ]
    assert summary["documents"] == len(wanted) == 3
    assert summary["cells"] == sum(e.get("facts", 0) for e in wanted)
    assert summary["sources"] == [] and summary["archive"] is None


def test_extract_files_into_out_dir(tmp_path: Path) -> None:
    sample = [MANIFEST.parent / e["file"] for e in manifest_entries()[:2]]
    out = tmp_path / "out"
    result = runner.invoke(app, ["extract", *map(str, sample), "--out", str(out), "--no-prefect", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["documents"] == 2
    assert summary["data_dir"] == str(out)
    assert (out / "warehouse" / "reports").is_dir()
    # the source id comes from the file name, so the validation reports are filed under it
    assert {p.name for p in (out / "validation").iterdir() if p.is_dir()} == {p.stem for p in sample}
    # progress lines go to stderr when not in a terminal
    assert "xxgk: batch 1 done" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["extract", "does/not/exist.pdf", "--out", "{tmp}"], "no such file or directory: does/not/exist.pdf"),
        (["extract", "{tmp}", "--out", "{tmp}/o"], "no documents found"),
        (["run", "--sources", "{tmp}/missing.yaml", "--data-dir", "{tmp}"], "--sources: no such file: {tmp}/missing.yaml"),
        (["run", "--sources", "{registry}", "--data-dir", "{tmp}"], "xx: publisher is required"),
        (["run", "--sources", "{disabled}", "--data-dir", "{tmp}"], "no enabled source to harvest (1 disabled: yy)"),
        (["run", "--sources", "{disabled}", "--sources-only", "z", "-d", "{tmp}"], "unknown source id z in the sources"),
        (["run", "--sources", "{disabled}", "--sources-only", "yyy", "-d", "{tmp}"], "yyy (did you mean yy?) in the sources registry {tmp}/disabled.yaml"),
        (["run", "--sources-only", "nope", "--data-dir", "{tmp}"], "unknown source id nope in the demo portal"),
        (["run", "--sources-only", "demo-cty", "-d", "{tmp}"], "unknown source id demo-cty (did you mean demo-city"),
        (["run", "--years", "2024-2019", "--data-dir", "{tmp}"], "--years: reversed range 2024-2019: write 2019-2024"),
        (["run", "--sources", str(MANIFEST), "--sources-only", "q", "-d", "{tmp}"], "unknown source id q in the documents given"),
        (["run", "--batch-size", "0", "--data-dir", "{tmp}"], "--batch-size and --workers must be at least 1"),
        (["run", "--runner", "gpu", "--data-dir", "{tmp}"], "unknown runner 'gpu'"),
        (["extract", "{registry}", "--out", "{tmp}", "--runner", "threads", "--dask-address", "tcp://h:1"], "needs"),
        (["backfill", "--data-dir", "{tmp}"], "archive: harvest first (xxgk run)"),
        (["backfill", "--data-dir", "{tmp}", "--archive-dir", "{tmp}"], "holds no harvested source"),
        (["backfill", "-d", "{tmp}", "--archive-dir", "{tmp}", "--sources", "a,b"], "no recorded definition of a, b"),
        (["backfill", "-d", "{tmp}", "--archive-dir", "{tmp}", "--years", "19-20"], "--years: '19-20'"),
    ],
)
def test_input_errors_are_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    registry = tmp_path / "sources.yaml"
    registry.write_text("sources:\n  - source_id: xx\n    listing_urls: [http://example.invalid/]\n", "utf-8")
    disabled = tmp_path / "disabled.yaml"
    disabled.write_text(
        "sources:\n  - {source_id: yy, publisher: 某局, listing_urls: [http://example.invalid/], enabled: false}\n",
        "utf-8",
    )
    args = [a.format(tmp=tmp_path, registry=registry, disabled=disabled) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message.format(tmp=tmp_path) in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["run", "--data-dir", str(blocker / "sub"), "--no-prefect"])
    assert result.exit_code == 2
    assert "cannot create data directory" in result.stderr


def test_run_failure_is_exit_1_without_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xxgk.flows import tasks

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(tasks, "publish_staged", broken)
    result = runner.invoke(app, ["run", "--data-dir", str(tmp_path), "--no-prefect", "-q"])
    assert result.exit_code == 1
    assert "run failed: OSError: disk full" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.corpus
def test_extract_real_reports(tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus not present")
    files = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "README.md")
    result = runner.invoke(app, ["extract", *map(str, files), "--out", str(tmp_path), "--no-prefect", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["documents"] == len(files)
    assert summary["by_action"] == {"extracted": len(files)}
    assert not [p for p in summary["problems"] if p["reason"].startswith("internal error")]


@pytest.mark.slow
def test_real_prefect_run_as_a_subprocess(tmp_path: Path) -> None:
    """The console script end to end: Prefect API, flow, summary on stdout, outputs on disk.

    (Idempotency of real Prefect runs is asserted in test_flows, in-process, where a second run
    costs ~1 s instead of another API start.)
    """
    xxgk = Path(sys.executable).with_name("xxgk")
    if not xxgk.exists():
        pytest.skip("console script not installed (run `uv sync`)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    env["PREFECT_HOME"] = str(Path(tempfile.gettempdir()) / f"xxgk-test-prefect-cli-{worker}")
    env["XXGK_PORTAL_PORT"] = "0"  # the default 8765 may be taken by a developer's own run
    data = tmp_path / "data"
    done = subprocess.run(
        [str(xxgk), "run", "--data-dir", str(data)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600
    )
    assert done.returncode == 0, done.stderr
    n = len(manifest_entries()) + demo_reports()
    assert f"{n} documents" in done.stdout and "prefect/threads" in done.stdout
    assert "harvested the demo portal at http://127.0.0.1:" in done.stdout
    assert "Traceback" not in done.stderr and "Logging error" not in done.stderr
    assert f"{n}/{n}" in done.stderr  # progress lines (not a terminal)
    # the temporary API start is announced, with how to avoid it, even though stderr is a pipe
    assert "xxgk: starting a temporary Prefect API" in done.stderr and "Prefect API ready in" in done.stderr
    assert list(data.glob("warehouse/facts/year=*/part-0.parquet"))
    assert (data / "validation" / "index.html").is_file()
    assert (data / ".prefect").exists() is False  # an exported PREFECT_HOME is respected


def test_bench_command_calls_bench_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench_run = pytest.importorskip("xxgk.bench.run")
    calls: list[tuple] = []

    def fake_main(out: Path, n_docs: int, **kwargs: object) -> dict:
        calls.append((out, n_docs, kwargs))
        return {"files": [str(out / "bench.json")]}

    monkeypatch.setattr(bench_run, "main", fake_main)
    monkeypatch.setattr(bench_run, "to_markdown", lambda result: "| bench |")
    result = runner.invoke(app, ["bench", "--out", str(tmp_path), "--docs", "3", "--formats", "pdf,text"])
    assert result.exit_code == 0, result.output
    out, n_docs, kwargs = calls[0]
    assert (out, n_docs) == (tmp_path, 3)
    assert kwargs["formats"] == ["pdf", "text"] and kwargs["workers"] == 2
    assert "| bench |" in result.stdout


@pytest.mark.parametrize("command", ["run", "extract", "backfill", "serve", "bench"])
def test_help_has_no_type_noise_or_rst_markup(command: str) -> None:
    """Regression: Typer showed flags as ``<bool>`` and ``bench --help`` showed RST markup (``...``, :func:)."""
    result = runner.invoke(app, [command, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "<bool>" not in text and "``" not in text and ":func:" not in text and ":class:" not in text
    assert "--help" in text


def test_temporary_api_start_is_announced_in_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: ``xxgk run`` spent ~28 s starting a temporary Prefect API with no output when piped."""
    import io

    from rich.console import Console

    from xxgk.flows import console, prefect_api

    monkeypatch.setattr(prefect_api, "start_api", lambda: "http://127.0.0.1:1/api")
    out = io.StringIO()
    url = console.start_temporary_api(Console(file=out, force_terminal=False, width=200))
    assert url == "http://127.0.0.1:1/api"
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("xxgk: starting a temporary Prefect API") and "--no-prefect" in lines[0]
    assert lines[1].startswith("xxgk: Prefect API ready in ")
