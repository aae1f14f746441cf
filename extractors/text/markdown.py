"""Markdown reports (mostly PDF→Markdown conversions): pipe tables → grids.

Converters break a printed table into fragments (a new ``|---|`` header wherever a page or a
merged cell confused them), leave labels outside the tables as loose lines, pad rows with
empty cells and add page footers. The rules here are deliberately plain:

* every pipe-table fragment is its own grid, in document order; the mapper stitches
  continuations (it knows the template's row order, the extractor does not);
* a converter writes every row with the fragment's width: a row with fewer label cells than
  its fragment is shifted left and its surplus trailing empties are padding, dropped;
* merged cells repeated into every column they span become span copies (``Cell.span_of``);
* an empty value cell is a blank, unless the document fills all its other value cells (then
  it was lost in the conversion and is marked ``ambiguous``: blank or dropped, nobody can tell);
* loose lines are read with the text-stream parser; only rows it splits cleanly (and the
  table-二 captions/headers above them) are kept, so footers, page numbers and label
  fragments never become rows.
"""

from __future__ import annotations

import re

from xxgk.extractors.text.common import is_value
from xxgk.extractors.text.stream_tables import parse_stream
from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.labels import is_leaf_label
from xxgk.schemas.values import AMBIGUOUS

__all__ = ["is_markdown", "parse_markdown", "pipe_cells"]

_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _is_pipe_separator(line: str) -> bool:
    return line.lstrip()[:1] in {"|", ":", "-"} and "---" in line and bool(_PIPE_SEPARATOR.match(line))


def is_markdown(lines: list[str]) -> bool:
    """A pipe table: a ``|---|`` separator and at least three pipe rows."""
    return any(_is_pipe_separator(ln) for ln in lines) and sum(1 for ln in lines if _PIPE_ROW.match(ln)) >= 3


_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_LOST_NOTE = "empty cell in a converted table whose other value cells are all filled: probably lost in conversion"


def pipe_cells(line: str, number: int) -> list[Cell]:
    """The cells of one pipe row (``\\|`` is a literal bar): line number and pipe column (0-based).

    The column is the cell's position in the pipe row, so a cell's ``col`` names the same table
    column in every row of a fragment (as in every other grid), and line + column find it.
    """
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells: list[Cell] = []
    for index, part in enumerate(re.split(r"(?<!\\)\|", body)):
        text = _BR.sub("\n", part).replace("\\|", "|").strip()
        cells.append(Cell(text, number, index))
    return cells


def _is_value(cell: Cell) -> bool:
    return is_value(cell.text)


def _label_count(cells: list[Cell]) -> int:
    """Cells up to the last one that reads as a label (the mapper's split)."""
    return max((i + 1 for i, c in enumerate(cells) if c.text and not _is_value(c)), default=0)


