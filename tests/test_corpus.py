"""Golden tests on the real reports: every printed cell, the report status, the failing identities."""

from __future__ import annotations

import pytest

from tests.corpus import compare_with_expected, corpus_names, expected_meta, extract_corpus
from xxgk.schemas.records import FAIL

NAMES = corpus_names()

pytestmark = pytest.mark.corpus


@pytest.mark.parametrize("name", NAMES or ["(corpus absent)"])
def test_every_printed_cell_as_expected(name: str) -> None:
    if not NAMES:
        pytest.skip("../shared/corpus not present")
    result = extract_corpus(name)
    meta = expected_meta(name)
    assert result.status == meta["expected_status"], result.reason
    assert compare_with_expected(name, result) == []


@pytest.mark.parametrize("name", NAMES or ["(corpus absent)"])
def test_template_versions_and_failing_identities(name: str) -> None:
    if not NAMES:
        pytest.skip("../shared/corpus not present")
    result = extract_corpus(name)
    meta = expected_meta(name)
    if meta["expected_status"] != "ok":
        return
    assert result.template_versions == meta["template"]
    failing = sorted((c.check_id, c.row_key) for c in result.checks if c.status == FAIL and c.severity == "error")
    want = sorted((f["identity"], f["row"]) for f in meta.get("failing_identities", []))
    assert failing == want
    assert result.year == meta["year"]
