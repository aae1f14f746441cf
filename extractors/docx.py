"""DOCX → grids and text, read from the package's WordprocessingML with lxml.

Why lxml over the XML parts and not python-docx or docx2python: what decides whether a label
reads right sits below those libraries' models (a run hidden by ``w:vanish`` or by its style, a
field's code vs its result, tracked deletions ``w:del``/``w:moveFrom``, the two copies of a text
box in ``mc:AlternateContent``, soft hyphens, content controls wrapping rows and cells), so one
would walk their lxml elements anyway; python-docx also costs ~10x more per table (every cell
access rescans the row). lxml is already a dependency (the HTML reader), parses a report's
document.xml in ~2 ms and is set up here to refuse entities, network access and nesting deeper
than 256 levels (so the recursive walk below is bounded).

Reading order is the body's: paragraphs become lines of ``RawDocument.text``, text boxes follow
the paragraph that anchors them, and every statistical table becomes a
:class:`~xxgk.schemas.grid.Grid` with ``gridSpan``/``vMerge`` merges expanded the way
``extractors.html.table_to_grid`` expands rowspan/colspan (copies carry ``span_of``). That
function works on HTML elements, so the expansion is written again here for Word's merge model
(a vertical merge is a ``continue`` cell in the next row, not a span count). Tables that frame
other tables or prose (a one-cell frame, a cell holding a nested table) are read as blocks, as
the HTML reader does. Expanded cells are counted against ``MAX_EXPANDED_CELLS`` so a hostile
file cannot blow memory. No page numbers: a DOCX has no pages until it is laid out.
"""

from __future__ import annotations

from collections.abc import Callable

import lxml.etree

from xxgk.extractors.archive import open_zip, read_member
from xxgk.extractors.base import ExtractionError, RawDocument, grid_from_owners
from xxgk.extractors.wordml import (
    MC,
    R_ID,
    REL,
    W_STRICT,
    W_TRANSITIONAL,
    M,
    Names,
    bounded_int,
    chosen_branch,
    clean_line,
    hidden_styles,
    is_on,
    parse_xml,
    symbol,
    text_boxes,
    val,
)
from xxgk.schemas.grid import Grid
from xxgk.schemas.records import STATUS_FAILED

FORMAT = "docx"
#: Bound on the cells of all tables of a document once merges are expanded.
MAX_EXPANDED_CELLS = 200_000
_MAX_GRID_SPAN = 1000  # Word's own limit is 63 columns
#: A table cell holding more text than this wraps prose: the table is layout, not a statistic.
_LAYOUT_CELL_CHARS = 300


