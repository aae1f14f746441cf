"""Render a synthetic report as an XLSX workbook (XlsxWriter), as portals attach them.

The tables are ``synth.generate.printed_document``'s with their merged cells written as the
sheet's merge list (``merge_range``): 三、本年度办理结果 over the outcome rows, 法人或其他组织 over
five columns, and so on. A printed count or amount goes in as a number cell when the number
reads back as the same text (``3119``, ``7730.28``), as spreadsheets store them; anything else
(``增40``, ``56,284``, ``１７５``, a dash, ``12.50``) stays a text cell, so
``SyntheticReport.expected_facts()`` stays exact. The title and the narrative are typed into
column A above and between the tables, with an empty row around each table.

Options: ``split_requests`` cuts table 三 into two blocks (an empty row between them, the
merged labels continuing as empty merged cells, as a table split over two printed pages);
``sheet_per_table`` puts each table on its own sheet; ``hidden_sheet`` adds a hidden first
sheet holding a stale copy of table 四 with other numbers, which a reader must not take.
"""

from __future__ import annotations

import io
import re
from typing import Any

import xlsxwriter

from xxgk.extractors.sheets import number_text
from xxgk.schemas.model import REQUESTS, REVIEW_LITIGATION
from xxgk.synth.docx import FIXED_TIME
from xxgk.synth.generate import PrintedDocument, PrintedTable, Span, printed_document
from xxgk.synth.html import _positions, _requests_cut, split_table
from xxgk.synth.report import SyntheticReport

_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SHEET_NAMES = {"proactive": "表二 主动公开", REQUESTS: "表三 依申请公开", REVIEW_LITIGATION: "表四 复议诉讼"}


def _number(text: str) -> float | int | None:
    """The number a spreadsheet would store for ``text``, when it reads back as the same text."""
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    value = float(text)
    if number_text(value) != text:
        return None
    return int(value) if value.is_integer() else value


class _Sheet:
    """A worksheet being filled top to bottom."""

    def __init__(self, ws: Any, formats: dict[str, object]) -> None:
        self.ws = ws
        self.row = 0
        self.formats = formats

    def line(self, text: str) -> None:
        self.ws.write_string(self.row, 0, text)
        self.row += 1

    def gap(self) -> None:
        self.row += 1

    def _write(self, r: int, c: int, span: Span) -> None:
        number = _number(span.text) if span.key is not None else None
        fmt = self.formats["value" if span.key is not None else "label"]
        last_r, last_c = r + span.rowspan - 1, c + span.colspan - 1
        if (last_r, last_c) != (r, c):
            self.ws.merge_range(r, c, last_r, last_c, number if number is not None else span.text, fmt)
        elif number is not None:
            self.ws.write_number(r, c, number, fmt)
        elif span.text:
            self.ws.write_string(r, c, span.text, fmt)
        else:
            self.ws.write_blank(r, c, None, fmt)

    def table(self, table: PrintedTable) -> None:
        top = self.row
        for r, placed in enumerate(_positions(table)):
            for c, span in placed:
                rowspan = min(span.rowspan, len(table.rows) - r)
                self._write(top + r, c, Span(span.text, rowspan, span.colspan, span.key, span.header))
        self.row = top + len(table.rows)


def _stale_review(ws: Any, table: PrintedTable) -> None:
    """Table 四 as an older draft printed it: the same labels, every number 7 higher."""
    for r, placed in enumerate(_positions(table)):
        for c, span in placed:
            number = _number(span.text) if span.key is not None else None
            value = number + 7 if number is not None else span.text
            if span.rowspan > 1 or span.colspan > 1:
                ws.merge_range(r, c, r + span.rowspan - 1, c + span.colspan - 1, value)
            else:
                ws.write(r, c, value)


def render_xlsx(
    report: SyntheticReport | PrintedDocument,
    *,
    split_requests: bool = False,
    sheet_per_table: bool = False,
    hidden_sheet: bool = False,
) -> bytes:
    """The report as the bytes of an XLSX workbook (see the module docstring for the options)."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    workbook.set_properties({"created": FIXED_TIME.replace(tzinfo=None)})  # the same report, the same bytes
    fill_workbook(
        report, workbook, split_requests=split_requests, sheet_per_table=sheet_per_table, hidden_sheet=hidden_sheet
    )
    workbook.close()
    return out.getvalue()


def fill_workbook(
    report: SyntheticReport | PrintedDocument,
    workbook: Any,
    *,
    split_requests: bool = False,
    sheet_per_table: bool = False,
    hidden_sheet: bool = False,
) -> None:
    """Lay the report out in ``workbook``: an XlsxWriter workbook, or anything with its
    ``add_worksheet``/``add_format`` and worksheets with ``write_*``/``merge_range``/``hide``/
    ``activate`` (the tests write Excel 97 binaries this way)."""
    doc = printed_document(report) if isinstance(report, SyntheticReport) else report
    formats: dict[str, object] = {
        "label": workbook.add_format({"border": 1, "text_wrap": True, "valign": "vcenter"}),
        "value": workbook.add_format({"border": 1, "align": "center", "valign": "vcenter"}),
    }
    tables = [b for b in doc.blocks if isinstance(b, PrintedTable)]
    if hidden_sheet:
        stale = workbook.add_worksheet("旧稿")
        review = next((t for t in tables if t.name == REVIEW_LITIGATION), None)
        if review is not None:
            _stale_review(stale, review)
        stale.hide()
    main = _Sheet(workbook.add_worksheet("报告"), formats)
    main.ws.activate()
    width = max((t.ncols for t in tables), default=1)
    main.ws.merge_range(0, 0, 0, max(width - 1, 1), doc.title, formats["label"])
    main.row = 2
    for block in doc.blocks:
        if isinstance(block, str):
            if block.strip():
                main.line(block)
            continue
        sheet = main
        if sheet_per_table:
            sheet = _Sheet(workbook.add_worksheet(_SHEET_NAMES.get(block.name, block.name)[:31]), formats)
        parts = [block]
        if split_requests and block.name == REQUESTS:
            parts = list(split_table(block, _requests_cut(block)))
        sheet.gap()
        for i, part in enumerate(parts):
            if i:
                sheet.gap()
            sheet.table(part)
        sheet.gap()


__all__ = ["fill_workbook", "render_xlsx"]
