"""Render a synthetic report as a PDF, the way WPS and Word print the national tables.

The layout comes from ``synth.generate.printed_document`` (the same tables, merged cells and
labels every renderer draws). This module lays it out on A4 pages with reportlab's built-in
CID font STSong-Light (no system font needed; the text layer is extractable by pdfplumber and
PDFium) and adds what PDFs add: tables cut by page breaks (WPS leaves the cut open: no rule
under the last row, no rule over the merged cells that continue), labels wrapped inside narrow
cells, 三、本年度办理结果 printed one character per line, letter-spaced labels (总 计), rules drawn
as lines, as thin filled rectangles (Word) or as stroked cell rectangles, white cell
backgrounds behind every cell (WPS), or no rules at all.

Bad samples for tests are made here too: a scanned-like PDF (page images only), a password-
protected PDF, a truncated file and a decompression bomb.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from typing import Any

from xxgk.schemas.model import PROACTIVE, REQUESTS
from xxgk.synth.generate import PrintedDocument, PrintedTable, Span, printed_document
from xxgk.synth.report import CellKey, SyntheticReport

FONT = "STSong-Light"
PAGE_W, PAGE_H = 595.0, 842.0
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 77.0, 72.0, 64.0
TABLE_W = PAGE_W - 2 * MARGIN_X
PAD = 2.5

#: Table 三 rows before which ``split_requests=True`` breaks the page (as in hongze_2023:
#: the continuation starts inside （四）无法提供, under two merged labels that continue).
DEFAULT_REQUESTS_SPLIT = "unable.unclear_after_correction"

RULE_STYLES = ("lines", "thin_rects", "rects", "none")
SPLIT_STYLES = ("open", "closed")
#: Kinds of inner vertical rule ``missing_rules`` can leave out: between two label cells, between a
#: label and a value cell, between two value cells (header cells count as labels).
RULE_GAPS = ("label_label", "label_value", "value_value")

BBox = tuple[float, float, float, float]

_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


_embedded: dict[str, str] = {}


def embedded_font(path: str) -> str:
    """Register a TrueType font file to embed (``font_file``); returns its reportlab name.

    PDFium draws no glyph for the non-embedded STSong-Light when no CJK system font is installed,
    so a PDF meant to be rasterised (``synth.scan``) embeds a real font; layout widths stay those
    of STSong-Light, so the page is laid out exactly as the text-layer PDF.
    """
    name = _embedded.get(path)
    if name is None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        name = _embedded[path] = f"Embedded{len(_embedded)}"
        pdfmetrics.registerFont(TTFont(name, path))
    return name


_char_widths: dict[str, float] = {}


def _width(text: str, size: float) -> float:
    """Advance width of ``text`` at ``size`` (per-character widths cached: this font has no kerning)."""
    total = 0.0
    for ch in text:
        w = _char_widths.get(ch)
        if w is None:
            from reportlab.pdfbase import pdfmetrics

            w = _char_widths[ch] = pdfmetrics.stringWidth(ch, _font(), 1000.0) / 1000.0
        total += w
    return total * size


def wrap(text: str, width: float, size: float) -> list[str]:
    """Greedy line breaking for CJK text: any character may start a line, explicit ``\\n`` kept."""
    lines: list[str] = []
    for part in text.split("\n"):
        line, used = "", 0.0
        for ch in part:
            w = _width(ch, size)
            if line and used + w > width:
                lines.append(line)
                line, used = ch.lstrip(), (w if ch.strip() else 0.0)
            else:
                line += ch
                used += w
        lines.append(line)
    return lines or [""]


# --- table layout ------------------------------------------------------------------------------


@dataclass
class _Placed:
    """A span at its grid position: rows r0..r1-1, columns c0..c1-1."""

    span: Span
    r0: int
    c0: int
    r1: int
    c1: int


def _place(table: PrintedTable) -> list[_Placed]:
    taken: set[tuple[int, int]] = set()
    out: list[_Placed] = []
    for r, row in enumerate(table.rows):
        c = 0
        for span in row:
            while (r, c) in taken:
                c += 1
            out.append(_Placed(span, r, c, r + span.rowspan, c + span.colspan))
            for dr in range(span.rowspan):
                for dc in range(span.colspan):
                    taken.add((r + dr, c + dc))
            c += span.colspan
    return out


def _column_widths(table: PrintedTable, vertical_labels: bool) -> list[float]:
    if table.name == PROACTIVE and table.ncols == 4:
        rest = (TABLE_W - 130.0) / 3
        return [130.0, rest, rest, rest]
    if table.name == REQUESTS and table.ncols == 10:
        first = 18.0 if vertical_labels else 52.0
        value = 32.0
        second = 70.0
        return [first, second, TABLE_W - first - second - 7 * value] + [value] * 7
    return [TABLE_W / table.ncols] * table.ncols


def _row_heights(placed: list[_Placed], n_rows: int, widths: list[float], size: float) -> list[float]:
    leading = size * 1.3
    heights = [size + 2 * PAD + 4.0] * n_rows
    for p in sorted(placed, key=lambda p: p.r1 - p.r0):
        width = sum(widths[p.c0 : p.c1]) - 2 * PAD
        need = len(wrap(p.span.text, width, size)) * leading + 2 * PAD
        have = sum(heights[p.r0 : p.r1])
        if need > have:
            heights[p.r1 - 1] += need - have
    return heights


# --- the page writer ---------------------------------------------------------------------------


class _Writer:
    """A reportlab canvas with a top-down cursor and page numbers."""

    def __init__(self, options: dict[str, Any]) -> None:
        from reportlab.pdfgen import canvas

        self.buf = io.BytesIO()
        encrypt = None
        if options.get("password") or options.get("owner_password"):
            from reportlab.lib import pdfencrypt

            user = str(options.get("password") or "")
            owner = str(options.get("owner_password") or user + "-owner")
            encrypt = pdfencrypt.StandardEncryption(user, ownerPassword=owner, strength=128)
        self.canvas = canvas.Canvas(
            self.buf,
            pagesize=(PAGE_W, PAGE_H),
            pageCompression=1 if options.get("compress", True) else 0,
            encrypt=encrypt,
            invariant=1,
        )
        self.options = options
        self.boxes: dict[CellKey, list[tuple[int, BBox]]] = {}
        self.page = 1
        self.y = MARGIN_TOP
        self.size = float(options.get("font_size", 10.0))
        self.font = embedded_font(str(options["font_file"])) if options.get("font_file") else _font()

    # coordinates: y grows downwards from the top of the page
    def _rl(self, y: float) -> float:
        return PAGE_H - y

    def new_page(self) -> None:
        self._footer()
        self.canvas.showPage()
        self.page += 1
        self.y = MARGIN_TOP

    def _footer(self) -> None:
        if self.options.get("page_numbers", True):
            self.canvas.setFont(self.font, 10.5)
            label = f"- {self.page} -"
            self.canvas.drawString((PAGE_W - _width(label, 10.5)) / 2, self._rl(PAGE_H - 40), label)

    def finish(self) -> bytes:
        self._footer()
        self.canvas.showPage()
        self.canvas.save()
        return self.buf.getvalue()

    def text_line(self, text: str, size: float, *, centre: bool = False, indent: float = 0.0) -> None:
        leading = size * 1.6
        for line in wrap(text, TABLE_W - indent, size):
            if self.y + leading > PAGE_H - MARGIN_BOTTOM:
                self.new_page()
            self.canvas.setFont(self.font, size)
            x = (PAGE_W - _width(line, size)) / 2 if centre else MARGIN_X + indent
            if len(line.strip()) == 1 and not line.isascii() and not self.options.get("lone_glyphs"):
                line += " "  # see render_pdf: a lone glyph of this font has no extent in PDFium
            self.canvas.drawString(x, self._rl(self.y + size), line)
            self.y += leading
            indent = 0.0

    # --- tables --------------------------------------------------------------------------

    def table(self, table: PrintedTable, break_before: int | None) -> None:
        opts = self.options
        size = self.size
        widths = _column_widths(table, bool(opts.get("vertical_labels", True)))
        xs = [MARGIN_X]
        for w in widths:
            xs.append(xs[-1] + w)
        placed = _place(table)
        n_rows = max((p.r1 for p in placed), default=0)
        heights = _row_heights(placed, n_rows, widths, size)
        start = 0
        self.y += 4.0
        while start < n_rows:
            room = PAGE_H - MARGIN_BOTTOM - self.y
            end = start
            used = 0.0
            while end < n_rows and used + heights[end] <= room:
                if break_before is not None and end == break_before and end > start:
                    break
                used += heights[end]
                end += 1
            if end == start:
                if self.y > MARGIN_TOP:  # not even one row fits: start on a fresh page
                    self.new_page()
                    continue
                end = start + 1
                used = heights[start]
            self._fragment(placed, xs, heights, start, end, n_rows, size, table.name)
            self.y += used
            start = end
            if start < n_rows:
                self.new_page()
        self.y += 8.0

    def _fragment(
        self,
        placed: list[_Placed],
        xs: list[float],
        heights: list[float],
        start: int,
        end: int,
        n_rows: int,
        size: float,
        name: str,
    ) -> None:
        opts = self.options
        rule_style = str(opts.get("rule_style", "lines"))
        if not opts.get("ruled", True) or name in opts.get("unruled_tables", ()):
            rule_style = "none"
        open_split = opts.get("split_style", "open") == "open"
        ys = [self.y]
        for r in range(start, end):
            ys.append(ys[-1] + heights[r])
        cv = self.canvas
        visible = [p for p in placed if p.r0 < end and p.r1 > start]
        boxes = []
        for p in visible:
            r0, r1 = max(p.r0, start), min(p.r1, end)
            x0, x1 = xs[p.c0], xs[p.c1]
            top, bottom = ys[r0 - start], ys[r1 - start]
            boxes.append((p, x0, top, x1, bottom))
        if opts.get("cell_backgrounds"):
            cv.setFillColorRGB(1, 1, 1)
            for _, x0, top, x1, bottom in boxes:
                cv.rect(x0 + 0.3, self._rl(bottom - 0.3), x1 - x0 - 0.6, bottom - top - 0.6, stroke=0, fill=1)
        cv.setFillColorRGB(0, 0, 0)
        cv.setStrokeColorRGB(0, 0, 0)
        cv.setLineWidth(0.5)
        gaps = set(opts.get("missing_rules", ()))
        kinds = {
            (r, c): "value" if q.span.key is not None else "label"
            for q in placed
            for r in range(q.r0, q.r1)
            for c in range(q.c0, q.c1)
        }

        def inner_rule(row: int, left: int) -> bool:
            """Whether the vertical rule between columns ``left`` and ``left + 1`` is drawn in ``row``."""
            a, b = kinds.get((row, left)), kinds.get((row, left + 1))
            if a is None or b is None:
                return True  # the outer frame
            return f"{min(a, b)}_{max(a, b)}" not in gaps

        for p, x0, top, x1, bottom in boxes:
            if p.r0 >= start and p.span.key is not None:
                self.boxes.setdefault(p.span.key, []).append((self.page, (x0, top, x1, bottom)))
        for p, x0, top, x1, bottom in boxes:
            if rule_style == "none":
                break
            draw_top = p.r0 >= start or not open_split
            draw_bottom = p.r1 <= end or not open_split or end == n_rows
            draw_left, draw_right = inner_rule(p.r0, p.c0 - 1), inner_rule(p.r0, p.c1 - 1)
            if rule_style == "rects" and draw_top and draw_bottom and draw_left and draw_right:
                cv.rect(x0, self._rl(bottom), x1 - x0, bottom - top, stroke=1, fill=0)
                continue
            sides = [("v", x, top, bottom) for x, drawn in ((x0, draw_left), (x1, draw_right)) if drawn]
            if draw_top:
                sides.append(("h", top, x0, x1))
            if draw_bottom:
                sides.append(("h", bottom, x0, x1))
            for kind, a, b, c in sides:
                if rule_style == "thin_rects":
                    if kind == "v":
                        cv.rect(a - 0.25, self._rl(c), 0.5, c - b, stroke=0, fill=1)
                    else:
                        cv.rect(b, self._rl(a + 0.25), c - b, 0.5, stroke=0, fill=1)
                elif kind == "v":
                    cv.line(a, self._rl(b), a, self._rl(c))
                else:
                    cv.line(b, self._rl(a), c, self._rl(a))
        leading = size * 1.3
        cv.setFont(self.font, size)
        strings: list[tuple[float, float, str]] = []  # (baseline from the top, x, text)
        for p, x0, top, x1, bottom in boxes:
            if p.r0 < start or not p.span.text:
                continue  # text of a cell cut by the page break stays on the page where it starts
            text = p.span.text
            if opts.get("spaced_labels") and p.span.key is None and len(text) == 2:
                text = text[0] + " " + text[1]
            lines = wrap(text, x1 - x0 - 2 * PAD, size)
            block = len(lines) * leading
            y = top + max((bottom - top - block) / 2, PAD)
            step = leading
            if opts.get("vertical_spread") and len(lines) >= 3 and all(len(ln.strip()) == 1 for ln in lines):
                # WPS distributed alignment: the characters spread over the whole merged cell
                step = max(leading, (bottom - top - 2 * PAD - size) / (len(lines) - 1))
                y = top + PAD
            left_aligned = p.span.key is None and not p.span.header and len(lines) == 1 and (x1 - x0) > 60
            for line in lines:
                w = _width(line, size)
                x = x0 + PAD if left_aligned else x0 + (x1 - x0 - w) / 2
                if len(line) == 1 and not line.isascii() and not opts.get("lone_glyphs"):
                    line += " "  # see render_pdf: a lone glyph of this font has no extent in PDFium
                strings.append((y + size * 0.95, x, line))
                y += step
        if opts.get("interleaved_text"):
            # The text layer in reading order, line by line across the table (as WPS writes it):
            # the characters of a vertical label come between the data rows they sit beside.
            strings.sort(key=lambda s: (round(s[0], 1), s[1]))
        for baseline, x, line in strings:
            cv.drawString(x, self._rl(baseline), line)


def _break_row(table: PrintedTable, split: bool | str) -> int | None:
    if table.name != REQUESTS or not split:
        return None
    row_key = DEFAULT_REQUESTS_SPLIT if split is True else str(split)
    for r, row in enumerate(table.rows):
        if any(s.key is not None and s.key[1] == row_key for s in row):
            return r
    return None


def render_pdf(report: SyntheticReport | PrintedDocument, **options: Any) -> bytes:
    """The report as the bytes of a PDF.

    Options: ``split_requests`` (True, False or the row key of table 三 that starts the next
    page; default True), ``split_style`` (``open`` as WPS leaves a cut table, ``closed``),
    ``vertical_labels`` (三、本年度办理结果 one character per line; default True), ``rule_style``
    (``lines``, ``thin_rects`` as Word draws rules, ``rects`` stroked cells, ``none``), ``ruled``
    (False draws no rules), ``unruled_tables`` (names of tables drawn without rules, the others
    ruled), ``cell_backgrounds`` (a white filled rectangle behind every cell,
    as WPS paints them), ``spaced_labels`` (two-character labels letter-spaced: 总 计),
    ``font_size`` of the tables (10), ``page_numbers``, ``compress``, ``password`` (encrypt
    with this user password), ``owner_password`` (encrypted, but opens without a password:
    only permissions are restricted), ``break_before_tables`` (start every table on a new page),
    ``lone_glyphs`` (draw a one-character line of a cell bare; by default a space follows it),
    ``font_file`` (a TrueType CJK font to embed and draw with, for PDFs that are rasterised),
    ``missing_rules`` (kinds of inner vertical rule left out, from ``RULE_GAPS``: a cell then
    runs into its neighbour, as in tables ruled only in part), ``vertical_spread`` (a vertical
    label's characters spread over its whole merged cell, WPS's distributed alignment, so they
    sit on the lines of the data rows), ``interleaved_text`` (the text layer written line by line
    across the table, a vertical label's characters between the data rows).

    STSong-Light is not embedded, so PDFium gives its glyphs no extent and drops a text object
    that holds a single CJK character (real producers embed their fonts). The renderer adds a
    space after such characters unless ``lone_glyphs`` is set; the extractor notices the dropped
    objects and reads such pages with pdfminer instead.
    """
    return _render(report, options).finish()


def _check_options(options: dict[str, Any]) -> None:
    unknown = set(options) - {
        "split_requests",
        "split_style",
        "vertical_labels",
        "rule_style",
        "ruled",
        "cell_backgrounds",
        "spaced_labels",
        "font_size",
        "page_numbers",
        "compress",
        "password",
        "break_before_tables",
        "lone_glyphs",
        "owner_password",
        "unruled_tables",
        "font_file",
        "missing_rules",
        "vertical_spread",
        "interleaved_text",
    }
    if unknown:
        raise ValueError(f"unknown render_pdf options: {sorted(unknown)}")
    if options.get("rule_style", "lines") not in RULE_STYLES:
        raise ValueError(f"rule_style must be one of {RULE_STYLES}")
    if options.get("split_style", "open") not in SPLIT_STYLES:
        raise ValueError(f"split_style must be one of {SPLIT_STYLES}")
    if not set(options.get("missing_rules", ())) <= set(RULE_GAPS):
        raise ValueError(f"missing_rules must be a subset of {RULE_GAPS}")


def render_pdf_with_boxes(
    report: SyntheticReport | PrintedDocument, **options: Any
) -> tuple[bytes, dict[CellKey, list[tuple[int, BBox]]]]:
    """``render_pdf``, plus where every value cell was drawn: (page, (x0, top, x1, bottom)) in
    PDF points from the page's top-left corner, one entry per page the cell is drawn on."""
    writer = _render(report, options)
    return writer.finish(), writer.boxes


def _render(report: SyntheticReport | PrintedDocument, options: dict[str, Any]) -> _Writer:
    _check_options(options)
    doc = printed_document(report) if isinstance(report, SyntheticReport) else report
    writer = _Writer(options)
    writer.canvas.setTitle(doc.title)
    writer.canvas.setAuthor(doc.publisher)
    writer.y += 20
    writer.text_line(doc.title, 18.0, centre=True)
    writer.y += 12
    split = options.get("split_requests", True)
    for block in doc.blocks:
        if isinstance(block, str):
            if block.strip():
                writer.text_line(block, 12.0, indent=0.0 if block[:1] in "一二三四五六七八九" else 24.0)
            continue
        if options.get("break_before_tables") and writer.y > MARGIN_TOP:
            writer.new_page()
        writer.table(block, _break_row(block, split))
    return writer


# --- bad samples -------------------------------------------------------------------------------


def scanned_pdf(report: SyntheticReport | PrintedDocument, *, dpi: int = 40, pages: int | None = None) -> bytes:
    """A scanned-like PDF: every page of the rendered report as an image, no text layer."""
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    source = pdfium.PdfDocument(render_pdf(report))
    buf = io.BytesIO()
    cv = canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1)
    try:
        count = len(source) if pages is None else min(pages, len(source))
        for i in range(count):
            page = source[i]
            image = page.render(scale=dpi / 72).to_pil().convert("L")
            page.close()
            cv.drawImage(ImageReader(image), 0, 0, width=PAGE_W, height=PAGE_H)
            cv.showPage()
    finally:
        source.close()
    cv.save()
    return buf.getvalue()


