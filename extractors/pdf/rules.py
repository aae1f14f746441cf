"""Ruling lines: real strokes only, snapped and joined; every cluster of rules closed along its outer
frame (a table cut by a page break has no closing rule); then pdfplumber's cells from them."""

from __future__ import annotations

import itertools
from typing import Any

from xxgk.extractors.base import DisjointSets
from xxgk.extractors.pdf.content import PaintedPath
from xxgk.extractors.pdf.settings import DEFAULT_SETTINGS, PdfSettings

#: A ruling line in pdfplumber's edge form (``x0``, ``x1``, ``top``, ``bottom``, ``orientation`` …).
Edge = dict[str, Any]
#: A cell or table box: (x0, top, x1, bottom) in points, origin top-left.
BBox = tuple[float, float, float, float]


def _edge(orientation: str, x0: float, top: float, x1: float, bottom: float, kind: str) -> Edge:
    return {
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "doctop": top,
        "width": x1 - x0,
        "height": bottom - top,
        "orientation": orientation,
        "object_type": kind,
    }


def ruling_edges(paths: list[PaintedPath], settings: PdfSettings = DEFAULT_SETTINGS) -> list[Edge]:
    """Horizontal and vertical rules of a page.

    A stroked path contributes its axis-parallel segments; a filled subpath counts only when it
    is hair-thin (Word paints rules as thin filled rectangles). Filled cell backgrounds (WPS
    paints one behind every cell) and anything white are not rules.
    """
    edges: list[Edge] = []
    slack = 1.0
    for path in paths:
        for sub in path.subpaths:
            if len(sub) < 2:
                continue
            if path.stroked:
                for (ax, ay), (bx, by) in itertools.pairwise(sub):
                    if abs(ay - by) <= slack and abs(ax - bx) > 0:
                        y = (ay + by) / 2
                        edges.append(_edge("h", min(ax, bx), y, max(ax, bx), y, "stroke"))
                    elif abs(ax - bx) <= slack and abs(ay - by) > 0:
                        x = (ax + bx) / 2
                        edges.append(_edge("v", x, min(ay, by), x, max(ay, by), "stroke"))
            elif path.filled:
                xs = [p[0] for p in sub]
                ys = [p[1] for p in sub]
                x0, x1, top, bottom = min(xs), max(xs), min(ys), max(ys)
                w, h = x1 - x0, bottom - top
                if w <= settings.thin_rect and h > w:
                    x = (x0 + x1) / 2
                    edges.append(_edge("v", x, top, x, bottom, "fill"))
                elif h <= settings.thin_rect and w > h:
                    y = (top + bottom) / 2
                    edges.append(_edge("h", x0, y, x1, y, "fill"))
    return [e for e in edges if (e["width"] if e["orientation"] == "h" else e["height"]) >= settings.edge_min_length]


def _touches(v: Edge, h: Edge, tol: float) -> bool:
    return v["top"] - tol <= h["top"] <= v["bottom"] + tol and h["x0"] - tol <= v["x0"] <= h["x1"] + tol


def _covers(spans: list[tuple[float, float]], start: float, end: float, tol: float) -> bool:
    """True when the segments, drawn one cell at a time, together run from ``start`` to ``end``."""
    reach = start + tol
    for a, b in sorted(spans):
        if a > reach:
            return False
        reach = max(reach, b + tol)
    return reach >= end


def close_frames(edges: list[Edge], tol: float) -> tuple[list[Edge], list[dict[str, Any]]]:
    """Give every cluster of crossing rules a complete outer frame.

    A table cut by a page break lacks its bottom rule on the first page and, over merged label
    cells, its top rule on the next: the cells along that side would have no corners and vanish.
    Returns the edges with the missing sides added, and per cluster its bbox and which sides
    were open (so the grid can say it continues).
    """
    hs = [e for e in edges if e["orientation"] == "h"]
    vs = [e for e in edges if e["orientation"] == "v"]
    n = len(hs) + len(vs)
    touching = DisjointSets(n)
    for j, v in enumerate(vs):
        for i, h in enumerate(hs):
            if _touches(v, h, tol):
                touching.union(i, len(hs) + j)
    added: list[Edge] = []
    frames: list[dict[str, Any]] = []
    for members in touching.groups():
        c_h = [hs[i] for i in members if i < len(hs)]
        c_v = [vs[i - len(hs)] for i in members if i >= len(hs)]
        if len(c_h) < 2 or len(c_v) < 2:
            continue
        x0 = min(min(e["x0"] for e in c_h), min(e["x0"] for e in c_v))
        x1 = max(max(e["x1"] for e in c_h), max(e["x0"] for e in c_v))
        top = min(min(e["top"] for e in c_h), min(e["top"] for e in c_v))
        bottom = max(max(e["top"] for e in c_h), max(e["bottom"] for e in c_v))
        open_sides: list[str] = []

        def covered_h(y: float, c_h: list[Edge] = c_h, x0: float = x0, x1: float = x1) -> bool:
            spans = [(e["x0"], e["x1"]) for e in c_h if abs(e["top"] - y) <= tol]
            return _covers(spans, x0, x1, tol)

        def covered_v(x: float, c_v: list[Edge] = c_v, top: float = top, bottom: float = bottom) -> bool:
            spans = [(e["top"], e["bottom"]) for e in c_v if abs(e["x0"] - x) <= tol]
            return _covers(spans, top, bottom, tol)

        if not covered_h(top):
            added.append(_edge("h", x0, top, x1, top, "frame"))
            open_sides.append("top")
        if not covered_h(bottom):
            added.append(_edge("h", x0, bottom, x1, bottom, "frame"))
            open_sides.append("bottom")
        if not covered_v(x0):
            added.append(_edge("v", x0, top, x0, bottom, "frame"))
            open_sides.append("left")
        if not covered_v(x1):
            added.append(_edge("v", x1, top, x1, bottom, "frame"))
            open_sides.append("right")
        frames.append({"bbox": (x0, top, x1, bottom), "open": open_sides})
    return edges + added, frames


def merge_rules(edges: list[Edge], settings: PdfSettings = DEFAULT_SETTINGS) -> list[Edge]:
    """pdfplumber's snap and join: rules drawn one cell side at a time become whole lines."""
    from pdfplumber.table import merge_edges

    if not edges:
        return []
    merged = merge_edges(
        edges,
        snap_x_tolerance=settings.snap_tolerance,
        snap_y_tolerance=settings.snap_tolerance,
        join_x_tolerance=settings.join_tolerance,
        join_y_tolerance=settings.join_tolerance,
    )
    return [e for e in merged if (e["width"] if e["orientation"] == "h" else e["height"]) >= settings.edge_min_length]


def find_cell_groups(edges: list[Edge], settings: PdfSettings = DEFAULT_SETTINGS) -> list[list[BBox]]:
    """pdfplumber's own pipeline from rules to tables: snap and join, intersect, cells, groups."""
    from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells

    merged = merge_rules(edges, settings)
    if not merged:
        return []
    intersections = edges_to_intersections(merged, settings.intersection_tolerance, settings.intersection_tolerance)
    cells = intersections_to_cells(intersections)
    return cells_to_tables(cells)
