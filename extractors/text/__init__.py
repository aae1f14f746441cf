"""Text reports: plain-text and Markdown exports of 政府信息公开工作年度报告 turned into grids.

Forms met in practice, each losing the table differently (one module each):

* **markdown** pipe tables (PDF→Markdown conversions): ``markdown``;
* **tabbed** (the seed ``yuelu_2020.txt``): a tab starts a cell, a blank line ends a row: ``tabbed``;
* **layout** (``pdftotext -layout``): a row per line, columns separated by runs of spaces: ``layout``;
* **stream** (crawler exports): cells of a row run together, found by their labels and split
  under the identities (``stream_tables``, ``stream``, ``runs``, ``joint``).

``FORMS`` lists them in the order they are recognised; a new form is a module with a
``detect(lines) -> bool`` and a ``parse(text) -> (grids, warnings)`` plus one line there. Every
form ends as ``schemas.grid.Grid`` objects (locator ``text block N``) whose cells carry the
1-based line number (``Cell.row``) and the character offset in that line (``Cell.col``), so
every fact traces back to the printed text; the shared mapper does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from xxgk.extractors.base import RawDocument
from xxgk.extractors.decoding import decode_plain_text
from xxgk.extractors.text.common import is_value
from xxgk.extractors.text.joint import solve_requests
from xxgk.extractors.text.layout import is_layout_row, parse_layout
from xxgk.extractors.text.markdown import is_markdown, parse_markdown, pipe_cells
from xxgk.extractors.text.runs import RunSplit, split_run
from xxgk.extractors.text.stream_tables import parse_stream
from xxgk.extractors.text.tabbed import parse_tabbed
from xxgk.schemas.classify import find_title
from xxgk.schemas.grid import Grid

__all__ = [
    "FORMS",
    "RunSplit",
    "decode_text",
    "detect_form",
    "extract_text",
    "parse_layout",
    "parse_markdown",
    "parse_stream",
    "parse_tabbed",
    "pipe_cells",
    "solve_requests",
    "split_run",
]


@dataclass(frozen=True, slots=True)
class TextForm:
    """One way a text export prints its tables: how to recognise it and how to read it."""

    name: str
    detect: Callable[[list[str]], bool]
    parse: Callable[[str], tuple[list[Grid], list[str]]]
    document_format: str = "text"


def _tabbed(lines: list[str]) -> bool:
    return sum(1 for ln in lines if "\t" in ln and ln.strip()) >= 6


def _layout(lines: list[str]) -> bool:
    return sum(1 for ln in lines if is_layout_row(ln)) >= 4


#: The text forms in the order they are recognised; ``stream`` reads whatever is left.
FORMS: tuple[TextForm, ...] = (
    TextForm("markdown", is_markdown, parse_markdown, "markdown"),
    TextForm("tabbed", _tabbed, lambda text: (parse_tabbed(text), [])),
    TextForm("layout", _layout, lambda text: (parse_layout(text), [])),
    TextForm("stream", lambda lines: True, parse_stream),
)
_STREAM = FORMS[-1]


def detect_form(text: str) -> str:
    """markdown, tabbed, layout or stream, from how the lines look (not from the file name)."""
    lines = text.split("\n")
    return next(form.name for form in FORMS if form.detect(lines))


def decode_text(data: bytes, encoding: str | None = None, *, http_charset: str | None = None) -> tuple[str, str, list[str]]:
    """(text, encoding used, warnings) of a text export, newlines normalised to ``\\n``.

    Bytes become text by the one charset policy (``extractors.decoding``): ``encoding`` is the
    per-source setting, ``http_charset`` the declared charset. A few undecodable bytes are
    replaced and counted in the warnings, as for HTML; mostly undecodable bytes raise
    ``ExtractionError("failed", ...)``.
    """
    decoded = decode_plain_text(data, declared=http_charset, override=encoding)
    text = decoded.text.replace("\r\n", "\n").replace("\r", "\n")
    return text, decoded.encoding, list(decoded.notes)


def extract_text(data: bytes, *, encoding: str | None = None, http_charset: str | None = None) -> RawDocument:
    """Grids of a text or Markdown report, its text, title and warnings (format text/markdown)."""
    text, _, warnings = decode_text(data, encoding, http_charset=http_charset)
    title = find_title(text)
    lines = text.split("\n")
    form = next(f for f in FORMS if f.detect(lines))
    grids, more = form.parse(text)
    if form.document_format == "text" and form is not _STREAM and not _has_values(grids):
        # the form guess was wrong (no row carries a number): the label stream still works
        grids, more = _STREAM.parse(text)
    return RawDocument(form.document_format, grids, text, title, warnings + more)


def _has_values(grids: Iterable[Grid]) -> bool:
    return any(is_value(c.text) for g in grids for row in g.rows for c in row if c.text)
