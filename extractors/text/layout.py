"""The layout form (``pdftotext -layout``): a row per line, columns separated by runs of spaces.

Labels wrap over several lines above and below the line that carries the numbers; numbers of
a tall cell sit on the line of its vertical middle; vertical text prints one character per line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from xxgk.extractors.text.common import compact, is_value
from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.labels import fold_label, is_complete_label, is_leaf_label, match_requests_leaf, table_of_heading
from xxgk.schemas.model import PROACTIVE, PROACTIVE_SPEC


def is_layout_row(line: str) -> bool:
    """A label, a run of 2+ spaces, then only numbers (``规章      0      0      0``)."""
    if "  " not in line or len(line) > 600:
        return False
    parts = re.split(r"\s{2,}", line.strip())
    if len(parts) < 2 or is_value(parts[0]):
        return False
    tail = " ".join(parts[1:]).split()
    return bool(tail) and all(is_value(t) for t in tail)


@dataclass(slots=True)
class _Chunk:
    text: str
    line: int
    start: int
    end: int
    value: bool


@dataclass(slots=True)
class _Label:
    """A label of a layout table, grown by the wrapped fragments below it."""

    text: str
    line: int
    last: int
    start: int
    end: int
    marker: bool
    owner: int | None = None  # index of the value line it labels


#: What opens a label: an enumerator (一、 （二） 1.) or a block caption (第二十条).
_LABEL_START = re.compile(
    rf"^(?:[{lx.CN_NUMERALS}]{{1,2}}[、.]|[（(][{lx.CN_NUMERALS}\d]{{1,2}}[)）]|\d{{1,2}}[.．、]\D|{lx.BLOCK_CAPTION_WORD})"
)


def _display_columns(line: str) -> list[int]:
    """Display column of every character offset (CJK and full-width characters take two columns)."""
    cols = [0]
    for ch in line:
        cols.append(cols[-1] + (2 if unicodedata.east_asian_width(ch) in {"W", "F"} else 1))
    return cols


def _chunks(line: str, number: int, wide: bool = False) -> list[_Chunk]:
    """Cells of a layout line: runs separated by 2+ spaces; value tokens are cells of their own.

    Positions are character offsets, or display columns when ``wide`` (text aligned for a
    terminal, where a CJK character is two columns wide).
    """
    out: list[_Chunk] = []
    line = line.replace("\t", "  ")
    pos = _display_columns(line) if wide else range(len(line) + 1)
    for m in re.finditer(r"\S+(?: \S+)*", line):
        words = [
            (w.group(), pos[m.start() + w.start()], pos[m.start() + w.end()]) for w in re.finditer(r"\S+", m.group())
        ]
        k = len(words)
        while k > 0 and is_value(words[k - 1][0]):
            k -= 1
        if k:
            out.append(_Chunk(" ".join(w for w, _, _ in words[:k]), number, words[0][1], words[k - 1][2], False))
        out.extend(_Chunk(w, number, a, b, True) for w, a, b in words[k:])
    return out


def _starts_label(text: str) -> bool:
    return bool(_LABEL_START.match(compact(text)))


def parse_layout(text: str) -> list[Grid]:
    """Rows of ``pdftotext -layout`` text inside the statistical sections.

    Numbers of a tall cell are printed on the line of its vertical middle, so they can sit on a
    line of their own above or below their label. Per line: stacked label-only lines with
    several cells and no row marker are one header row (merged by column); a fragment that
    starts a label (``（二）``, ``1.``, ``第二十条``) or sits in no label's column opens a label,
    one under a label's column continues it; a line of numbers alone takes the nearest open
    label (two lines up or down, the right-most column first: leaf rows are right of their
    group labels). Vertical text (one character per line) is joined into one label. Rows with
    fewer numbers than their block are aligned to the columns of the full rows, so blank cells
    stay blank instead of shifting numbers left.
    """
    lines = text.split("\n")
    lo, hi = _layout_region(lines)
    kept = [i for i in range(lo, hi) if lines[i].strip() and not lx.PAGE_NUMBER.match(lines[i])]
    wide = _aligned_by_display_width([lines[i] for i in kept])
    items = [(i + 1, _chunks(lines[i], i + 1, wide)) for i in kept]
    vertical = _vertical_labels(items)
    rows: list[tuple[int, int, str, list[Cell]]] = []  # (line, col, kind, cells) to be sorted
    anchors: dict[int, list[tuple[int, int]]] = {}  # header line → its finest column extents
    labels: list[_Label] = []
    value_lines: list[tuple[int, list[_Chunk], list[_Label]]] = []  # (line, values, own labels)
    k = 0
    after_heading = True  # the region starts at a caption or heading
    while k < len(items):
        number, chunks = items[k]
        if not chunks:
            k += 1
            continue
        values = [c for c in chunks if c.value]
        if values:
            after_heading = False
            own = [_new_label(c) for c in chunks if not c.value]
            if own and not own[0].marker and not is_leaf_label(own[0].text, False):
                host = _overlapping(labels, own[0], open_only=True)
                if host is not None:  # the label started above this line: "（二）部分公开…只计" / "这一情形…"
                    host.text += own[0].text
                    host.last = number
                    own[0] = host
                    labels.remove(host)
            for lab in own:
                lab.owner = len(value_lines)
            labels.extend(own)
            value_lines.append((number, values, own))
            k += 1
            continue
        j = k
        while (
            j < len(items)
            and items[j][1]
            and not any(c.value or _starts_label(c.text) for c in items[j][1])
            and not (len(items[j][1]) == 1 and _is_row_title(items[j][1][0].text))  # 规章 printed with blanks
        ):
            j += 1
        # a header sits right under a caption or a section heading (not the rest of a wrapped caption)
        open_caption = next((lab for lab in reversed(labels) if _incomplete_caption(lab.text)), None)
        if open_caption is not None and _overlapping([open_caption], _new_label(chunks[0]), open_only=False):
            j = k
        if after_heading and any(len(items[x][1]) >= 2 for x in range(k, j)):
            cells = _merge_columns(items[k:j])
            rows.append((number, cells[0].col, "header", cells))
            anchors[number] = _leaf_columns(items[k:j])
            k = j
            after_heading = False
            continue
        previous: _Label | None = None
        for c in chunks:
            piece = _new_label(c)
            host = _overlapping(labels, piece, open_only=False)
            if host is not None and piece.marker and not _incomplete_caption(host.text):
                host = None  # a marker opens a new label, except the rest of a caption (第二十条第 / （八）项)
            if host is None and not piece.marker and previous is not None:
                host = previous  # a label broken by a wide gap on its own line
            if host is not None:
                host.text += piece.text
                host.last = number
                previous = host
            else:
                labels.append(piece)
                previous = piece
        after_heading = previous is not None and _starts_block([Cell(previous.text)])
        k += 1
    # numbers printed on a line of their own take the nearest open label
    for index, (number, _, own) in enumerate(value_lines):
        if own:
            continue
        free = [
            lab
            for lab in labels
            if lab.owner is None and not lab.text.startswith(lx.BLOCK_CAPTION_WORD) and _distance(lab, number) <= 2
        ]
        if free:
            best = min(free, key=lambda lab: (_distance(lab, number), -lab.start, lab.line < number))
            best.owner = index
            own.append(best)
    for number, values, own in value_lines:
        first = min([number, *(lab.line for lab in own)])
        cells = [Cell(lab.text, lab.line, lab.start) for lab in sorted(own, key=lambda x: x.start)]
        cells += [Cell(v.text, v.line, v.start) for v in values]
        rows.append((first, cells[0].col, "data", cells))
    for lab in labels:
        if lab.owner is None:
            rows.append((lab.line, lab.start, "label", [Cell(lab.text, lab.line, lab.start)]))
    for lab in vertical:
        rows.append((lab.line, lab.start, "label", [Cell(lab.text, lab.line, lab.start)]))
    rows.sort(key=lambda r: (r[0], r[1]))
    grid_rows = [r[3] for r in rows]
    kinds = [r[2] for r in rows]
    _align_blanks(grid_rows, kinds, [anchors.get(r[0], []) if r[2] == "header" else [] for r in rows])
    return [Grid(grid_rows, "text block 1")] if grid_rows else []


def _aligned_by_display_width(lines: list[str]) -> bool:
    """Whether the columns line up by display width rather than by character count.

    In the metric the text was laid out in, the numbers of a column share their left edge,
    right edge or centre; in the other one they scatter with the width of the labels before
    them. The metric with fewer distinct number positions wins.
    """
    if not any(unicodedata.east_asian_width(ch) in {"W", "F"} for ln in lines for ch in ln):
        return False

    def positions(wide: bool) -> int:
        values = [c for ln in lines for c in _chunks(ln, 0, wide) if c.value]
        return min(len({c.start for c in values}), len({c.end for c in values}), len({c.start + c.end for c in values}))

    return positions(True) < positions(False)


def _new_label(c: _Chunk) -> _Label:
    return _Label(c.text, c.line, c.line, c.start, c.end, _starts_label(c.text))


_ROW_TITLES = {fold_label(label) for row in PROACTIVE_SPEC.rows for label in row.labels.values()}


def _is_row_title(text: str) -> bool:
    """A whole table-二 row label (``行政强制``): it starts a row, it never continues one."""
    return fold_label(text) in _ROW_TITLES


def _incomplete_caption(text: str) -> bool:
    n = compact(text)
    return n.startswith(lx.BLOCK_CAPTION_WORD) and not lx.BLOCK_CAPTION.search(n)


def _overlapping(labels: list[_Label], piece: _Label, *, open_only: bool) -> _Label | None:
    """The nearest label up to two lines above whose columns the fragment overlaps.

    A known row label (``行政强制`` under ``行政处罚``, both printed without numbers) never
    continues the label above it, and a label already printed whole (``二、上年结转政府信息
    公开申请数量``) is continued by nothing: the fragment below it belongs to another label.
    """
    if _is_row_title(piece.text):
        return None
    best = None
    for lab in labels:
        if open_only and lab.owner is not None:
            continue
        if is_complete_label(lab.text):
            continue
        gap = piece.line - lab.last
        under = piece.start <= lab.end and lab.start <= piece.end  # centred wraps start anywhere under it
        if 0 < gap <= 2 and under and (best is None or lab.last > best.last):
            best = lab
    return best


def _distance(lab: _Label, line: int) -> int:
    if lab.line <= line <= lab.last:
        return 0
    return min(abs(lab.line - line), abs(lab.last - line))


def _vertical_labels(items: list[tuple[int, list[_Chunk]]]) -> list[_Label]:
    """Text printed one character per line (三/、/本/年/度…) → one label; its pieces leave their lines."""
    # a lone 无 reads as a value (none_text) but in a column of single characters it is text (（四）无法提供)
    singles = [
        (li, c)
        for li, (_, chunks) in enumerate(items)
        for c in chunks
        if len(c.text.strip()) <= 2 and (not c.value or c.text.strip() in lx.NONE_WORDS)
    ]
    out: list[_Label] = []
    used: set[int] = set()
    for n, (li, c) in enumerate(singles):
        if id(c) in used:
            continue
        chain = [(li, c)]
        for li2, c2 in singles[n + 1 :]:
            last_li, last_c = chain[-1]
            if abs(c2.start - last_c.start) <= 1 and 0 < items[li2][0] - items[last_li][0] <= 2:
                chain.append((li2, c2))
        if len(chain) >= 3:
            for li2, c2 in chain:
                used.add(id(c2))
                items[li2][1].remove(c2)
            first = chain[0][1]
            text = "".join(c2.text for _, c2 in chain)
            out.append(_Label(text, first.line, chain[-1][1].line, first.start, first.end, _starts_label(text)))
    return out


def _merge_columns(band: Sequence[tuple[int, list[_Chunk]]]) -> list[Cell]:
    """Header lines stacked over each other → one row, cells merged where their columns overlap."""
    cols: list[list] = []  # [start, end, text, line]
    for number, chunks in band:
        for c in chunks:
            hit = next((col for col in cols if c.start <= col[1] and col[0] <= c.end), None)
            if hit:
                hit[0], hit[1], hit[2] = min(hit[0], c.start), max(hit[1], c.end), hit[2] + c.text
            else:
                cols.append([c.start, c.end, c.text, number])
    return [Cell(t, line, start) for start, _, t, line in sorted(cols, key=lambda x: x[0])]


def _leaf_columns(band: Sequence[tuple[int, list[_Chunk]]]) -> list[tuple[int, int]]:
    """The finest columns a header band defines (the bottom cell of every stack)."""
    chunks = [c for _, cs in band for c in cs]
    # a leaf has nothing printed under it: parents (申请人情况, 法人或其他组织) and the first lines
    # of wrapped headers (商业/企业) all have a cell below them

    def covered(c: _Chunk) -> bool:
        below = [o for o in chunks if o.line > c.line]
        if any(o.start < c.end and c.start < o.end for o in below):
            return True  # something is printed under it
        # a piece of a wrapped parent (行政诉/讼) sits in the gap between two cells of a lower line
        return any(
            any(o.line == line and c.start - 3 <= o.end <= c.start for o in below)
            and any(o.line == line and c.end <= o.start <= c.end + 3 for o in below)
            for line in {o.line for o in below}
        )

    leaves = sorted((c.start, c.end) for c in chunks if not covered(c))
    merged: list[list[int]] = []
    for a, b in leaves:
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _align_blanks(rows: list[list[Cell]], kinds: list[str], anchors: list[list[tuple[int, int]]]) -> None:
    """Per block (rows between headers and captions), put every number under its column.

    Columns are the clusters of overlapping horizontal extents of all numbers in the block
    (numbers of one column overlap whether the layout aligned them left, right or centred).
    A row with fewer numbers gets blank cells where it printed nothing, and a known leaf row
    (``5.属于三类内部事务信息``, ``规章``) printed without any number gets a blank per column.
    """
    block: list[int] = []
    header: list[tuple[int, int]] = []
    for idx in [*range(len(rows)), None]:
        if idx is not None and kinds[idx] in {"data", "label"} and not _starts_block(rows[idx]):
            block.append(idx)
            continue
        data = [i for i in block if kinds[i] == "data"]
        _align_block(rows, data, [i for i in block if kinds[i] == "label"], header)
        block = []
        header = anchors[idx] if idx is not None and kinds[idx] == "header" else []


def _starts_block(row: list[Cell]) -> bool:
    """Captions and section headings separate blocks with their own columns."""
    n = compact("".join(c.text for c in row))
    return lx.BLOCK_CAPTION_WORD in n or bool(re.match(lx.SECTION_NUMBER, n) and table_of_heading(n))


def _trailing_value_cells(row: list[Cell]) -> list[Cell]:
    k = len(row)
    while k > 0 and (not row[k - 1].text or is_value(row[k - 1].text)):
        k -= 1
    return row[k:]


def _align_block(rows: list[list[Cell]], data: list[int], label_only: list[int], header: list[tuple[int, int]]) -> None:
    extents = sorted((v.col, v.col + len(v.text)) for i in data for v in _trailing_value_cells(rows[i]) if v.text)
    clusters: list[list[int]] = []
    for a, b in extents:
        if clusters and a < clusters[-1][1]:
            clusters[-1][1] = max(clusters[-1][1], b)
        else:
            clusters.append([a, b])
    widest = max((len(_trailing_value_cells(rows[i])) for i in data), default=0)
    labelled = any(len(rows[i]) > len(_trailing_value_cells(rows[i])) for i in [*data, *label_only])
    from_header = [list(x) for x in (header[1:] if labelled else header)]
    columns: list[list[int]] = []
    if from_header and len(from_header) >= max(widest, 1) and all(_placeable(rows[i], from_header) for i in data):
        columns = from_header  # the header explains every number: its columns, blank ones included
    if not columns:
        if not clusters or len(clusters) < widest:
            return  # numbers too irregular to tell columns apart: leave the rows as printed
        columns = clusters
    for i in data:
        values = [v for v in _trailing_value_cells(rows[i]) if v.text]
        slots = [_slot(columns, v.col, v.col + len(v.text)) for v in values]
        if -1 in slots or len(set(slots)) != len(slots) or slots != sorted(slots):
            continue
        line = values[0].row if values else rows[i][0].row
        placed = [values[slots.index(k)] if k in slots else Cell("", line, a) for k, (a, _) in enumerate(columns)]
        rows[i] = rows[i][: len(rows[i]) - len(_trailing_value_cells(rows[i]))] + placed
    v2021_other = any(
        match_requests_leaf(fold_label(c.text)) in {"other.no_correction", "other.fee_unpaid"}
        for i in [*data, *label_only]
        for c in rows[i]
    )
    for i in label_only:
        if len(rows[i]) == 1 and is_leaf_label(rows[i][0].text, v2021_other):
            rows[i] = rows[i] + [Cell("", rows[i][0].row, a) for a, _ in columns]


def _placeable(row: list[Cell], columns: Sequence[Sequence[int]]) -> bool:
    """Each number of the row falls in its own column, left to right."""
    slots = [_slot(columns, v.col, v.col + len(v.text)) for v in _trailing_value_cells(row) if v.text]
    return -1 not in slots and slots == sorted(set(slots))


def _slot(columns: Sequence[Sequence[int]], a: int, b: int) -> int:
    """The column an extent [a, b) falls in: the one it overlaps most, else the nearest centre."""
    overlap = [(min(b, hi) - max(a, lo), k) for k, (lo, hi) in enumerate(columns)]
    best = max(overlap)
    if best[0] > 0:
        return best[1]
    centre = (a + b) / 2
    k = min(range(len(columns)), key=lambda k: abs((columns[k][0] + columns[k][1]) / 2 - centre))
    lo, hi = columns[k]
    return k if abs((lo + hi) / 2 - centre) <= max(hi - lo, b - a) else -1


def _layout_region(lines: list[str]) -> tuple[int, int]:
    """Lines from the first statistical table to the closing sections (五/六), or all lines."""
    start, end = None, len(lines)
    for i, line in enumerate(lines):
        n = compact(line)
        if start is None and (
            lx.BLOCK_CAPTION_WORD in n or (table_of_heading(n) == PROACTIVE and re.match(lx.SECTION_NUMBER, n))
        ):
            start = i
        elif start is not None and lx.CLOSING_HEADING.match(n):
            end = i
            break
    if start is None:
        for i, line in enumerate(lines):
            n = compact(line)
            if lx.REQUESTS_HEADING.match(n) or lx.REQUEST_ROW_CORES["new_requests"][0] in n:
                start = i
                break
    return (start or 0), end
