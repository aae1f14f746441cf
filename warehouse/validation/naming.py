"""File names of the validation reports (cheap to import: no pyarrow, no jinja)."""

from __future__ import annotations

from xxgk.storage.files import safe_name
from xxgk.warehouse.documents import UNKNOWN_YEAR

#: Version of the report JSON; files of another version are left out of the index.
VALIDATION_FORMAT = 1
#: Run history and harvest outcomes the index shows, beside it in ``validation/``.
HISTORY_JSON = "history.json"
HISTORY_JS = "history.js"
HARVEST_JSON = "harvest.json"


def source_dir_name(source_id: str) -> str:
    """A directory name for a source id (``storage.files.safe_name``: quoted, bounded, never hidden)."""
    return safe_name(source_id)


def year_file_stem(year: int) -> str:
    return "unknown" if year == UNKNOWN_YEAR else str(year)


def crops_dir_name(year: int) -> str:
    """The folder, beside ``<year>.html``, of that report's page crops."""
    return f"{year_file_stem(year)}-crops"
