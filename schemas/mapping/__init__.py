"""Turn the grids of one document into canonical facts: the one mapper every form uses.

Works the same for every format (``rows``: split rows into labels and values and assign them to
tables), then per table (``proactive``, ``requests``, ``review``); the template version is
detected per table from its labels, never from the year. Whatever cannot be placed is kept in
``unmapped`` with the reason, never dropped and never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from xxgk.schemas.grid import Grid
from xxgk.schemas.mapping.proactive import detect_proactive_version, proactive_facts
from xxgk.schemas.mapping.requests import requests_facts
from xxgk.schemas.mapping.review import review_facts
from xxgk.schemas.mapping.rows import Row, TableRows, segment_tables, split_row
from xxgk.schemas.model import (
    PROACTIVE,
    PROACTIVE_CELLS,
    PROACTIVE_SPEC,
    REQUESTS,
    REVIEW_LITIGATION,
    V2021,
    expected_cells,
)
from xxgk.schemas.records import Fact, Unmapped
from xxgk.schemas.values import OK


@dataclass(slots=True)
class MappedTables:
    """What the mapper found: facts, unmapped rows, versions, and what it could not find."""

    facts: list[Fact]
    unmapped: list[Unmapped]
    versions: dict[str, str]
    requests_layout: str | None
    missing: dict[str, list[tuple[str, str]]]
    warnings: list[str]


def map_grids(grids: list[Grid]) -> MappedTables:
    """Facts of all three tables from a document's grids."""
    segments, stray = segment_tables(grids)
    by_table = {s.table: s for s in segments}
    facts: list[Fact] = []
    unmapped: list[Unmapped] = list(stray)
    versions: dict[str, str] = {}
    warnings: list[str] = []
    layout: str | None = None

    if PROACTIVE in by_table:
        versions[PROACTIVE] = detect_proactive_version(by_table[PROACTIVE])
        f, u = proactive_facts(by_table[PROACTIVE], versions[PROACTIVE])
        facts += f
        unmapped += u
    if REQUESTS in by_table:
        f, u, layout, notes = requests_facts(by_table[REQUESTS])
        versions[REQUESTS] = layout
        facts += f
        unmapped += u
        warnings += notes
    if REVIEW_LITIGATION in by_table:
        # table 四 is the same in both versions: it inherits the version of the report's other tables
        versions[REVIEW_LITIGATION] = versions.get(PROACTIVE) or versions.get(REQUESTS) or V2021
        f, u, notes = review_facts(by_table[REVIEW_LITIGATION], versions[REVIEW_LITIGATION])
        facts += f
        unmapped += u
        warnings += notes

    facts, dup_warnings, duplicates = _drop_duplicates(facts)
    warnings += dup_warnings
    unmapped += duplicates
    facts = [f for f in facts if f.table in versions]
    missing: dict[str, list[tuple[str, str]]] = {}
    for table, version in versions.items():
        want = expected_cells(table, version, layout if table == REQUESTS else None)
        if table == PROACTIVE:
            want = _proactive_expected(facts, version)
        have = {(f.row_key, f.column_key) for f in facts if f.table == table}
        gaps = [c for c in want if c not in have]
        if gaps:
            missing[table] = gaps
    return MappedTables(facts, unmapped, versions, layout, missing, warnings)


def _proactive_expected(facts: list[Fact], version: str) -> list[tuple[str, str]]:
    """Cells table 二 should print: per block, the version its printed rows use."""
    block_versions: dict[str, str] = {}
    for f in facts:
        if f.table == PROACTIVE:
            block_versions.setdefault(PROACTIVE_SPEC.row(f.row_key).block or "", f.template_version)
    cells: list[tuple[str, str]] = []
    for row in PROACTIVE_SPEC.rows:
        block = row.block or ""
        v = block_versions.get(block, version)
        if v not in row.labels:
            continue
        cells += [(row.key, c) for c in PROACTIVE_CELLS[v].get(block, ())]
    return cells


def _drop_duplicates(facts: list[Fact]) -> tuple[list[Fact], list[str], list[Unmapped]]:
    """A cell printed twice (a table repeated on the page) is kept once; disagreement is reported.

    The second printing of a cell that disagrees with the first is kept in ``unmapped`` too.
    """
    seen: dict[tuple[str, str, str], Fact] = {}
    out: list[Fact] = []
    warnings: list[str] = []
    dropped: list[Unmapped] = []
    for f in facts:
        key = (f.table, f.row_key, f.column_key)
        if key in seen:
            first = seen[key]
            if first.raw_text != f.raw_text:
                warnings.append(
                    f"{f.table}.{f.row_key}.{f.column_key} printed twice with different values: "
                    f"{first.raw_text!r} ({first.locator}) and {f.raw_text!r} ({f.locator}); the first is kept"
                )
                dropped.append(
                    Unmapped(
                        f.table,
                        f.row_label,
                        [f.raw_text],
                        f"{f.row_key}.{f.column_key} printed a second time with another value; the first is kept",
                        f.locator,
                        f.page,
                        f.grid_row,
                    )
                )
            continue
        seen[key] = f
        out.append(f)
    return out, warnings, dropped


__all__ = ["OK", "MappedTables", "Row", "TableRows", "map_grids", "segment_tables", "split_row"]
