"""Page geometry of a scan: ink, skew, ruling lines and the cells of ruled tables.

A page is normalised against its own background (uneven light), binarised, deskewed (the
angle that makes the rows of ink sharpest), then ruling lines are taken by morphology: an
opening with a long thin kernel keeps strokes longer than any glyph stroke. Each cluster of
lines is a table; its rule positions give a base grid, and a missing wall between two base
cells (no rule pixels along their common side) merges them, which yields rowspan/colspan
exactly. A table cut by a page break has no closing rule; its frame is closed along the ends
of its vertical rules. Everything is measured in pixels; lengths are derived from the page's
scale (pixels per PDF point), so the same code reads 150 and 300 dpi scans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from xxgk.extractors.base import DisjointSets

Box = tuple[int, int, int, int]  # x0, top, x1, bottom (pixels)

#: Lengths in PDF points, turned into pixels by the page scale.
H_RULE_MIN_PT = 24.0  # longer than any glyph stroke (a 10.5 pt em dash pair is ~21 pt)
V_RULE_MIN_PT = 13.0  # taller than any glyph stroke, shorter than one table row (~19 pt)
RULE_GAP_PT = 2.5  # breaks in a rule (noise, JPEG) closed up to this
LINE_TOL_PT = 3.0  # rule positions closer than this are one rule
WALL_MIN_SHARE = 0.55  # share of a cell side that must be rule pixels for a wall
MIN_TABLE_PT = (60.0, 12.0)  # width, height of the smallest table


@dataclass(slots=True)
class PageImage:
    """One page ready for reading: deskewed grey image, its ink, and how to map boxes back."""

    gray: Any  # uint8 HxW, deskewed
    ink: Any  # uint8 HxW, 255 where ink
    scale: float  # pixels per PDF point
    angle: float  # degrees the page was rotated by to deskew it
    back: Any  # 2x3 affine: deskewed pixel -> original pixel

    def original_box(self, box: Box) -> tuple[float, float, float, float]:
        """The axis-aligned box, in original pixels, around a box of the deskewed page."""
        x0, y0, x1, y1 = box
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], dtype=np.float64)
        pts = corners @ np.asarray(self.back, dtype=np.float64).T
        return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


@dataclass(slots=True)
class TableCell:
    """A cell of a ruled table: its base-grid span and its box (pixels, rule centres)."""

    row: int
    col: int
    rowspan: int
    colspan: int
    box: Box


@dataclass(slots=True)
class TableFrame:
    """A ruled table found on a page: its box, base grid lines and merged cells."""

    box: Box
    xs: list[int]
    ys: list[int]
    cells: list[TableCell]
    open_top: bool = False
    open_bottom: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.ys) - 1

    @property
    def n_cols(self) -> int:
        return len(self.xs) - 1


def to_gray(image: Any) -> Any:
    """A uint8 grey image from grey, RGB(A) or palette arrays."""
    arr = np.asarray(image)
    if arr.ndim == 3:
        if arr.shape[2] == 4:
            alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
            arr = (arr[:, :, :3].astype(np.float32) * alpha + 255.0 * (1 - alpha)).astype(np.uint8)
        arr = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_RGB2GRAY) if arr.shape[2] >= 3 else arr[:, :, 0]
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def flatten_light(gray: Any, scale: float) -> Any:
    """The page divided by its own background (a max filter wider than any stroke), so uneven
    light and a grey paper tone become white and ink keeps its contrast."""
    h, w = gray.shape
    factor = 4
    small = cv2.resize(gray, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    k = max(3, round(6 * scale / factor) | 1)
    background = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    background = cv2.blur(background, (k, k))
    background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
    flat = cv2.divide(gray, np.maximum(background, 1), scale=255)
    return flat


def binarise(flat: Any) -> Any:
    """Ink mask (255 = ink) of a light-flattened page: Otsu, kept within sane bounds."""
    level, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    level = float(min(max(level, 140.0), 215.0))
    _, ink = cv2.threshold(flat, level, 255, cv2.THRESH_BINARY_INV)
    return ink


def estimate_skew(ink: Any, limit: float = 3.0) -> float:
    """The rotation (degrees) that makes the page's rows of ink sharpest (projection profile).

    Coarse search over ±``limit`` on a quarter-size image, then a fine one around the best.
    """
    h, w = ink.shape
    factor = max(1, round(max(h, w) / 900))
    small = cv2.resize(ink, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape
    centre = (sw / 2, sh / 2)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(small, m, (sw, sh), flags=cv2.INTER_NEAREST, borderValue=0)
        profile = rotated.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(profile)).sum())

    if not small.any():
        return 0.0
    best = max(np.arange(-limit, limit + 1e-9, 0.25), key=sharpness)
    fine = max(np.arange(best - 0.25, best + 0.25 + 1e-9, 0.05), key=sharpness)
    return float(round(fine, 3))


def prepare_page(image: Any, scale: float, *, deskew: bool = True) -> PageImage:
    """Grey, flattened, deskewed page and its ink mask."""
    gray = to_gray(image)
    flat = flatten_light(gray, scale)
    ink = binarise(flat)
    angle = estimate_skew(ink) if deskew else 0.0
    h, w = gray.shape
    if abs(angle) >= 0.05:
        forward = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        flat = cv2.warpAffine(flat, forward, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
        ink = binarise(flat)
        back = cv2.invertAffineTransform(forward)
    else:
        angle = 0.0
        back = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return PageImage(gray=flat, ink=ink, scale=scale, angle=angle, back=back)


# --- ruling lines ------------------------------------------------------------------------------


def rule_masks(ink: Any, scale: float) -> tuple[Any, Any]:
    """Horizontal and vertical rule masks: ink runs longer than any glyph stroke.

    The opening comes first (a closing first would join the strokes of neighbouring glyphs into
    a false rule); small breaks in what survives (noise, JPEG) are closed afterwards.
    """
    gap = max(1, round(RULE_GAP_PT * scale))
    h_len = max(8, round(H_RULE_MIN_PT * scale))
    v_len = max(8, round(V_RULE_MIN_PT * scale))
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_len, 1)))
    horizontal = cv2.morphologyEx(horizontal, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len)))
    vertical = cv2.morphologyEx(vertical, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, gap)))
    return horizontal, vertical


def has_ruled_table(ink: Any, scale: float) -> bool:
    """Cheap test for a low-resolution page: is there a frame of crossing rules?"""
    horizontal, vertical = rule_masks(ink, scale)
    return bool(_table_boxes(horizontal, vertical, scale))


def _table_boxes(horizontal: Any, vertical: Any, scale: float) -> list[Box]:
    both = cv2.bitwise_or(horizontal, vertical)
    grow = max(1, round(1.5 * scale))
    both = cv2.dilate(both, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * grow + 1, 2 * grow + 1)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(both, connectivity=8)
    boxes: list[Box] = []
    min_w, min_h = MIN_TABLE_PT[0] * scale, MIN_TABLE_PT[1] * scale
    for i in range(1, n):
        x, y, w, h, _area = stats[i]
        if w < min_w or h < min_h:
            continue
        region_v = vertical[y : y + h, x : x + w]
        region_h = horizontal[y : y + h, x : x + w]
        # a table has at least two vertical rules and one horizontal one
        v_cols = _runs(region_v.any(axis=0))
        if len(v_cols) < 2 or not region_h.any():
            continue
        boxes.append((int(x + grow), int(y + grow), int(x + w - grow), int(y + h - grow)))
    return sorted(boxes, key=lambda b: (b[1], b[0]))


def _runs(flags: Any) -> list[tuple[int, int]]:
    """(start, end) of each run of True values in a 1-D boolean array (end exclusive)."""
    padded = np.concatenate(([False], np.asarray(flags, dtype=bool), [False]))
    diff = np.diff(padded.astype(np.int8))
    starts = np.flatnonzero(diff == 1)
    ends = np.flatnonzero(diff == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _segments(mask: Any, axis: int) -> list[tuple[float, int, int]]:
    """Rule segments of a mask: (position across, start along, end along) per connected component."""
    n, _, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, _area = stats[i]
        if axis == 0:  # horizontal rules: position = y
            out.append((float(centroids[i][1]), int(x), int(x + w)))
        else:
            out.append((float(centroids[i][0]), int(y), int(y + h)))
    return out


def _cluster(values: list[float], tol: float) -> list[int]:
    """Positions within ``tol`` of each other merged into their mean."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [round(sum(group) / len(group)) for group in out]


