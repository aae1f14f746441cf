"""What a data directory has published, for tests that compare runs file by file."""

from __future__ import annotations

from pathlib import Path


def snapshot(data_dir: Path) -> dict[str, tuple[bytes, int]]:
    """Every published file (warehouse + validation, hidden files left out): its bytes and mtime."""
    out: dict[str, tuple[bytes, int]] = {}
    for sub in ("warehouse", "validation"):
        for path in sorted((data_dir / sub).rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                out[str(path.relative_to(data_dir))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


#: The run history of the validation index: what each run changed and when, so it differs between
#: two runs into two directories (or one run and a backfill) by design; everything else may not.
RUN_HISTORY = ("validation/history.json", "validation/history.js")


def contents(data_dir: Path) -> dict[str, bytes]:
    """Every published file's bytes (mtimes and the run history left out: two runs into two directories)."""
    return {k: v for k, (v, _) in snapshot(data_dir).items() if k not in RUN_HISTORY}
