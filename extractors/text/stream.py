"""The text-stream form's machinery: a text, its folded view for finding labels, and cells.

Crawler exports collapse whitespace and run a row's cells together (``规范性文件7777166``), so
labels are found in a folded view of the whole text (``schemas.labels.fold_chars``: no
whitespace, quotes or 的/之, traditional forms folded) that maps every position back to the
printed text; the text between two labels is the row's value run.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from xxgk.extractors.text.common import Lines, compact, nfkc
from xxgk.extractors.text.runs import RunSplit, describe_split, guess_order
from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Cell
from xxgk.schemas.labels import LABEL_KEPT, fold_chars
from xxgk.schemas.values import AMBIGUOUS, MEASURE, MONEY_UNIT, SPLIT_BY_NARRATIVE

_SIGN_WORDS = "|".join(
    sorted({w for w in (*lx.SIGN_PLUS_WORDS, *lx.SIGN_MINUS_WORDS) if w[0].isalpha()}, key=len, reverse=True)
)
_UNIT_CHARS = "".join(lx.TABLE_UNIT_WORDS)
_DASH_CHARS = r"\-−–—―/\\"
#: Where a value run starts: a digit, 增/减 before a digit, or a null token.
_VALUE_START = re.compile(rf"\d|(?:{_SIGN_WORDS})(?=\d)|[{_DASH_CHARS}]")
#: The rest of a value run: digits, signs, units, null tokens; a measure word only right after a
#: digit and before a break (``2笔 3个``), so a label that starts with one (部分公开) stays a label.
_VALUE_TEXT = re.compile(
    rf"(?:\s*(?:{_SIGN_WORDS}|{MONEY_UNIT}|[0-9.,+{_DASH_CHARS}{_UNIT_CHARS}]|(?<=\d)(?:{MEASURE})(?=[\s\d{_DASH_CHARS}]|$)))+"
)


@dataclass(frozen=True, slots=True)
class Anchor:
    """A row's label: its full printed forms, keyword cores, and the ordinal it is printed with."""

    key: str
    fulls: tuple[str, ...]
    cores: tuple[str, ...] = ()
    ordinal: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    key: str
    start: int  # compact offsets
    end: int
    full: bool


def anchor(key: str, labels: Iterable[str], cores: Iterable[str] = ()) -> Anchor:
    fulls = tuple(dict.fromkeys(compact(x) for x in labels if x))
    ordinal = None
    if fulls:
        m = re.match(r"(\d+)[.、]", fulls[0])
        ordinal = m.group(1) if m else None
    return Anchor(key, fulls, tuple(compact(c) for c in cores), ordinal)


class Stream:
    """A text with a compact view (labels compared whitespace-free) mapped back to the original."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        changed = {ch: nfkc(ch) for ch in set(raw) if ord(ch) > 127}
        changed = {ch: n for ch, n in changed.items() if n != ch}
        if all(len(n) == 1 and not unicodedata.combining(ch) for ch, n in changed.items()):
            self.src = raw.translate(str.maketrans(changed)) if changed else raw  # one char for one char
            self.src_raw: Sequence[int] = range(len(raw))
        else:
            chars: list[str] = []
            src_raw: list[int] = []
            for i, ch in enumerate(raw):
                for c in changed.get(ch, ch):
                    chars.append(c)
                    src_raw.append(i)
            self.src = "".join(chars)
            self.src_raw = src_raw
        cmp_src: list[int] = []
        kept: list[str] = []
        for m in LABEL_KEPT.finditer(self.src):
            cmp_src.extend(range(m.start(), m.end()))
            kept.append(m.group())
        self.cmp_src = cmp_src
        self.compact = fold_chars("".join(kept))
        self.lines = Lines(raw)

    def s(self, ci: int) -> int:
        """Source offset of compact offset ``ci`` (its start)."""
        return self.cmp_src[ci] if ci < len(self.cmp_src) else len(self.src)

    def s_end(self, ci_end: int) -> int:
        """Source offset just after compact offset ``ci_end - 1``."""
        return self.cmp_src[ci_end - 1] + 1 if ci_end > 0 else 0

    def printed(self, s_start: int, s_end: int) -> str:
        """The original text of a source span, stripped."""
        if s_end <= s_start:
            return ""
        a = self.src_raw[s_start]
        b = self.src_raw[min(s_end, len(self.src_raw)) - 1] + 1
        return self.raw[a:b].strip()

    def cell(self, text: str, s_offset: int, hint: str | None = None, note: str = "") -> Cell:
        raw_offset = self.src_raw[s_offset] if s_offset < len(self.src_raw) else len(self.raw)
        line, col = self.lines.at(raw_offset)
        return Cell(text, line, col, hint=hint, note=note)

    def find(self, anchor: Anchor, lo: int, hi: int) -> Match | None:
        """The first occurrence of a label in [lo, hi): its full text if that is where it is, else a core."""
        full = earliest(self.compact, anchor.fulls, lo, hi)
        core = earliest(self.compact, anchor.cores, lo, hi)
        if full and (not core or full[0] <= core[0]):
            return Match(anchor.key, full[0], full[1], True)
        if core:
            return Match(anchor.key, core[0], core[1], False)
        return None


def earliest(text: str, words: Iterable[str], lo: int, hi: int) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    for w in words:
        if not w:
            continue
        i = text.find(w, lo, hi)
        if i >= 0 and (best is None or i < best[0] or (i == best[0] and i + len(w) > best[1])):
            best = (i, i + len(w))
    return best


@dataclass(slots=True)
class Window:
    """The source text between two labels: the end of one label, a value run, the start of the next."""

    suffix_end: int  # source offsets
    value_start: int
    value_end: int
    value: str


def window(st: Stream, s_lo: int, s_hi: int, next_ordinal: str | None, max_suffix: int = 48) -> Window:
    """Split the text between two labels; a value run further than ``max_suffix`` characters
    (whitespace aside) from its label is narrative, not the row's values."""
    text = st.src[s_lo:s_hi]
    m = _VALUE_START.search(text)
    if not m or len("".join(text[: m.start()].split())) > max_suffix:
        return Window(s_hi, s_hi, s_hi, "")
    vs = m.start()
    mv = _VALUE_TEXT.match(text, vs)
    ve = mv.end() if mv else vs
    while ve > vs and text[ve - 1].isspace():
        ve -= 1
    value = text[vs:ve]
    rest = text[ve:]
    # the ordinal of the next label glued to the run: "00000002.其他法律…", "…0 3、其他"
    if re.search(r"\d[.、]?$", value) and (value.endswith((".", "、")) or rest[:1] in (".", "、")):
        core = value.rstrip(".、")
        digits = re.search(r"\d+$", core)
        if digits and not rest[:1].isdigit():
            d = digits.group()
            take = len(next_ordinal) if next_ordinal and d.endswith(next_ordinal) else 1
            ve = vs + len(core) - take
    elif vs > 0 and text[vs - 1] == "(" and rest[:1] == ")":  # "(1)属于…": an ordinal, not a value
        ve = vs
    while ve > vs and text[ve - 1].isspace():
        ve -= 1
    value = text[vs:ve]
    if not value.strip():
        return Window(s_hi, s_hi, s_hi, "")
    return Window(s_lo + vs, s_lo + vs, s_lo + ve, value)


