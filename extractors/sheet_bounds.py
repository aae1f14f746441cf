"""How many cells a workbook's sheets span, measured before calamine loads them.

calamine builds each sheet as a dense rectangle from its first to its last cell holding a
value, when the sheet is opened: one value typed into XFD1048576 makes a rectangle of 17
billion cells, and the allocation aborts the whole process (a Rust abort, not an exception).
So the cells are located first, cheaply, from the file itself: the ``r`` references of XLSX
cells that hold something (self-closing ``<c/>`` elements are formatting only and calamine skips
them), the row/column of every BIFF cell record of an XLS/ET ``Workbook`` stream, the repeat
counts of ODS cells that hold something (and the ODS merged ranges, which calamine does
not report). The sum of the sheets' bounding boxes is what calamine
would allocate.
"""

from __future__ import annotations

import re
import struct
import zipfile

import lxml.etree
import olefile

from xxgk.extractors.archive import open_zip, read_member
from xxgk.extractors.sniff import ODS, XLSX

_XLSX_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(?<!/)>')
#: BIFF8/BIFF5 records that are cells holding something: row, column first in their data.
_BIFF_CELLS = frozenset({0x0006, 0x00BD, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E, 0x0406, 0x00D6})
_BIFF_BOF, _BIFF_EOF = 0x0809, 0x000A
_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


class _Box:
    """The bounding box of the cells of one sheet."""

    def __init__(self) -> None:
        self.top = self.left = 1 << 62
        self.bottom = self.right = -1

    def add(self, row: int, col: int, rows: int = 1, cols: int = 1) -> None:
        self.top, self.left = min(self.top, row), min(self.left, col)
        self.bottom, self.right = max(self.bottom, row + rows - 1), max(self.right, col + cols - 1)

    @property
    def area(self) -> int:
        return 0 if self.bottom < 0 else (self.bottom - self.top + 1) * (self.right - self.left + 1)


def _xlsx_area(data: bytes) -> int:
    total = 0
    with open_zip(data, "XLSX package") as zf:
        for info in zf.infolist():
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                box = _Box()
                for m in _XLSX_CELL.finditer(read_member(zf, info, "XLSX package")):
                    box.add(int(m.group(2)) - 1, _col_number(m.group(1)))
                total += box.area
    return total


def _xls_area(data: bytes) -> int:
    try:
        with olefile.OleFileIO(data) as ole:
            name = "Workbook" if ole.exists("Workbook") else "Book"
            stream = ole.openstream(name).read()
    except (OSError, ValueError, IndexError, TypeError):
        return 0  # calamine says why it cannot read the file
    total, box, pos = 0, _Box(), 0
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        body = pos + 4
        if kind in _BIFF_CELLS and size >= 4:
            row, col = struct.unpack_from("<HH", stream, body)
            last = col
            if kind == 0x00BD and size >= 6:  # MULRK: first column ... last column at the end
                last = struct.unpack_from("<H", stream, body + size - 2)[0]
            box.add(row, col, 1, max(last - col + 1, 1))
        elif kind == _BIFF_BOF:
            total += box.area
            box = _Box()
        pos = body + size
    return total + box.area


Merge = tuple[tuple[int, int], tuple[int, int]]


def ods_scan(data: bytes) -> tuple[int, dict[str, list[Merge]]]:
    """Cells of an ODS workbook's sheets, and each sheet's merged ranges (calamine gives none for ODS)."""
    with open_zip(data, "ODS package") as zf:
        try:
            content = read_member(zf, "content.xml", "ODS package")
        except KeyError:
            return 0, {}
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = lxml.etree.fromstring(content, parser=parser)
    except lxml.etree.XMLSyntaxError:
        return 0, {}  # calamine says why it cannot read the file
    t = _ODS_TABLE
    total = 0
    merges: dict[str, list[Merge]] = {}
    for table in root.iter(f"{t}table"):
        box, row = _Box(), 0
        sheet_merges = merges.setdefault(table.get(f"{t}name", ""), [])
        for tr in table.iter(f"{t}table-row"):
            rows = _count(tr.get(f"{t}number-rows-repeated"))
            col = 0
            for cell in tr:
                cols = _count(cell.get(f"{t}number-columns-repeated"))
                if len(cell) or cell.get(f"{_ODS_OFFICE}value-type"):
                    box.add(row, col, rows, cols)
                down = _count(cell.get(f"{t}number-rows-spanned"))
                across = _count(cell.get(f"{t}number-columns-spanned"))
                if down > 1 or across > 1:
                    sheet_merges.append(((row, col), (row + down - 1, col + across - 1)))
                col += cols
            row += rows
        total += box.area
    return total, merges


def _count(value: str | None) -> int:
    try:
        return max(int(value or 1), 1)
    except ValueError:
        return 1


def workbook_area(data: bytes, fmt: str) -> int:
    """Cells calamine would allocate for all sheets of the workbook (0 when it cannot tell)."""
    try:
        if fmt == XLSX:
            return _xlsx_area(data)
        if fmt == ODS:
            return ods_scan(data)[0]
        return _xls_area(data)
    except (zipfile.BadZipFile, ValueError, struct.error):
        return 0


__all__ = ["Merge", "ods_scan", "workbook_area"]
