"""Spreadsheets (XLSX, XLS, WPS ET, ODS) → one grid per block of each sheet, with python-calamine.

calamine (Rust) reads all four formats from bytes, numbers as numbers and the merge list of
each sheet, in ~1 ms for a report-sized workbook; openpyxl would read only XLSX at ~20x the
cost. Cells are rendered the way a reader sees them in the sheet: integral numbers without a
decimal part (``3119.0`` → ``3119``), others with the shortest text that is the same double
(``7730.28``; sums carrying binary noise such as 0.30000000000000004 are printed with 15
significant digits, as Excel shows them), text cells as they are, dates as ISO dates, booleans
as TRUE/FALSE. calamine does not expose number formats, so a cell formatted ``0.00`` that holds
12.5 reads ``12.5`` (same value; the printed padding is lost).

Merged ranges from the sheet's merge list are expanded as the HTML reader expands rowspan and
colspan (copies carry ``span_of``). A sheet is cut into grids at empty rows, so a title or a
paragraph typed into the sheet above a table does not become a table row; the mapper joins a
table cut into several grids again. Every grid's locator names the sheet and its cell range
(``xlsx sheet 表三!B2:K40``): grid row/column (0-based) plus the range's top-left cell is the
cell reference, so every fact traces back to its cell.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from decimal import Decimal

import python_calamine

from xxgk.extractors.archive import open_zip
from xxgk.extractors.base import ExtractionError, RawDocument
from xxgk.extractors.docx import MAX_EXPANDED_CELLS
from xxgk.extractors.sheet_bounds import ods_scan, workbook_area
from xxgk.extractors.sniff import ODS, XLSX
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.records import STATUS_FAILED

CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta


def number_text(value: float) -> str:
    """A number as a sheet shows it in General format: no ``.0``, no binary noise, no exponent."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if len(text.replace("-", "").replace(".", "").lstrip("0")) > 15 or "e" in text:
        text = format(value, ".15g")
    if "e" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def cell_text(value: CellValue) -> str:
    """The text of one calamine value, as the sheet shows it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds" if value.second else "minutes")
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return str(value)


def column_letters(col: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """A1 reference of a 0-based sheet position."""
    return f"{column_letters(col)}{row + 1}"


def _open(data: bytes, fmt: str) -> python_calamine.CalamineWorkbook:
    """The workbook, once its size is known to be safe for calamine (see ``sheet_bounds``)."""
    if fmt in (XLSX, ODS):
        open_zip(data, f"{fmt.upper()} package").close()  # the archive limits, before calamine inflates it
    area = workbook_area(data, fmt)
    if area > MAX_EXPANDED_CELLS:
        raise ExtractionError(
            STATUS_FAILED,
            f"{fmt.upper()} workbook spans {area} cells from its first to its last filled cell (sheets together): "
            f"more than the bound of {MAX_EXPANDED_CELLS}; refused as a hostile or broken file",
        )
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError as err:
        raise ExtractionError(STATUS_FAILED, f"{fmt.upper()} workbook is password-protected ({err})") from err
    except (python_calamine.CalamineError, ValueError, OSError) as err:
        raise ExtractionError(STATUS_FAILED, f"{fmt.upper()} workbook cannot be read ({err})") from err


def _sheet_grids(
    name: str,
    values: list[list[CellValue]],
    origin: tuple[int, int],
    merges: list[tuple[tuple[int, int], tuple[int, int]]],
    fmt: str,
) -> tuple[list[Grid], list[str]]:
    """The grids of one sheet (cut at empty rows) and its lines of text."""
    r0, c0 = origin
    height = len(values)
    width = max((len(r) for r in values), default=0)
    texts = [[cell_text(v) for v in row] + [""] * (width - len(row)) for row in values]
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    for (top, left), (bottom, right) in merges:
        for r in range(max(top - r0, 0), min(bottom - r0, height - 1) + 1):
            for c in range(max(left - c0, 0), min(right - c0, width - 1) + 1):
                owner.setdefault((r, c), (top - r0, left - c0))
    lines = ["\t".join(t for c, t in enumerate(row) if t.strip() and owner.get((r, c), (r, c)) == (r, c)) for r, row in enumerate(texts)]

    def covered(r: int) -> bool:  # inside a merged range that continues from the row above
        return any(owner.get((r, c), (r, c))[0] < r for c in range(width))

    blocks: list[list[int]] = []
    current: list[int] = []
    for r in range(height):
        if lines[r] or covered(r):
            current.append(r)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)

    grids: list[Grid] = []
    for rows in blocks:
        top, bottom = rows[0], rows[-1]
        if _is_prose(rows, texts, owner):
            continue
        used = [c for r in rows for c in range(width) if texts[r][c].strip() or (r, c) in owner]
        left, right = min(used), max(used)
        grid_rows: list[list[Cell]] = []
        for gr, r in enumerate(range(top, bottom + 1)):
            row: list[Cell] = []
            for gc, c in enumerate(range(left, right + 1)):
                ar, ac = owner.get((r, c), (r, c))
                if ar < top or ac < left:  # a merge starting above or left of this block: its own anchor here
                    ar, ac = r, c
                span_of = None if (ar, ac) == (r, c) else (ar - top, ac - left)
                row.append(Cell(texts[ar][ac] if 0 <= ar < height else "", gr, gc, span_of=span_of))
            grid_rows.append(row)
        first, last = cell_ref(r0 + top, c0 + left), cell_ref(r0 + bottom, c0 + right)
        grid = Grid(rows=grid_rows, locator=f"{fmt} sheet {name}!{first}:{last}")
        grid.meta.update({"sheet": name, "origin": first})
        grids.append(grid)
    return grids, [line for line in lines if line]


def _is_prose(rows: list[int], texts: list[list[str]], owner: dict[tuple[int, int], tuple[int, int]]) -> bool:
    """A block of lines typed into one column (a title, a paragraph): text, not a table.

    A table has text in more than one column or cells merged over rows, even when all its
    values are blank.
    """
    columns = {c for r in rows for c, t in enumerate(texts[r]) if t.strip() and owner.get((r, c), (r, c)) == (r, c)}
    merged_down = any(owner.get((r, c), (r, c))[0] != r for r in rows for c in range(len(texts[r])))
    return len(columns) <= 1 and not merged_down


def extract_sheets(data: bytes, fmt: str) -> RawDocument:
    """Grids and text of every visible worksheet, in workbook order."""
    workbook = _open(data, fmt)
    grids: list[Grid] = []
    lines: list[str] = []
    warnings: list[str] = []
    budget = MAX_EXPANDED_CELLS
    ods_merges = ods_scan(data)[1] if fmt == ODS else {}
    try:
        for meta in workbook.sheets_metadata:
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            if meta.visible != python_calamine.SheetVisibleEnum.Visible:
                warnings.append(f"hidden sheet {meta.name!r} not read")
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            if not sheet.height or not sheet.width:
                continue
            area = sheet.height * sheet.width
            budget -= area
            if budget < 0:
                end = cell_ref(*sheet.end) if sheet.end else "?"
                raise ExtractionError(
                    STATUS_FAILED,
                    f"{fmt.upper()} sheet {meta.name!r} spans {area} cells (up to {end}): the workbook exceeds "
                    f"the bound of {MAX_EXPANDED_CELLS} cells; refused as a hostile or broken file",
                )
            values = sheet.to_python(skip_empty_area=True)
            merges = list(sheet.merged_cell_ranges or ods_merges.get(meta.name, []))
            sheet_grids, sheet_lines = _sheet_grids(meta.name, values, sheet.start or (0, 0), merges, fmt)
            grids += sheet_grids
            lines += sheet_lines
    except python_calamine.CalamineError as err:
        raise ExtractionError(STATUS_FAILED, f"{fmt.upper()} workbook cannot be read ({err})") from err
    finally:
        workbook.close()
    if not grids:
        raise ExtractionError(STATUS_FAILED, "; ".join([f"{fmt.upper()} workbook has no cell with content", *warnings]))
    return RawDocument(format=fmt, grids=grids, text="\n".join(lines), warnings=warnings)


__all__ = ["cell_ref", "cell_text", "column_letters", "extract_sheets", "number_text"]
