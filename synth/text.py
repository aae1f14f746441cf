"""Text renderers: a synthetic report in the text forms met in practice, as UTF-8 bytes.

Four forms, each the shape of a real export:

- ``cells``: one cell per line, tab-prefixed, blank lines between table rows, merged cells
  continued as empty tab lines, wrapped labels continued on untabbed lines (Word → text, the
  shape of ``corpus/yuelu_2020.txt``).
- ``layout``: columns placed by position and separated by runs of spaces, long labels wrapped
  inside their column, optional page breaks (``pdftotext -layout``).
- ``markdown``: pipe tables, one per block, merged cells repeated or left empty, optionally a
  table broken in two by a page footer (PDF → Markdown converters, ``corpus/kewei_2024.md``).
- ``runs``: a crawler export with the whole page on one line and the cells of a row run
  together without separators (``corpus/pingtan_2024.txt``: ``规范性文件898989``).

Renderers only print: they never change a value, so ``report.expected_facts()`` stays the truth
(for ``runs`` the test decides which cells cannot be split uniquely, see ``value_runs``).
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from xxgk.synth.generate import PrintedDocument, PrintedTable, Span, printed_document
from xxgk.synth.report import CellKey, SyntheticReport

FORMS = ("cells", "layout", "markdown", "runs")


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


def _document(doc: SyntheticReport | PrintedDocument) -> tuple[PrintedDocument, tuple[str, ...]]:
    if isinstance(doc, SyntheticReport):
        return printed_document(doc), doc.defects
    return doc, ()


def _rng(doc: PrintedDocument, seed: int) -> random.Random:
    digest = hashlib.sha1(f"{doc.title}|{seed}".encode()).hexdigest()
    return random.Random(digest)


@dataclass(frozen=True)
class Slot:
    """One grid position: the anchor span covering it and where that anchor starts."""

    span: Span
    row: int
    col: int

    def is_anchor(self, r: int, c: int) -> bool:
        return (self.row, self.col) == (r, c)


def expand(table: PrintedTable) -> list[list[Slot]]:
    """The positional grid of a table: every (row, col) → the span covering it."""
    nrows = len(table.rows)
    grid: list[list[Slot | None]] = [[None] * table.ncols for _ in range(nrows)]
    for r, row in enumerate(table.rows):
        c = 0
        for span in row:
            while c < table.ncols and grid[r][c] is not None:
                c += 1
            if c + span.colspan > table.ncols or r + span.rowspan > nrows:
                raise ValueError(f"span {span.text!r} overflows table {table.name}")
            slot = Slot(span, r, c)
            for dr in range(span.rowspan):
                for dc in range(span.colspan):
                    if grid[r + dr][c + dc] is not None:
                        raise ValueError(f"overlapping spans in table {table.name}")
                    grid[r + dr][c + dc] = slot
            c += span.colspan
    out: list[list[Slot]] = []
    for r, row in enumerate(grid):
        if any(s is None for s in row):
            raise ValueError(f"row {r} of table {table.name} is not filled")
        out.append([s for s in row if s is not None])
    return out


def display_width(text: str) -> int:
    """Width on a terminal/page grid: CJK and full-width characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wrap(text: str, width: int | None) -> list[str]:
    """Break ``text`` at its own line breaks, then every ``width`` display cells."""
    lines: list[str] = []
    for part in text.split("\n"):
        if width is None or display_width(part) <= width:
            lines.append(part)
            continue
        current, w = "", 0
        for ch in part:
            cw = display_width(ch)
            if w + cw > width and current:
                lines.append(current)
                current, w = "", 0
            current += ch
            w += cw
        lines.append(current)
    return lines


def _finish(lines: list[str], options: dict[str, object]) -> bytes:
    newline = str(options.pop("newline", "\n"))
    encoding = str(options.pop("encoding", "utf-8"))
    bom = bool(options.pop("bom", False))
    if options:
        raise TypeError(f"unknown render options: {sorted(options)}")
    text = "\n".join(lines)
    if not text.endswith("\n"):
        text += "\n"
    if newline != "\n":
        text = text.replace("\n", newline)
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom and encoding == "utf-8" else data


# ---------------------------------------------------------------------------------------------
# (a) one cell per line
# ---------------------------------------------------------------------------------------------


def _cells_table(table: PrintedTable, stray_header_zero: bool) -> list[str]:
    grid = expand(table)
    lines: list[str] = []
    header_rows = sum(1 for row in table.rows if all(s.header for s in row))
    for r, row in enumerate(grid):
        for c, slot in enumerate(row):
            if slot.col != c:
                continue  # covered by a cell to the left: Word prints a merged cell once per row
            if slot.is_anchor(r, c):
                lines.append("\t" + slot.span.text)
            elif stray_header_zero and table.name == "requests" and r == header_rows - 1 and c == table.ncols - 1:
                lines.append("\t0")  # the merged 总计 header continues as a stray 0 (yuelu_2020)
            else:
                lines.append("\t")
        lines.append("")
    lines.append("")
    return lines


