"""What the published tables were built from, so that a run with nothing new publishes nothing.

A nightly run over an unchanged portal hands the publish step the same staged results as the night
before. Re-reading them all, rebuilding every year partition and every validation report only to
find the same bytes took most of such a run (33 s for 5,000 documents). ``warehouse/_inputs.json``
records, for every published document, the staged file it came from (path, size, mtime) and its
source/year; a run whose staged files all match, with no source/year losing a document, skips the
publish. Otherwise only the sources with a new or changed staged file (or whose published set of
documents the run changes) are published; the others are left as they are, which is exactly what
publishing them again would have written (publishing replaces whole source/years).

The record is void, and everything is published, when it is missing or unreadable, when the code
that builds the published files changed (a digest of the ``warehouse`` and ``schemas`` packages),
or when a published partition file is missing or has another size than recorded (someone deleted
or replaced it). It lives beside the staged files it describes (``staging/published-inputs.json``:
deleting the staging cache voids it too) and is written after the publish has committed, so it is
never ahead of the published files: a crash in between only makes the next run publish again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from xxgk import schemas, warehouse
from xxgk.warehouse.documents import effective_year
from xxgk.warehouse.files import atomic_write_bytes
from xxgk.warehouse.layout import warehouse_dir
from xxgk.warehouse.staging import load_staged, staged_source_id

INPUTS_FILE = "staging/published-inputs.json"
INPUTS_FORMAT = 1


@cache
def code_digest() -> str:
    """sha256 over the source of the packages that turn staged results into published files."""
    digest = hashlib.sha256()
    for package in (warehouse, schemas):
        root = Path(package.__file__).parent
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".html", ".j2", ".css")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / INPUTS_FILE


def staged_key(path: Path | str, base: str) -> str:
    """A staged file's name in the record: relative to the data directory ``base`` (absolute) when inside it.

    ``os.path.abspath``, not ``resolve``: no file system call per document (a nightly run asks for
    thousands); a path spelled through another symlink only costs a republish.
    """
    full = os.path.abspath(path)
    if full.startswith(base + os.sep):
        return full[len(base) + 1 :].replace(os.sep, "/")
    return full


@dataclass(slots=True)
class PublishedDocument:
    """One published document: its source/year and the staged file's size and mtime at publish time."""

    source_id: str
    year: int
    size: int
    mtime_ns: int


@dataclass(slots=True)
class PublishedInputs:
    """The record: published documents by staged key, and the size of every published partition file."""

    documents: dict[str, PublishedDocument] = field(default_factory=dict)
    outputs: dict[str, int] = field(default_factory=dict)
    code: str = ""

    def to_json(self) -> bytes:
        data = {
            "format": INPUTS_FORMAT,
            "code": self.code,
            "outputs": dict(sorted(self.outputs.items())),
            "documents": {k: [d.source_id, d.year, d.size, d.mtime_ns] for k, d in sorted(self.documents.items())},
        }
        return (json.dumps(data, ensure_ascii=False, indent=0) + "\n").encode("utf-8")


def read_inputs(data_dir: Path | str) -> tuple[PublishedInputs | None, str]:
    """The record, or ``(None, why everything must be published)``."""
    path = inputs_path(data_dir)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None, "no record of the published inputs yet"
    except (OSError, ValueError) as err:
        return None, f"{path.name} unreadable ({type(err).__name__})"
    if not isinstance(data, dict) or data.get("format") != INPUTS_FORMAT:
        return None, f"{path.name} has another format"
    if data.get("code") != code_digest():
        return None, "the publishing code changed since the last publish"
    try:
        docs = {k: PublishedDocument(str(s), int(y), int(n), int(m)) for k, (s, y, n, m) in data["documents"].items()}
        outputs = {str(k): int(v) for k, v in data["outputs"].items()}
    except (KeyError, TypeError, ValueError):
        return None, f"{path.name} is malformed"
    base = Path(data_dir)
    for rel, size in outputs.items():
        try:
            if (base / rel).stat().st_size != size:
                return None, f"{rel} changed since it was published"
        except FileNotFoundError:
            return None, f"{rel} is missing"
    return PublishedInputs(docs, outputs, data["code"]), ""


@dataclass(slots=True)
class PublishPlan:
    """What a publish step has to do with a run's staged files.

    ``paths``: the staged files to publish (all of them, a subset, or none); ``up_to_date``: the
    run's documents already published from these very files and left alone; ``reason``: why.
    """

    paths: list[str]
    up_to_date: int
    reason: str
    record: PublishedInputs | None = None

    @property
    def nothing_to_do(self) -> bool:
        return not self.paths


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _year_of(path: str) -> int:
    """The year a staged document is published under (reads the file: only for the few new ones)."""
    info, result, _ = load_staged(path)
    return effective_year(info, result)[0]