def find_tables(page: PageImage) -> list[TableFrame]:
    """Every ruled table of a deskewed page, with its merged cells."""
    horizontal, vertical = rule_masks(page.ink, page.scale)
    frames = []
    for box in _table_boxes(horizontal, vertical, page.scale):
        frame = _frame(box, horizontal, vertical, page.scale)
        if frame is not None:
            frames.append(frame)
    return frames


def _frame(box: Box, horizontal: Any, vertical: Any, scale: float) -> TableFrame | None:
    x0, y0, x1, y1 = box
    pad = max(2, round(2 * scale))
    ox, oy = max(0, x0 - pad), max(0, y0 - pad)
    hm = horizontal[oy : y1 + pad, ox : x1 + pad]
    vm = vertical[oy : y1 + pad, ox : x1 + pad]
    tol = LINE_TOL_PT * scale
    h_segs = [(p + oy, a + ox, b + ox) for p, a, b in _segments(hm, 0)]
    v_segs = [(p + ox, a + oy, b + oy) for p, a, b in _segments(vm, 1)]
    if not h_segs or len(v_segs) < 2:
        return None
    ys = _cluster([p for p, _, _ in h_segs], tol)
    xs = _cluster([p for p, _, _ in v_segs], tol)
    # close the frame: a table cut by a page break has no rule at the cut
    v_top = min(a for _, a, _ in v_segs)
    v_bottom = max(b for _, _, b in v_segs)
    open_top = ys[0] - v_top > tol
    open_bottom = v_bottom - ys[-1] > tol
    if open_top:
        ys.insert(0, int(v_top))
    if open_bottom:
        ys.append(int(v_bottom))
    h_left = min(a for _, a, _ in h_segs)
    h_right = max(b for _, _, b in h_segs)
    if xs[0] - h_left > tol:
        xs.insert(0, int(h_left))
    if h_right - xs[-1] > tol:
        xs.append(int(h_right))
    if len(xs) < 2 or len(ys) < 2:
        return None
    frame = TableFrame(box=(xs[0], ys[0], xs[-1], ys[-1]), xs=xs, ys=ys, cells=[], open_top=open_top, open_bottom=open_bottom)
    frame.cells = _merged_cells(frame, horizontal, vertical, scale)
    return frame


