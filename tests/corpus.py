"""Access to the real reports in ../shared/corpus for the golden tests (skipping cleanly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xxgk.bench.corpus import DEFAULT_CORPUS as CORPUS
from xxgk.bench.corpus import compare_with_expected as _compare
from xxgk.bench.corpus import corpus_names, expected_meta, expected_rows
from xxgk.extractors import extract_document
from xxgk.schemas.records import DocumentResult

__all__ = ["CORPUS", "compare_with_expected", "corpus_names", "corpus_path", "expected_meta", "extract_corpus"]


def corpus_path(name: str) -> Path:
    """The corpus file, or a clean skip when ../shared/corpus is not there."""
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus file {name} not present (../shared/corpus)")
    return path


def extract_corpus(name: str) -> DocumentResult:
    path = corpus_path(name)
    return extract_document(path.read_bytes(), path.name)


def compare_with_expected(name: str, result: DocumentResult, *, accept_ambiguous: bool = False) -> list[str]:
    """Every difference between a corpus file's extracted facts and its expected CSV."""
    return _compare(expected_rows(name), result, accept_ambiguous=accept_ambiguous)
