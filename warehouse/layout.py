"""Where the published trees live under a data directory (no pyarrow here: cheap to import)."""

from __future__ import annotations

from pathlib import Path


def warehouse_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "warehouse"


def validation_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "validation"
