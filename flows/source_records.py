"""The registry entry each source was harvested with, kept next to its bytes in the raw archive.

``archive/sources/<source_id>.json``: written at harvest time (``record_sources``), so a backfill
can replay the archive without the registry (or the demo portal) the harvest was started from.
Plain functions, no Prefect import.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from xxgk.harvest import Source
from xxgk.harvest.revisit import RevisitSettings
from xxgk.storage.files import atomic_write_bytes, safe_name

SOURCES_DIR = "sources"


def source_record_path(archive_dir: Path | str, source_id: str) -> Path:
    """``<archive>/sources/<source_id>.json``: the definition the source was last harvested with."""
    return Path(archive_dir) / SOURCES_DIR / f"{safe_name(source_id)}.json"


def _source_to_dict(source: Source) -> dict[str, Any]:
    return dataclasses.asdict(source)


def _source_from_dict(data: dict[str, Any]) -> Source:
    names = {f.name for f in dataclasses.fields(Source)}
    values = {k: v for k, v in data.items() if k in names}
    for key in ("listing_urls", "allowed_hosts"):
        values[key] = tuple(values.get(key) or ())
    values["revisit"] = RevisitSettings.from_registry(values.get("revisit"))
    return Source(**values)


def record_sources(archive_dir: Path | str, sources: list[Source]) -> list[Path]:
    """Write each source's definition next to its archived bytes (atomic; unchanged files untouched).

    Called for every harvested source, so a backfill can replay the archive without the registry
    (or the demo portal) the harvest was started from.
    """
    written: list[Path] = []
    for source in sources:
        path = source_record_path(archive_dir, source.source_id)
        # compact: the C encoder (``indent`` encodes in pure Python; this runs for every source every night)
        text = json.dumps(_source_to_dict(source), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
        data = (text + "\n").encode("utf-8")
        try:
            if path.read_bytes() == data:
                continue
        except FileNotFoundError:
            pass
        atomic_write_bytes(path, data, durable=False)
        written.append(path)
    return written


def archived_source_ids(archive_dir: Path | str) -> list[str]:
    """Ids of the sources the archive holds something for (validator state or a definition)."""
    root = Path(archive_dir)
    ids = {p.stem for p in (root / "state").glob("*.json")} | {p.stem for p in (root / SOURCES_DIR).glob("*.json")}
    return sorted(i for i in ids if not i.startswith("."))


def archived_source(archive_dir: Path | str, source_id: str) -> Source | None:
    """The definition a source was last harvested with, or None when the archive has none."""
    path = source_record_path(archive_dir, source_id)
    if not path.is_file():
        return None
    return _source_from_dict(json.loads(path.read_text(encoding="utf-8")))
