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

from xxgk.warehouse.validation.cells import check_operands
from xxgk.warehouse.validation.cross_year import CrossYearChecks
from xxgk.warehouse.validation.documents import consistency_of, document_report
from xxgk.warehouse.validation.naming import VALIDATION_FORMAT, source_dir_name, year_file_stem
from xxgk.warehouse.validation.render import render_source_html
from xxgk.warehouse.validation.wording import check_comparison
from xxgk.warehouse.validation.writer import (
    prune_validation_reports,
    refresh_harvest,
    write_index,
    write_validation_reports,
)

__all__ = [
    "VALIDATION_FORMAT",
    "CrossYearChecks",
    "check_comparison",
    "check_operands",
    "consistency_of",
    "document_report",
    "prune_validation_reports",
    "refresh_harvest",
    "render_source_html",
    "source_dir_name",
    "write_index",
    "write_validation_reports",
    "year_file_stem",
]