def render_cells(doc: SyntheticReport | PrintedDocument, **options: object) -> bytes:
    """One cell per tab-prefixed line, rows separated by blank lines (yuelu_2020.txt)."""
    printed, defects = _document(doc)
    stray = bool(options.pop("stray_header_zero", "stray_header_zero" in defects))
    options.pop("seed", None)
    lines = [printed.title, ""]
    for block in printed.blocks:
        if isinstance(block, PrintedTable):
            lines += _cells_table(block, stray)
        else:
            lines.append(block)
    return _finish(lines, options)


# ---------------------------------------------------------------------------------------------
# (b) layout text (pdftotext -layout)
# ---------------------------------------------------------------------------------------------


@dataclass
class _Placed:
    x: int
    width: int
    lines: list[str]
    align: str  # left | center


def _layout_table(
    table: PrintedTable,
    *,
    gap: int,
    indent: int,
    wrap_labels: int,
    wrap_groups: int,
    wrap_headers: int,
    valign: str,
    vertical_groups: bool,
) -> list[str]:
    grid = expand(table)
    anchors = [(r, c, slot.span) for r, row in enumerate(grid) for c, slot in enumerate(row) if slot.is_anchor(r, c)]

    def limit(span: Span) -> int | None:
        if span.key is not None:
            return None
        if span.header:
            return wrap_headers
        return wrap_groups if span.rowspan > 1 else wrap_labels

    def vertical(span: Span) -> bool:
        return vertical_groups and span.key is None and not span.header and span.rowspan >= 3

    widths = [2] * table.ncols
    for _r, c, span in anchors:
        if span.colspan == 1:
            lines = (
                list(span.text.replace("\n", "").replace(" ", "")) if vertical(span) else _wrap(span.text, limit(span))
            )
            widths[c] = max(widths[c], *(display_width(line) for line in lines))
    texts: dict[tuple[int, int], list[str]] = {}
    for r, c, span in anchors:
        if vertical(span):
            texts[(r, c)] = list(span.text.replace("\n", "").replace(" ", ""))
            continue
        if span.colspan == 1:
            texts[(r, c)] = _wrap(span.text, limit(span))
            continue
        available = sum(widths[c : c + span.colspan]) + gap * (span.colspan - 1)
        lines = [span.text] if span.key is not None else _wrap(span.text, max(available, limit(span) or 0, 8))
        need = max(display_width(line) for line in lines)
        if need > available:
            widths[c + span.colspan - 1] += need - available
        texts[(r, c)] = lines
    heights = [1] * len(grid)
    for r, c, span in anchors:
        if span.rowspan == 1:
            heights[r] = max(heights[r], len(texts[(r, c)]))
    for r, c, span in anchors:
        if span.rowspan > 1:
            deficit = len(texts[(r, c)]) - sum(heights[r : r + span.rowspan])
            if deficit > 0:
                heights[r + span.rowspan - 1] += deficit
    base = [sum(heights[:r]) for r in range(len(grid))]
    xs = [indent + sum(widths[:c]) + gap * c for c in range(table.ncols)]
    canvas: list[list[tuple[int, str]]] = [[] for _ in range(sum(heights))]
    for r, c, span in anchors:
        lines = texts[(r, c)]
        width = sum(widths[c : c + span.colspan]) + gap * (span.colspan - 1)
        total_h = sum(heights[r : r + span.rowspan])
        start = base[r]
        if span.rowspan > 1 and valign == "middle":
            start += (total_h - len(lines)) // 2
        for i, line in enumerate(lines):
            if not line:
                continue
            centered = span.key is not None or span.header or vertical(span)
            x = xs[c] + ((width - display_width(line)) // 2 if centered else 0)
            canvas[start + i].append((x, line))
    return [_compose(pieces) for pieces in canvas]


def _compose(pieces: list[tuple[int, str]]) -> str:
    out, pos = "", 0
    for x, text in sorted(pieces):
        x = max(x, pos + 1 if out else x)
        out += " " * (x - pos) + text
        pos = x + display_width(text)
    return out.rstrip()


def render_layout(doc: SyntheticReport | PrintedDocument, **options: object) -> bytes:
    """Columns by position, separated by runs of spaces (what ``pdftotext -layout`` gives).

    Options: ``gap`` (spaces between columns, default 3), ``wrap_labels`` / ``wrap_groups`` /
    ``wrap_headers`` (display widths at which labels wrap inside their column),
    ``valign`` (top | middle: where a merged label sits), ``vertical_groups`` (merged group
    labels printed one character per line), ``lines_per_page`` (form feeds and page footers;
    tables then split across pages), ``text_width`` (narrative wrap width).
    """
    printed, _ = _document(doc)
    options.pop("seed", None)
    gap = int(options.pop("gap", 3))  # type: ignore[arg-type]
    table_opts = {
        "gap": gap,
        "indent": int(options.pop("indent", 0)),  # type: ignore[arg-type]
        "wrap_labels": int(options.pop("wrap_labels", 28)),  # type: ignore[arg-type]
        "wrap_groups": int(options.pop("wrap_groups", 8)),  # type: ignore[arg-type]
        "wrap_headers": int(options.pop("wrap_headers", 8)),  # type: ignore[arg-type]
        "valign": str(options.pop("valign", "top")),
        "vertical_groups": bool(options.pop("vertical_groups", False)),
    }
    if gap < 2:
        raise ValueError("columns need at least two spaces between them")
    text_width = int(options.pop("text_width", 80))  # type: ignore[arg-type]
    lines_per_page = options.pop("lines_per_page", None)
    body: list[str] = [" " * max(0, (text_width - display_width(printed.title)) // 2) + printed.title, ""]
    for block in printed.blocks:
        if isinstance(block, PrintedTable):
            body += ["", *_layout_table(block, **table_opts), ""]  # type: ignore[arg-type]
        else:
            for i, line in enumerate(_wrap(block, text_width - 4)):
                body.append(("    " if i == 0 and len(block) > 30 else "") + line)
    lines: list[str] = []
    if lines_per_page:
        per_page = int(lines_per_page)  # type: ignore[call-overload]
        pages = [body[i : i + per_page] for i in range(0, len(body), per_page)]
        for n, page in enumerate(pages, start=1):
            footer = " " * (text_width // 2 - 2) + f"- {n} -"
            if n > 1:  # pdftotext ends every page with a form feed: the next page starts after it
                page = ["\f" + page[0], *page[1:]]
            lines += [*page, "", footer]
        lines[-1] += "\f"
    else:
        lines = body
    return _finish(lines, options)


# ---------------------------------------------------------------------------------------------
# (c) Markdown pipe tables
# ---------------------------------------------------------------------------------------------


def _md_rows(table: PrintedTable, merged: str, br: str) -> list[list[str]]:
    grid = expand(table)
    rows = []
    for r, row in enumerate(grid):
        cells = []
        for c, slot in enumerate(row):
            text = slot.span.text if (slot.is_anchor(r, c) or merged == "repeat") else ""
            if "|" in text:
                raise ValueError(f"cell text {text!r} contains a pipe")
            cells.append(text.replace("\n", br))
        rows.append(cells)
    return rows


def _md_block(rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    return [line(rows[0]), "|" + "---|" * len(rows[0]), *(line(r) for r in rows[1:])]


def render_markdown(doc: SyntheticReport | PrintedDocument, **options: object) -> bytes:
    """Pipe tables, one per block (PDF → Markdown converters).

    Options: ``merged`` (repeat | empty: what merged cells become), ``br`` (what a line break
    inside a cell becomes, default ``<br>``), ``split`` (``{table name: grid row}``: the table is
    broken before that row by a page footer and continues as a new pipe table whose first row
    is data), ``headings`` (plain | atx), ``captions`` (a ``## 表X`` line before each table).
    """
    printed, _ = _document(doc)
    options.pop("seed", None)
    merged = str(options.pop("merged", "repeat"))
    if merged not in ("repeat", "empty"):
        raise ValueError(f"merged must be repeat or empty, not {merged!r}")
    br = str(options.pop("br", "<br>"))
    split: dict[str, int] = dict(options.pop("split", {}) or {})  # type: ignore[call-overload]
    headings = str(options.pop("headings", "plain"))
    captions = bool(options.pop("captions", False))
    lines = [f"# {printed.title}", ""]
    page = 1
    for block in printed.blocks:
        if isinstance(block, PrintedTable):
            rows = _md_rows(block, merged, br)
            if captions:
                lines += [f"## 表：{block.name}", ""]
            at = split.get(block.name)
            if at and 0 < at < len(rows):
                page += 1
                lines += [*_md_block(rows[:at]), "", f"- {page} -", "", *_md_block(rows[at:]), ""]
            else:
                lines += [*_md_block(rows), ""]
        else:
            is_heading = len(block) < 40 and block[:2] in {"一、", "二、", "三、", "四、", "五、", "六、", "七、"}
            lines += [f"## {block}" if (is_heading and headings == "atx") else block, ""]
    return _finish(lines, options)


# ---------------------------------------------------------------------------------------------
# (d) run-together crawler export
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueRun:
    """The value cells of one printed table row as they run together in the text."""

    table: str
    keys: tuple[CellKey, ...]
    text: str


def _runs_body(printed: PrintedDocument, rng: random.Random, spaces: float, runs: list[ValueRun]) -> str:
    parts: list[str] = []
    for block in printed.blocks:
        if not isinstance(block, PrintedTable):
            parts.append(block + (" " if rng.random() < 0.3 else ""))
            continue
        grid = expand(block)
        for r, row in enumerate(grid):
            run_text, run_keys = "", []
            for c, slot in enumerate(row):
                if not slot.is_anchor(r, c):
                    continue
                span = slot.span
                if span.key is not None:
                    if span.text.strip() == "":
                        raise ValueError(
                            f"run-together text cannot show the blank cell {span.key}: it would vanish from the run"
                        )
                    if run_keys and rng.random() < spaces:
                        run_text += " "
                    run_text += span.text
                    run_keys.append(span.key)
                else:
                    if run_keys:
                        runs.append(ValueRun(block.name, tuple(run_keys), run_text))
                        parts.append(run_text)
                        run_text, run_keys = "", []
                    parts.append(span.text.replace("\n", " ") + (" " if rng.random() < spaces else ""))
            if run_keys:
                runs.append(ValueRun(block.name, tuple(run_keys), run_text))
                parts.append(run_text + (" " if rng.random() < spaces else ""))
    return "".join(parts)


def _runs_parts(
    doc: SyntheticReport | PrintedDocument, options: dict[str, object]
) -> tuple[PrintedDocument, str, list[ValueRun]]:
    printed, _ = _document(doc)
    seed = int(options.pop("seed", 0))  # type: ignore[call-overload]
    spaces = float(options.pop("spaces", 0.0))  # type: ignore[arg-type]
    runs: list[ValueRun] = []
    body = _runs_body(printed, _rng(printed, seed), spaces, runs)
    return printed, body, runs


def value_runs(doc: SyntheticReport | PrintedDocument, **options: object) -> list[ValueRun]:
    """The digit runs ``render_runs`` prints with the same options, one per table row.

    A test's brute-force splitter reads these to decide which cells no identity can fix.
    """
    options.pop("crawler_header", None)
    _, _, runs = _runs_parts(doc, options)
    return runs


#: The portal column a crawler found the page in, by document kind.
_COLUMNS = {"report": "政府信息公开年报", "legacy": "政府信息公开年报", "not_a_report": "通知公告"}


def render_runs(doc: SyntheticReport | PrintedDocument, **options: object) -> bytes:
    """The whole page on one line, cells run together (the Pingtan crawler text).

    Options: ``spaces`` (probability of a stray space after a cell, as &nbsp; padding leaves
    them), ``crawler_header`` (the 标题:/发布时间:/… lines before the body, default on), ``seed``.
    A blank value cell cannot be shown (it would vanish from the run): ValueError.
    """
    crawler_header = bool(options.pop("crawler_header", True))
    printed, body, _ = _runs_parts(doc, options)
    page_id = hashlib.sha1(printed.title.encode("utf-8")).hexdigest()[:8]
    lines: list[str] = []
    if crawler_header:
        lines += [
            f"标题: {printed.title}",
            f"发布时间: {printed.published} 10:00",
            "文号: ",
            f"发布机构: {printed.publisher}",
            f"栏目: {printed.meta.get('column') or _COLUMNS.get(printed.kind, '政府信息公开年报')}",
            f"原文链接: https://www.example.com/zwgk/zfxxgknb/t_{page_id}.htm",
            f"本地目录: zwgk/zfxxgknb/{page_id}_{printed.title}",
            "页面链接与图片详见 links.tsv(同目录)",
            "==================== 正文 ====================",
        ]
    else:
        body = printed.title + body
    lines.append(body)
    return _finish(lines, options)


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

_RENDERERS = {
    "cells": render_cells,
    "layout": render_layout,
    "markdown": render_markdown,
    "runs": render_runs,
}


def render_text(report: SyntheticReport | PrintedDocument, form: str = "cells", **options: object) -> bytes:
    """Render ``report`` (or a legacy / non-report ``PrintedDocument``) in one text form.

    ``form`` is one of ``FORMS``; options are those of the form's renderer, plus ``newline``,
    ``encoding`` (default utf-8) and ``bom`` for every form. Unknown options raise TypeError.
    """
    try:
        renderer = _RENDERERS[form]
    except KeyError:
        raise ValueError(f"unknown text form {form!r}; expected one of {FORMS}") from None
    return renderer(report, **options)


def iter_forms() -> Iterator[str]:
    """The text forms, for parametrised tests."""
    yield from FORMS
