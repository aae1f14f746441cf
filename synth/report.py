"""A synthetic report: known printed cells from which every renderer draws a document.

Renderers (text forms, HTML, PDF) turn a ``SyntheticReport`` into bytes; ``expected_facts``
gives the exact facts an extractor must return for it, so golden tests need no hand-written
expectations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xxgk.schemas.model import PROACTIVE, REQUESTS, REVIEW_LITIGATION, SPECS, expected_cells
from xxgk.schemas.values import parse_cell_value

CellKey = tuple[str, str, str]  # (table, row_key, column_key)


@dataclass
class SyntheticReport:
    """Printed text of every canonical cell, plus what a renderer needs around the tables.

    ``cells`` maps (table, row_key, column_key) to the text as printed ("" for a blank cell,
    "增40", "251000元", ...). ``versions`` gives the template version per table and
    ``requests_layout`` whether table 三 splits （六） (v2021) or not (v2019).
    ``defects`` names the real-world defects applied (wrong_total, blank_zeros, ...), for test ids.
    ``labels`` gives the printed text of every label by label id (``requests.row.granted``,
    ``proactive.col.new_made``, ``heading.requests`` ...; see ``synth.generate.canonical_labels``),
    with the label defects applied, so every renderer prints the same labels; empty means canonical.
    """

    publisher: str
    year: int
    versions: dict[str, str]
    requests_layout: str
    cells: dict[CellKey, str]
    title: str = ""
    narrative: str = ""
    defects: tuple[str, ...] = ()
    failing_checks: tuple[str, ...] = field(default_factory=tuple)
    labels: dict[str, str] = field(default_factory=dict)

    def table_cells(self, table: str) -> list[tuple[str, str]]:
        """The (row_key, column_key) pairs this report prints for ``table``, in print order."""
        layout = self.requests_layout if table == REQUESTS else None
        return expected_cells(table, self.versions[table], layout)

    def expected_facts(self) -> list[dict[str, object]]:
        """The facts an exact extractor returns: table, row_key, column_key, raw_text, value, unit, status."""
        out: list[dict[str, object]] = []
        for table in (PROACTIVE, REQUESTS, REVIEW_LITIGATION):
            for row_key, col_key in self.table_cells(table):
                col = SPECS[table].column(col_key)
                raw = self.cells[(table, row_key, col_key)]
                parsed = parse_cell_value(
                    raw, unit=col.unit, signed=col.signed, money=col.money, unit_printed_in_header=col.unit_in_header
                )
                out.append(
                    {
                        "table": table,
                        "row_key": row_key,
                        "column_key": col_key,
                        "raw_text": parsed.raw_text,
                        "value": parsed.value,
                        "unit": parsed.unit,
                        "status": parsed.status,
                    }
                )
        return out
