"""Source ids and file names are data, never unchecked path components (issue 14, item 2).

A source id comes from a file name (``xxgk extract``), a documents file or the registry. Wherever
it names a file (staging, validation reports, the archive's fetch log and state), the name must be
bounded in length, unable to leave its directory, and the same from run to run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.test_warehouse import VERSION, make_info, make_result
from xxgk.flows.pipeline import run_pipeline
from xxgk.harvest.archive import FetchLogEntry, RawArchive, SourceState
from xxgk.storage.files import MAX_NAME_BYTES, safe_name
from xxgk.warehouse import staging
from xxgk.warehouse.staging import (
    is_staged,
    iter_staged,
    load_staged_header,
    stage_result,
    staged_path,
    staged_source_id,
)
from xxgk.warehouse.validation_report import source_dir_name

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
#: The report's own title as a file stem: 19+ CJK characters made the staged name exceed 255 bytes.
LONG_TITLE = "福州高新区管委会2019年政府信息公开工作年度报告全文及附件"
HOSTILE_IDS = [
    LONG_TITLE * 6,
    "../../etc/passwd",
    "..",
    ".",
    ".hidden",
    "a/b\\c",
    "nul\x00byte",
    "new\nline",
    "rtl\u202egpj.exe",
    "",
    "x" * 1000,
]


def test_long_cjk_file_name_is_staged(tmp_path: Path) -> None:
    info = make_info(source_id=LONG_TITLE * 3)
    path = stage_result(tmp_path, info, make_result(), VERSION)
    assert len(path.name.encode()) <= MAX_NAME_BYTES
    assert path == staged_path(tmp_path, info.document_sha256, VERSION, info.source_id)
    assert is_staged(tmp_path, info.document_sha256, VERSION, info.source_id)
    assert load_staged_header(path).info.source_id == info.source_id  # the id is data inside the file
    assert staged_source_id(path) == info.source_id


@pytest.mark.parametrize("source_id", HOSTILE_IDS)
def test_hostile_source_ids_stay_inside_their_directory(tmp_path: Path, source_id: str) -> None:
    name = safe_name(source_id)
    assert 0 < len(name.encode()) <= MAX_NAME_BYTES
    assert "/" not in name and "\x00" not in name and "\n" not in name
    assert not name.startswith(".")
    assert safe_name(source_id) == name  # stable
    if source_id:  # DocumentInfo refuses an empty source id
        staged = stage_result(tmp_path / "staging", make_info(source_id=source_id), make_result(), VERSION)
        assert staged.parent.parent.parent == tmp_path / "staging"
    assert (tmp_path / "v" / source_dir_name(source_id)).parent == tmp_path / "v"
    archive = RawArchive(tmp_path / "archive")
    archive.append_log([FetchLogEntry(url="http://x/", source_id=source_id, kind="listing")])
    archive.save_state(SourceState(source_id))
    for p in (archive.log_path(source_id), archive.state_path(source_id)):
        assert p.is_file() and p.parent.parent == tmp_path / "archive"
    assert archive.read_log(source_id)[0]["source_id"] == source_id
    assert archive.load_state(source_id).source_id == source_id


def test_registry_ids_keep_their_names() -> None:
    """Ids that are already safe file names (every registry id) name their files as before."""
    for sid in ("fj-pingtan", "demo-city", "a.b_c-1", "hangzhou-xincheng_2023"):
        assert safe_name(sid) == sid == source_dir_name(sid)


def test_different_long_ids_get_different_names() -> None:
    a, b = LONG_TITLE * 5 + "甲", LONG_TITLE * 5 + "乙"
    assert safe_name(a) != safe_name(b)


def test_files_staged_under_the_old_naming_are_still_found(tmp_path: Path) -> None:
    """Staging is a cache keyed by (sha256, extractor version): old names are adopted, not re-extracted."""
    info = make_info(source_id="src-a")
    new = stage_result(tmp_path, info, make_result(), VERSION)
    sha = info.document_sha256
    old = new.with_name(f"{sha}.src-a.json.gz")  # the naming before source ids left the file name
    new.rename(old)
    staging._adopted.clear()  # as in a new process: the old name was there before it started
    assert is_staged(tmp_path, sha, VERSION, "src-a")
    assert list(iter_staged(tmp_path, VERSION)) == [new]
    assert new.is_file() and not old.exists()


def test_long_cjk_file_name_does_not_lose_the_run(tmp_path: Path) -> None:
    """``xxgk extract`` of a long CJK file name beside a good report: both staged and published."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    good = SAMPLE / "fuzhou-gaoxin_2019.txt"
    shutil.copy(good, inputs / good.name)
    shutil.copy(SAMPLE / "jinan-nanshan_2022.txt", inputs / f"{LONG_TITLE * 2}.txt")
    summary = run_pipeline(paths=[str(inputs)], data_dir=tmp_path / "data", orchestrate=False)
    assert summary.by_status.get("ok") == 2, summary
    assert (tmp_path / "data" / "warehouse" / "facts").is_dir()
    names = [p.name for p in (tmp_path / "data" / "validation").iterdir()]
    assert all(len(n.encode()) <= MAX_NAME_BYTES for n in names)


def test_a_file_name_that_is_not_utf8_lost_the_whole_run(tmp_path: Path) -> None:
    """A GBK file name (a zip unpacked on Linux) reached the staging JSON as surrogate escapes:
    ``UnicodeEncodeError`` ended ``xxgk extract`` and every document of the run was lost. Its path
    is now published as text (undecodable bytes as ``\\xNN``) and still locates the file."""
    from xxgk.flows.inputs import locate, path_text, real_path

    inputs = tmp_path / "in"
    inputs.mkdir()
    good = SAMPLE / "fuzhou-gaoxin_2019.txt"
    shutil.copy(good, inputs / good.name)
    gbk_name = os.fsdecode("年度报告".encode("gbk") + b".txt")
    shutil.copy(SAMPLE / "jinan-nanshan_2022.txt", inputs / gbk_name)
    text = path_text(inputs / gbk_name)
    text.encode("utf-8")  # writable anywhere
    assert real_path(text) == str(inputs / gbk_name) and locate(text, tmp_path) == inputs / gbk_name
    summary = run_pipeline(paths=[str(inputs)], data_dir=tmp_path / "data", orchestrate=False)
    assert summary.by_status.get("ok") == 2, summary