def _fragment_rows(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Drop the padding converters add, and mark the copies of merged cells.

    Converters write every row with the fragment's width. A row with fewer label cells than
    the fragment's other data rows (``一、本年新收…`` beside ``三、 | （一）予以公开``) is shifted
    left, and as many trailing empty cells as it is short are padding; label-only rows lose
    their trailing empties. Other empty cells are printed cells (blank, or lost: see
    ``_mark_lost_cells``). A cell repeating its left neighbour is a copy of a merged cell when
    it is a label, or when the header row above it is merged over the same columns.
    """
    data = [cells for cells in rows if any(_is_value(c) for c in cells[_label_count(cells) :])]
    widest_labels = max((_label_count(cells) for cells in data), default=0)
    out: list[list[Cell]] = []
    header: list[Cell] | None = None
    for cells in rows:
        labels = _label_count(cells)
        is_data = any(_is_value(c) for c in cells[labels:])
        if not is_data and labels and labels < len(cells) and is_leaf_label(cells[labels - 1].text, False):
            is_data = True  # a table row printed with every value cell blank (规章 |  |  |)
        k = len(cells)
        # a row with fewer labels is shifted left, unless empty cells (its merged label written
        # as empties) fill the gap between its labels and its values
        gap = next((i for i, c in enumerate(cells[labels:]) if c.text), len(cells) - labels)
        limit = max(0, widest_labels - labels - gap) if is_data else len(cells)
        while k > 0 and not cells[k - 1].text and len(cells) - k < limit:
            k -= 1
        kept = _mark_copies(cells[:k], labels, header if is_data else None)
        if not is_data and len({c.text for c in kept if c.text}) >= 2:
            header = kept
        if kept:
            out.append(kept)
    return out


def _mark_copies(cells: list[Cell], labels: int, header: list[Cell] | None) -> list[Cell]:
    out: list[Cell] = []
    for i, c in enumerate(cells):
        left = out[-1] if out else None
        same = left is not None and c.text == cells[i - 1].text  # blank merged cells repeat as blanks
        if same and i < labels and c.text:
            copy = True
        elif same and header is not None and i < len(header):
            copy = bool(header[i].text) and header[i].text == header[i - 1].text
        else:
            copy = False
        if copy and left is not None:
            origin = left.span_of or (left.row, left.col)
            out.append(Cell(c.text, c.row, c.col, span_of=origin))
        else:
            out.append(c)
    return out


def _is_data_row(cells: list[Cell]) -> bool:
    labels = _label_count(cells)
    return any(_is_value(c) for c in cells[labels:]) or (
        0 < labels < len(cells) and is_leaf_label(cells[labels - 1].text, False)
    )


def _mark_lost_cells(grids: list[list[list[Cell]]]) -> None:
    """Empty value cells in a document that otherwise fills every value cell were lost, not blank.

    A report that prints its zeros and leaves one cell empty has lost that cell in the
    conversion (which text went missing cannot be told); a report that leaves zeros blank
    uses empty cells as blanks. The cut is one cell or 2% of the value cells, whichever is more.
    """
    values = [
        (rows, r, i)
        for rows in grids
        for r, cells in enumerate(rows)
        for i in range(_label_count(cells), len(cells))
        if _is_data_row(cells) and not cells[i].is_span_copy
    ]
    empty = [(rows, r, i) for rows, r, i in values if not rows[r][i].text]
    if not empty or len(empty) > max(1, 0.02 * len(values)):
        return
    for rows, r, i in empty:
        c = rows[r][i]
        rows[r][i] = Cell("", c.row, c.col, hint=AMBIGUOUS, note=_LOST_NOTE)


def parse_markdown(text: str) -> tuple[list[Grid], list[str]]:
    """Grids of the pipe-table fragments and of the cleanly split loose rows, in document order."""
    lines = text.split("\n")
    fragments: list[list[list[Cell]]] = []
    current: list[list[Cell]] = []
    loose = list(lines)

    def close() -> None:
        nonlocal current
        if current:
            fragments.append(current)
        current = []

    for number, line in enumerate(lines, 1):
        if _is_pipe_separator(line):
            loose[number - 1] = ""
            if len(current) > 1:  # the row above the separator heads a new fragment
                head = current.pop()
                close()
                current = [head]
            continue
        if _PIPE_ROW.match(line):
            loose[number - 1] = ""
            current.append(pipe_cells(line, number))
            continue
        close()
    close()

    placed: list[tuple[int, list[list[Cell]]]] = []
    tables = [rows for rows in (_fragment_rows(frag) for frag in fragments) if rows]
    _mark_lost_cells(tables)
    placed += [(rows[0][0].row, rows) for rows in tables]
    # loose lines are mostly prose and label fragments: only the rows kept below are reported on
    stream_grids, _ = parse_stream("\n".join(loose))
    warnings: list[str] = []
    for grid in stream_grids:
        for rows in _clean_loose_rows(grid.rows, warnings):
            placed.append((rows[0][0].row, rows))
    placed.sort(key=lambda item: item[0])
    grids = [Grid(rows, f"text block {i}") for i, (_, rows) in enumerate(placed, 1)]
    return grids, warnings


def _clean_loose_rows(rows: list[list[Cell]], warnings: list[str]) -> list[list[list[Cell]]]:
    """Runs of loose rows worth keeping: rows with settled values, and table-二 captions/headers above them."""
    runs: list[list[list[Cell]]] = []
    run: list[list[Cell]] = []
    context: list[list[Cell]] = []
    for cells in rows:
        has_values = any(_is_value(c) or c.hint for c in cells[1:])
        joined = "".join(c.text for c in cells)
        if not has_values:
            if lx.BLOCK_CAPTION_WORD in joined or lx.PROACTIVE_HEADER_WORDS[0] in joined:
                context.append(cells)
            continue
        if any(c.hint for c in cells):
            warnings.append(f"loose text row {' '.join(c.text for c in cells)!r} not split cleanly: ignored")
            continue
        run.extend(context)
        context = []
        run.append(cells)
    if run:
        runs.append(run)
    return runs