def label_spans(st: Stream, lo: int, hi: int, words: Sequence[str]) -> list[tuple[int, int]]:
    """Cut the compact text [lo, hi) into label cells at every known word (leftmost-longest)."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    cuts: list[int] = []
    p = lo
    while p < hi:
        w = next((w for w in words if st.compact.startswith(w, p) and p + len(w) <= hi), None)
        if w:
            cuts.append(p)
            p += len(w)
        else:
            p += 1
    if not cuts or cuts[0] != lo:
        cuts.insert(0, lo)
    bounds = [*cuts, hi]
    return [(a, b) for a, b in pairwise(bounds) if b > a]


def label_cells(st: Stream, spans: Sequence[tuple[int, int]]) -> list[Cell]:
    cells = []
    for a, b in spans:
        text = st.printed(st.s(a), st.s_end(b))
        if text:
            cells.append(st.cell(text, st.s(a)))
    return cells


def value_cells(
    st: Stream, window: Window, split: RunSplit, what: str, warnings: list[str], evidence: str = ""
) -> list[Cell]:
    """Cells of one split run: settled cells plain, cells the splits disagree on ``ambiguous``.

    ``evidence`` names what narrowed ``split`` down to one reading (the narrative): the cells it
    decided carry ``split_by_narrative`` and the evidence in their note instead of ``ok``.
    """
    expected = len(split.kinds)
    if not split.spans:
        warnings.append(
            f"{what}: run {window.value.strip()!r} cannot be split into {expected} cells; kept unsplit (ambiguous)"
        )
        note = f"digit run {window.value.strip()!r} cannot be split into {expected} cells"
        return [st.cell(nfkc(window.value).strip(), window.value_start, AMBIGUOUS, note)]
    order = guess_order(split)
    best = order[0]
    note = describe_split(split, order) + "; the value is a best guess"
    cells = []
    for j, (a, b) in enumerate(split.spans[best]):
        texts = {split.run[x[j][0] : x[j][1]] for x in split.spans}
        hint = AMBIGUOUS if len(texts) > 1 or split.truncated else None
        offset = window.value_start + src_offset(window.value, split.run, a)
        cells.append(st.cell(split.run[a:b], offset, hint, note if hint else ""))
    return cells


def decided_cells(cells: list[Cell], before: RunSplit, evidence: str) -> list[Cell]:
    """The cells of a run that ``evidence`` narrowed to one split: those it decided say so."""
    out = []
    for j, cell in enumerate(cells):
        texts = {before.run[x[j][0] : x[j][1]] for x in before.spans}
        if len(texts) > 1:
            cell = Cell(cell.text, cell.row, cell.col, hint=SPLIT_BY_NARRATIVE, note=evidence)
        out.append(cell)
    return out


def src_offset(original: str, normalised: str, index: int) -> int:
    """Offset in ``original`` of character ``index`` of its NFKC form (same length unless NFKC expands)."""
    if len(original) == len(normalised):
        return index
    acc = 0
    for i, ch in enumerate(original):
        if acc >= index:
            return i
        acc += len(nfkc(ch))
    return len(original)
