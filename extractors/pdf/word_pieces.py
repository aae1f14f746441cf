"""Word-position fallback, the pieces: words as boxes, joined into labels (vertical, wrapped, phrases)
and grouped into lines; value columns as clusters of positions."""

from __future__ import annotations

from dataclasses import dataclass

from xxgk.extractors.pdf.printed import clean_pdf_text
from xxgk.extractors.pdf.settings import PdfSettings
from xxgk.schemas.values import looks_like_value


@dataclass(slots=True)
class Piece:
    """A word or a run of words read as one text, with its box (points, origin top-left)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float

    @property
    def mid(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


def join_pieces(pieces: list[Piece]) -> Piece:
    """One piece of several printed one under another: texts top to bottom, the box around them."""
    pieces = sorted(pieces, key=lambda p: (p.top, p.x0))
    return Piece(
        clean_pdf_text("\n".join(p.text for p in pieces)),
        min(p.x0 for p in pieces),
        max(p.x1 for p in pieces),
        min(p.top for p in pieces),
        max(p.bottom for p in pieces),
        max(p.size for p in pieces),
    )


def vertical_stacks(pieces: list[Piece]) -> list[Piece]:
    """Rebuild labels printed one character per line (三/、/本/年…) into one piece each."""
    singles = sorted(
        (p for p in pieces if len(p.text) == 1 and not p.text.isascii() and not is_value(p)),
        key=lambda p: (p.centre, p.top),
    )
    used: set[int] = set()
    stacks: list[Piece] = []
    for i, p in enumerate(singles):
        if id(p) in used:
            continue
        chain = [p]
        for q in singles[i + 1 :]:
            if id(q) in used or abs(q.centre - p.centre) > max(2.0, p.size * 0.3):
                continue
            if -chain[-1].size * 0.2 <= q.top - chain[-1].bottom <= chain[-1].size * 0.6:
                chain.append(q)
        if len(chain) >= 3:
            used.update(id(c) for c in chain)
            stacks.append(join_pieces(chain))
    return [p for p in pieces if id(p) not in used] + stacks


def piece_lines(pieces: list[Piece], tol: float) -> list[list[Piece]]:
    """Pieces grouped into lines by vertical centre, each line left to right."""
    lines: list[list[Piece]] = []
    mids: list[float] = []
    for p in sorted(pieces, key=lambda p: (p.mid, p.x0)):
        if lines and p.mid - mids[-1] <= tol:
            lines[-1].append(p)
            continue
        lines.append([p])
        mids.append(p.mid)
    return [sorted(line, key=lambda p: p.x0) for line in lines]


def phrases(line: list[Piece], settings: PdfSettings) -> list[Piece]:
    """Words of one line joined into cell texts at gaps narrower than ``word_gap_em``; values stay apart."""
    out: list[Piece] = []
    for p in line:
        if out:
            last = out[-1]
            gap = p.x0 - last.x1
            if gap < settings.word_gap_em * max(last.size, p.size) and not (is_value(last) or is_value(p)):
                out[-1] = Piece(
                    clean_pdf_text(last.text + " " + p.text),
                    last.x0,
                    p.x1,
                    min(last.top, p.top),
                    max(last.bottom, p.bottom),
                    max(last.size, p.size),
                )
                continue
        out.append(p)
    return out


def is_value(p: Piece) -> bool:
    """A piece that reads as a cell value (``schemas.values.looks_like_value``: a number, 增/减, a
    null token such as 无, — or /), not as label text."""
    return bool(p.text) and looks_like_value(p.text)


def stack_fragments(pieces: list[Piece], size: float, anchored: dict[int, int]) -> list[tuple[Piece, int | None]]:
    """Join fragments printed one under another inside one cell (wrapped lines, 商业/企业).

    ``anchored`` maps pieces printed on a line of values to that row; two anchored pieces are
    two rows, never one cell. Returns each joined block with its row, if one of its parts had one.
    """
    blocks: list[tuple[Piece, int | None]] = []
    for p in sorted(pieces, key=lambda p: p.top):
        row = anchored.get(id(p))
        for i in range(len(blocks) - 1, -1, -1):
            last, last_row = blocks[i]
            overlap = min(p.x1, last.x1) - max(p.x0, last.x0)
            if overlap > 0 and -size * 0.2 <= p.top - last.bottom <= size * 0.35:
                if row is not None and last_row is not None:
                    continue
                blocks[i] = (join_pieces([last, p]), row if row is not None else last_row)
                break
        else:
            blocks.append((p, row))
    return blocks


def clusters(xs: list[float], gap: float) -> list[float]:
    """Centres of runs of sorted positions no more than ``gap`` apart."""
    runs: list[list[float]] = []
    for x in sorted(xs):
        if runs and x - runs[-1][-1] <= gap:
            runs[-1].append(x)
        else:
            runs.append([x])
    return [sum(r) / len(r) for r in runs]
