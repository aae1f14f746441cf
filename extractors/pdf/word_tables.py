"""Word-position fallback, the tables: tables printed without rules, read from where their words sit.

Value tokens fix the rows (one row per line of values) and the value columns (clusters of their
horizontal centres); label text left of the values joins the nearest row; text over the value
columns makes header rows; a table heading starts a new grid.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Any

from xxgk.extractors.pdf.cells import mark_row_ambiguous
from xxgk.extractors.pdf.printed import TABLE_HEADING_KEYS, clean_pdf_text, marker_hits, norm
from xxgk.extractors.pdf.rules import BBox
from xxgk.extractors.pdf.settings import DEFAULT_SETTINGS, PdfSettings
from xxgk.extractors.pdf.word_pieces import (
    Piece,
    clusters,
    is_value,
    phrases,
    piece_lines,
    stack_fragments,
    vertical_stacks,
)
from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Cell, Grid


def grids_from_words(
    words: list[dict[str, Any]],
    page_no: int,
    first_index: int,
    settings: PdfSettings = DEFAULT_SETTINGS,
    carry: dict[str, list[float]] | None = None,
) -> list[Grid]:
    """Tables without rules, read from word positions.

    Value tokens fix the rows (one row per line of values) and the value columns (clusters of
    their horizontal centres). Text fragments stacked in one cell (wrapped labels, 商业/企业) are
    joined first; label text left of the values is attached to the nearest row of values, so a
    label wrapped around its centred values, or a group label centred beside its rows, lands on
    one row. Text over the value columns makes header rows. A table heading starts a new grid.
    """
    pieces = [
        Piece(clean_pdf_text(w["text"]), w["x0"], w["x1"], w["top"], w["bottom"], float(w.get("size") or 10.0))
        for w in words
        if clean_pdf_text(w["text"])
    ]
    if not pieces:
        return []
    pieces = vertical_stacks(pieces)
    size = sorted(p.size for p in pieces)[len(pieces) // 2]
    lines = piece_lines(pieces, size * 0.5)
    lines = [line for line in lines if len(line) > 3 or not lx.PAGE_NUMBER.match("".join(p.text for p in line))]

    regions: list[list[list[Piece]]] = [[]]
    for line in lines:
        if _is_section_heading(line):
            regions.append([])
            continue
        regions[-1].append(line)

    grids: list[Grid] = []
    for i, region in enumerate(regions):
        if i > 0 and carry is not None:
            carry.clear()  # a section heading ends the table
        locator = f"pdf p.{page_no} table {first_index + len(grids)}"
        grid = _word_table(region, size, settings, page_no, locator, carry)
        if grid is not None:
            grids.append(grid)
    return grids


def _is_section_heading(line: list[Piece]) -> bool:
    """A report section heading (二、主动公开政府信息情况, 五、…改进情况): a table ends there.

    Row labels of table 三 also start with 一、/二、/四、 but never end in 情况 or 事项.
    """
    if any(is_value(p) for p in line):
        return False
    joined = norm("".join(p.text for p in line))
    return any(h in joined for h in TABLE_HEADING_KEYS) or bool(lx.SECTION_HEADING_LINE.match(joined))


def _merge_header_lines(rows: list[dict[str, Any]], size: float) -> list[dict[str, Any]]:
    """Header lines that are one printed header row: a label spanning two header rows is centred
    between them (自然人 beside 法人或其他组织 / 商业企业), so its line falls between the lines of
    the rows it belongs to. Adjacent header lines whose texts do not overlap horizontally are one
    row; a block caption (第二十条第（X）项) spans the table and stays a row of its own."""
    out: list[dict[str, Any]] = []
    for r in rows:
        prev = out[-1] if out else None
        if prev is not None and prev["header"] and r["header"]:
            mine, theirs = r["labels"] + r["values"], prev["labels"] + prev["values"]
            apart = all(min(p.x1, q.x1) <= max(p.x0, q.x0) for p in mine for q in theirs)
            close = min(p.top for p in mine) - max(p.bottom for p in theirs) <= size * 1.5
            captions = any(lx.BLOCK_CAPTION_WORD in p.text for p in mine + theirs)
            if apart and close and not captions:
                out[-1] = {
                    "mid": prev["mid"],
                    "labels": prev["labels"] + r["labels"],
                    "values": prev["values"] + r["values"],
                    "header": True,
                }
                continue
        out.append(r)
    return out


def _word_table(
    lines: list[list[Piece]],
    size: float,
    settings: PdfSettings,
    page_no: int,
    locator: str,
    carry: dict[str, list[float]] | None = None,
) -> Grid | None:
    anchors = [line for line in lines if any(is_value(p) for p in line)]
    # Lines of values that read as table rows (prose with a year in it does not).
    tabular = [
        a
        for a in anchors
        if sum(1 for p in a if is_value(p)) >= 2
        or all(p.x1 <= min(v.x0 for v in a if is_value(v)) for p in a if not is_value(p))
    ]
    if not tabular:
        return None
    values = [p for a in tabular for p in a if is_value(p)]
    edge = min(v.x0 for v in values) + 1.0  # labels end left of here
    low = min(p.top for a in tabular for p in a) - size * 1.6
    high = max(p.bottom for a in tabular for p in a) + size * 1.6
    if not any(not is_value(p) and p.x1 <= edge and low <= p.mid <= high for line in lines for p in line):
        edge = float("-inf")  # rows without labels (table 四): everything is header or value

    # Rows of values, then every text fragment: label text joins a row, the rest is header.
    rows: list[dict[str, Any]] = [
        {
            "mid": sum(p.mid for p in a) / len(a),
            "top": min(p.top for p in a),
            "labels": [],
            "values": [p for p in a if is_value(p)],
            "header": False,
        }
        for a in tabular
    ]
    row_of_line = {id(a): i for i, a in enumerate(tabular)}
    anchored: dict[int, int] = {}
    texts: list[Piece] = []
    for line in lines:
        row = row_of_line.get(id(line))
        words = [p for p in line if not (row is not None and is_value(p))]
        left = phrases([p for p in words if p.x1 <= edge], settings)
        for p in left:
            if row is not None:
                anchored[id(p)] = row
        texts.extend(left)
        texts.extend(p for p in words if p.x1 > edge)
    header: list[Piece] = []
    for block, row in stack_fragments(texts, size, anchored):
        if block.x1 <= edge:
            if row is None:
                nearest = min(range(len(rows)), key=lambda i: abs(rows[i]["mid"] - block.mid))
                if abs(rows[nearest]["mid"] - block.mid) <= size * 1.6:
                    row = nearest
            if row is not None:
                rows[row]["labels"].append(block)
                continue
        header.append(block)

    wide = sum(1 for r in rows if len(r["values"]) >= 3)
    labelled = sum(1 for r in rows if r["labels"])
    if not (wide >= 1 or labelled >= 3):
        # A short block (第二十条第（八）项 alone) is a table when its text names table labels.
        region_text = "".join(p.text for line in lines for p in line if not is_value(p))
        if not (labelled >= 1 and marker_hits(region_text) >= 1):
            return None

    # Header lines: those reaching down to the first row of values, and those between rows.
    # After the last row of values only lines naming table labels count (a row left blank,
    # the caption and header of a block whose rows start on the next page), not prose.
    first_top, last_mid = rows[0]["top"], rows[-1]["mid"]
    header_lines = piece_lines(header, size * 0.5)
    trailing: set[int] = set()
    bottom = max(p.bottom for p in rows[-1]["values"] + rows[-1]["labels"])
    for line in sorted((h for h in header_lines if h[0].mid > last_mid), key=lambda h: h[0].mid):
        if min(p.top for p in line) - bottom > size * 2 or not marker_hits("".join(p.text for p in line)):
            break
        trailing.add(id(line))
        bottom = max(p.bottom for p in line)
    # The last line of column headers above the first row: label lines below it are rows.
    column_heads = [h[0].mid for h in header_lines if h[0].mid < rows[0]["mid"] and any(p.x1 > edge for p in h)]
    last_head = max(column_heads, default=float("-inf"))
    reach = first_top
    for line in sorted(header_lines, key=lambda h: -h[0].mid):
        mid = line[0].mid
        if mid > last_mid and id(line) not in trailing:
            continue  # text after the table
        above = mid < rows[0]["mid"]
        if above:
            if reach - max(p.bottom for p in line) > size * 2:
                continue  # prose above the table
            reach = min(reach, min(p.top for p in line))
        over_values = [p for p in line if p.x1 > edge]
        # A line of labels alone between rows of values, or between the column headers and the
        # first row of values, is a row whose cells are all blank.
        rows.append(
            {
                "mid": mid,
                "labels": [p for p in line if p.x1 <= edge],
                "values": over_values,
                "header": bool(over_values) or (above and mid < last_head),
            }
        )
    rows = _merge_header_lines(sorted(rows, key=lambda r: r["mid"]), size)

    # Sections: a run of header rows starts one; value columns are found per section, so a
    # block of table 二 with one value column is not spread over the columns of the block above.
    sections: list[list[dict[str, Any]]] = []
    for r in rows:
        if not sections or (r["header"] and not sections[-1][-1]["header"]):
            sections.append([])
        sections[-1].append(r)
    section_cols: list[list[float]] = []
    for sec in sections:
        xs = [p.centre for r in sec if not r["header"] for p in r["values"]]
        # Column headers with nothing printed under them name columns too (a column left
        # blank in every row keeps its place); group headers over several columns do not.
        heads = [p for r in sec if r["header"] for p in r["values"]]
        xs += [
            h.centre
            for h in heads
            if not any(o is not h and o.top >= h.bottom - 1 and min(o.x1, h.x1) > max(o.x0, h.x0) for o in heads)
        ]
        section_cols.append(clusters(xs, max(6.0, size * 0.6)) or [0.0])
    # A table continued from the previous page keeps its columns: blank cells of the
    # continuation must not shift the values left.
    if carry and carry.get("cols") and not sections[0][0]["header"]:
        previous = carry["cols"]
        cols = section_cols[0]
        if len(cols) < len(previous) and all(min(abs(x - y) for y in previous) <= size for x in cols):
            section_cols[0] = list(previous)
    if carry is not None:
        carry["cols"] = section_cols[-1]
    n_values = max(len(c) for c in section_cols)

    sub_cols = _label_columns(rows, size)
    placed = [p for r in rows for p in r["labels"] + r["values"]]
    box = (
        min(p.x0 for p in placed),
        min(p.top for p in placed),
        max(p.x1 for p in placed),
        max(p.bottom for p in placed),
    )
    out = _grid_rows(sections, section_cols, sub_cols, n_values, box, page_no)
    grid = Grid(rows=out, locator=locator, page=page_no)
    grid.meta["method"] = "words"
    grid.meta["bbox"] = ",".join(f"{v:.1f}" for v in box)
    return grid


def _label_columns(rows: list[dict[str, Any]], size: float) -> list[float]:
    """Left edges of the label columns (the first is open to the left).

    Where a row prints labels side by side (三、本年度办理结果 | （三）不予公开 | 1.属于国家秘密),
    the left edges of all but the first piece start new columns. Centred labels of one column
    start anywhere inside it, so nearby edges are one boundary.
    """
    edges: list[float] = []
    for r in rows:
        if not r["header"]:
            edges += sorted(p.x0 for p in r["labels"])[1:]
    sub_cols: list[float] = [float("-inf")]
    for x in sorted(edges):
        if len(sub_cols) == 1 or x - sub_cols[-1] > size * 4:
            sub_cols.append(x - size / 2)
    return sub_cols


def _union(pieces: list[Piece]) -> BBox:
    return (
        min(p.x0 for p in pieces),
        min(p.top for p in pieces),
        max(p.x1 for p in pieces),
        max(p.bottom for p in pieces),
    )


def _grid_rows(
    sections: list[list[dict[str, Any]]],
    section_cols: list[list[float]],
    sub_cols: list[float],
    n_values: int,
    table_box: BBox,
    page_no: int,
) -> list[list[Cell]]:
    """The cells of every row: label columns, then value columns, each cell with its box.

    A cell holding text has the box of that text; an empty one the box of its column and row. Two
    values side by side in one value column do not fit the columns: the row's values are
    ``ambiguous``, never joined into one number or moved to another column.
    """
    n_label = len(sub_cols)
    out: list[list[Cell]] = []
    for sec, cols in zip(sections, section_cols, strict=True):
        bounds = [(a + b) / 2 for a, b in itertools.pairwise(cols)]
        sec_values = [p for r in sec if not r["header"] for p in r["values"]]
        half = bounds[0] - cols[0] if bounds else max(((p.x1 - p.x0) / 2 for p in sec_values), default=0.0)
        col_edges = [cols[0] - half, *bounds, cols[-1] + half]
        label_edges = [table_box[0], *sub_cols[1:], min(col_edges[0], table_box[2])]
        for r in sec:
            r_idx = len(out)
            band = _union(r["labels"] + r["values"])
            label_pieces: list[list[Piece]] = [[] for _ in range(n_label)]
            for p in sorted(r["labels"], key=lambda p: (p.top, p.x0)):
                label_pieces[max(bisect.bisect_right(sub_cols, p.x0) - 1, 0)].append(p)
            slot_pieces: list[list[Piece]] = [[] for _ in cols]
            collision = ""
            for p in sorted(r["values"], key=lambda p: (p.top, p.x0)):
                c = bisect.bisect_right(bounds, p.centre)
                if not r["header"] and any(min(p.bottom, q.bottom) - max(p.top, q.top) > 0 for q in slot_pieces[c]):
                    shown = " ".join(q.text for q in [*slot_pieces[c], p])
                    collision = f"values printed side by side fall into one column ({shown!r}): the row's values cannot be placed"
                slot_pieces[c].append(p)
            cells: list[Cell] = []
            for k, pieces in enumerate(label_pieces):
                slot = (label_edges[k], band[1], label_edges[k + 1], band[3])
                cells.append(_cell(pieces, r_idx, len(cells), page_no, slot, apart=False))
            for c, pieces in enumerate(slot_pieces):
                slot = (col_edges[c], band[1], col_edges[c + 1], band[3])
                cells.append(_cell(pieces, r_idx, len(cells), page_no, slot, apart=not r["header"]))
            if r["header"]:
                # A header label is centred over the columns it spans: carry it to the right
                # over the empty header cells, as span copies (the ruled grid has them).
                for c_idx in range(n_label + 1, len(cells)):
                    prev = cells[c_idx - 1]
                    if not cells[c_idx].text and prev.text:
                        anchor = prev.span_of or (r_idx, prev.col)
                        cells[c_idx] = Cell(prev.text, r_idx, c_idx, page_no, span_of=anchor, bbox=prev.bbox)
            # A section with fewer value columns: its last column spans the rest, as ruled.
            last = cells[-1]
            for extra in range(len(cells), n_label + n_values):
                cells.append(Cell(last.text, r_idx, extra, page_no, span_of=(r_idx, last.col), bbox=last.bbox))
            if collision:
                cells = mark_row_ambiguous(cells, collision, from_col=n_label)
            out.append(cells)
    return out


def _cell(pieces: list[Piece], row: int, col: int, page_no: int, slot: BBox, *, apart: bool) -> Cell:
    """One cell of the pieces placed in it, with their box (empty: the slot's box). Texts are
    joined top to bottom as lines of one text (``773`` / ``0.28``); with ``apart``, pieces side by
    side on one line keep a space between them (two values never read as one number)."""
    if not pieces:
        return Cell("", row, col, page_no, bbox=slot)
    text = pieces[0].text
    for prev, p in itertools.pairwise(pieces):
        same_line = apart and min(p.bottom, prev.bottom) - max(p.top, prev.top) > 0
        text = clean_pdf_text(text + (" " if same_line else "\n") + p.text)
    return Cell(text, row, col, page_no, bbox=_union(pieces))