def _wall_share(mask: Any, fixed: int, start: int, end: int, tol: int, axis: int) -> float:
    """Share of positions between start and end where ``mask`` has rule pixels near ``fixed``."""
    if end <= start:
        return 1.0
    if axis == 0:  # a horizontal wall at y=fixed from x=start to x=end
        band = mask[max(0, fixed - tol) : fixed + tol + 1, start:end]
        hits = band.any(axis=0)
    else:
        band = mask[start:end, max(0, fixed - tol) : fixed + tol + 1]
        hits = band.any(axis=1)
    return float(hits.mean()) if hits.size else 0.0


def _merged_cells(frame: TableFrame, horizontal: Any, vertical: Any, scale: float) -> list[TableCell]:
    """Base cells joined across every side that has no rule: union-find over the base grid."""
    rows, cols = frame.n_rows, frame.n_cols
    xs, ys = frame.xs, frame.ys
    tol = max(2, round(LINE_TOL_PT * scale))
    margin = max(1, round(2.0 * scale))
    merged = DisjointSets(rows * cols)
    for r in range(rows):
        for c in range(cols - 1):
            share = _wall_share(vertical, xs[c + 1], ys[r] + margin, ys[r + 1] - margin, tol, 1)
            if share < WALL_MIN_SHARE:
                merged.union(r * cols + c, r * cols + c + 1)
    for r in range(rows - 1):
        for c in range(cols):
            share = _wall_share(horizontal, ys[r + 1], xs[c] + margin, xs[c + 1] - margin, tol, 0)
            if share < WALL_MIN_SHARE:
                merged.union(r * cols + c, (r + 1) * cols + c)
    cells: list[TableCell] = []
    for group in merged.groups():
        members = [divmod(i, cols) for i in group]
        r0 = min(r for r, _ in members)
        r1 = max(r for r, _ in members) + 1
        c0 = min(c for _, c in members)
        c1 = max(c for _, c in members) + 1
        if len(members) != (r1 - r0) * (c1 - c0):
            # not a rectangle: a wall was lost somewhere; keep the base cells apart rather than guess
            frame.notes.append(f"irregular merged region at rows {r0}-{r1 - 1}, cols {c0}-{c1 - 1}: cells kept apart")
            cells += [TableCell(r, c, 1, 1, (xs[c], ys[r], xs[c + 1], ys[r + 1])) for r, c in members]
            continue
        cells.append(TableCell(r0, c0, r1 - r0, c1 - c0, (xs[c0], ys[r0], xs[c1], ys[r1])))
    return sorted(cells, key=lambda t: (t.row, t.col))


def rules_mask(page: PageImage) -> Any:
    """All rule pixels of a page, slightly grown (to be ignored when looking for ink in a cell)."""
    horizontal, vertical = rule_masks(page.ink, page.scale)
    grow = max(1, round(0.8 * page.scale))
    both = cv2.bitwise_or(horizontal, vertical)
    return cv2.dilate(both, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * grow + 1, 2 * grow + 1)))


__all__ = [
    "Box",
    "PageImage",
    "TableCell",
    "TableFrame",
    "binarise",
    "estimate_skew",
    "find_tables",
    "flatten_light",
    "has_ruled_table",
    "prepare_page",
    "rule_masks",
    "rules_mask",
    "to_gray",
]
