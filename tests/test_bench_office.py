"""The LibreOffice part of the benchmark: measured when soffice is there, said so when it is not."""

from __future__ import annotations

import pytest

from xxgk.bench import office
from xxgk.bench.run import build_corpus
from xxgk.extractors import converter


def test_corpus_renders_docx_and_xlsx() -> None:
    docs = build_corpus(2, seed=3, formats=["docx", "xlsx"])
    assert sorted(d.format for d in docs) == ["docx", "docx", "xlsx", "xlsx"]
    assert all(d.data[:2] == b"PK" for d in docs)


def test_without_soffice_the_section_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(converter, "find_soffice", lambda: None)
    result = office.measure(1)
    assert result["available"] is False and "soffice" in result["reason"]
    assert any("Not measured" in line for line in office.to_markdown(result))


@pytest.mark.skipif(converter.find_soffice() is None, reason="LibreOffice (soffice) not installed")
def test_doc_measured_per_document_and_per_batch() -> None:
    result = office.measure(2, seed=4, formats=("doc",))
    doc = result["doc"]
    assert doc["one_call_per_document"]["exact"] == 2 and doc["one_call_per_batch"]["exact"] == 2
    assert doc["one_call_per_batch"]["converted"] == 2
    assert "| doc |" in "\n".join(office.to_markdown(result))