class _Reader:
    """One pass over the body: lines of text in reading order and the grids of the tables."""

    def __init__(self, names: Names, hidden: frozenset[str], fmt: str) -> None:
        self.n = names
        self.hidden = hidden
        self.fmt = fmt
        self.lines: list[str] = []
        self.grids: list[Grid] = []
        self.warnings: list[str] = []
        self.cells_used = 0
        self.fields: list[bool] = []  # open complex fields: True once past their separator (the result)
        self.chunk_source: Callable[[str], bytes | None] = lambda _rid: None

    # --- blocks ----------------------------------------------------------------------------

    def blocks(self, container: lxml.etree._Element) -> None:
        n = self.n
        for child in container:
            tag = child.tag
            if tag == n.p:
                self.paragraph(child)
            elif tag == n.tbl:
                self.table(child)
            elif tag == n.sdt:
                content = child.find(n.sdt_content)
                if content is not None:
                    self.blocks(content)
            elif tag in n.block_containers:
                self.blocks(child)
            elif tag == MC + "AlternateContent":
                branch = chosen_branch(child)
                if branch is not None:
                    self.blocks(branch)
            elif tag == n.alt_chunk:
                self.alt_chunk(child)

    def paragraph(self, p: lxml.etree._Element) -> None:
        parts: list[str] = []
        boxes: list[lxml.etree._Element] = []
        self.inline(p, parts, boxes, self._paragraph_hidden(p))
        line = clean_line("".join(parts).replace("\n", " "))
        if line:
            self.lines.append(line)
        for box in boxes:
            self.blocks(box)

    def _paragraph_hidden(self, p: lxml.etree._Element) -> bool:
        ppr = p.find(self.n.ppr)
        if ppr is None:
            return False
        style = ppr.find(self.n.pstyle)
        return style is not None and style.get(self.n.val) in self.hidden

    def alt_chunk(self, chunk: lxml.etree._Element) -> None:
        """``w:altChunk``: content imported whole from another part (HTML pasted by a CMS export),
        read by the HTML reader in place; a chunk of any other kind is named in a warning."""
        rid = next((chunk.get(a) for a in R_ID if chunk.get(a)), "")
        body = self.chunk_source(rid) if rid else None
        if body is None:
            self.warnings.append(f"altChunk {rid or '(no id)'}: part missing; not read")
            return
        if b"<html" not in body[:4096].lower():
            self.warnings.append(f"altChunk {rid}: not HTML; not read")
            return
        from xxgk.extractors.html import extract_html

        try:
            chunk_doc = extract_html(body)
        except ExtractionError as err:
            self.warnings.append(f"altChunk {rid}: {err.reason}")
            return
        for grid in chunk_doc.grids:
            grid.locator = f"{self.fmt} table {len(self.grids) + 1} (altChunk {rid})"
            self.grids.append(grid)
        self.lines.append(chunk_doc.text)
        self.warnings += chunk_doc.warnings

    # --- runs ------------------------------------------------------------------------------

    def inline(
        self, el: lxml.etree._Element, out: list[str], boxes: list[lxml.etree._Element], para_hidden: bool
    ) -> None:
        """Append the visible text of ``el``'s runs to ``out``; text boxes found go to ``boxes``."""
        n = self.n
        for child in el:
            tag = child.tag
            if tag == n.r:
                self.run(child, out, boxes, para_hidden)
            elif tag in n.inline_containers:
                self.inline(child, out, boxes, para_hidden)
            elif tag == n.sdt:
                content = child.find(n.sdt_content)
                if content is not None:
                    self.inline(content, out, boxes, para_hidden)
            elif tag == MC + "AlternateContent":
                branch = chosen_branch(child)
                if branch is not None:
                    self.inline(branch, out, boxes, para_hidden)
            elif tag in (M + "oMath", M + "oMathPara") and not self._in_code():
                out.append("".join(t.text or "" for t in child.iter(M + "t")))
            # w:del / w:moveFrom (deleted revisions), proofing marks, bookmarks, comments: no text

    def _in_code(self) -> bool:
        return any(not past_separator for past_separator in self.fields)

    def run(self, r: lxml.etree._Element, out: list[str], boxes: list[lxml.etree._Element], para_hidden: bool) -> None:
        n = self.n
        rpr = r.find(n.rpr)
        hidden = para_hidden
        if rpr is not None:
            style = rpr.find(n.rstyle)
            if style is not None and style.get(n.val) in self.hidden:
                hidden = True
            own = is_on(rpr.find(n.vanish), n)
            if own is not None:
                hidden = own
        for child in r:
            tag = child.tag
            if tag == n.fld_char:
                kind = child.get(n.type)
                if kind == "begin" and len(self.fields) < 64:
                    self.fields.append(False)
                elif kind == "separate" and self.fields:
                    self.fields[-1] = True
                elif kind == "end" and self.fields:
                    self.fields.pop()
                continue
            if hidden or self._in_code():
                continue
            if tag == n.t:
                out.append(child.text or "")
            elif tag in (n.tab, n.ptab):
                out.append("\t")
            elif tag in (n.br, n.cr):
                out.append("\n")
            elif tag == n.no_break_hyphen:
                out.append("-")
            elif tag == n.sym:
                out.append(symbol(child.get(n.char)))
            elif tag == MC + "AlternateContent":
                branch = chosen_branch(child)
                if branch is not None:
                    boxes.extend(text_boxes(branch, n))
            elif tag in (n.w + "drawing", n.w + "pict", n.w + "object"):
                boxes.extend(text_boxes(child, n))
            # w:delText, w:instrText, w:softHyphen, footnote and comment references: nothing shown

    # --- tables ----------------------------------------------------------------------------

    def table(self, tbl: lxml.etree._Element) -> None:
        rows = [(tr, self._cells(tr)) for tr in self._rows(tbl)]
        texts = {id(tc): self.cell_text(tc) for _, tcs in rows for tc in tcs}
        if self._is_layout(rows, texts):
            for _, tcs in rows:
                for tc in tcs:
                    self.blocks(tc)
            return
        locator = f"{self.fmt} table {len(self.grids) + 1}"
        grid = self.expand(rows, texts, locator)
        if not grid.rows:
            return
        before = next((line for line in reversed(self.lines) if line), "")
        if before:
            grid.meta["preceding_text"] = before[:200]
        self.grids.append(grid)
        self.lines.append("")
        for row in grid.rows:
            self.lines.append("\t".join(c.text.replace("\n", " ") for c in row if not c.is_span_copy))
        self.lines.append("")

    def _rows(self, tbl: lxml.etree._Element) -> list[lxml.etree._Element]:
        """The table's own rows (through content controls), tracked row deletions left out."""
        n = self.n
        out: list[lxml.etree._Element] = []
        for child in tbl:
            if child.tag == n.tr:
                trpr = child.find(n.trpr)
                if trpr is not None and trpr.find(n.dele) is not None:
                    continue
                out.append(child)
            elif child.tag in (n.sdt, n.sdt_content, n.custom_xml):
                out.extend(self._rows(child))
        return out

    def _cells(self, tr: lxml.etree._Element) -> list[lxml.etree._Element]:
        n = self.n
        out: list[lxml.etree._Element] = []
        for child in tr:
            if child.tag == n.tc:
                tcpr = child.find(n.tcpr)
                if tcpr is not None and tcpr.find(n.cell_del) is not None:
                    continue
                out.append(child)
            elif child.tag in (n.sdt, n.sdt_content, n.custom_xml):
                out.extend(self._cells(child))
        return out

    def cell_text(self, tc: lxml.etree._Element) -> str:
        """The text a cell shows: its paragraphs (and text boxes) as lines; fields never run across cells."""
        saved, self.fields = self.fields, []
        lines: list[str] = []
        self._cell_lines(tc, lines)
        self.fields = saved
        return "\n".join(lines)

    def _cell_lines(self, container: lxml.etree._Element, lines: list[str]) -> None:
        n = self.n
        for child in container:
            tag = child.tag
            if tag == n.p:
                parts: list[str] = []
                boxes: list[lxml.etree._Element] = []
                self.inline(child, parts, boxes, self._paragraph_hidden(child))
                lines.extend(line for line in (clean_line(x) for x in "".join(parts).split("\n")) if line)
                for box in boxes:
                    self._cell_lines(box, lines)
            elif tag == n.tbl:  # only in layout tables, whose cells are read as blocks anyway
                for tr in self._rows(child):
                    for cell in self._cells(tr):
                        self._cell_lines(cell, lines)
            elif tag == n.sdt:
                content = child.find(n.sdt_content)
                if content is not None:
                    self._cell_lines(content, lines)
            elif tag in n.block_containers:
                self._cell_lines(child, lines)
            elif tag == MC + "AlternateContent":
                branch = chosen_branch(child)
                if branch is not None:
                    self._cell_lines(branch, lines)

    def _is_layout(self, rows: list[tuple[lxml.etree._Element, list[lxml.etree._Element]]], texts: dict[int, str]) -> bool:
        cells = [tc for _, tcs in rows for tc in tcs]
        if len(cells) <= 1:
            return True
        if any(next(tc.iter(self.n.tbl), None) is not None for tc in cells):
            return True
        return any(len(texts[id(tc)]) > _LAYOUT_CELL_CHARS for tc in cells)

    def _count(self, n: int) -> None:
        self.cells_used += n
        if self.cells_used > MAX_EXPANDED_CELLS:
            raise ExtractionError(
                STATUS_FAILED,
                f"{self.fmt.upper()} tables expand to more than {MAX_EXPANDED_CELLS} cells once merged cells "
                "are expanded: refused as a hostile or broken file",
            )

    def expand(
        self,
        rows: list[tuple[lxml.etree._Element, list[lxml.etree._Element]]],
        texts: dict[int, str],
        locator: str,
    ) -> Grid:
        """One grid from Word's merge model: ``gridSpan`` across, ``vMerge continue`` down.

        A ``continue`` cell becomes a copy of the cell above (its own text, which Word does not
        show, is ignored); one with nothing mergeable above stands as a cell of its own.
        ``hMerge continue`` (old Word) joins the cell before it. ``gridBefore`` positions and
        positions no cell covers are empty cells with a note, never values.
        """
        n = self.n
        owner: dict[tuple[int, int], tuple[int, int]] = {}
        anchor_text: dict[tuple[int, int], str] = {}
        vertical: set[tuple[int, int]] = set()
        for r, (tr, tcs) in enumerate(rows):
            trpr = tr.find(n.trpr)
            before = trpr.find(n.grid_before) if trpr is not None else None
            c = bounded_int(before.get(n.val) if before is not None else None, 0, _MAX_GRID_SPAN)
            last: tuple[int, int] | None = None
            for tc in tcs:
                tcpr = tc.find(n.tcpr)
                props = {} if tcpr is None else {child.tag: child for child in tcpr}
                span = bounded_int(val(props.get(n.grid_span), n), 1, _MAX_GRID_SPAN)
                self._count(span)
                vmerge = props.get(n.vmerge)
                hmerge = props.get(n.hmerge)
                above = owner.get((r - 1, c))
                if vmerge is not None and vmerge.get(n.val, "continue") != "restart" and above in vertical:
                    anchor = above
                elif hmerge is not None and hmerge.get(n.val, "continue") != "restart" and last is not None:
                    anchor = last
                else:
                    anchor = (r, c)
                    anchor_text[anchor] = texts[id(tc)]
                    if vmerge is not None:
                        vertical.add(anchor)
                for dc in range(span):
                    owner.setdefault((r, c + dc), anchor)  # type: ignore[arg-type]
                last = anchor
                c += span
        return grid_from_owners(owner, anchor_text, locator)