def plan_publish(
    data_dir: Path | str,
    paths: Iterable[str],
    *,
    years: Iterable[int] | None = None,
    replace: bool = False,
    force: bool = False,
) -> PublishPlan:
    """Which of the run's staged files must be published; see the module docstring.

    A staged file is *clean* when the record lists it with the same size and mtime. A source is
    *dirty* when one of its staged files is not clean, or when one of its published source/years
    would lose a document the run does not hand in again (publishing replaces whole source/years).
    All staged files of dirty sources are published. With ``replace`` (rebuild ``years`` from this
    run alone) it is all or nothing: skipped only when the run hands in exactly the documents
    published for those years.
    """
    run = sorted(set(paths))
    if force:
        return PublishPlan(run, 0, "publishing forced")
    record, why = read_inputs(data_dir)
    if record is None:
        return PublishPlan(run, 0, why)
    base = os.path.abspath(data_dir)
    keys = {p: staged_key(p, base) for p in run}
    clean: dict[str, PublishedDocument] = {}
    dirty_sources: set[str] = set()
    dirty: list[str] = []
    for p in run:
        doc = record.documents.get(keys[p])
        if doc is not None and _stat(p) == (doc.size, doc.mtime_ns):
            clean[p] = doc
        else:
            dirty.append(p)
            dirty_sources.add(staged_source_id(p))
    year_set = None if years is None else {int(y) for y in years}
    if replace:
        published = {k for k, d in record.documents.items() if year_set is None or d.year in year_set}
        handed = {keys[p] for p, d in clean.items() if year_set is None or d.year in year_set}
        if published != handed or any(_year_of(p) in year_set for p in dirty if year_set is not None):
            return PublishPlan(run, 0, "the years to rebuild do not hold exactly this run's documents", record)
        return PublishPlan([], len(run), "every document already published from these staged results", record)
    handed_keys = {keys[p] for p in clean}
    groups: dict[tuple[str, int], set[str]] = {}
    for key, doc in record.documents.items():
        groups.setdefault((doc.source_id, doc.year), set()).add(key)
    for doc in clean.values():
        if not groups[(doc.source_id, doc.year)] <= handed_keys:
            dirty_sources.add(doc.source_id)  # the run drops a document of this source/year
    chosen = [p for p in run if p not in clean or clean[p].source_id in dirty_sources]
    if not chosen:
        return PublishPlan([], len(run), "every document already published from these staged results", record)
    reason = f"{len(dirty_sources)} source(s) with new or changed staged results"
    return PublishPlan(chosen, len(run) - len(chosen), reason, record)


def record_inputs(
    data_dir: Path | str,
    previous: PublishedInputs | None,
    published: Mapping[str, tuple[str, int]],
    *,
    years: Iterable[int] | None = None,
    replace: bool = False,
    touched: Iterable[tuple[str, int]] = (),
) -> None:
    """Write the record once a publish has committed.

    ``published``: staged path → (source_id, year) of every document the publish put in
    (``PublishSummary.published``). Entries of the source/years it replaced are dropped first,
    and with ``replace`` every entry of the rebuilt years. ``touched`` (``PublishSummary.touched``):
    source/years whose rows the publish changed, e.g. a document it re-filed under another year
    leaves its old year; their entries are dropped too, so the next run republishes what is left
    there rather than trusting the record. Documents published from something else than a staged
    file are not in the record, so their source/years count as never recorded.
    """
    docs = dict(previous.documents) if previous is not None else {}
    replaced = {(s, y) for s, y in published.values()} | {(s, int(y)) for s, y in touched}
    year_set = None if years is None else {int(y) for y in years}
    for key, doc in list(docs.items()):
        rebuilt = replace and (year_set is None or doc.year in year_set)
        if rebuilt or (doc.source_id, doc.year) in replaced:
            del docs[key]
    base = os.path.abspath(data_dir)
    for path, (source_id, year) in published.items():
        st = _stat(path)
        if st is not None:
            docs[staged_key(path, base)] = PublishedDocument(source_id, int(year), *st)
    from xxgk.warehouse.schema import REFERENCE_TABLES, TABLE_NAMES

    wdir = warehouse_dir(data_dir)
    outputs: dict[str, int] = {}
    for table in TABLE_NAMES:
        for part in sorted((wdir / table).glob("year=*/part-0.parquet")):
            outputs[part.relative_to(Path(data_dir)).as_posix()] = part.stat().st_size
    for table in REFERENCE_TABLES:
        part = wdir / table / "part-0.parquet"
        if part.is_file():
            outputs[part.relative_to(Path(data_dir)).as_posix()] = part.stat().st_size
    record = PublishedInputs(docs, outputs, code_digest())
    atomic_write_bytes(inputs_path(data_dir), record.to_json())
