"""Cells of a ruled table into a Grid: merged cells expanded into span copies, text and box per cell.

A ruled cell holds one text. Where a producer left a rule out (tables ruled only in part), one
drawn cell covers what the rows around it print as several: a row label and the row's first
number run together (``1.属于国家秘密 111``), or a row's numbers do (``43 14 553``). Read as one
text, the number vanishes into the label and the row's other values move one column to the left;
read as one value, ``43 14 553`` is 4314553. So a drawn cell that holds a value beside other text
is re-read from geometry: every value goes to the grid column it is printed in (the columns the
rules of the other rows draw), the label keeps the columns left of them. Where the columns cannot
separate them, the cells of its rows are ``ambiguous`` (``Cell.hint``, the reason in ``Cell.note``),
never shifted.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from xxgk.extractors.pdf.chars import cell_text, dedupe, text_of_words, word_lines, word_texts
from xxgk.extractors.pdf.content import Char
from xxgk.extractors.pdf.rules import BBox
from xxgk.extractors.pdf.settings import DEFAULT_SETTINGS, PdfSettings
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.values import AMBIGUOUS, has_digit, looks_like_value, may_print_a_value

#: How far (points) a value's box may reach past the rule of its column and still sit inside it.
_SLACK = 1.0

Span = tuple[int, int, int, int]  # r0, r1, c0, c1: rows r0..r1-1, columns c0..c1-1


@dataclass(slots=True)
class _Fill:
    """What one grid position shows: a printed cell's text and box, or one part of a cell split apart."""

    text: str
    anchor: tuple[int, int]  # (row, col) of the cell this position belongs to
    bbox: BBox
    hint: str | None = None
    note: str = ""


@dataclass(slots=True)
class _Split:
    """A drawn cell re-read from geometry: the label keeps columns ``c0..label_end-1``, each other
    position of the cell holds what is printed in it."""

    label_end: int
    label_text: str
    texts: dict[tuple[int, int], str]


def grid_from_cells(
    cells: list[BBox],
    chars: list[Char],
    page_no: int,
    locator: str,
    settings: PdfSettings = DEFAULT_SETTINGS,
    carried_xs: Sequence[float] = (),
) -> Grid:
    """Expand one table's cell boxes into a full grid: span copies for merged cells, text and box per cell.

    ``carried_xs`` are the column rules of the table this one continues (the previous page's): a
    fragment without a header may draw no rule between columns that its first page separates.
    They are used only when some row does not fit without them.
    """
    grid, unplaced = _build_grid(cells, chars, page_no, locator, settings, ())
    if unplaced and carried_xs:
        again, still = _build_grid(cells, chars, page_no, locator, settings, carried_xs)
        if len(still) < len(unplaced):
            again.meta["columns"] = "previous page"
            grid, unplaced = again, still
    if unplaced:
        grid.meta["unplaced_rows"] = ",".join(str(r) for r in sorted(unplaced))
    return grid


