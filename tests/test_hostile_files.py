"""The bad-file harness (issue 14, What to build §2): every hostile file in one real ``xxgk extract``
beside a good report, under a 1 GiB address-space limit and 60 s per document.

Every case must end with a status (a reports row naming the file, with a reason unless it is
``ok``), bombs must not pass as reports, and the good report's facts must be byte-identical to a
run of it alone. ``python -m xxgk.bench.hostile`` runs the same cases one by one and prints the
table of outcome, seconds and peak RSS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xxgk.bench.hostile.files import bad_files
from xxgk.bench.hostile.run import MEMORY_LIMIT, TIME_LIMIT, in_child, mixed_run, published_name

pytestmark = pytest.mark.slow


def test_every_bad_file_ends_with_a_status_and_the_good_report_is_intact(tmp_path: Path) -> None:
    cases = bad_files("small")
    mixed = mixed_run(cases, tmp_path, timeout=600)
    assert mixed.run.returncode == 0, mixed.run.stderr[-3000:]
    assert mixed.missing(cases) == []
    for bad in cases:
        status, reason = mixed.reports[published_name(bad)]
        assert status in bad.expect, (bad.case, status, reason)
        assert status == "ok" or reason.strip(), (bad.case, status)
    assert mixed.clean.returncode == 0, mixed.clean.stderr[-3000:]
    assert mixed.good_facts and mixed.good_facts == mixed.clean_facts
    assert len(mixed.run.batch_seconds) == len(cases) + 1, mixed.run.stderr[-3000:]
    assert max(mixed.run.batch_seconds) <= TIME_LIMIT
    assert mixed.run.peak_rss_mb <= MEMORY_LIMIT >> 20


def test_the_child_runner_reports_a_memory_bomb_and_a_hang() -> None:
    """The per-case runner of the bench can fail: a crash and a time-out are said, not hidden."""

    def allocate() -> dict[str, str]:
        hog = bytearray(2 * MEMORY_LIMIT)
        return {"status": "ok", "reason": str(len(hog))}

    answer, _, _ = in_child(allocate)
    assert answer["status"] == "crash" and answer["reason"].startswith("MemoryError")

    def hang() -> dict[str, str]:
        while True:
            pass

    answer, seconds, _ = in_child(hang, seconds=1)
    assert answer["status"] == "killed" and "time limit" in answer["reason"] and seconds < 10