# --- the package -------------------------------------------------------------------------------


class _Package:
    """The parts of a DOCX package, each read on demand with the archive limits."""

    def __init__(self, data: bytes, fmt: str) -> None:
        self.what = f"{fmt.upper()} package"
        self.zf = open_zip(data, self.what)
        self.names = set(self.zf.namelist())

    def get(self, name: str) -> bytes | None:
        return read_member(self.zf, name, self.what) if name in self.names else None

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationships of a part: id -> (type, target part name); external targets left out."""
        folder, _, base = part.rpartition("/")
        data = self.get(f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels")
        if not data:
            return {}
        out: dict[str, tuple[str, str]] = {}
        for rel in parse_xml(data, "DOCX relationships part").iter(REL + "Relationship"):
            target = rel.get("Target") or ""
            if rel.get("TargetMode") == "External":
                continue
            path = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}" if folder else target
            resolved: list[str] = []
            for piece in path.split("/"):
                if piece == "..":
                    if resolved:
                        resolved.pop()
                elif piece and piece != ".":
                    resolved.append(piece)
            out[rel.get("Id") or ""] = (rel.get("Type") or "", "/".join(resolved))
        return out

    def main_part(self) -> str:
        for kind, target in self.rels("").values():
            if kind.endswith("/officeDocument") and target in self.names:
                return target
        if "word/document.xml" in self.names:
            return "word/document.xml"
        raise ExtractionError(STATUS_FAILED, f"{self.what} has no main document part (word/document.xml)")


def extract_docx(data: bytes, *, fmt: str = FORMAT) -> RawDocument:
    """Grids of the tables, text and title of a DOCX document; ``fmt`` names the original format
    (``doc``, ``wps``, ``rtf`` ... when LibreOffice converted it) in locators and the result."""
    package = _Package(data, fmt)
    with package.zf:
        main = package.main_part()
        root = parse_xml(package.get(main) or b"", "DOCX main document part")
        ns = W_STRICT if root.tag.startswith(f"{{{W_STRICT}}}") else W_TRANSITIONAL
        names = Names(ns)
        rels = package.rels(main)
        styles = next((t for k, t in rels.values() if k.endswith("/styles")), None)
        reader = _Reader(names, hidden_styles(package.get(styles) if styles else None, names), fmt)
        reader.chunk_source = lambda rid: package.get(rels.get(rid, ("", ""))[1])
        body = root.find(names.body)
        if body is None:
            raise ExtractionError(STATUS_FAILED, "DOCX main document part has no body")
        reader.blocks(body)
    text = "\n".join(line for line in reader.lines if line)
    if not text and not reader.grids:
        raise ExtractionError(STATUS_FAILED, f"{fmt.upper()} document has no text and no tables")
    return RawDocument(format=fmt, grids=reader.grids, text=text, warnings=reader.warnings)


__all__ = ["FORMAT", "MAX_EXPANDED_CELLS", "clean_line", "extract_docx"]