def _build_grid(
    cells: list[BBox],
    chars: list[Char],
    page_no: int,
    locator: str,
    settings: PdfSettings,
    carried_xs: Sequence[float],
) -> tuple[Grid, set[int]]:
    """The grid, and the rows whose values could not be placed in columns (their cells ambiguous)."""
    xs = sorted({c[0] for c in cells} | {c[2] for c in cells})
    carried: set[float] = set()
    for x in carried_xs:
        near = min(xs, key=lambda v: abs(v - x))
        if abs(near - x) <= settings.snap_tolerance:
            carried.add(near)
        elif xs[0] < x < xs[-1]:
            carried.add(x)
    xs = sorted(set(xs) | carried)
    ys = sorted({c[1] for c in cells} | {c[3] for c in cells})
    table = _Table(xs, ys, [[-1] * (len(xs) - 1) for _ in range(len(ys) - 1)], [], settings)
    col_of = {x: i for i, x in enumerate(xs)}
    row_of = {y: i for i, y in enumerate(ys)}
    table.carried = {col_of[x] for x in carried}
    for idx, (x0, top, x1, bottom) in enumerate(cells):
        r0, r1, c0, c1 = row_of[top], row_of[bottom], col_of[x0], col_of[x1]
        table.spans.append((r0, r1, c0, c1))
        for r in range(r0, r1):
            for c in range(c0, c1):
                if table.owner[r][c] < 0:
                    table.owner[r][c] = idx
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    buckets: list[list[Char]] = [[] for _ in cells]
    tx0, ttop, tx1, tbottom = xs[0], ys[0], xs[-1], ys[-1]
    for ch in chars:
        hx = (ch["x0"] + ch["x1"]) / 2
        vy = (ch["top"] + ch["bottom"]) / 2
        if not (tx0 <= hx < tx1 and ttop <= vy < tbottom):
            continue
        c = bisect.bisect_right(xs, hx) - 1
        r = bisect.bisect_right(ys, vy) - 1
        if 0 <= r < n_rows and 0 <= c < n_cols and table.owner[r][c] >= 0:
            buckets[table.owner[r][c]].append(ch)
    printed = [word_texts(b, settings) for b in buckets]
    texts = [text_of_words(words) for words in printed]
    # Rows that print values, and columns where a number is printed in some row (by position).
    value_rows = table.value_rows
    for idx, (r0, r1, c0, c1) in enumerate(table.spans):
        text = texts[idx]
        if c1 - c0 == 1 and looks_like_value(text):
            value_rows.update(range(r0, r1))
            if has_digit(text):
                table.value_cols.add(c0)
        elif has_digit(text) and any(looks_like_value(w) and has_digit(w) for line in printed[idx] for w in line):
            for w in _words(buckets[idx], settings):
                if looks_like_value(w["text"]) and has_digit(w["text"]):
                    table.value_cols.add(bisect.bisect_right(xs, (w["x0"] + w["x1"]) / 2) - 1)
                    value_rows.add(min(max(bisect.bisect_right(ys, (w["top"] + w["bottom"]) / 2) - 1, r0), r1 - 1))

    for idx, box in enumerate(cells):
        r0, r1, c0, c1 = span = table.spans[idx]
        cuts = table.expected_cuts(span) if c1 - c0 > 1 and value_rows.intersection(range(r0, r1)) else []
        if not cuts:
            table.fill(idx, span, texts[idx], buckets[idx], box, words=printed[idx])
            continue
        words = _words(buckets[idx], settings)
        if len(words) == 1 and looks_like_value(words[0]["text"]):
            # One value in a cell the rows above cut: merged on purpose, or beside a blank cell
            # whose rule is missing. Its column cannot be told.
            table.fill(idx, span, texts[idx], buckets[idx], box, words=printed[idx])
            why = f"the ruled cell {texts[idx]!r} spans columns that the rows above it separate"
            table.unplace(span, why)
            continue
        straddling = [w for w in words if any(w["x0"] < xs[b] - _SLACK and w["x1"] > xs[b] + _SLACK for b in cuts)]
        if straddling:
            table.fill(idx, span, texts[idx], buckets[idx], box, words=printed[idx])
            why = f"the ruled cell {texts[idx]!r} prints text across a column rule that the rows above it draw"
            table.unplace(span, why)
            continue
        for a, b in itertools.pairwise([c0, *cuts, c1]):
            part = [ch for ch in buckets[idx] if xs[a] <= (ch["x0"] + ch["x1"]) / 2 < xs[b]]
            note = _PLACED if a > c0 else ""
            table.fill(idx, (r0, r1, a, b), cell_text(part, settings), part, (xs[a], ys[r0], xs[b], ys[r1]), note)

    rows: list[list[Cell]] = []
    for r in range(n_rows):
        row: list[Cell] = []
        for c in range(n_cols):
            fill = table.fills.get((r, c))
            if fill is None:
                row.append(
                    Cell("", r, c, page_no, note="no cell drawn here", bbox=(xs[c], ys[r], xs[c + 1], ys[r + 1]))
                )
                continue
            span_of = None if fill.anchor == (r, c) else fill.anchor
            row.append(Cell(fill.text, r, c, page_no, span_of=span_of, hint=fill.hint, note=fill.note, bbox=fill.bbox))
        rows.append(row)
    for r, (why, holders) in table.unplaced.items():
        rows[r] = mark_row_ambiguous(rows[r], why, holders, from_col=min(c for _, c in holders))
    return Grid(rows=rows, locator=locator, page=page_no), set(table.unplaced)


_PLACED = "placed by its printed position: no rule drawn between it and the cell beside it"


