"""Access to the real reports in ../shared/corpus and their expected values.

Tests import from here, so every format's golden test compares facts the same way.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from extractors import extract_document
from schemas.records import DocumentResult

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus_path(name: str) -> Path:
    """The corpus file, or a clean skip when ../shared/corpus is not there."""
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus file {name} not present (../shared/corpus)")
    return path


def corpus_names() -> list[str]:
    """Every corpus document that has an expected CSV (empty when the corpus is absent)."""
    if not (CORPUS / "expected").is_dir():
        return []
    names = []
    for meta in sorted((CORPUS / "expected").glob("*.meta.json")):
        names.append(json.loads(meta.read_text(encoding="utf-8"))["file"])
    return names


def expected_meta(name: str) -> dict:
    return json.loads((CORPUS / "expected" / f"{Path(name).stem}.meta.json").read_text(encoding="utf-8"))


def expected_rows(name: str) -> list[dict[str, str]]:
    with (CORPUS / "expected" / f"{Path(name).stem}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def extract_corpus(name: str) -> DocumentResult:
    path = corpus_path(name)
    return extract_document(path.read_bytes(), path.name)


def _same_value(got: float | None, want: str) -> bool:
    if want == "":
        return got is None
    return got is not None and math.isclose(got, float(want), rel_tol=1e-9, abs_tol=1e-9)


def compare_with_expected(name: str, result: DocumentResult) -> list[str]:
    """Every difference between the extracted facts and the expected CSV, as readable lines.

    A cell the expected file marks ``ambiguous`` must come out ``ambiguous`` too (any value):
    the file alone cannot fix it, and guessing silently is the error to catch. A cell the
    expected file resolved from another copy of the report (its note says the text run is
    "not uniquely splittable") may come out ``ambiguous`` as well: this file alone cannot fix it.
    """
    got = {(f.table, f.row_key, f.column_key): f for f in result.facts}
    diffs: list[str] = []
    want_keys = set()
    for row in expected_rows(name):
        key = (row["table"], row["row_key"], row["column_key"])
        want_keys.add(key)
        fact = got.get(key)
        if fact is None:
            diffs.append(f"missing {'.'.join(key)} (expected {row['raw_text']!r})")
            continue
        if (
            row["status"] != "ambiguous"
            and fact.value_status == "ambiguous"
            and "not uniquely splittable" in row["note"]
        ):
            continue
        if row["status"] == "ambiguous":
            if fact.value_status != "ambiguous":
                diffs.append(f"{'.'.join(key)}: expected ambiguous, got {fact.value_status} {fact.raw_text!r}")
            continue
        problems = []
        if fact.value_status != row["status"]:
            problems.append(f"status {fact.value_status} != {row['status']}")
        if not _same_value(fact.value, row["value"]):
            problems.append(f"value {fact.value} != {row['value']}")
        if (fact.unit or "") != row["unit"]:
            problems.append(f"unit {fact.unit} != {row['unit']}")
        if fact.raw_text != row["raw_text"]:
            problems.append(f"raw_text {fact.raw_text!r} != {row['raw_text']!r}")
        if problems:
            diffs.append(f"{'.'.join(key)}: " + "; ".join(problems))
    for key in sorted(set(got) - want_keys):
        diffs.append(f"unexpected fact {'.'.join(key)} = {got[key].raw_text!r}")
    return diffs
