"""Cell accuracy on a folder of real reports with expected values (``../shared/corpus`` layout).

``python -m bench.corpus [CORPUS_DIR]`` extracts every document that has an
``expected/<name>.meta.json`` and compares each printed cell with ``expected/<name>.csv``:
value, unit, status and raw text. The same comparison backs the golden tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from xxgk.extractors import extract_document
from xxgk.schemas.records import FAIL, DocumentResult, Fact

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@dataclass(frozen=True, slots=True)
class FileAccuracy:
    name: str
    status: str
    expected_status: str
    cells: int
    exact: int
    differences: list[str]
    failed_identities: list[tuple[str, str]]
    expected_failed_identities: list[tuple[str, str]]


def corpus_names(corpus: Path = DEFAULT_CORPUS) -> list[str]:
    """Every document of the corpus that has expected values (empty when the corpus is absent)."""
    expected = corpus / "expected"
    if not expected.is_dir():
        return []
    return [json.loads(m.read_text(encoding="utf-8"))["file"] for m in sorted(expected.glob("*.meta.json"))]


def expected_meta(name: str, corpus: Path = DEFAULT_CORPUS) -> dict:
    return json.loads((corpus / "expected" / f"{Path(name).stem}.meta.json").read_text(encoding="utf-8"))


def expected_rows(name: str, corpus: Path = DEFAULT_CORPUS) -> list[dict[str, str]]:
    with (corpus / "expected" / f"{Path(name).stem}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _same_value(got: float | None, want: str) -> bool:
    if want == "":
        return got is None
    return got is not None and math.isclose(got, float(want), rel_tol=1e-9, abs_tol=1e-9)


def cell_difference(row: dict[str, str], fact: Fact | None, *, accept_ambiguous: bool = False) -> str | None:
    """What is wrong with one extracted cell against its expected row; None when it is right.

    A cell the expected file marks ``ambiguous`` must come out ``ambiguous`` too (any value):
    the file alone cannot fix it, and guessing silently is the error to catch. A cell the
    expected file resolved from another copy of the report (its note says the text run is
    "not uniquely splittable") may come out ``ambiguous`` as well: this file alone cannot fix it.
    ``accept_ambiguous`` accepts an ambiguous cell anywhere (for variants of a document with less
    information, e.g. with its separators removed): then no cell may be wrong, but any may be unknown.
    """
    name = ".".join((row["table"], row["row_key"], row["column_key"]))
    if fact is None:
        return f"missing {name} (expected {row['raw_text']!r})"
    if row["status"] == "ambiguous":
        if fact.value_status != "ambiguous":
            return f"{name}: expected ambiguous, got {fact.value_status} {fact.raw_text!r}"
        return None
    if fact.value_status == "ambiguous" and (accept_ambiguous or "not uniquely splittable" in row["note"]):
        return None
    problems = []
    if fact.value_status != row["status"]:
        problems.append(f"status {fact.value_status} != {row['status']}")
    if not _same_value(fact.value, row["value"]):
        problems.append(f"value {fact.value} != {row['value']}")
    if (fact.unit or "") != row["unit"]:
        problems.append(f"unit {fact.unit} != {row['unit']}")
    if fact.raw_text != row["raw_text"]:
        problems.append(f"raw_text {fact.raw_text!r} != {row['raw_text']!r}")
    return f"{name}: " + "; ".join(problems) if problems else None


def compare_with_expected(
    rows: list[dict[str, str]], result: DocumentResult, *, accept_ambiguous: bool = False
) -> list[str]:
    """Every difference between the extracted facts and the expected rows, as readable lines."""
    got = {(f.table, f.row_key, f.column_key): f for f in result.facts}
    keys = [(r["table"], r["row_key"], r["column_key"]) for r in rows]
    diffs = [
        d
        for r, k in zip(rows, keys, strict=True)
        if (d := cell_difference(r, got.get(k), accept_ambiguous=accept_ambiguous)) is not None
    ]
    diffs += [f"unexpected fact {'.'.join(k)} = {got[k].raw_text!r}" for k in sorted(set(got) - set(keys))]
    return diffs


def evaluate(name: str, corpus: Path = DEFAULT_CORPUS) -> FileAccuracy:
    path = corpus / name
    result = extract_document(path.read_bytes(), path.name)
    meta = expected_meta(name, corpus)
    rows = expected_rows(name, corpus)
    got = {(f.table, f.row_key, f.column_key): f for f in result.facts}
    exact = sum(1 for r in rows if cell_difference(r, got.get((r["table"], r["row_key"], r["column_key"]))) is None)
    return FileAccuracy(
        name=name,
        status=result.status,
        expected_status=meta["expected_status"],
        cells=len(rows),
        exact=exact,
        differences=compare_with_expected(rows, result),
        failed_identities=sorted(
            (c.check_id, c.row_key) for c in result.checks if c.status == FAIL and c.severity == "error"
        ),
        expected_failed_identities=sorted((f["identity"], f["row"]) for f in meta.get("failing_identities", [])),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    names = corpus_names(args.corpus)
    if not names:
        print(f"no corpus with expected values at {args.corpus}", file=sys.stderr)
        return 2
    total = exact = 0
    print("| file | status (expected) | cells exact | failed identities (expected) |")
    print("|---|---|---|---|")
    for name in names:
        acc = evaluate(name, args.corpus)
        total += acc.cells
        exact += acc.exact
        status = acc.status if acc.status == acc.expected_status else f"**{acc.status}** ({acc.expected_status})"
        fails = len(acc.failed_identities)
        ident = f"{fails}" if acc.failed_identities == acc.expected_failed_identities else f"**{fails}**"
        print(f"| {name} | {status} | {acc.exact}/{acc.cells} | {ident} ({len(acc.expected_failed_identities)}) |")
        for d in acc.differences:
            print(f"|  | {d} | | |")
    print(f"\nall files: {exact}/{total} printed cells exact ({exact / total:.2%})" if total else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
