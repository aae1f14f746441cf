"""DOC, WPS and RTF through LibreOffice: the needs_converter status without soffice, the timeout
and process-group kill, one soffice call per batch, and (with soffice) exact round trips."""

from __future__ import annotations

import hashlib
import stat
import sys
import time
from pathlib import Path

import pytest

from tests.facts import expected_facts, printed_facts
from tests.office_docs import make_docx, p
from xxgk.extractors import converter, extract_document
from xxgk.extractors.base import ExtractionError
from xxgk.schemas.model import V2019, V2021
from xxgk.synth import office
from xxgk.synth.docx import render_docx
from xxgk.synth.generate import generate_report
from xxgk.synth.ole import compound_file

DOC = compound_file({"WordDocument": b"\xec\xa5\xc1\x00", "1Table": b""})
RTF = b"{\\rtf1\\ansi 2023\\'c4\\'ea report}"

needs_soffice = pytest.mark.skipif(
    converter.find_soffice() is None,
    reason="LibreOffice (soffice) not installed: apt-get install --no-install-recommends libreoffice-writer-nogui",
)


@pytest.fixture
def no_soffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(converter, "find_soffice", lambda: None)
    converter._CACHE.clear()


@pytest.mark.parametrize(("data", "fmt"), [(DOC, "doc"), (RTF, "rtf")])
def test_without_soffice_the_status_is_needs_converter_with_how_to_install(no_soffice: None, data: bytes, fmt: str) -> None:
    result = extract_document(data, f"report.{fmt}")
    assert (result.status, result.format) == ("needs_converter", fmt)
    assert "soffice" in result.reason and "apt-get install --no-install-recommends libreoffice-writer-nogui" in result.reason
    assert converter.preconvert([data]) == 0


def test_soffice_setting_that_is_not_a_program_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(converter.SOFFICE_ENV, str(tmp_path / "nowhere" / "soffice"))
    converter._CACHE.clear()
    result = extract_document(DOC, "report.doc")
    assert result.status == "needs_converter" and converter.SOFFICE_ENV in result.reason


