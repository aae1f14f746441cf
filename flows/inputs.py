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
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # the warehouse package pulls in pyarrow/pandas: keep `xxgk --help` fast
    from warehouse.documents import DocumentInfo

#: File names that are never documents when a directory is given (manifests, notes, checksums).
_SKIP_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".sha256", ".gitkeep")
_SKIP_NAMES = ("readme", "manifest", "license")
_HASH_CHUNK = 1 << 20


class InputError(ValueError):
    """Inputs that stop the run before it starts (missing path, unreadable documents file)."""


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


def source_id_from_name(path: Path | str) -> str:
    """A source id from a file name: the stem, NFKC-normalised, lower-cased, spaces → ``_``.

    Non-ASCII stems stay readable (staging and validation paths quote them safely).
    """
    stem = unicodedata.normalize("NFKC", Path(path).stem).strip().lower()
    stem = re.sub(r"[\s/\\:]+", "_", stem).strip("._")
    return stem or "document"


def _is_candidate(path: Path) -> bool:
    name = path.name.lower()
    if name.startswith(".") or name.endswith(_SKIP_SUFFIXES):
        return False
    return not any(name.startswith(skip) for skip in _SKIP_NAMES)


def specs_from_paths(paths: list[str | Path]) -> list[DocumentSpec]:
    """Files named on the command line (directories are walked, hidden files and manifests skipped).

    Raises ``InputError`` naming every path that does not exist. Each file's source id comes
    from its name; publisher and year are left for the extractor to read from the document.
    """
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise InputError(f"no such file or directory: {', '.join(missing)}")
    specs: list[DocumentSpec] = []
    for raw in paths:
        path = Path(raw)
        files = sorted(p for p in path.rglob("*") if p.is_file() and _is_candidate(p)) if path.is_dir() else [path]
        specs += [DocumentSpec(path=str(f.resolve()), source_id=source_id_from_name(f)) for f in files]
    if not specs:
        raise InputError(f"no documents found in {', '.join(str(p) for p in paths)}")
    return specs


def _entries(path: Path, text: str) -> list[dict[str, Any]]:
    """The raw entries of a documents file, by its suffix (YAML is also the fallback: JSON is YAML)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]
    data: Any = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
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
    from warehouse.documents import DocumentInfo

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
    )