@dataclass(slots=True)
class _Table:
    """The grid being filled: column and row boundaries, which drawn cell owns each position."""

    xs: list[float]
    ys: list[float]
    owner: list[list[int]]
    spans: list[Span]
    settings: PdfSettings
    carried: set[int] = field(default_factory=set)  # boundaries (indexes into xs) of the previous page
    value_cols: set[int] = field(default_factory=set)  # columns where some row prints a number
    value_rows: set[int] = field(default_factory=set)  # rows that print values
    fills: dict[tuple[int, int], _Fill] = field(default_factory=dict)
    unplaced: dict[int, tuple[str, set[tuple[int, int]]]] = field(default_factory=dict)

    def expected_cuts(self, span: Span) -> list[int]:
        """Column rules inside a drawn cell, in front of a column that holds numbers, that the table
        draws just above it (or that the previous page drew): a cell of a row with values that
        runs across them is missing a rule. Labels merged across label columns are left alone."""
        r0, _, c0, c1 = span
        cuts = {b for b in range(c0 + 1, c1) if b in self.carried}
        for r in range(r0 - 1, -1, -1):
            anchors = {self.owner[r][c] for c in range(c0, c1)}
            if len(anchors) == 1:
                above = anchors.pop()
                if r not in self.value_rows and above >= 0 and self.spans[above][2:] == (c0, c1):
                    break  # a header merges the same cells: the table merges them on purpose
                continue  # a row of values missing the same rule, a caption, nothing drawn: further up
            cuts.update(b for b in range(c0 + 1, c1) if self.owner[r][b] != self.owner[r][b - 1])
            break
        return sorted(b for b in cuts if b in self.value_cols)

    def fill(
        self,
        idx: int,
        span: Span,
        text: str,
        chars: list[Char],
        box: BBox,
        note: str = "",
        words: list[list[str]] | None = None,
    ) -> None:
        """Fill the positions of ``span`` owned by drawn cell ``idx``; a text that does not fit one
        cell is re-read from geometry, or its rows are marked unplaced. ``words``: the ``word_texts``
        of ``chars`` when the caller has them."""
        r0, r1, c0, c1 = span
        xs, ys = self.xs, self.ys
        outcome = _reread(text, chars, span, xs, ys, self.settings, words) if _may_hold_several(text, span) else None
        mine = [(r, c) for r in range(r0, r1) for c in range(c0, c1) if self.owner[r][c] == idx]
        if isinstance(outcome, _Split):
            label_box = (xs[c0], ys[r0], xs[outcome.label_end], ys[r1])
            for r, c in mine:
                if c < outcome.label_end:
                    self.fills[(r, c)] = _Fill(outcome.label_text, (r0, c0), label_box, note=note)
                else:
                    slot_box = (xs[c], ys[r], xs[c + 1], ys[r + 1])
                    self.fills[(r, c)] = _Fill(outcome.texts.get((r, c), ""), (r, c), slot_box, note=_PLACED)
            return
        for r, c in mine:
            self.fills[(r, c)] = _Fill(text, (r0, c0), box, note=note)
        if isinstance(outcome, str):
            self.unplace(span, outcome)

    def unplace(self, span: Span, why: str) -> None:
        r0, r1, c0, _ = span
        for r in range(r0, r1):
            self.unplaced.setdefault(r, (why, set()))[1].add((r0, c0))


def mark_row_ambiguous(
    row: list[Cell], why: str, holders: Collection[tuple[int, int]] = (), from_col: int = 0
) -> list[Cell]:
    """A row whose values cannot be placed in their columns: from column ``from_col`` on, its value
    cells (blanks included) and the cells that hold the unplaced values (``holders``, by anchor)
    become ``ambiguous``, the reason in their note."""
    out: list[Cell] = []
    for cell in row:
        if cell.col >= from_col and (looks_like_value(cell.text) or (cell.span_of or (cell.row, cell.col)) in holders):
            note = f"{cell.note}; {why}" if cell.note else why
            cell = Cell(
                cell.text,
                cell.row,
                cell.col,
                cell.page,
                span_of=cell.span_of,
                hint=AMBIGUOUS,
                note=note,
                bbox=cell.bbox,
                confidence=cell.confidence,
            )
        out.append(cell)
    return out


def _words(chars: list[Char], settings: PdfSettings) -> list[Char]:
    return [w for line in word_lines(dedupe(chars), settings) for w in line]


def _may_hold_several(text: str, span: Span) -> bool:
    """Cheap test first: a cell spanning grid positions, one printing a gap, or one mixing digits
    with label text can hold two texts; a plain label or a plain value cannot."""
    r0, r1, c0, c1 = span
    if not text or not may_print_a_value(text):
        return False
    return r1 - r0 > 1 or c1 - c0 > 1 or " " in text or (has_digit(text) and not looks_like_value(text))