def _fake_soffice(tmp_path: Path, body: str) -> Path:
    """A stand-in for soffice: a Python script given the same arguments."""
    script = tmp_path / "soffice"
    script.write_text(f"#!{sys.executable}\nimport sys, os, shutil, subprocess, time\nargs = sys.argv[1:]\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_hung_converter_is_killed_with_its_whole_process_group(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    body = (
        "child = subprocess.Popen(['sleep', '300'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(300)"
    )
    monkeypatch.setenv(converter.SOFFICE_ENV, str(_fake_soffice(tmp_path, body)))
    monkeypatch.setenv(converter.TIMEOUT_ENV, "1")
    monkeypatch.setattr(converter, "PER_DOCUMENT_TIMEOUT", 0.0)
    converter._CACHE.clear()
    start = time.monotonic()
    result = extract_document(DOC, "report.doc")
    assert result.status == "failed" and "timed out" in result.reason
    assert time.monotonic() - start < 30
    parent, child = (int(x) for x in pids.read_text().split())
    deadline = time.monotonic() + 5
    while (_alive(parent) or _alive(child)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(parent) and not _alive(child)  # the grandchild too: the group was killed


def test_converter_that_writes_nothing_fails_with_what_it_said(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(converter.SOFFICE_ENV, str(_fake_soffice(tmp_path, "print('Error: source file could not be loaded')")))
    converter._CACHE.clear()
    result = extract_document(DOC, "report.doc")
    assert result.status == "failed" and "could not convert the DOC" in result.reason and "could not be loaded" in result.reason


def _copying_soffice(tmp_path: Path, docx: bytes) -> tuple[Path, Path]:
    """A fake soffice that 'converts' every input into ``docx`` and logs each call."""
    (tmp_path / "out.docx").write_bytes(docx)
    log = tmp_path / "calls"
    body = (
        "outdir = args[args.index('--outdir') + 1]\n"
        "files = [a for a in args if os.path.isfile(a)]\n"
        f"open({str(log)!r}, 'a').write(f'{{len(files)}}\\n')\n"
        "for f in files:\n"
        "    if b'BROKEN' in open(f, 'rb').read():\n"
        "        continue\n"
        "    stem = os.path.splitext(os.path.basename(f))[0]\n"
        f"    shutil.copy({str(tmp_path / 'out.docx')!r}, os.path.join(outdir, stem + '.docx'))\n"
    )
    return _fake_soffice(tmp_path, body), log


def test_a_batch_is_converted_in_one_call_and_each_read_reuses_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    report = generate_report(3, versions=V2021)
    script, log = _copying_soffice(tmp_path, render_docx(report))
    monkeypatch.setenv(converter.SOFFICE_ENV, str(script))
    converter._CACHE.clear()
    docs = [compound_file({"WordDocument": bytes([i]) * 8}) for i in range(3)]
    assert converter.preconvert([*docs, b"%PDF-1.4 not converted"]) == 3
    for doc in docs:
        result = extract_document(doc, "report.doc")
        assert result.status == "ok" and printed_facts(result) == expected_facts(report)
    assert log.read_text().split() == ["3"]  # one soffice call for the batch, none per document


def test_one_broken_document_fails_alone_when_the_batch_call_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script, log = _copying_soffice(tmp_path, make_docx(p("报告")))
    monkeypatch.setenv(converter.SOFFICE_ENV, str(script))
    items = [(compound_file({"WordDocument": b"ok"}), "doc"), (compound_file({"WordDocument": b"BROKEN"}), "doc")]
    results = converter.convert_many(items)
    assert isinstance(results[0], bytes) and isinstance(results[1], ExtractionError)
    assert log.read_text().split() == ["2", "1", "1"]  # the batch, then each document alone


# --- with LibreOffice --------------------------------------------------------------------------


@needs_soffice
@pytest.mark.parametrize("fmt", ["doc", "wps", "rtf"])
def test_libreoffice_documents_round_trip_exactly(fmt: str) -> None:
    reports = [generate_report(7, versions=V2019), generate_report(8, versions=V2021, requests_layout=V2019)]
    documents = office.render_office(reports, fmt, word_markup=True, split_requests=True)
    converter._CACHE.clear()
    assert converter.preconvert(documents) == len(documents)
    for report, data in zip(reports, documents, strict=True):
        result = extract_document(data, f"report.{fmt}")
        assert (result.status, result.format) == ("ok", fmt), result.reason
        assert printed_facts(result) == expected_facts(report)
        assert result.year == report.year and result.template_versions == report.versions


@needs_soffice
def test_wps_named_file_that_is_a_word_binary_goes_in_as_doc() -> None:
    (data,) = office.render_office([generate_report(9, versions=V2021)], "doc")
    converter._CACHE.clear()
    result = extract_document(data, "报告.wps")
    assert (result.status, result.format) == ("ok", "doc"), result.reason  # by content, not by name


@needs_soffice
def test_odt_is_converted_too() -> None:
    report = generate_report(10, versions=V2021)
    (odt,) = converter.convert_many([(render_docx(report), "docx")], target="odt")
    assert isinstance(odt, bytes)
    result = extract_document(odt, "report.odt")
    assert (result.status, result.format) == ("ok", "odt"), result.reason
    assert printed_facts(result) == expected_facts(report)


def test_an_extraction_batch_converts_its_word_documents_in_one_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """flows.extraction: the batch's DOC files share one soffice call; staged ones are not converted again."""
    from xxgk.flows.extraction import extract_documents
    from xxgk.warehouse.documents import DocumentInfo

    report = generate_report(3, versions=V2021)
    script, log = _copying_soffice(tmp_path, render_docx(report))
    monkeypatch.setenv(converter.SOFFICE_ENV, str(script))
    converter._CACHE.clear()
    infos = []
    for i in range(3):
        data = compound_file({"WordDocument": bytes([i]) * 8})
        path = tmp_path / "docs" / f"report{i}.doc"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        infos.append(DocumentInfo(sha, f"s{i}", None, 2023, "doc", None, None, str(path)))
    staging = tmp_path / "staging"
    outcomes = extract_documents(infos, staging, data_dir=tmp_path)
    assert [(o.action, o.status) for o in outcomes] == [("extracted", "ok")] * 3
    assert log.read_text().split() == ["3"]  # one call for the batch, none per document
    again = extract_documents(infos, staging, data_dir=tmp_path)
    assert [o.action for o in again] == ["reused"] * 3 and log.read_text().split() == ["3"]
