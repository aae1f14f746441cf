"""Which documents a run reads: local paths, or a documents file listing them with provenance.

Plain functions with no Prefect import, so the CLI can resolve and count its inputs (and fail
fast with a one-line message) before the orchestration starts, and tests can call them directly.

A documents file (``--sources``) is YAML, JSON or CSV. YAML/JSON hold a list of entries, either
at the top level or under ``documents:``; CSV has one entry per line with a header. Each entry has
``path`` (relative to the documents file) and optionally ``source_id``, ``publisher``, ``year``,
``url`` (or ``source_url``), ``region_code``, ``level``, ``format``. The sample set's manifest
(``data/sample/manifest.*``) is such a file.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from xxgk.storage.yaml_text import load_yaml_file, safe_load_yaml

if TYPE_CHECKING:  # the warehouse package pulls in pyarrow/pandas: keep `xxgk --help` fast
    from xxgk.warehouse.documents import DocumentInfo

#: File names that are never documents when a directory is given (manifests, notes, checksums).
_SKIP_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".sha256", ".gitkeep")
_SKIP_NAMES = ("readme", "manifest", "license")
_HASH_CHUNK = 1 << 20


class InputError(ValueError):
    """Inputs that stop the run before it starts (missing path, unreadable documents file)."""


@dataclass(slots=True)
class DocumentJob:
    """One document for ``extract_batch``: its provenance plus what reading it needs.

    ``info.path`` is the portable path that gets staged and published (see ``portable_path``);
    ``location`` is where the bytes are read now; ``name`` (a file name, for format hints) and
    ``http_charset`` come from the fetch when the document was harvested, and so do
    ``alternatives``: the other documents of the same report (a page's attachments).
    """

    info: DocumentInfo
    location: str
    name: str = ""
    http_charset: str | None = None
    #: The report's other documents, in the order they are read when this one does not settle
    #: which document is the report (``schemas.choice``; ``flows.extraction.extract_documents``).
    alternatives: list[DocumentJob] = field(default_factory=list)


def _inside(path: Path, base: Path) -> Path | None:
    try:
        return path.relative_to(base)
    except ValueError:
        return None


def path_text(path: str | Path) -> str:
    """A file path as text that can be written anywhere (JSON, Parquet, a terminal).

    A file name that is not UTF-8 (GBK bytes from a zip unpacked on Linux) reaches Python with
    surrogate escapes, which no UTF-8 writer accepts: its undecodable bytes are spelled ``\\xNN``
    (``real_path`` turns them back).
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


_ESCAPED_BYTE = re.compile(rb"\\x([0-9a-f]{2})")


def real_path(text: str) -> str:
    """The file system path a ``path_text`` names (itself when no file has the escaped name)."""
    if "\\x" not in text or os.path.lexists(text):
        return text
    return os.fsdecode(_ESCAPED_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8")))


def portable_path(location: str | Path, data_dir: str | Path, cwd: str | Path | None = None) -> str:
    """The path a document is published under: the same in every checkout and every run.

    Relative to the data directory when the file is inside it (the raw archive, ``data/sample``
    under the default data directory), else relative to the current directory when inside it,
    else absolute as given; always text (``path_text``).
    """
    path = Path(location).resolve()
    for base in (Path(data_dir).resolve(), Path(cwd or Path.cwd()).resolve()):
        rel = _inside(path, base)
        if rel is not None:
            return path_text(rel.as_posix())
    return path_text(path)


def locate(path: str, data_dir: str | Path, cwd: str | Path | None = None) -> Path:
    """Where the bytes of a (possibly portable) document path are: the inverse of ``portable_path``."""
    if Path(path).is_absolute():
        return Path(real_path(path))
    in_data = Path(real_path(str(Path(data_dir) / path)))
    if in_data.exists():
        return in_data.resolve()
    return Path(real_path(str(Path(cwd or Path.cwd()) / path))).resolve()


def is_registry(path: str | Path) -> bool:
    """True when a ``--sources`` file is a sources registry (a ``sources:`` list), not a documents file."""
    p = Path(path)
    if p.suffix.lower() not in (".yaml", ".yml", ".json"):
        return False
    try:
        data = load_yaml_file(p)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # reported by the documents-file reader with its own message
    return isinstance(data, dict) and "sources" in data and "documents" not in data


_YEAR_RANGE = re.compile(r"^\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*$")


def parse_years(text: str | None) -> list[int] | None:
    """``2019-2024``, ``2021`` or ``2019,2021-2022`` as a sorted list of years; None for no filter."""
    if text is None or not text.strip():
        return None
    years: set[int] = set()
    for part in text.split(","):
        if not part.strip():
            continue
        m = _YEAR_RANGE.match(part)
        if m is None:
            raise InputError(f"--years: {part.strip()!r} is not a year or a range like 2019-2024")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if first > last:
            raise InputError(f"--years: reversed range {first}-{last}: write {last}-{first}")
        if not 1990 <= first <= 2100 or not 1990 <= last <= 2100:
            raise InputError(f"--years: {part.strip()!r} is not a range of years between 1990 and 2100")
        years.update(range(first, last + 1))
    if not years:
        raise InputError("--years: no year given")
    return sorted(years)


def select_documents(items: list[Any], ids: list[str] | None = None, years: list[int] | None = None) -> list[Any]:
    """Documents (specs or infos: anything with ``source_id`` and ``year``) of ``ids`` and ``years``.

    An id that matches no document is an ``InputError`` (a typo should not run an empty job), as
    is a years filter that leaves nothing; documents without a known year are left out by it.
    """
    if ids:
        present = list(dict.fromkeys(item.source_id for item in items))
        missing = [i for i in ids if i not in present]
        if missing:
            raise unknown_ids(missing, present, "the documents given")
        items = [item for item in items if item.source_id in ids]
    if years:
        items = [item for item in items if item.year in years]
        if not items:
            span = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
            raise InputError(f"no document of the years {span} (documents without a known year are left out)")
    return items


def unknown_ids(missing: list[str], known: Iterable[str], where: str) -> InputError:
    """The error for source ids that ``where`` does not have, each with the close ids it does have.

    ``unknown source id fj-pingtn in the sources registry data/sources.yaml (did you mean
    fj-pingtan?)``; without any close id, the first known ids are listed instead.
    """
    known = list(dict.fromkeys(known))
    parts: list[str] = []
    suggested = False
    for source_id in missing:
        close = difflib.get_close_matches(source_id, known, n=3, cutoff=0.8)
        suggested = suggested or bool(close)
        parts.append(f"{source_id} (did you mean {' or '.join(close)}?)" if close else source_id)
    noun = "id" if len(missing) == 1 else "ids"
    message = f"unknown source {noun} {', '.join(parts)} in {where}"
    if not suggested:
        shown = ", ".join(known[:8]) + ("…" if len(known) > 8 else "")
        message += f" (it has: {shown})" if known else " (it has no sources)"
    return InputError(message)


def check_sources_file(path: str | Path) -> None:
    """``--sources`` must name an existing file: a missing one is said to be missing, nothing else."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"--sources: no such file: {p} (expected a sources registry or a documents file)")
    if p.is_dir():
        raise InputError(f"--sources: {p} is a directory (expected a sources registry or a documents file)")


def parse_ids(text: str | None) -> list[str] | None:
    """``a,b,c`` as a list of source ids (order kept, duplicates dropped); None for no filter."""
    if text is None:
        return None
    ids = list(dict.fromkeys(i.strip() for i in text.split(",") if i.strip()))
    if not ids:
        raise InputError("--sources-only: no source id given")
    return ids


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """One document to read: where it is on disk and what the caller knows about it."""

    path: str
    source_id: str
    publisher: str | None = None
    year: int | None = None
    source_url: str | None = None
    region_code: str | None = None
    level: str | None = None
    format: str | None = None
    #: the source id is the file name's (no documents-file entry or option named one)
    source_from_name: bool = False


def source_id_from_name(path: Path | str) -> str:
    """A source id from a file name: the stem, NFKC-normalised, lower-cased, spaces → ``_``.

    Non-ASCII stems stay readable (staging and validation paths quote them safely).
    """
    stem = unicodedata.normalize("NFKC", path_text(Path(path).stem)).strip().lower()
    stem = re.sub(r"[\s/\\:]+", "_", stem).strip("._")
    return stem or "document"


def _is_candidate(path: Path) -> bool:
    name = path.name.lower()
    if name.startswith(".") or name.endswith(_SKIP_SUFFIXES):
        return False
    return not any(name.startswith(skip) for skip in _SKIP_NAMES)


def specs_from_paths(paths: list[str | Path]) -> list[DocumentSpec]:
    """Files named on the command line (directories are walked, hidden files and manifests skipped).

    Raises ``InputError`` naming every path that does not exist. Each file's source id is its
    name for now (``source_from_name``): once extracted, the run replaces it with the publisher read
    from the document (``flows.identity``); publisher and year are read from the document.
    """
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise InputError(f"no such file or directory: {', '.join(missing)}")
    specs: list[DocumentSpec] = []
    for raw in paths:
        path = Path(raw)
        files = sorted(p for p in path.rglob("*") if p.is_file() and _is_candidate(p)) if path.is_dir() else [path]
        specs += [
            DocumentSpec(path=str(f.resolve()), source_id=source_id_from_name(f), source_from_name=True) for f in files
        ]
    if not specs:
        raise InputError(f"no documents found in {', '.join(str(p) for p in paths)}")
    return specs


def _entries(path: Path, text: str) -> list[dict[str, Any]]:
    """The raw entries of a documents file, by its suffix (YAML is also the fallback: JSON is YAML)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]
    data: Any = json.loads(text) if suffix == ".json" else safe_load_yaml(text)
    if isinstance(data, dict):
        if "sources" in data and "documents" not in data:
            raise InputError(
                f"{path}: this is a sources registry (listing URLs to harvest); `xxgk run --sources` "
                "takes a documents file with a `path` per document"
            )
        data = data.get("documents")
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise InputError(f"{path}: expected a list of documents (top level or under `documents:`)")
    return data


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def specs_from_file(sources: str | Path) -> list[DocumentSpec]:
    """The documents listed in a documents file; paths are relative to the file.

    Raises ``InputError`` (one line) for an unreadable or malformed file, an entry without
    ``path``, a bad year, or listed files that do not exist.
    """
    path = Path(sources)
    check_sources_file(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read documents file {path}: {err}") from err
    try:
        entries = _entries(path, text)
    except (yaml.YAMLError, json.JSONDecodeError, csv.Error) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"{path}: not a valid documents file ({first})") from err
    base = path.resolve().parent
    specs: list[DocumentSpec] = []
    missing: list[str] = []
    for n, entry in enumerate(entries, start=1):
        rel = _text(entry.get("path") or entry.get("file"))
        if rel is None:
            raise InputError(f"{path}: entry {n} has no `path`")
        file = (base / rel).resolve()
        if not file.is_file():
            missing.append(rel)
            continue
        year_text = _text(entry.get("year"))
        try:
            year = int(year_text) if year_text is not None else None
        except ValueError as err:
            raise InputError(f"{path}: entry {n} ({rel}) has a year that is not a number: {year_text!r}") from err
        specs.append(
            DocumentSpec(
                path=str(file),
                source_id=_text(entry.get("source_id")) or source_id_from_name(file),
                source_from_name=_text(entry.get("source_id")) is None,
                publisher=_text(entry.get("publisher")),
                year=year,
                source_url=_text(entry.get("source_url") or entry.get("url")),
                region_code=_text(entry.get("region_code")),
                level=_text(entry.get("level")),
                format=_text(entry.get("format")),
            )
        )
    if missing:
        more = f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""
        raise InputError(f"{path}: listed files not found: {', '.join(missing[:5])}{more}")
    if not specs:
        raise InputError(f"{path}: lists no documents")
    return specs


def resolve_specs(paths: list[str] | None = None, sources: str | None = None) -> list[DocumentSpec]:
    """Documents from paths and/or a documents file, in the order given, without duplicates."""
    specs: list[DocumentSpec] = []
    if sources:
        specs += specs_from_file(sources)
    if paths:
        specs += specs_from_paths(list(paths))
    if not specs:
        raise InputError("nothing to read: give paths or a documents file")
    seen: set[tuple[str, str]] = set()
    unique: list[DocumentSpec] = []
    for spec in specs:
        key = (spec.path, spec.source_id)
        if key not in seen:
            seen.add(key)
            unique.append(spec)
    return unique


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, read in chunks (documents can be large PDFs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def document_info(spec: DocumentSpec) -> DocumentInfo:
    """The warehouse's provenance record of one local document (hashes its bytes).

    ``fetched_at`` stays empty: a local file was not fetched, and its mtime would make two runs
    over the same bytes publish different rows.
    """
    from xxgk.warehouse.documents import DocumentInfo

    try:
        sha = file_sha256(spec.path)
    except OSError as err:
        raise InputError(f"cannot read {spec.path}: {err.strerror or err}") from err
    return DocumentInfo(
        document_sha256=sha,
        source_id=spec.source_id,
        publisher=spec.publisher,
        year=spec.year,
        format=spec.format,
        source_url=spec.source_url,
        fetched_at=None,
        path=spec.path,
        region_code=spec.region_code,
        level=spec.level,
        source_from_name=spec.source_from_name,
    )
