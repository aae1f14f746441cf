"""The tables of one page: ruled tables from its rules, else (or beside them) tables read from word
positions. One grid per table and page."""

from __future__ import annotations

from xxgk.extractors.pdf.cells import grid_from_cells, is_data_table
from xxgk.extractors.pdf.chars import words_of
from xxgk.extractors.pdf.content import PageContent
from xxgk.extractors.pdf.printed import marker_hits
from xxgk.extractors.pdf.rules import close_frames, find_cell_groups, merge_rules, ruling_edges
from xxgk.extractors.pdf.settings import PdfSettings
from xxgk.extractors.pdf.word_tables import grids_from_words
from xxgk.schemas.grid import Grid

_RULED_COLUMNS = "ruled_columns"


def page_grids(
    content: PageContent,
    settings: PdfSettings,
    warnings: list[str],
    carry: dict[str, list[float]] | None = None,
) -> list[Grid]:
    """Every report-like table of one page: ruled tables, else (optionally) word-position tables.

    ``carry`` passes on to the next page the columns of the table at the foot of this one: the
    value columns of a word-position table, the column rules of a ruled one.
    """
    page_no = content.number
    previous_rules = carry.pop(_RULED_COLUMNS, None) if carry is not None else None
    edges = merge_rules(ruling_edges(content.paths, settings), settings)
    edges, frames = close_frames(edges, settings.intersection_tolerance)
    grids: list[Grid] = []
    groups = sorted(find_cell_groups(edges, settings), key=lambda cells: min(c[1] for c in cells))
    last_columns: list[float] = []
    for i, cells in enumerate(groups):
        bbox = (min(c[0] for c in cells), min(c[1] for c in cells), max(c[2] for c in cells), max(c[3] for c in cells))
        carried: list[float] = []
        if (
            i == 0
            and previous_rules
            and abs(previous_rules[0] - bbox[0]) <= 4
            and abs(previous_rules[-1] - bbox[2]) <= 4
        ):
            carried = previous_rules  # the table at the top continues the one at the foot of the last page
        locator = f"pdf p.{page_no} table {len(grids) + 1}"
        grid = grid_from_cells(cells, content.chars, page_no, locator, settings, carried)
        if not is_data_table(grid):
            continue
        last_columns = sorted({c[0] for c in cells} | {c[2] for c in cells})
        if grid.meta.get("unplaced_rows"):
            warnings.append(
                f"{locator}: row(s) {grid.meta['unplaced_rows']} print values that the table's rules do not "
                "separate; their cells are marked ambiguous"
            )
        grid.meta["method"] = "rules"
        grid.meta["bbox"] = ",".join(f"{v:.1f}" for v in bbox)
        for frame in frames:
            fx0, ftop, fx1, fbottom = frame["bbox"]
            if abs(fx0 - bbox[0]) > 4 or abs(fx1 - bbox[2]) > 4:
                continue
            if "top" in frame["open"] and abs(ftop - bbox[1]) <= 4:
                grid.meta["open_top"] = "1"
            if "bottom" in frame["open"] and abs(fbottom - bbox[3]) <= 4:
                grid.meta["open_bottom"] = "1"
        grids.append(grid)
    if grids and carry is not None:
        carry.clear()
        carry[_RULED_COLUMNS] = last_columns
    if not settings.word_fallback:
        return grids
    if not grids:
        word_grids = grids_from_words(words_of(content.chars, settings), page_no, 1, settings, carry)
        if word_grids:
            warnings.append(f"p.{page_no}: no ruled table; {len(word_grids)} table(s) read from word positions")
        return word_grids
    # Text outside the ruled tables: an unruled table may share the page with ruled ones.
    boxes = [tuple(float(v) for v in g.meta["bbox"].split(",")) for g in grids]
    outside = [
        ch
        for ch in content.chars
        if not any(
            b[0] - 1 <= (ch["x0"] + ch["x1"]) / 2 <= b[2] + 1 and b[1] - 1 <= (ch["top"] + ch["bottom"]) / 2 <= b[3] + 1
            for b in boxes
        )
    ]
    if marker_hits("".join(ch["text"] for ch in outside)) < 2:
        return grids
    word_grids = grids_from_words(words_of(outside, settings), page_no, 1, settings, None)
    if not word_grids:
        return grids
    warnings.append(
        f"p.{page_no}: {len(word_grids)} table(s) without rules beside ruled ones, read from word positions"
    )
    grids = sorted(grids + word_grids, key=lambda g: float(g.meta["bbox"].split(",")[1]))
    for i, grid in enumerate(grids, start=1):
        grid.locator = f"pdf p.{page_no} table {i}"
    return grids
