"""Read a prepared page: text lines into table cells, grids, and the text around the tables.

Detection finds the text lines of the whole page (at reduced scale: it only has to place
them). A line inside a ruled table is cut at the cell walls it crosses and each piece is
recognised from the full-resolution page, rule pixels whitened so a wall is never read as a
``1``. A cell that detection left empty but that holds ink (a lone ``0`` is what page-level
detection misses most) is read from its own crop. A cell read with low confidence is read a
second time, binarised and enlarged: when the readings agree the cell is settled, otherwise it
is ``ambiguous`` with both readings in its note. Nothing here knows the report's labels or
numbers: the shared mapper does that for every format.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from xxgk.extractors.ocr.engine import OcrEngine, Reading
from xxgk.extractors.ocr.geometry import Box, PageImage, TableCell, TableFrame, rules_mask
from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import BOX_PIXELS, BOX_POINTS, Cell, Grid
from xxgk.schemas.values import AMBIGUOUS, clean_cell_text, looks_like_value, prints_only_values

TABLE_EM_PT = 10.0  # font size of table text; ink smaller than a quarter of it is a speck
#: Below this, a reading is not trusted even when a second reading agrees with it.
UNREADABLE = 0.5
#: Views (``PageReader.view``) of the first, second and third readings: grey and enlarged (reads
#: Chinese best), binarised (reads a lone ``0`` best: grey crops of it read ``o``), the plain crop.
FIRST, SECOND, THIRD = 2, 1, 0
_SPECK_TEXT = set(".,·'`\"。，、:;：；_")


@dataclass(slots=True)
class Piece:
    """Part of a text line inside one cell (or a line outside tables), in deskewed page pixels."""

    box: Box
    reading: Reading | None = None


@dataclass(slots=True)
class CellReading:
    """The text of one table cell and how sure we are of it."""

    cell: TableCell
    text: str = ""
    confidence: float | None = None
    hint: str | None = None
    note: str = ""
    pieces: list[Piece] = field(default_factory=list)
    crop_box: Box | None = None  # the region read, for second readings


def detect_lines(engine: OcrEngine, page: PageImage, det_scale: float) -> list[Box]:
    """Axis-aligned boxes of the page's text lines (deskewed full-resolution pixels)."""
    gray = page.gray
    h, w = gray.shape
    small = gray if det_scale >= 1.0 else cv2.resize(gray, (int(w * det_scale), int(h * det_scale)), interpolation=cv2.INTER_AREA)
    boxes: list[Box] = []
    for quad, _score in engine.detect(cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)):
        pts = np.asarray(quad, dtype=np.float64) / det_scale
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        box = (max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1))))
        if box[2] - box[0] >= 2 and box[3] - box[1] >= 2:
            boxes.append(box)
    return boxes


