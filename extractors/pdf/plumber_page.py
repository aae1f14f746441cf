"""Characters and painted paths of one page through pdfplumber/pdfminer: the slow reference reader,
and the reader of pages whose glyphs PDFium cannot place."""

from __future__ import annotations

from typing import Any

from xxgk.extractors.pdf.content import PageContent, PaintedPath


def _colour_is_white(color: Any) -> bool:
    if color is None:
        return False
    values = color if isinstance(color, list | tuple) else (color,)
    if not values or not all(isinstance(v, int | float) for v in values):
        return False
    if len(values) == 4:  # CMYK
        return all(v <= 0.05 for v in values)
    return all(v >= 0.95 for v in values)


def pdfplumber_content(page: Any, number: int) -> PageContent:
    """Characters and paths of one page via pdfplumber/pdfminer (the slow, reference reader)."""
    objects = page.objects
    chars = [
        {
            "text": ch["text"],
            "x0": ch["x0"],
            "x1": ch["x1"],
            "top": ch["top"],
            "bottom": ch["bottom"],
            "size": ch["bottom"] - ch["top"],
        }
        for ch in objects.get("char", [])
        if ch["text"].strip()
    ]
    paths: list[PaintedPath] = []
    for kind in ("line", "rect", "curve"):
        for obj in objects.get(kind, []):
            stroked = bool(obj.get("stroke")) and not _colour_is_white(obj.get("stroking_color"))
            filled = bool(obj.get("fill")) and not _colour_is_white(obj.get("non_stroking_color"))
            if not (stroked or filled):
                continue
            subpaths: list[list[tuple[float, float]]] = []
            for op in obj.get("path") or []:
                if op[0] == "m" or not subpaths:
                    subpaths.append([op[-1]] if len(op) > 1 else [])
                elif op[0] in ("l", "c", "v", "y"):
                    subpaths[-1].append(op[-1])
                elif op[0] == "h" and subpaths[-1]:
                    subpaths[-1].append(subpaths[-1][0])
            if not subpaths:
                subpaths = [list(obj.get("pts") or [])]
            paths.append(PaintedPath([s for s in subpaths if s], stroked, filled))
    return PageContent(number, chars, paths)
