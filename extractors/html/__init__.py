"""HTML report pages → grids and text.

Reports are published as CMS pages (often GBK, with portal chrome around the article) or as
fragments pasted from Word (labels split over ``<span>``/``<font>``/``<o:p>``, ``&nbsp;`` padding,
merged cells). This package decodes the bytes, finds the report's content among the chrome and
turns every statistical ``<table>`` into a :class:`schemas.grid.Grid` with merged cells expanded.
It knows nothing of canonical keys: ``schemas.mapping`` reads the grids. See docs/formats/html.md.

One module per stage (each imports only the stages before it): ``decode`` (bytes → text by
``extractors.decoding``), ``parse`` (text → lxml tree), ``markup`` (what the page shows as text),
``tables`` (one ``<table>`` → Grid, spans expanded within a ``CellBudget``), ``content`` (the report
among the chrome, its text and grids), ``title`` (the report's title), ``reader`` (``extract_html``).
"""

from __future__ import annotations

from xxgk.extractors.html.decode import decode_html
from xxgk.extractors.html.parse import parse_html
from xxgk.extractors.html.reader import FORMAT, extract_html
from xxgk.extractors.html.tables import CellBudget, cell_text, table_to_grid

__all__ = [
    "FORMAT",
    "CellBudget",
    "cell_text",
    "decode_html",
    "extract_html",
    "parse_html",
    "table_to_grid",
]