def _reread(
    text: str,
    chars: list[Char],
    span: Span,
    xs: list[float],
    ys: list[float],
    settings: PdfSettings,
    words: list[list[str]] | None = None,
) -> _Split | str | None:
    """None when the drawn cell holds one text; else its re-reading from geometry (``_Split``), or
    why its values cannot be placed (str). ``words``: the ``word_texts`` of ``chars``, if known."""
    printed_words = [w for line in (word_texts(chars, settings) if words is None else words) for w in line]
    values_printed = [w for w in printed_words if looks_like_value(w)]
    if len(values_printed) < 2 and (
        not any(has_digit(w) for w in values_printed)
        or len(values_printed) == len(printed_words)
        or looks_like_value(text)
    ):
        return None  # no value (a label) or one, in one place: the text alone tells, no geometry needed
    r0, r1, c0, c1 = span
    chars = dedupe(chars)
    lines = word_lines(chars, settings)
    values = [w for line in lines for w in line if looks_like_value(w["text"])]
    labels = [w for line in lines for w in line if not looks_like_value(w["text"])]
    if not any(has_digit(w["text"]) for w in values) and len(values) < 2:
        return None  # a label (a letter-spaced 无 法 提 供 included)
    side_by_side = any(sum(1 for w in line if looks_like_value(w["text"])) >= 2 for line in lines)

    def slot(w: Char) -> tuple[int, int]:
        r = bisect.bisect_right(ys, (w["top"] + w["bottom"]) / 2, r0, r1 + 1) - 1
        c = bisect.bisect_right(xs, (w["x0"] + w["x1"]) / 2, c0, c1 + 1) - 1
        return min(max(r, r0), r1 - 1), min(max(c, c0), c1 - 1)

    slots = {id(w): slot(w) for w in values}
    if not side_by_side and len(set(slots.values())) == 1 and (not labels or looks_like_value(text)):
        return None  # one value: wrapped over lines, or 增 40 letter-spaced

    printed = " ".join(w["text"] for line in lines for w in line)
    first = min(c for _, c in slots.values())
    for w in values:
        r, c = slots[id(w)]
        inside = xs[c] - _SLACK <= w["x0"] and w["x1"] <= xs[c + 1] + _SLACK
        if not (inside and ys[r] - _SLACK <= w["top"] and w["bottom"] <= ys[r + 1] + _SLACK):
            return f"the ruled cell {printed!r} holds values that no rule separates from its other text"
    if any(w["x1"] > xs[first] + _SLACK for w in labels):
        return f"the ruled cell {printed!r} prints label text in a value column"
    by_slot: dict[tuple[int, int], list[Char]] = {}
    for w in values:
        by_slot.setdefault(slots[id(w)], []).append(w)
    for words in by_slot.values():
        if len(words) > 1 and any(
            a is not b and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0 for a in words for b in words
        ):
            return f"the ruled cell {printed!r} prints two values side by side in one column"
    for (r, c), words in by_slot.items():
        below = by_slot.get((r + 1, c))
        if below and min(b["top"] for b in below) - max(w["bottom"] for w in words) < 0.5 * min(
            w["bottom"] - w["top"] for w in words
        ):
            return f"the ruled cell {printed!r} holds a value that may be wrapped over two rows"

    label_chars = [ch for ch in chars if (ch["x0"] + ch["x1"]) / 2 < xs[first]]
    texts: dict[tuple[int, int], str] = {}
    for r in range(r0, r1):
        for c in range(first, c1):
            inside = [
                ch
                for ch in chars
                if xs[c] <= (ch["x0"] + ch["x1"]) / 2 < xs[c + 1]
                and ys[r] <= (ch["top"] + ch["bottom"]) / 2 < ys[r + 1]
            ]
            texts[(r, c)] = cell_text(inside, settings)
    return _Split(first, cell_text(label_chars, settings), texts)


def is_data_table(grid: Grid) -> bool:
    """A table has a row of two or more cells and some text; ruled prose boxes are one cell wide.

    A fragment cut off by a page break may be a single row whose values are all blank
    (行政事业性收费 with nothing printed), so empty cells count as cells.
    """
    if not grid.rows or len(grid.rows[0]) < 2 or not any(c.text for row in grid.rows for c in row):
        return False
    return any(len({c.span_of or (c.row, c.col) for c in row}) >= 2 for row in grid.rows)
