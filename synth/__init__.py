"""Synthetic 政府信息公开工作年度报告: known values in, documents out, exact expectations back.

``generate_report`` draws a consistent report with real-world defects; ``render_text`` prints
it in the text forms met in practice (``synth.html`` / ``synth.pdf`` print HTML and PDF);
``SyntheticReport.expected_facts()`` is what an exact extractor returns. ``write_sample_set``
regenerates the committed sample set in ``data/sample``.
"""

from xxgk.synth.generate import (
    DEFECTS,
    RUNS_INCOMPATIBLE,
    PrintedDocument,
    PrintedTable,
    Span,
    generate_corpus,
    generate_legacy,
    generate_not_a_report,
    generate_report,
    printed_document,
    source_id_for,
)
from xxgk.synth.report import SyntheticReport
from xxgk.synth.text import FORMS, render_text, value_runs

__all__ = [
    "DEFECTS",
    "FORMS",
    "RUNS_INCOMPATIBLE",
    "PrintedDocument",
    "PrintedTable",
    "Span",
    "SyntheticReport",
    "generate_corpus",
    "generate_legacy",
    "generate_not_a_report",
    "generate_report",
    "printed_document",
    "render_text",
    "source_id_for",
    "value_runs",
]