def _inside(inner: Box, outer: Box) -> float:
    """Share of ``inner``'s area inside ``outer``."""
    ix = max(0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    iy = max(0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    area = max(1, (inner[2] - inner[0]) * (inner[3] - inner[1]))
    return ix * iy / area


def inner_box(cell: TableCell, scale: float) -> Box:
    """The cell's box without its rules."""
    inset = max(2, round(1.2 * scale))
    x0, y0, x1, y1 = cell.box
    return (x0 + inset, y0 + inset, max(x0 + inset + 1, x1 - inset), max(y0 + inset + 1, y1 - inset))


def assign_lines(lines: list[Box], frames: list[TableFrame], scale: float) -> tuple[dict[tuple[int, int], list[Piece]], list[Box]]:
    """Pieces of lines per (frame, cell) index, and the lines outside every table."""
    pieces: dict[tuple[int, int], list[Piece]] = {}
    outside: list[Box] = []
    min_w = max(2, round(1.5 * scale))
    for line in lines:
        owner = next((i for i, f in enumerate(frames) if _inside(line, f.box) >= 0.5), None)
        if owner is None:
            outside.append(line)
            continue
        line_h = line[3] - line[1]
        for j, cell in enumerate(frames[owner].cells):
            ib = inner_box(cell, scale)
            x0, x1 = max(line[0], ib[0]), min(line[2], ib[2])
            y0, y1 = max(line[1], ib[1]), min(line[3], ib[3])
            if x1 - x0 < min_w or (y1 - y0) < 0.4 * line_h:
                continue
            pieces.setdefault((owner, j), []).append(Piece((x0, y0, x1, y1)))
    return pieces, outside


class PageReader:
    """Recognition of the crops of one page: rules whitened inside tables, specks dropped."""

    def __init__(self, engine: OcrEngine, page: PageImage, low_confidence: float, frames: list[TableFrame] = ()) -> None:  # type: ignore[assignment]
        self.engine = engine
        self.page = page
        self.low_confidence = low_confidence
        self.frames = list(frames)
        self.em = TABLE_EM_PT * page.scale
        self._clean: Any = None

    @property
    def clean(self) -> Any:
        """The page with the ruling lines of its tables painted white (text outside tables is
        left alone: the long strokes of a large title would pass for rules)."""
        if self._clean is None:
            clean = self.page.gray.copy()
            if self.frames:
                rules = rules_mask(self.page)
                pad = round(2 * self.page.scale)
                for f in self.frames:
                    x0, y0, x1, y1 = f.box
                    x0, y0 = max(0, x0 - pad), max(0, y0 - pad)
                    region = clean[y0 : y1 + pad, x0 : x1 + pad]
                    region[rules[y0 : y1 + pad, x0 : x1 + pad] > 0] = 255
            self._clean = clean
        return self._clean

    def _despeck(self, crop: Any) -> Any:
        """Ink dots that sit beside the glyphs (not between two of them, as a decimal point or
        the dot of ``1.`` does) are scanner specks: painted white."""
        _, ink = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
        n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        if n <= 2:
            return crop
        big = [stats[i] for i in range(1, n) if max(stats[i][2], stats[i][3]) >= 0.25 * self.em]
        if not big:
            return crop
        out = None
        for i in range(1, n):
            x, y, w, h, _area = stats[i]
            if max(w, h) >= 0.25 * self.em:
                continue
            cx, cy = x + w / 2, y + h / 2
            row = [b for b in big if b[1] - 0.2 * self.em <= cy <= b[1] + b[3] + 0.2 * self.em]
            left = any(b[0] + b[2] <= cx for b in row)
            right = any(b[0] >= cx for b in row)
            if left and right:
                continue
            if out is None:
                out = crop.copy()
            out[y : y + h, x : x + w][ink[y : y + h, x : x + w] > 0] = 255
        return crop if out is None else out

    def crop(self, box: Box, limit: Box | None = None, pad_em: float = 0.25, min_height_em: float = 1.3) -> Any:
        """A padded crop of the rule-free page, at least ``min_height_em`` tall (a lone ``0``
        keeps its size against the line height, so it does not read as ``o``), inside ``limit``."""
        pad = round(pad_em * self.em)
        x0, y0, x1, y1 = box
        grow = max(0, round((min_height_em * self.em - (y1 - y0)) / 2) - pad)
        lx0, ly0, lx1, ly1 = limit or (0, 0, self.clean.shape[1], self.clean.shape[0])
        x0, y0 = max(lx0, x0 - pad), max(ly0, y0 - pad - grow)
        x1, y1 = min(lx1, x1 + pad), min(ly1, y1 + pad + grow)
        crop = self._despeck(self.clean[y0:y1, x0:x1])
        # a little white margin all round helps the recogniser with glyphs cut close to a wall
        margin = max(2, round(0.15 * self.em))
        return cv2.copyMakeBorder(crop, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255)

    def view(self, box: Box, limit: Box | None, kind: int = 1) -> Any:
        """One view of a region: 0 = the grey crop; 1 = binarised (Otsu) and enlarged 1.5x (noise
        and JPEG ringing gone: lone digits read best); 2 = grey, wider margins, enlarged 2x and
        slightly sharpened (Chinese reads best: binarising a 150-dpi scan breaks its strokes)."""
        if kind == 0:
            return self.crop(box, limit)
        if kind == 1:
            crop = self.crop(box, limit, pad_em=0.4)
            _, binary = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            return cv2.resize(binary, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)
        crop = self.crop(box, limit, pad_em=0.6)
        big = cv2.resize(crop, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
        soft = cv2.GaussianBlur(big, (0, 0), 1.5)
        return cv2.addWeighted(big, 1.6, soft, -0.6, 0)

    def ink_boxes(self, region: Box) -> list[Box]:
        """Boxes of the glyph-sized ink components inside ``region`` (specks and rule remnants left out)."""
        x0, y0, x1, y1 = region
        ink = self.page.ink[y0:y1, x0:x1].copy()
        ink[self.clean[y0:y1, x0:x1] == 255] = 0
        n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        minimum = 0.25 * self.em
        out = []
        for i in range(1, n):
            x, y, w, h, _area = stats[i]
            if max(w, h) >= minimum:
                out.append((int(x0 + x), int(y0 + y), int(x0 + x + w), int(y0 + y + h)))
        return out

    def split_lines(self, piece: Piece, limit: Box) -> list[Piece]:
        """A detected box taller than one line (two wrapped lines taken as one) cut into lines."""
        x0, y0, x1, y1 = piece.box
        if y1 - y0 <= 1.7 * self.em:
            return [piece]
        boxes = [b for b in self.ink_boxes((x0, y0, x1, y1))]
        bands = _bands(self, boxes)
        return [Piece(b) for b in bands] if len(bands) > 1 else [piece]


def _join_pieces(pieces: list[Piece]) -> tuple[str, float | None]:
    """Text of the pieces of one cell, top to bottom and left to right; confidence = the lowest."""
    done = [p for p in pieces if p.reading is not None and p.reading.text.strip()]
    if not done:
        return "", None
    done.sort(key=lambda p: (p.box[1] + p.box[3]) / 2)
    lines: list[list[Piece]] = []
    for p in done:
        mid = (p.box[1] + p.box[3]) / 2
        if lines and abs(mid - (lines[-1][0].box[1] + lines[-1][0].box[3]) / 2) < 0.5 * (p.box[3] - p.box[1]):
            lines[-1].append(p)
        else:
            lines.append([p])
    text = "".join("".join(p.reading.text.strip() for p in sorted(line, key=lambda p: p.box[0])) for line in lines)  # type: ignore[union-attr]
    return text, min(p.reading.score for p in done)  # type: ignore[union-attr]


def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _bands(reader: PageReader, boxes: list[Box]) -> list[Box]:
    """Ink boxes of one cell grouped into text lines: boxes that overlap vertically are one line,
    and a band much lower than a line (a glyph's detached stroke) joins its nearest neighbour."""
    out: list[Box] = []
    for b in sorted(boxes, key=lambda b: b[1]):
        if out and b[1] < out[-1][3] - 1:
            out[-1] = _union([out[-1], b])
        else:
            out.append(b)
    while len(out) > 1:
        small = [i for i, b in enumerate(out) if b[3] - b[1] < 0.45 * reader.em]
        if not small:
            break
        i = small[0]
        gaps = []
        if i > 0:
            gaps.append((out[i][1] - out[i - 1][3], i - 1))
        if i + 1 < len(out):
            gaps.append((out[i + 1][1] - out[i][3], i + 1))
        _gap, j = min(gaps)
        a, b = sorted((i, j))
        out[a : b + 1] = [_union([out[a], out[b]])]
    return out


def read_cells(reader: PageReader, frame: TableFrame, pieces: dict[int, list[Piece]]) -> list[CellReading]:
    """Every cell of one table read: detected pieces first, then the cells detection left empty."""
    readings = [CellReading(cell, pieces=pieces.get(j, [])) for j, cell in enumerate(frame.cells)]
    jobs: list[tuple[Piece, Any]] = []
    for cr in readings:
        limit = inner_box(cr.cell, reader.page.scale)
        bands = _bands(reader, reader.ink_boxes(limit)) if cr.pieces else []
        if len(bands) > 1:
            # several lines: detection (at reduced scale) blurs their vertical extents, the ink does not
            cr.pieces = [Piece(b) for b in bands]
        jobs += [(p, reader.view(p.box, box, FIRST)) for p, box in _line_limits(cr.pieces, limit)]
    _recognise(reader, jobs)
    # cells with ink that detection did not find (or whose pieces read as nothing)
    jobs = []
    for cr in readings:
        text, _ = _join_pieces(cr.pieces)
        if text:
            continue
        limit = inner_box(cr.cell, reader.page.scale)
        ink = reader.ink_boxes(limit)
        if not ink:
            cr.pieces = []
            continue
        cr.pieces = [Piece(b) for b in _bands(reader, ink)]
        jobs += [(p, reader.view(p.box, box, FIRST)) for p, box in _line_limits(cr.pieces, limit)]
    _recognise(reader, jobs)
    for cr in readings:
        cr.text, cr.confidence = _join_pieces(cr.pieces)
        if cr.pieces:
            cr.crop_box = _union([p.box for p in cr.pieces])
        if cr.text and all(ch in _SPECK_TEXT for ch in cr.text) and _tiny(reader, cr):
            cr.text, cr.confidence, cr.note = "", None, f"speck read as {cr.text!r} ignored"
        if cr.text == "" and cr.pieces:
            cr.hint, cr.note = AMBIGUOUS, cr.note or "ink in the cell, but nothing readable"
    low = [cr for cr in readings if cr.confidence is not None and cr.confidence < reader.low_confidence]
    odd = [cr for cr in readings if cr not in low and cr.hint is None and misfit(cr.text)]
    second_reading(reader, low)
    second_reading(reader, odd, "reads as neither a label nor a value")
    return readings


def _line_limits(pieces: list[Piece], limit: Box) -> list[tuple[Piece, Box]]:
    """Each piece with the part of its cell it may be cropped from: a cell of several lines is
    cut halfway between them, so the padding of one line's crop never takes in glyphs of the
    next (a wrapped label read as one garbled line)."""
    bands: list[list[Piece]] = []
    for p in sorted(pieces, key=lambda p: p.box[1]):
        if bands and p.box[1] < max(q.box[3] for q in bands[-1]) and p.box[3] > min(q.box[1] for q in bands[-1]):
            bands[-1].append(p)
        else:
            bands.append([p])
    out: list[tuple[Piece, Box]] = []
    for i, band in enumerate(bands):
        top = limit[1] if i == 0 else (min(q.box[1] for q in band) + max(q.box[3] for q in bands[i - 1])) // 2
        bottom = limit[3] if i == len(bands) - 1 else (max(q.box[3] for q in band) + min(q.box[1] for q in bands[i + 1])) // 2
        out += [(p, (limit[0], max(limit[1], top), limit[2], min(limit[3], bottom))) for p in band]
    return out


def _one_line(cr: CellReading) -> bool:
    """True when every piece of the cell sits on one line (a second reading reads its crop whole)."""
    return len({b for _, b in _line_limits(cr.pieces, (0, 0, 1 << 30, 1 << 30))}) <= 1


def _tiny(reader: PageReader, cr: CellReading) -> bool:
    if cr.crop_box is None:
        return True
    x0, y0, x1, y1 = cr.crop_box
    return max(x1 - x0, y1 - y0) < 0.45 * reader.em


def _recognise(reader: PageReader, jobs: list[tuple[Piece, Any]]) -> None:
    results = reader.engine.recognize([crop for _, crop in jobs])
    for (piece, _), reading in zip(jobs, results, strict=True):
        piece.reading = reading


def second_reading(
    reader: PageReader,
    cells: list[CellReading],
    reason: str = "low confidence",
    kinds: tuple[int, ...] = (SECOND, THIRD),
    *,
    unanimous: bool = False,
) -> None:
    """Read ``cells`` again from other views of their crop (``PageReader.view``) and settle
    each by its readings (``settle``): a cell whose readings do not settle is ambiguous.

    The next view is read only for the cells the readings so far leave unsettled, so a cell
    whose second reading agrees with its first costs one more recognition, not two."""
    cells = [cr for cr in cells if cr.crop_box is not None and _one_line(cr)]
    votes = {id(cr): [Reading(cr.text, cr.confidence or 0.0)] for cr in cells}
    pending = cells
    for kind in kinds:
        if not pending:
            break
        crops = [reader.view(cr.crop_box, inner_box(cr.cell, reader.page.scale), kind) for cr in pending]  # type: ignore[arg-type]
        for cr, again in zip(pending, reader.engine.recognize(crops), strict=True):
            votes[id(cr)].append(again)
        pending = [cr for cr in pending if _winner(votes[id(cr)], unanimous=True) is None]
    for cr in cells:
        settle(cr, votes[id(cr)], reason, unanimous=unanimous)


def _norm(text: str) -> str:
    return clean_cell_text(unicodedata.normalize("NFKC", text))


_DIGIT_FOLD = str.maketrans({**lx.OCR_DIGIT_CONFUSIONS, **dict.fromkeys(lx.OCR_ZERO_LOOKALIKES, "0")})


def _key(text: str) -> str:
    """What a reading says once OCR's letter-for-digit confusions are folded, when that makes a
    value (``o`` → ``0``); a reading that is a label or a value already is compared as it is."""
    t = _norm(text) or text.strip()
    if t and not _CJK.search(t) and not prints_only_values(t):
        folded = t.translate(_DIGIT_FOLD)
        if prints_only_values(folded):
            return folded
    return t


def _printed(group: list[Reading]) -> Reading:
    """The reading of an agreeing group that prints the text (``0`` rather than ``o``)."""
    fit = [r for r in group if not misfit(r.text)]
    return max(fit or group, key=lambda r: r.score)


def _winner(votes: list[Reading], *, unanimous: bool) -> Reading | None:
    """The reading the votes settle on: all of them agree (``unanimous``, or only two read),
    else at least two of three; the agreed text must be a label or a value."""
    groups: dict[str, list[Reading]] = {}
    for r in votes:
        groups.setdefault(_key(r.text), []).append(r)
    key, group = max(groups.items(), key=lambda kv: (len(kv[1]), max(r.score for r in kv[1])))
    need = len(votes) if unanimous or len(votes) < 3 else 2
    if len(group) < need or len(votes) < 2 or misfit(key) or max(r.score for r in group) < UNREADABLE:
        return None
    if all(misfit(r.text) for r in group):
        return None  # they agree only once folded: no reading printed the digits
    return _printed(group)


def settle(cr: CellReading, votes: list[Reading], reason: str, *, unanimous: bool = False) -> None:
    """Settle a cell by its readings, or make it ambiguous with all of them in the note.

    A text that reads as neither a label nor a value (``Q`` for a ``0``) is never kept as printed
    text: an unsettled cell keeps its best reading that is a value (the mapper then places it
    among the row's values, ambiguous, never a silent number), else it is empty.
    """
    shown = " / ".join(f"{r.text!r} ({r.score:.2f})" for r in votes)
    won = _winner(votes, unanimous=unanimous)
    if won is not None:
        cr.text, cr.confidence = won.text, won.score
        if len({_norm(r.text) for r in votes}) > 1:
            cr.note = f"{reason}: readings {shown}; settled on {won.text!r}"
        return
    value_like = sorted((r for r in votes if r.text.strip() and looks_like_value(r.text)), key=lambda r: -r.score)
    cr.text = value_like[0].text if value_like else ("" if all(misfit(r.text) or not r.text.strip() for r in votes) else max(votes, key=lambda r: r.score).text)
    cr.confidence = min(r.score for r in votes)
    cr.hint = AMBIGUOUS
    cr.note = f"{reason}: OCR readings do not settle: {shown}"


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def misfit(text: str) -> bool:
    """A reading that is neither a label (every label of these tables prints Chinese) nor a
    value: a misread, e.g. ``Q`` or ``l0`` for digits."""
    t = text.strip()
    return bool(t) and not _CJK.search(t) and not prints_only_values(t)


def to_grid(
    frame: TableFrame,
    readings: list[CellReading],
    page: PageImage,
    *,
    page_number: int | None,
    locator: str,
    dpi: float | None,
    origin: tuple[float, float] = (0.0, 0.0),
) -> Grid:
    """The grid of one table: merged cells expanded into copies that carry ``span_of``.

    Boxes are in PDF points when ``dpi`` is given (pixel box / dpi × 72, plus ``origin`` in
    points), else in pixels of the original image.
    """
    owner: dict[tuple[int, int], CellReading] = {}
    for cr in readings:
        c = cr.cell
        for r in range(c.row, c.row + c.rowspan):
            for k in range(c.col, c.col + c.colspan):
                owner[(r, k)] = cr
    rows: list[list[Cell]] = []
    for r in range(frame.n_rows):
        row: list[Cell] = []
        for k in range(frame.n_cols):
            cr = owner.get((r, k))
            if cr is None:
                row.append(Cell("", r, k, page_number, note="no cell at this position"))
                continue
            anchor = (cr.cell.row, cr.cell.col)
            row.append(
                Cell(
                    text=cr.text,
                    row=r,
                    col=k,
                    page=page_number,
                    span_of=None if anchor == (r, k) else anchor,
                    hint=cr.hint,
                    note=cr.note,
                    bbox=_box_out(page, cr.cell.box, dpi, origin),
                    confidence=None if cr.confidence is None else round(cr.confidence, 4),
                )
            )
        rows.append(row)
    grid = Grid(rows=rows, locator=locator, page=page_number, box_unit=BOX_POINTS if dpi else BOX_PIXELS)
    grid.meta["method"] = "ocr"
    grid.meta["bbox"] = ",".join(f"{v:.1f}" for v in _box_out(page, frame.box, dpi, origin))
    if frame.open_top:
        grid.meta["open_top"] = "1"
    if frame.open_bottom:
        grid.meta["open_bottom"] = "1"
    if page.angle:
        grid.meta["deskew_deg"] = f"{page.angle:.2f}"
    return grid


def _box_out(page: PageImage, box: Box, dpi: float | None, origin: tuple[float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = page.original_box(box)
    if dpi:
        f = 72.0 / dpi
        return (
            round(origin[0] + x0 * f, 2),
            round(origin[1] + y0 * f, 2),
            round(origin[0] + x1 * f, 2),
            round(origin[1] + y1 * f, 2),
        )
    return (round(x0, 1), round(y0, 1), round(x1, 1), round(y1, 1))


def read_text_lines(reader: PageReader, lines: list[Box]) -> str:
    """The text of lines outside tables, in reading order (top to bottom, left to right)."""
    if not lines:
        return ""
    pieces = [Piece(b) for b in lines]
    _recognise(reader, [(p, reader.crop(p.box, pad_em=0.15)) for p in pieces])
    pieces = [p for p in pieces if p.reading is not None and p.reading.text.strip()]
    pieces.sort(key=lambda p: (p.box[1] + p.box[3]) / 2)
    rows: list[list[Piece]] = []
    for p in pieces:
        mid = (p.box[1] + p.box[3]) / 2
        if rows and abs(mid - sum((q.box[1] + q.box[3]) / 2 for q in rows[-1]) / len(rows[-1])) < 0.5 * (p.box[3] - p.box[1]):
            rows[-1].append(p)
        else:
            rows.append([p])
    out = []
    for row in rows:
        row.sort(key=lambda p: p.box[0])
        parts = [row[0].reading.text.strip()]  # type: ignore[union-attr]
        for prev, p in itertools.pairwise(row):
            gap = p.box[0] - prev.box[2]
            parts.append((" " if gap > reader.em else "") + p.reading.text.strip())  # type: ignore[union-attr]
        out.append("".join(parts))
    return "\n".join(out)


__all__ = [
    "CellReading",
    "PageReader",
    "Piece",
    "assign_lines",
    "detect_lines",
    "read_cells",
    "read_text_lines",
    "second_reading",
    "settle",
    "to_grid",
]