def truncated_pdf(data: bytes, keep: float = 0.6) -> bytes:
    """The first ``keep`` share of a PDF's bytes, as an interrupted download leaves it."""
    return data[: max(16, int(len(data) * keep))]


def write_pdf(objects: list[bytes], *, trailer: bytes = b"", prev_self: bool = False) -> bytes:
    """A PDF of ``objects`` (object i+1 is ``objects[i]``, object 1 the catalog) with a classic xref.

    ``trailer`` adds entries to the trailer dictionary; ``prev_self`` makes the xref section name
    itself as its ``/Prev``: a reader following the chain naively never stops.
    """
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    prev = f" /Prev {xref}".encode() if prev_self else b""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R".encode() + prev + trailer + b" >>\n"
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def bomb_pdf(inflated_bytes: int) -> bytes:
    """A one-page PDF whose content stream is a few KB compressed and ``inflated_bytes`` inflated."""
    payload = zlib.compress(b" " * inflated_bytes, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length " + str(len(payload)).encode() + b" /Filter /FlateDecode >>\nstream\n" + payload + b"\nendstream",
    ]
    return write_pdf(objects)


__all__ = [
    "DEFAULT_REQUESTS_SPLIT",
    "bomb_pdf",
    "embedded_font",
    "render_pdf",
    "scanned_pdf",
    "truncated_pdf",
    "wrap",
    "write_pdf",
]
