"""Validation reports a person reads: one page per source and year, and an index dashboard over all.

``validation/<source_id>/<year>.json`` and ``.html`` show each document of that source/year: status,
reason and consistency, every failed identity spelled out (printed total, sum of the parts,
difference) with a link that scrolls to and highlights its cells, the failed soft checks
("Warnings": numbers in the text against the tables, cross-year continuity), ambiguous cells, the
tables as printed (merged cells once, canonical keys beside the labels), unmapped rows, and a link
to the archived document. PDF and image documents get a crop of the page region of each failed or
ambiguous cell (``<year>-crops/``), when their cells know where they were printed.

``validation/index.html`` (and ``index.json``) is the dashboard: per source/year one row (status,
consistency, failed checks, warnings, harvest, format, cells, fetched, updated), sortable and
filterable in the page, a summary band with counts and two charts, every source's harvest
problems (also sources that yielded no document), and the recent runs (``history.js``).

Modules: ``naming`` (file names), ``cells`` (operands located in the grids), ``documents`` (JSON
content, consistency), ``cross_year`` (cross-year checks from the warehouse), ``crops`` (page
crops), ``index`` (dashboard model, harvest, history), ``render`` (HTML, SVG), ``wording`` (how a
check's numbers are said), ``writer`` (files).
"""

import importlib
from typing import Any

#: Names this package offers, and the module each comes from, imported on first use (PEP 562): a
#: night with nothing to publish only refreshes the index (``index.refresh_harvest``), and the
#: modules that read the warehouse pull in pyarrow.dataset and pandas (~1.4 s).
_EXPORTS = {
    "VALIDATION_FORMAT": "xxgk.warehouse.validation.naming",
    "CrossYearChecks": "xxgk.warehouse.validation.cross_year",
    "check_comparison": "xxgk.warehouse.validation.wording",
    "check_operands": "xxgk.warehouse.validation.cells",
    "consistency_of": "xxgk.warehouse.validation.documents",
    "document_report": "xxgk.warehouse.validation.documents",
    "prune_validation_reports": "xxgk.warehouse.validation.writer",
    "refresh_harvest": "xxgk.warehouse.validation.index",
    "render_source_html": "xxgk.warehouse.validation.render",
    "source_dir_name": "xxgk.warehouse.validation.naming",
    "write_index": "xxgk.warehouse.validation.index",
    "write_validation_reports": "xxgk.warehouse.validation.writer",
    "year_file_stem": "xxgk.warehouse.validation.naming",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'warehouse.validation' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
