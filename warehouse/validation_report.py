"""Moved to the package ``xxgk.warehouse.validation`` (one module per concern).

Kept as a re-export so existing ``from xxgk.warehouse.validation_report import ...`` lines keep working.
"""

from xxgk.warehouse.validation import (
    VALIDATION_FORMAT,
    CrossYearChecks,
    check_operands,
    document_report,
    prune_validation_reports,
    render_source_html,
    source_dir_name,
    write_index,
    write_validation_reports,
    year_file_stem,
)

__all__ = [
    "VALIDATION_FORMAT",
    "CrossYearChecks",
    "check_operands",
    "document_report",
    "prune_validation_reports",
    "render_source_html",
    "source_dir_name",
    "write_index",
    "write_validation_reports",
    "year_file_stem",
]
