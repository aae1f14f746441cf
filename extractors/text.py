"""Text reports: plain-text exports of 政府信息公开工作年度报告 turned into grids.

Four forms are met in practice, and each loses the table differently:

* **tabbed** (the seed ``yuelu_2020.txt``): a tab-prefixed line starts a cell, a following
  line without a tab continues it (``本年新`` / ``制作数量``), a blank line ends a row, and an
  empty cell is a line holding only the tab.
* **layout** (``pdftotext -layout``): a row per line, columns separated by runs of spaces,
  labels wrapped over several lines above and below the line that carries the numbers.
* **stream** (crawler exports such as the Pingtan ``page.txt``): whitespace collapsed and the
  cells of a row run together (``规范性文件7777166`` is 77 / 77 / 166).  There is no cell
  structure left, so the tables are found by their canonical labels and every digit run is
  split into the table's number of cells, keeping the splits that satisfy the hard
  identities; a cell that several splits leave open is marked ``ambiguous`` (never guessed
  silently).
* **markdown** pipe tables (PDF→Markdown conversions), handled in ``extractors.markdown``.

Every form ends as ``schemas.grid.Grid`` objects (locator ``text block N``) whose cells carry
the 1-based line number (``Cell.row``) and the character offset in that line (``Cell.col``),
so every fact can be traced back to the printed text; the shared mapper does the rest.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise, product

from xxgk.extractors.base import ExtractionError, RawDocument
from xxgk.schemas.classify import find_title
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.labels import (
    PROACTIVE_V2019_MARKERS,
    PROACTIVE_V2021_MARKERS,
    match_block_caption,
    match_proactive_row,
    match_requests_group,
    match_requests_leaf,
    normalize_label,
    table_of_heading,
)
from xxgk.schemas.model import (
    PROACTIVE_CELLS,
    PROACTIVE_SPEC,
    REQUESTS_SPEC,
    REVIEW_SPEC,
    V2019,
    V2021,
)
from xxgk.schemas.records import STATUS_FAILED
from xxgk.schemas.values import AMBIGUOUS

__all__ = [
    "RunSplit",
    "decode_text",
    "detect_form",
    "extract_text",
    "parse_layout",
    "parse_stream",
    "parse_tabbed",
    "solve_requests",
    "split_run",
]

# --- decoding ------------------------------------------------------------------------------

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_GB_FAMILY = {"gb2312", "gbk", "x-gbk", "cp936", "euc-cn", "gb-2312-80", "hz-gb-2312", "gb18030"}


def decode_text(data: bytes, encoding: str | None = None) -> tuple[str, str, list[str]]:
    """(text, encoding used, warnings): BOM first, then strict UTF-8, the declared encoding, GB18030.

    Strict UTF-8 comes before a declared charset because declared charsets are often wrong
    (a page served as GBK but saved as UTF-8), while GBK text is almost never valid UTF-8.
    Newlines are normalised to ``\\n``.
    """
    warnings: list[str] = []
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return _newlines(data[len(bom) :].decode(enc)), enc, warnings
            except UnicodeDecodeError as err:
                raise ExtractionError(STATUS_FAILED, f"text has a {enc} byte-order mark but does not decode") from err
    if b"\x00" in data[:4096]:
        raise ExtractionError(STATUS_FAILED, "binary data (NUL bytes), not a text report")
    if encoding and encoding.lower().replace("_", "-") in _GB_FAMILY:
        encoding = "gb18030"  # the superset: "gb2312" texts routinely hold GBK-only characters
    tried: list[str] = []
    for enc in ("utf-8", encoding, "gb18030"):
        if not enc or enc.lower().replace("_", "-") in tried:
            continue
        tried.append(enc.lower().replace("_", "-"))
        try:
            text = data.decode(enc)
        except LookupError:
            warnings.append(f"unknown declared encoding {enc!r} ignored")
            continue
        except UnicodeDecodeError:
            continue
        if encoding and enc not in {encoding, "utf-8"}:
            warnings.append(f"declared encoding {encoding!r} does not decode the text; read as {enc}")
        return _newlines(text), enc, warnings
    raise ExtractionError(STATUS_FAILED, f"text decodes as none of {', '.join(tried)}")


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- entry point ---------------------------------------------------------------------------


def extract_text(data: bytes, *, encoding: str | None = None) -> RawDocument:
    """Grids of a text or Markdown report, its text, title and warnings (format text/markdown)."""
    text, _, warnings = decode_text(data, encoding)
    title = find_title(text)
    form = detect_form(text)
    if form == "markdown":
        from xxgk.extractors.markdown import parse_markdown

        grids, more = parse_markdown(text)
        return RawDocument("markdown", grids, text, title, warnings + more)
    more = []
    if form == "tabbed":
        grids = parse_tabbed(text)
    elif form == "layout":
        grids = parse_layout(text)
    else:
        grids, more = parse_stream(text)
    if form != "stream" and not _has_values(grids):
        # the form guess was wrong (no row carries a number): the label stream still works
        grids, more = parse_stream(text)
    return RawDocument("text", grids, text, title, warnings + more)


def _has_values(grids: Iterable[Grid]) -> bool:
    return any(_VALUE_TOKEN.fullmatch(_nfkc(c.text).strip()) for g in grids for row in g.rows for c in row if c.text)


_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _is_pipe_separator(line: str) -> bool:
    return line.lstrip()[:1] in {"|", ":", "-"} and "---" in line and bool(_PIPE_SEPARATOR.match(line))


def _is_layout_row(line: str) -> bool:
    """A label, a run of 2+ spaces, then only numbers (``规章      0      0      0``)."""
    if "  " not in line or len(line) > 600:
        return False
    parts = re.split(r"\s{2,}", line.strip())
    if len(parts) < 2 or _VALUE_TOKEN.fullmatch(_nfkc(parts[0])):
        return False
    tail = " ".join(parts[1:]).split()
    return bool(tail) and all(_VALUE_TOKEN.fullmatch(_nfkc(t)) for t in tail)


def detect_form(text: str) -> str:
    """markdown, tabbed, layout or stream, from how the lines look (not from the file name)."""
    lines = text.split("\n")
    if any(_is_pipe_separator(ln) for ln in lines) and sum(1 for ln in lines if _PIPE_ROW.match(ln)) >= 3:
        return "markdown"
    if sum(1 for ln in lines if "\t" in ln and ln.strip()) >= 6:
        return "tabbed"
    if sum(1 for ln in lines if _is_layout_row(ln)) >= 4:
        return "layout"
    return "stream"


# --- shared helpers ------------------------------------------------------------------------

_QUOTES = frozenset("“”\"'「」『』‘’＂")
_PAREN_MAP = {"【": "(", "】": ")", "〔": "(", "〕": ")"}


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


_DROP = re.compile("[\\s\u200b\ufeff" + re.escape("".join(sorted(_QUOTES))) + "]+")
_PAREN_TABLE = str.maketrans(_PAREN_MAP)
_KEPT = re.compile("[^\\s\u200b\ufeff" + re.escape("".join(sorted(_QUOTES))) + "]+")


def _norm(text: str) -> str:
    """The compact form labels are matched in: NFKC, no whitespace, no quotes, ASCII parentheses."""
    return _DROP.sub("", _nfkc(text)).translate(_PAREN_TABLE)


class _Lines:
    """Offsets → (1-based line, column) for cell positions."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i]


_NUM = r"(?:0|[1-9]\d{0,9}|[1-9]\d{0,2}(?:,\d{3})+)"
_NULL = r"(?:[-−–—―/\\]{1,2})"
_TOKEN = {
    "count": re.compile(rf"{_NUM}(?:件|项|个)?|{_NULL}"),
    "signed": re.compile(rf"(?:增加|减少|增|减|\+|-|−)?{_NUM}(?:件|项|个)?|{_NULL}"),
    "money": re.compile(rf"(?:0|[1-9]\d*|[1-9]\d{{0,2}}(?:,\d{{3}})+)(?:\.\d+)?(?:万元|亿元|元)?|{_NULL}"),
}
#: One printed value (any kind), for telling value cells from labels in layout lines.
_VALUE_TOKEN = re.compile(r"(?:增加|减少|增|减|\+|-|−)?\d[\d,]*(?:\.\d+)?(?:万元|亿元|元|件|项|个)?|[-−–—―/\\]{1,2}|无")
_MAX_TOKEN = {"count": 14, "signed": 16, "money": 30}


# --- splitting digit runs ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunSplit:
    """Every way a printed run splits into cells: ``spans`` holds one tuple of (start, end) per split.

    ``truncated`` says the enumeration stopped at its limit (more splits exist than listed).
    """

    run: str
    kinds: tuple[str, ...]
    spans: tuple[tuple[tuple[int, int], ...], ...]
    truncated: bool = False

    @property
    def candidates(self) -> list[tuple[str, ...]]:
        return [tuple(self.run[a:b] for a, b in cand) for cand in self.spans]

    def values(self, index: int) -> tuple[float | None, ...]:
        return tuple(_token_number(self.run[a:b], k) for (a, b), k in zip(self.spans[index], self.kinds, strict=True))


def _token_number(token: str, kind: str) -> float | None:
    """The number a token stands for (None for a dash/slash), for checking identities."""
    t = token.strip()
    if t.isdigit():
        return float(t)
    if re.fullmatch(_NULL, t):
        return None
    sign = -1.0 if t[:1] in {"减", "-", "−"} else 1.0
    digits = re.sub(r"^(?:增加|减少|增|减|\+|-|−)", "", t)
    digits = re.sub(r"(?:万元|亿元|元|件|项|个)$", "", digits).replace(",", "")
    try:
        return sign * float(digits)
    except ValueError:
        return None


def split_run(
    run: str,
    kinds: Sequence[str],
    groups: Sequence[tuple[int, Sequence[int]]] = (),
    *,
    max_violations: int = 0,
    limit: int = 2000,
    budget: int = 200_000,
) -> RunSplit:
    """Every split of ``run`` into ``len(kinds)`` cells that reads as values and keeps the identities.

    Cells never start with a leading zero (a lone ``0`` is fine); whitespace in the run always
    separates cells; ``kinds`` are ``count``, ``signed`` (增40/减1/-2) or ``money`` (decimals,
    元/万元). ``groups`` are identities ``(total_index, part_indices)`` with the total placed
    after its parts: total == sum of parts (a dash or slash makes one unassessable, so it
    passes); at most ``max_violations`` of them may fail (a misprinted total). ``limit`` caps
    the splits listed, ``budget`` the search steps; ``truncated`` says either was reached.
    """
    text = _nfkc(run)
    segs = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    n = len(kinds)
    if not segs or len(segs) > n:
        return RunSplit(text, tuple(kinds), ())
    tail = [0] * (len(segs) + 1)
    for i in range(len(segs) - 1, -1, -1):
        tail[i] = tail[i + 1] + segs[i][1] - segs[i][0]
    total_of: dict[int, Sequence[int]] = {}
    part_of: dict[int, tuple[int, Sequence[int]]] = {}
    for total, parts in groups:
        if parts and total > max(parts):
            total_of[total] = parts
            for p in parts:
                part_of[p] = (total, parts)

    out: list[tuple[tuple[int, int], ...]] = []
    spans: list[tuple[int, int]] = []
    vals: list[float | None] = []
    state = {"steps": 0, "truncated": False}

    def ends(pos: int, seg_end: int, ci: int, slack: int) -> Iterable[int]:
        kind = kinds[ci]
        parts = total_of.get(ci)
        if parts is not None and slack == 0 and kind == "count":
            members = [vals[p] for p in parts]
            if all(v is not None for v in members):  # the total is fixed by its parts: one place to look
                want = str(int(sum(members)))  # type: ignore[arg-type]
                if text.startswith(want, pos) and pos + len(want) <= seg_end:
                    yield pos + len(want)
                    if pos + len(want) < seg_end and text[pos + len(want)] in "件项个":
                        yield pos + len(want) + 1
                return
        yield from range(pos + 1, min(seg_end, pos + _MAX_TOKEN[kind]) + 1)

    def broken(ci: int) -> int:
        parts = total_of.get(ci)
        if parts is None:
            return 0
        members = [vals[ci], *(vals[p] for p in parts)]
        if any(v is None for v in members):
            return 0
        return int(abs(vals[ci] - sum(vals[p] for p in parts)) > 1e-9)  # type: ignore[operator,misc]

    def rec(si: int, pos: int, ci: int, slack: int) -> None:
        if len(out) >= limit or state["steps"] > budget:
            state["truncated"] = True
            return
        state["steps"] += 1
        if ci == n:
            if si == len(segs):
                out.append(tuple(spans))
            return
        if si == len(segs):
            return
        seg_end = segs[si][1]
        if n - ci < len(segs) - si or (seg_end - pos) + tail[si + 1] < n - ci:
            return
        pattern = _TOKEN[kinds[ci]]
        group = part_of.get(ci) if slack == 0 and kinds[ci] == "count" else None
        for end in ends(pos, seg_end, ci, slack):
            token = text[pos:end]
            if group is not None:
                # every other cell still to come takes a character; the total takes the rest,
                # and no part (nor the parts' sum) can be longer than the total
                longest_total = (seg_end - end) + tail[si + 1] - (n - ci - 2)
                if end - pos > longest_total:
                    break
            if not pattern.fullmatch(token):
                continue
            value = _token_number(token, kinds[ci])
            if group is not None and value is not None:
                placed = [vals[p] for p in group[1] if p < ci]
                if all(v is not None for v in placed) and len(str(int(value + sum(placed)))) > longest_total:  # type: ignore[arg-type]
                    break
            spans.append((pos, end))
            vals.append(value)
            left = slack - broken(ci)
            if left >= 0:
                if end == seg_end:
                    rec(si + 1, segs[si + 1][0] if si + 1 < len(segs) else end, ci + 1, left)
                else:
                    rec(si, end, ci + 1, left)
            spans.pop()
            vals.pop()

    row_total = total_of.get(n - 1)
    whole_row = row_total is not None and sorted(row_total) == list(range(n - 1))
    if max_violations == 0 and whole_row and n > 1 and all(k == "count" for k in kinds):
        return _split_row_total(text, segs, n, limit, budget)
    rec(0, segs[0][0], 0, max_violations)
    return RunSplit(text, tuple(kinds), tuple(out), state["truncated"])


def _split_row_total(text: str, segs: list[tuple[int, int]], n: int, limit: int, budget: int) -> RunSplit:
    """``split_run`` for a row whose last cell is the total of all the others (table 三).

    The total is a suffix of the run, so it is chosen first; the parts are then bounded by it
    (no part has more digits than the total, partial sums never exceed it, the last part is
    what remains): fast on the 25-digit runs of city-scale tables.
    """
    count = _TOKEN["count"]
    out: list[tuple[tuple[int, int], ...]] = []
    spans: list[tuple[int, int]] = []
    state = {"steps": 0, "truncated": False}
    last_start, last_end = segs[-1]

    def rec(prefix: list[tuple[int, int]], si: int, pos: int, ci: int, partial: float, total: float, x: int) -> None:
        state["steps"] += 1
        if len(out) >= limit or state["steps"] > budget:
            state["truncated"] = True
            return
        seg_end = prefix[si][1]
        rest = sum(b - a for a, b in prefix[si + 1 :])
        if n - 1 - ci < len(prefix) - si or (seg_end - pos) + rest < n - 1 - ci:
            return
        width = len(str(int(total)))
        if ci == n - 2:  # the last part is what is left, and it must close the sum
            last = text[pos:seg_end]
            value = _token_number(last, "count") if count.fullmatch(last) else None
            if si == len(prefix) - 1 and value is not None and abs(partial + value - total) < 1e-9:
                out.append((*spans, (pos, seg_end), (x, last_end)))
            return
        for end in range(pos + 1, min(seg_end, pos + width) + 1):
            token = text[pos:end]
            if not count.fullmatch(token):
                continue
            value = _token_number(token, "count") or 0.0
            if partial + value > total + 1e-9:
                break
            if (seg_end - end) + rest > (n - 2 - ci) * width:  # the rest cannot fit the parts to come
                continue
            spans.append((pos, end))
            if end == seg_end:
                if si + 1 < len(prefix):
                    rec(prefix, si + 1, prefix[si + 1][0], ci + 1, partial + value, total, x)
            else:
                rec(prefix, si, end, ci + 1, partial + value, total, x)
            spans.pop()

    for x in range(last_end - 1, last_start - 1, -1):
        total_text = text[x:last_end]
        total = _token_number(total_text, "count") if count.fullmatch(total_text) else None
        prefix = [*segs[:-1], (last_start, x)] if x > last_start else list(segs[:-1])
        if total is None or not prefix or len(prefix) > n - 1:
            continue
        rec(prefix, 0, prefix[0][0], 0, 0.0, total, x)
    out.sort()
    return RunSplit(text, ("count",) * n, tuple(out), state["truncated"])


def _digits_len(token: str) -> int:
    return len(re.sub(r"\D", "", token.split(".")[0])) or len(token)


def _guess_order(split: RunSplit) -> list[int]:
    """Candidate indices, most plausible first (a guess only: the cells stay marked ambiguous).

    Plausibility: a short 本年增/减 cell (changes are small), then cells of similar length,
    then longer cells to the right (totals and cumulative counts are printed last).
    """

    def key(i: int) -> tuple[int, int, tuple[int, ...]]:
        texts = [split.run[a:b] for a, b in split.spans[i]]
        lens = [_digits_len(t) for t in texts]
        plain = [ln for ln, k in zip(lens, split.kinds, strict=True) if k != "signed"]
        signed = sum(ln for ln, k in zip(lens, split.kinds, strict=True) if k == "signed")
        spread = max(plain) - min(plain) if plain else 0
        return (signed, spread, tuple(-ln for ln in reversed(lens)))

    return sorted(range(len(split.spans)), key=key)


def _describe(split: RunSplit, order: Sequence[int]) -> str:
    shown = [" / ".join(split.run[a:b] for a, b in split.spans[i]) for i in order[:4]]
    more = " …" if len(order) > 4 else ""
    count = f"{len(order)}{'+' if split.truncated else ''}"
    return (
        f"digit run {split.run.strip()!r} splits {count} ways into {len(split.kinds)} cells ({'; '.join(shown)}{more})"
    )


# --- joint split of table 三 ---------------------------------------------------------------

_REQ_COLS = 7
_REQ_ROW_IDENTITY = ((6, (0, 1, 2, 3, 4, 5)),)
_BALANCE_IN = ("new_requests", "carried_over")
_BALANCE_OUT = ("total_processed", "carried_forward")
_NOT_OUTCOMES = {"new_requests", "carried_over", "total_processed", "carried_forward"}


def solve_requests(
    splits: dict[str, RunSplit], free: Callable[[str], RunSplit] | None = None
) -> tuple[dict[str, RunSplit], str, int]:
    """Jointly split table 三: each row keeps the splits that some solution of the whole table uses.

    ``splits`` holds every row's splits that satisfy its own total. Per column, the table must
    also satisfy ``一 + 二 == （七） + 四`` and ``（七） == sum of the outcome rows``. Returns the
    rows narrowed to those splits, the assumption used and the number of joint solutions:

    * ``all identities``: some splits satisfy everything (the usual case);
    * ``one misprinted cell``: nothing does, so the report misprints a number (a real error);
      every hypothesis "cell (row r, column c) is misprinted" is tried (row r may break its own
      total, ``free(r)`` gives all its splits; column c's two identities are dropped) and the
      splits of all hypotheses that fit are kept (more ambiguity, never a silent guess);
    * ``rows``: no single misprint explains the table either; each row keeps its own splits.
    """
    if splits and all(sp.spans for sp in splits.values()):
        narrowed, count = _joint(splits, frozenset())
        if count:
            return narrowed, "all identities", count
    if free is not None:
        union: dict[str, set[tuple[tuple[int, int], ...]]] = {k: set() for k in splits}
        total = 0
        for r in splits:
            loose = free(r)
            if not loose.spans or loose.truncated or len(loose.spans) > 500:
                continue
            trial = {**splits, r: loose}
            if not all(sp.spans for sp in trial.values()):
                continue
            for c in range(_REQ_COLS):
                narrowed, count = _joint(trial, frozenset({c}))
                total += count
                for k, sp in narrowed.items():
                    union[k].update(sp.spans if count else ())
        if total:
            return {k: _restrict(splits[k], sorted(union[k])) for k in splits}, "one misprinted cell", total
    rows = {k: sp if sp.spans or free is None else free(k) for k, sp in splits.items()}
    return rows, "rows", 0


def _restrict(split: RunSplit, spans: Sequence[tuple[tuple[int, int], ...]]) -> RunSplit:
    return RunSplit(split.run, split.kinds, tuple(spans), split.truncated)


def _joint(splits: dict[str, RunSplit], skip: frozenset[int]) -> tuple[dict[str, RunSplit], int]:
    """The splits of every row used by at least one joint solution, and the number of solutions.

    Columns in ``skip``, and columns with a dash or slash in some candidate, are not checked.
    When no identity can be checked at all (rows missing), every split stays and the count is
    the number of combinations.
    """
    keys = list(splits)
    vectors = {k: [splits[k].values(i) for i in range(len(splits[k].spans))] for k in keys}
    checkable = [
        c for c in range(_REQ_COLS) if c not in skip and all(v[c] is not None for k in keys for v in vectors[k])
    ]

    def vec(k: str, i: int) -> tuple[float, ...]:
        return tuple(vectors[k][i][c] or 0.0 for c in checkable)  # type: ignore[misc]

    feasible: dict[str, set[int]] = {k: set() for k in keys}
    have = set(keys)
    balance = set(_BALANCE_IN + _BALANCE_OUT) <= have
    leaves = [k for k in keys if k not in _NOT_OUTCOMES]
    outcomes = "total_processed" in have and bool(leaves)
    if not balance and not outcomes:
        combos = 1
        for k in keys:
            combos *= len(splits[k].spans)
        return dict(splits), combos
    constrained = set(leaves) | {"total_processed"} if outcomes else set()
    if balance:
        constrained |= set(_BALANCE_IN + _BALANCE_OUT)
    total = 0
    for t in range(len(splits["total_processed"].spans)):
        tv = vec("total_processed", t)
        n_bal, bal_ok = 1, {}
        if balance:
            combos_ok = [
                (a, b, f)
                for a, b, f in _capped_product(
                    len(splits["new_requests"].spans),
                    len(splits["carried_over"].spans),
                    len(splits["carried_forward"].spans),
                )
                if _add(vec("new_requests", a), vec("carried_over", b)) == _add(tv, vec("carried_forward", f))
            ]
            n_bal = len(combos_ok)
            bal_ok = {
                "new_requests": {a for a, _, _ in combos_ok},
                "carried_over": {b for _, b, _ in combos_ok},
                "carried_forward": {f for _, _, f in combos_ok},
            }
        if not n_bal:
            continue
        n_out, out_ok = 1, {}
        if outcomes:
            n_out, out_ok = _outcome_dp(leaves, splits, vec, tv)
        if not n_out:
            continue
        total += n_bal * n_out
        feasible["total_processed"].add(t)
        for k in keys:
            if k in bal_ok:
                feasible[k] |= bal_ok[k]
            elif k in out_ok:
                feasible[k] |= out_ok[k]
    narrowed = {
        k: _restrict(splits[k], [splits[k].spans[i] for i in sorted(feasible[k])]) if k in constrained else splits[k]
        for k in keys
    }
    return narrowed, total


def _capped_product(*sizes: int, cap: int = 200_000) -> Iterable[tuple[int, ...]]:
    count = 1
    for s in sizes:
        count *= s
    if count > cap:
        return []
    return product(*(range(s) for s in sizes))


def _add(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(round(x + y, 6) for x, y in zip(a, b, strict=True))


def _outcome_dp(
    leaves: list[str],
    splits: dict[str, RunSplit],
    get: Callable[[str, int], tuple[float, ...]],
    target: tuple[float, ...],
) -> tuple[int, dict[str, set[int]]]:
    """Count leaf combinations summing to ``target`` and which candidates take part in one."""
    zero = tuple(0.0 for _ in target)

    def fits(s: tuple[float, ...]) -> bool:
        return all(x <= t + 1e-9 for x, t in zip(s, target, strict=True))

    forward: list[dict[tuple[float, ...], int]] = [{zero: 1}]
    for k in leaves:
        nxt: dict[tuple[float, ...], int] = {}
        for s, cnt in forward[-1].items():
            for i in range(len(splits[k].spans)):
                s2 = _add(s, get(k, i))
                if fits(s2):
                    nxt[s2] = nxt.get(s2, 0) + cnt
        forward.append(nxt)
        if len(nxt) > 50_000:
            return 0, {}
    count = forward[-1].get(_add(target, zero), 0)
    if not count:
        return 0, {}
    backward: list[set[tuple[float, ...]]] = [set() for _ in range(len(leaves) + 1)]
    backward[-1] = {zero}
    for j in range(len(leaves) - 1, -1, -1):
        k = leaves[j]
        backward[j] = {
            s2 for b in backward[j + 1] for i in range(len(splits[k].spans)) if fits(s2 := _add(b, get(k, i)))
        }
    ok: dict[str, set[int]] = {}
    for j, k in enumerate(leaves):
        ok[k] = set()
        for i in range(len(splits[k].spans)):
            x = get(k, i)
            for s in forward[j]:
                need = tuple(round(t - a - b, 6) for t, a, b in zip(target, s, x, strict=True))
                if need in backward[j + 1]:
                    ok[k].add(i)
                    break
    return count, ok


# --- the stream form -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Anchor:
    key: str
    fulls: tuple[str, ...]
    cores: tuple[str, ...] = ()
    ordinal: str | None = None


@dataclass(frozen=True, slots=True)
class _Match:
    key: str
    start: int  # compact offsets
    end: int
    full: bool


def _anchor(key: str, labels: Iterable[str], cores: Iterable[str] = ()) -> _Anchor:
    fulls = tuple(dict.fromkeys(_norm(x) for x in labels if x))
    ordinal = None
    if fulls:
        m = re.match(r"(\d+)[.、]", fulls[0])
        ordinal = m.group(1) if m else None
    return _Anchor(key, fulls, tuple(_norm(c) for c in cores), ordinal)


_REQUEST_CORES: dict[str, tuple[str, ...]] = {
    "new_requests": ("本年新收",),
    "carried_over": ("上年结转",),
    "granted": ("予以公开",),
    "partially_granted": ("部分公开",),
    "denied.state_secret": ("国家秘密",),
    "denied.law_prohibited": ("禁止公开", "行政止公开", "法规禁止"),
    "denied.security_stability": ("三安全", "一稳定"),
    "denied.third_party_rights": ("第三方",),
    "denied.internal_affairs": ("内部事务", "三类内"),
    "denied.process_info": ("过程性",),
    "denied.enforcement_file": ("执法案卷",),
    "denied.admin_query": ("查询事项",),
    "unable.not_held": ("不掌握",),
    "unable.needs_creation": ("另行制作", "现成信息"),
    "unable.unclear_after_correction": ("补正后", "仍不明确"),
    "not_processed.petition_complaint": ("信访",),
    "not_processed.duplicate": ("重复申请",),
    "not_processed.publication": ("出版物",),
    "not_processed.excessive_repeated": ("大量反复",),
    "not_processed.confirm_or_reissue": ("重新出具", "确认或重新"),
    "other": ("其他处理",),
    "other.no_correction": ("逾期不补正", "不补正"),
    "other.fee_unpaid": ("缴纳费用", "收费通知"),
    "other.other": (),
    "total_processed": ("七总计", "总计"),
    "carried_forward": ("结转下年度", "结转下一年度", "结转下年"),
}
_REQUEST_EXTRA_LABELS = {
    "other": ("（六）其他处理",),
    "other.other": ("3.其他", "3.其它", "3、其他"),
    "total_processed": ("（七）总计", "（七）合计"),
}
_OPTIONAL_LEAVES = {"other.no_correction", "other.fee_unpaid", "other.other"}


def _request_anchors() -> list[_Anchor]:
    # print order: ... not_processed.*, （六）, other.* (v2021), （七）总计, 四、结转
    return [
        _anchor(r.key, [*r.labels.values(), *_REQUEST_EXTRA_LABELS.get(r.key, ())], _REQUEST_CORES[r.key])
        for r in REQUESTS_SPEC.rows
    ]


_REQUEST_GROUP_ANCHORS = (
    _anchor("results", ["三、本年度办理结果"], ["本年度办理结果"]),
    _anchor("denied", ["（三）不予公开"], ["不予公开"]),
    _anchor("unable", ["（四）无法提供"], ["无法提供"]),
    _anchor("not_processed", ["（五）不予处理"], ["不予处理"]),
)
_REQUESTS_HEADER_WORDS = tuple(
    _norm(w)
    for w in (
        "申请人情况",
        "自然人",
        "法人或其他组织",
        "商业企业",
        "科研机构",
        "社会公益组织",
        "法律服务机构",
        "其他",
        "总计",
    )
)

_PROACTIVE_CORES: dict[str, tuple[str, ...]] = {
    "rules": ("规章",),
    "normative_docs": ("规范性文件",),
    "admin_licensing": ("行政许可",),
    "other_admin_services": ("其他对外管理服务事项", "对外管理服务"),
    "admin_penalty": ("行政处罚",),
    "admin_coercion": ("行政强制",),
    "admin_fees": ("行政事业性收费", "事业性收费"),
    "gov_procurement": ("政府集中采购", "集中采购"),
}
_PROACTIVE_COLUMN_CORES: dict[str, tuple[str, ...]] = {
    "new_made": ("新制作",),
    "new_published": ("新公开",),
    "published_total": ("对外公开总", "公开总数"),
    "items_prev_year": ("上一年项目", "上年项目"),
    "items_change": ("增/减", "增减"),
    "decisions": ("处理决定",),
    "procurement_projects": ("采购项目",),
    "procurement_amount": ("采购总金额", "采购金额"),
    "issued": ("制发",),
    "repealed": ("废止",),
    "in_force": ("现行有效",),
    "fee_amount": ("收费金额",),
}
_PROACTIVE_ROW_ANCHORS = {
    r.key: _anchor(r.key, r.labels.values(), _PROACTIVE_CORES[r.key]) for r in PROACTIVE_SPEC.rows
}
_PROACTIVE_COLUMN_WORDS: dict[str, str] = {}
for _col in PROACTIVE_SPEC.columns:
    for _w in (*_col.labels.values(), *_PROACTIVE_COLUMN_CORES[_col.key]):
        _PROACTIVE_COLUMN_WORDS.setdefault(_norm(_w), _col.key)
_COLUMN_WORDS_LONGEST = sorted(_PROACTIVE_COLUMN_WORDS, key=len, reverse=True)
_COLUMN_KIND = {c.key: ("signed" if c.signed else "money" if c.money else "count") for c in PROACTIVE_SPEC.columns}
_CAPTION = re.compile(r"第二十条第?\(?([一二三四五六七八九十]+)\)?项")
_BLOCK_BY_NUMERAL = {"一": "art20_1", "五": "art20_5", "六": "art20_6", "八": "art20_8", "九": "art20_9"}

_REVIEW_HEADER_WORDS = tuple(
    _norm(w)
    for w in (
        "行政复议",
        "行政诉讼",
        "未经复议直接起诉",
        "复议后起诉",
        *(c.labels[V2019] for c in REVIEW_SPEC.columns),
        "维持",
        "纠正",
        "其他",
        "尚未",
        "审结",
        "结果",
    )
)
_REVIEW_GROUPS = ((4, (0, 1, 2, 3)), (9, (5, 6, 7, 8)), (14, (10, 11, 12, 13)))

_NUMBERED = r"[一二三四五六七八九十]{1,2}、"
_REQUESTS_HEADING = re.compile(_NUMBERED + r"收到和处理政府信息公开申请的?情况")
_REVIEW_HEADING = re.compile(_NUMBERED + r"[^。;、\d]{0,24}?行政复议[^。;\d]{0,12}?行政诉讼的?情况")
_CLOSING_HEADING = re.compile(_NUMBERED + r"(?:[^。;、\d]{0,12}?存在的?主要问题|[^。;、\d]{0,6}?其他需要报告的事项)")

_VALUE_START = re.compile(r"\d|(?:增加|减少|增|减)(?=\d)|[-−–—―/\\]")
_VALUE_TEXT = re.compile(r"(?:\s*(?:增加|减少|万元|亿元|[0-9.,+\-−–—―/\\增减元件项个]))+")
_ORDINAL_TAIL = re.compile(r"(?:\(?[0-9一二三四五六七八九十]{1,2}[)、.]|[一二三四五六七八九十]{1,2}、)[^()]*$")


class _Stream:
    """A text with a compact view (labels compared whitespace-free) mapped back to the original."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        changed = {ch: _nfkc(ch) for ch in set(raw) if ord(ch) > 127}
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
        for m in _KEPT.finditer(self.src):
            cmp_src.extend(range(m.start(), m.end()))
            kept.append(m.group())
        self.cmp_src = cmp_src
        self.compact = "".join(kept).translate(_PAREN_TABLE)
        self.lines = _Lines(raw)

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

    def find(self, anchor: _Anchor, lo: int, hi: int) -> _Match | None:
        """The first occurrence of a label in [lo, hi): its full text if that is where it is, else a core."""
        full = _earliest(self.compact, anchor.fulls, lo, hi)
        core = _earliest(self.compact, anchor.cores, lo, hi)
        if full and (not core or full[0] <= core[0]):
            return _Match(anchor.key, full[0], full[1], True)
        if core:
            return _Match(anchor.key, core[0], core[1], False)
        return None


def _earliest(text: str, words: Iterable[str], lo: int, hi: int) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    for w in words:
        if not w:
            continue
        i = text.find(w, lo, hi)
        if i >= 0 and (best is None or i < best[0] or (i == best[0] and i + len(w) > best[1])):
            best = (i, i + len(w))
    return best


@dataclass(slots=True)
class _Window:
    """The source text between two labels: the end of one label, a value run, the start of the next."""

    suffix_end: int  # source offsets
    value_start: int
    value_end: int
    value: str


def _window(st: _Stream, s_lo: int, s_hi: int, next_ordinal: str | None, max_suffix: int = 48) -> _Window:
    """Split the text between two labels; a value run further than ``max_suffix`` characters
    (whitespace aside) from its label is narrative, not the row's values."""
    text = st.src[s_lo:s_hi]
    m = _VALUE_START.search(text)
    if not m or len("".join(text[: m.start()].split())) > max_suffix:
        return _Window(s_hi, s_hi, s_hi, "")
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
        return _Window(s_hi, s_hi, s_hi, "")
    return _Window(s_lo + vs, s_lo + vs, s_lo + ve, value)


def _label_spans(st: _Stream, lo: int, hi: int, words: Sequence[str]) -> list[tuple[int, int]]:
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


def _label_cells(st: _Stream, spans: Sequence[tuple[int, int]]) -> list[Cell]:
    cells = []
    for a, b in spans:
        text = st.printed(st.s(a), st.s_end(b))
        if text:
            cells.append(st.cell(text, st.s(a)))
    return cells


def _value_cells(st: _Stream, window: _Window, split: RunSplit, what: str, warnings: list[str]) -> list[Cell]:
    """Cells of one split run: settled cells plain, cells the splits disagree on ``ambiguous``."""
    expected = len(split.kinds)
    if not split.spans:
        warnings.append(
            f"{what}: run {window.value.strip()!r} cannot be split into {expected} cells; kept unsplit (ambiguous)"
        )
        note = f"digit run {window.value.strip()!r} cannot be split into {expected} cells"
        return [st.cell(_nfkc(window.value).strip(), window.value_start, AMBIGUOUS, note)]
    order = _guess_order(split)
    best = order[0]
    note = _describe(split, order) + "; the value is a best guess"
    cells = []
    for j, (a, b) in enumerate(split.spans[best]):
        texts = {split.run[x[j][0] : x[j][1]] for x in split.spans}
        hint = AMBIGUOUS if len(texts) > 1 or split.truncated else None
        offset = window.value_start + _src_offset(window.value, split.run, a)
        cells.append(st.cell(split.run[a:b], offset, hint, note if hint else ""))
    return cells


def _src_offset(original: str, normalised: str, index: int) -> int:
    """Offset in ``original`` of character ``index`` of its NFKC form (same length unless NFKC expands)."""
    if len(original) == len(normalised):
        return index
    acc = 0
    for i, ch in enumerate(original):
        if acc >= index:
            return i
        acc += len(_nfkc(ch))
    return len(original)


@dataclass(slots=True)
class _Table:
    rows: list[list[Cell]] = field(default_factory=list)
    end: int = 0  # compact offset after the table's last label


def parse_stream(text: str) -> tuple[list[Grid], list[str]]:
    """Find tables 二/三/四 in a text whose cells run together, by their labels; split the runs.

    Section headings are recognised by their full text (``四、政府信息公开行政复议…情况``), so
    the table-三 row ``四、结转下年度继续办理`` never ends a table.
    """
    st = _Stream(text)
    warnings: list[str] = []
    comp = st.compact
    caption = _CAPTION.search(comp)
    t2_lo = caption.start() if caption else None
    search_from = t2_lo or 0
    t3_lo, t3_body = _requests_start(st, search_from)
    grids: list[Grid] = []

    t2_hi = t3_lo if t3_lo is not None else len(comp)
    if t3_lo is None:
        review = _REVIEW_HEADING.search(comp, search_from)
        t2_hi = review.start() if review else len(comp)
    if t2_lo is not None:
        t2 = _parse_proactive(st, t2_lo, t2_hi, warnings)
        if t2.rows:
            grids.append(Grid(t2.rows, ""))
    review_from = t2_lo or 0
    if t3_lo is not None:
        t3 = _parse_requests(st, t3_lo, t3_body, warnings)
        if t3.rows:
            grids.append(Grid(t3.rows, ""))
        review_from = max(review_from, t3.end)
    t4 = _parse_review(st, review_from, warnings, has_requests=t3_lo is not None)
    if t4.rows:
        grids.append(Grid(t4.rows, ""))
    for i, g in enumerate(grids, 1):
        g.locator = f"text block {i}"
    return grids, warnings


def _requests_start(st: _Stream, lo: int) -> tuple[int | None, int]:
    """(start of table 三, start of its header): heading, 勾稽 note, 申请人情况 or the first row."""
    comp = st.compact
    first_row = st.find(_REQUEST_ANCHORS[0], lo, len(comp))
    if first_row is None:
        return None, 0
    heading = None
    for m in _REQUESTS_HEADING.finditer(comp, lo, first_row.start):
        heading = m  # the last heading before the first row (a table of contents may name it earlier)
    if heading:
        return heading.start(), heading.end()
    marks = [
        i for i in (comp.find("(本列数据", lo, first_row.start), comp.find("申请人情况", lo, first_row.start)) if i >= 0
    ]
    start = min(marks) if marks else first_row.start
    return start, start


_REQUEST_ANCHORS = _request_anchors()


def _parse_requests(st: _Stream, lo: int, body: int, warnings: list[str]) -> _Table:
    comp = st.compact
    hi = len(comp)
    review = _REVIEW_HEADING.search(comp, body)
    if review:
        hi = review.start()
    items: list[tuple[_Match, bool]] = []  # (match, is_group)
    missing: list[str] = []
    cursor = body
    anchors = _REQUEST_ANCHORS
    for idx, anchor in enumerate(anchors):
        m = st.find(anchor, cursor, hi)
        if m is not None and anchor.key not in _OPTIONAL_LEAVES:
            # a later row found first means this label is missing here (its match is further on)
            nxt = next((a for a in anchors[idx + 1 :] if a.key not in _OPTIONAL_LEAVES), None)
            m2 = st.find(nxt, cursor, hi) if nxt else None
            if m2 is not None and m2.start < m.start:
                m = None
        if m is None:
            if anchor.key not in _OPTIONAL_LEAVES:
                missing.append(anchor.key)
            continue
        p = cursor
        while True:
            g = min(
                (x for x in (st.find(a, p, m.start) for a in _REQUEST_GROUP_ANCHORS) if x is not None),
                key=lambda x: x.start,
                default=None,
            )
            if g is None:
                break
            items.append((g, True))
            p = g.end
        items.append((m, False))
        cursor = m.end
    leaves = [m for m, grp in items if not grp]
    if not leaves:
        return _Table()
    if missing:
        warnings.append(f"table 三 (text): rows not found: {', '.join(missing)}")
    v2021 = any(m.key.startswith("other.") for m in leaves)
    if v2021:  # （六）其他处理 is a group label over its three sub-rows
        items = [(m, grp or m.key == "other") for m, grp in items]

    # windows between labels
    windows: list[_Window] = []
    for i, (m, _) in enumerate(items):
        nxt_start = items[i + 1][0].start if i + 1 < len(items) else hi
        nxt_anchor = next((a for a in anchors if i + 1 < len(items) and a.key == items[i + 1][0].key), None)
        ordinal = nxt_anchor.ordinal if nxt_anchor and not items[i + 1][0].full else None
        windows.append(_window(st, st.s_end(m.end), st.s(nxt_start) if nxt_start < len(comp) else len(st.src), ordinal))

    splits: dict[str, RunSplit] = {}
    values: dict[str, str] = {}
    for (m, grp), w in zip(items, windows, strict=True):
        if grp or not w.value:
            continue
        splits[m.key] = split_run(w.value, ["count"] * _REQ_COLS, _REQ_ROW_IDENTITY)
        values[m.key] = w.value
    loose: dict[str, RunSplit] = {}

    def free(key: str) -> RunSplit:
        if key not in loose:
            loose[key] = split_run(values[key], ["count"] * _REQ_COLS)
        return loose[key]

    solved, level, _ = solve_requests(splits, free)
    if splits and level != "all identities":
        warnings.append(
            f"table 三 (text): no split of the runs satisfies every identity; split assuming {level} "
            "(the checks report the failing identities)"
        )

    rows: list[list[Cell]] = []
    prefix_start = _prefix_start(st, body, items[0][0])
    header = _label_cells(st, _label_spans(st, body, prefix_start, _REQUESTS_HEADER_WORDS))
    if header:
        rows.append(header)
    pending: list[Cell] = []
    prev_end = st.s(prefix_start)  # a label runs from the end of the previous run to its own run
    for i, ((m, grp), w) in enumerate(zip(items, windows, strict=True)):
        label_end = w.suffix_end if w.value else _label_end(st, items, i, hi)
        label = st.cell(st.printed(prev_end, label_end), prev_end)
        prev_end = w.value_end if w.value else label_end
        if grp and not w.value:
            pending.append(label)
            continue
        if not w.value:
            warnings.append(f"table 三 (text): no values after {label.text!r}")
            rows.append([*pending, label])
            pending = []
            continue
        if grp:  # a group label printed with values (a printed subtotal): kept for the mapper to judge
            cells = _value_cells(st, w, split_run(w.value, ["count"] * _REQ_COLS), label.text, warnings)
        else:
            cells = _value_cells(st, w, solved[m.key], label.text, warnings)
        rows.append([*pending, label, *cells])
        pending = []
    end = items[-1][0].end
    return _Table(rows, end)


def _prefix_start(st: _Stream, lo: int, first: _Match) -> int:
    """Where the first row label starts: its match, or an ordinal printed just before a core match."""
    if first.full:
        return first.start
    before = st.compact[lo : first.start]
    m = re.search(r"(?:[一二三四五六七八九十]{1,2}、|\([一二三四五六七八九十]{1,2}\)|\d{1,2}[.、])$", before)
    return first.start - len(m.group()) if m else first.start


def _label_end(st: _Stream, items: Sequence[tuple[_Match, bool]], i: int, hi: int) -> int:
    """Source end of a label followed by no value: up to an ordinal that starts the next label."""
    s_lo = st.s_end(items[i][0].end)
    if i + 1 >= len(items):  # the last label: its own text only
        return s_lo
    nxt = items[i + 1][0].start
    s_hi = st.s(nxt) if nxt < len(st.compact) else len(st.src)
    tail = _ORDINAL_TAIL.search(st.src[s_lo:s_hi])
    return s_lo + tail.start() if tail else s_hi


def _parse_proactive(st: _Stream, lo: int, hi: int, warnings: list[str]) -> _Table:
    comp = st.compact
    region = comp[lo:hi]
    v21 = sum(1 for mk in PROACTIVE_V2021_MARKERS if _norm(mk) in region)
    v19 = sum(1 for mk in PROACTIVE_V2019_MARKERS if _norm(mk) in region)
    version = V2021 if v21 > v19 else V2019
    captions = list(_CAPTION.finditer(comp, lo, hi))
    rows: list[list[Cell]] = []
    end = lo
    for ci, cap in enumerate(captions):
        b_lo, b_hi = cap.end(), captions[ci + 1].start() if ci + 1 < len(captions) else hi
        block = _BLOCK_BY_NUMERAL.get(cap.group(1))
        allowed = [r.key for r in PROACTIVE_SPEC.rows if block is None or r.block == block]
        matches: list[_Match] = []
        p = b_lo
        while allowed:
            found = [x for x in (st.find(_PROACTIVE_ROW_ANCHORS[k], p, b_hi) for k in allowed) if x is not None]
            if not found:
                break
            m = min(found, key=lambda x: (x.start, -(x.end - x.start)))
            matches.append(m)
            allowed.remove(m.key)
            p = m.end
        if not matches:
            continue
        end = matches[-1].end
        rows.append([st.cell(st.printed(st.s(cap.start()), st.s_end(cap.end())), st.s(cap.start()))])
        header_spans = _label_spans(st, b_lo, matches[0].start, [*_PROACTIVE_COLUMN_WORDS, _norm("信息内容")])
        columns = [c for c in (_column_at(comp, a, b) for a, b in header_spans) if c]
        header = _label_cells(st, header_spans)
        if header:
            rows.append(header)
        if not columns:
            columns = list(PROACTIVE_CELLS[version].get(block or "", ()))
        for j, m in enumerate(matches):
            nxt = matches[j + 1].start if j + 1 < len(matches) else b_hi
            w = _window(st, st.s_end(m.end), st.s(nxt) if nxt < len(comp) else len(st.src), None)
            label_start = st.s(m.start)
            label = st.cell(st.printed(label_start, w.suffix_end if w.value else st.s_end(m.end)), label_start)
            if not w.value:
                warnings.append(f"table 二 (text): no values after {label.text!r}")
                rows.append([label])
                continue
            kinds = [_COLUMN_KIND[c] for c in columns] or ["count"] * len(w.value.split())
            split = split_run(w.value, kinds)
            cells = _value_cells(st, w, split, label.text, warnings)
            rows.append([label, *cells])
    return _Table(rows, end)


def _column_at(comp: str, a: int, b: int) -> str | None:
    """The table-二 column whose header word starts the compact span [a, b)."""
    for word in _COLUMN_WORDS_LONGEST:
        if comp.startswith(word, a) and a + len(word) <= b:
            return _PROACTIVE_COLUMN_WORDS[word]
    return None


def _parse_review(st: _Stream, lo: int, warnings: list[str], *, has_requests: bool) -> _Table:
    comp = st.compact
    heading = _REVIEW_HEADING.search(comp, lo)
    if heading:
        start = heading.end()
    elif has_requests:
        first = comp.find("行政复议", lo)
        if first < 0:
            return _Table()
        start = first
    else:
        return _Table()
    closing = _CLOSING_HEADING.search(comp, start)
    hi = closing.start() if closing else len(comp)
    # header words run up to the first value; narrative digits before any header word end the search
    p, last = start, None
    while p < hi:
        hit = _earliest(comp, _REVIEW_HEADER_WORDS, p, hi)
        if hit is None or re.search(r"\d", comp[p : hit[0]]):
            break
        last = hit[1]
        p = hit[1]
    if last is None or not any(w in comp[start:last] for w in ("维持", "纠正", "审结")):
        return _Table()
    s_hi = st.s(hi) if hi < len(comp) else len(st.src)
    w = _window(st, st.s_end(last), s_hi, None, max_suffix=4)
    rows: list[list[Cell]] = []
    header = _label_cells(st, _label_spans(st, start, last, _REVIEW_HEADER_WORDS[:9]))
    if header:
        rows.append(header)
    if not w.value:
        warnings.append("table 四 (text): header found but no values after it")
        return _Table(rows, last)
    # the fewest broken group totals: a misprinted cell breaks exactly the total of its group
    for broken in range(len(_REVIEW_GROUPS) + 1):
        split = split_run(w.value, ["count"] * 15, _REVIEW_GROUPS, max_violations=broken)
        if split.spans:
            break
    if split.spans and broken:
        warnings.append(
            f"table 四 (text): no split of {w.value.strip()!r} keeps every group total; "
            f"splits breaking {broken} kept (the checks report the failing totals)"
        )
    rows.append(_value_cells(st, w, split, "table 四", warnings))
    return _Table(rows, last)


# --- the tabbed form -----------------------------------------------------------------------


def parse_tabbed(text: str) -> list[Grid]:
    """One grid per run of tab-structured lines; narrative lines between them end a grid.

    A line starting with a tab holds cells (one per tab); a following line without a tab
    continues the last cell (a wrapped label); a blank line ends the row. A line with tabs
    inside (``规章\\t0\\t0``) is a row of its own (tab-separated values).
    """
    grids: list[Grid] = []
    rows: list[list[Cell]] = []
    row: list[Cell] = []
    prev = "blank"

    def end_row() -> None:
        nonlocal row
        if row:
            rows.append(row)
        row = []

    def end_grid() -> None:
        nonlocal rows
        end_row()
        if rows:
            grids.append(Grid(rows, f"text block {len(grids) + 1}"))
        rows = []

    for number, line in enumerate(text.split("\n"), 1):
        if line.startswith("\t"):
            offset = 0
            for part in line.split("\t")[1:]:
                offset += 1
                row.append(Cell(part.strip(), number, offset))
                offset += len(part)
            prev = "cell"
        elif not line.strip():
            end_row()
            prev = "blank"
        elif "\t" in line.strip():
            end_row()
            offset = 0
            cells = []
            for part in line.split("\t"):
                cells.append(Cell(part.strip(), number, offset))
                offset += len(part) + 1
            rows.append(cells)
            prev = "tsv"
        elif prev == "cell" and row:
            last = row[-1]
            row[-1] = Cell(f"{last.text}\n{line.strip()}".strip(), last.row, last.col)
        else:
            end_grid()
            prev = "text"
    end_grid()
    return grids


# --- the layout form -----------------------------------------------------------------------


@dataclass(slots=True)
class _Chunk:
    text: str
    line: int
    start: int
    end: int
    value: bool


@dataclass(slots=True)
class _Label:
    """A label of a layout table, grown by the wrapped fragments below it."""

    text: str
    line: int
    last: int
    start: int
    end: int
    marker: bool
    owner: int | None = None  # index of the value line it labels


_LABEL_START = re.compile(
    r"^(?:[一二三四五六七八九十]{1,2}[、.]|[（(][一二三四五六七八九十\d]{1,2}[)）]|\d{1,2}[.．、]\D|第二十条)"
)
_FOOTER = re.compile(
    r"^\s*(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)


def _display_columns(line: str) -> list[int]:
    """Display column of every character offset (CJK and full-width characters take two columns)."""
    cols = [0]
    for ch in line:
        cols.append(cols[-1] + (2 if unicodedata.east_asian_width(ch) in {"W", "F"} else 1))
    return cols


def _chunks(line: str, number: int, wide: bool = False) -> list[_Chunk]:
    """Cells of a layout line: runs separated by 2+ spaces; value tokens are cells of their own.

    Positions are character offsets, or display columns when ``wide`` (text aligned for a
    terminal, where a CJK character is two columns wide).
    """
    out: list[_Chunk] = []
    line = line.replace("\t", "  ")
    pos = _display_columns(line) if wide else range(len(line) + 1)
    for m in re.finditer(r"\S+(?: \S+)*", line):
        words = [
            (w.group(), pos[m.start() + w.start()], pos[m.start() + w.end()]) for w in re.finditer(r"\S+", m.group())
        ]
        k = len(words)
        while k > 0 and _VALUE_TOKEN.fullmatch(_nfkc(words[k - 1][0])):
            k -= 1
        if k:
            out.append(_Chunk(" ".join(w for w, _, _ in words[:k]), number, words[0][1], words[k - 1][2], False))
        out.extend(_Chunk(w, number, a, b, True) for w, a, b in words[k:])
    return out


def _starts_label(text: str) -> bool:
    return bool(_LABEL_START.match(_norm(text)))


def parse_layout(text: str) -> list[Grid]:
    """Rows of ``pdftotext -layout`` text inside the statistical sections.

    Numbers of a tall cell are printed on the line of its vertical middle, so they can sit on a
    line of their own above or below their label. Per line: stacked label-only lines with
    several cells and no row marker are one header row (merged by column); a fragment that
    starts a label (``（二）``, ``1.``, ``第二十条``) or sits in no label's column opens a label,
    one under a label's column continues it; a line of numbers alone takes the nearest open
    label (two lines up or down, the right-most column first: leaf rows are right of their
    group labels). Vertical text (one character per line) is joined into one label. Rows with
    fewer numbers than their block are aligned to the columns of the full rows, so blank cells
    stay blank instead of shifting numbers left.
    """
    lines = text.split("\n")
    lo, hi = _layout_region(lines)
    kept = [i for i in range(lo, hi) if lines[i].strip() and not _FOOTER.match(lines[i])]
    wide = _aligned_by_display_width([lines[i] for i in kept])
    items = [(i + 1, _chunks(lines[i], i + 1, wide)) for i in kept]
    vertical = _vertical_labels(items)
    rows: list[tuple[int, int, str, list[Cell]]] = []  # (line, col, kind, cells) to be sorted
    anchors: dict[int, list[tuple[int, int]]] = {}  # header line → its finest column extents
    labels: list[_Label] = []
    value_lines: list[tuple[int, list[_Chunk], list[_Label]]] = []  # (line, values, own labels)
    k = 0
    after_heading = True  # the region starts at a caption or heading
    while k < len(items):
        number, chunks = items[k]
        if not chunks:
            k += 1
            continue
        values = [c for c in chunks if c.value]
        if values:
            after_heading = False
            own = [_new_label(c) for c in chunks if not c.value]
            if own and not own[0].marker and not _is_leaf_label(own[0].text, False):
                host = _overlapping(labels, own[0], open_only=True)
                if host is not None:  # the label started above this line: "（二）部分公开…只计" / "这一情形…"
                    host.text += own[0].text
                    host.last = number
                    own[0] = host
                    labels.remove(host)
            for lab in own:
                lab.owner = len(value_lines)
            labels.extend(own)
            value_lines.append((number, values, own))
            k += 1
            continue
        j = k
        while (
            j < len(items)
            and items[j][1]
            and not any(c.value or _starts_label(c.text) for c in items[j][1])
            and not (len(items[j][1]) == 1 and _is_row_title(items[j][1][0].text))  # 规章 printed with blanks
        ):
            j += 1
        # a header sits right under a caption or a section heading (not the rest of a wrapped caption)
        open_caption = next((lab for lab in reversed(labels) if _incomplete_caption(lab.text)), None)
        if open_caption is not None and _overlapping([open_caption], _new_label(chunks[0]), open_only=False):
            j = k
        if after_heading and any(len(items[x][1]) >= 2 for x in range(k, j)):
            cells = _merge_columns(items[k:j])
            rows.append((number, cells[0].col, "header", cells))
            anchors[number] = _leaf_columns(items[k:j])
            k = j
            after_heading = False
            continue
        previous: _Label | None = None
        for c in chunks:
            piece = _new_label(c)
            host = _overlapping(labels, piece, open_only=False)
            if host is not None and piece.marker and not _incomplete_caption(host.text):
                host = None  # a marker opens a new label, except the rest of a caption (第二十条第 / （八）项)
            if host is None and not piece.marker and previous is not None:
                host = previous  # a label broken by a wide gap on its own line
            if host is not None:
                host.text += piece.text
                host.last = number
                previous = host
            else:
                labels.append(piece)
                previous = piece
        after_heading = previous is not None and _starts_block([Cell(previous.text)])
        k += 1
    # numbers printed on a line of their own take the nearest open label
    for index, (number, _, own) in enumerate(value_lines):
        if own:
            continue
        free = [
            lab
            for lab in labels
            if lab.owner is None and not lab.text.startswith("第二十条") and _distance(lab, number) <= 2
        ]
        if free:
            best = min(free, key=lambda lab: (_distance(lab, number), -lab.start, lab.line < number))
            best.owner = index
            own.append(best)
    for number, values, own in value_lines:
        first = min([number, *(lab.line for lab in own)])
        cells = [Cell(lab.text, lab.line, lab.start) for lab in sorted(own, key=lambda x: x.start)]
        cells += [Cell(v.text, v.line, v.start) for v in values]
        rows.append((first, cells[0].col, "data", cells))
    for lab in labels:
        if lab.owner is None:
            rows.append((lab.line, lab.start, "label", [Cell(lab.text, lab.line, lab.start)]))
    for lab in vertical:
        rows.append((lab.line, lab.start, "label", [Cell(lab.text, lab.line, lab.start)]))
    rows.sort(key=lambda r: (r[0], r[1]))
    grid_rows = [r[3] for r in rows]
    kinds = [r[2] for r in rows]
    _align_blanks(grid_rows, kinds, [anchors.get(r[0], []) if r[2] == "header" else [] for r in rows])
    return [Grid(grid_rows, "text block 1")] if grid_rows else []


def _aligned_by_display_width(lines: list[str]) -> bool:
    """Whether the columns line up by display width rather than by character count.

    In the metric the text was laid out in, the numbers of a column share their left edge,
    right edge or centre; in the other one they scatter with the width of the labels before
    them. The metric with fewer distinct number positions wins.
    """
    if not any(unicodedata.east_asian_width(ch) in {"W", "F"} for ln in lines for ch in ln):
        return False

    def positions(wide: bool) -> int:
        values = [c for ln in lines for c in _chunks(ln, 0, wide) if c.value]
        return min(len({c.start for c in values}), len({c.end for c in values}), len({c.start + c.end for c in values}))

    return positions(True) < positions(False)


def _new_label(c: _Chunk) -> _Label:
    return _Label(c.text, c.line, c.line, c.start, c.end, _starts_label(c.text))


_ROW_TITLES = {normalize_label(label) for row in PROACTIVE_SPEC.rows for label in row.labels.values()}


def _is_row_title(text: str) -> bool:
    """A whole table-二 row label (``行政强制``): it starts a row, it never continues one."""
    return normalize_label(text) in _ROW_TITLES


def _incomplete_caption(text: str) -> bool:
    n = _norm(text)
    return n.startswith("第二十条") and not _CAPTION.search(n)


def _overlapping(labels: list[_Label], piece: _Label, *, open_only: bool) -> _Label | None:
    """The nearest label up to two lines above whose columns the fragment overlaps.

    A known row label (``行政强制`` under ``行政处罚``, both printed without numbers) never
    continues the label above it.
    """
    if _is_row_title(piece.text):
        return None
    best = None
    for lab in labels:
        if open_only and lab.owner is not None:
            continue
        gap = piece.line - lab.last
        under = piece.start <= lab.end and lab.start <= piece.end  # centred wraps start anywhere under it
        if 0 < gap <= 2 and under and (best is None or lab.last > best.last):
            best = lab
    return best


def _distance(lab: _Label, line: int) -> int:
    if lab.line <= line <= lab.last:
        return 0
    return min(abs(lab.line - line), abs(lab.last - line))


def _vertical_labels(items: list[tuple[int, list[_Chunk]]]) -> list[_Label]:
    """Text printed one character per line (三/、/本/年/度…) → one label; its pieces leave their lines."""
    singles = [
        (li, c) for li, (_, chunks) in enumerate(items) for c in chunks if not c.value and len(c.text.strip()) <= 2
    ]
    out: list[_Label] = []
    used: set[int] = set()
    for n, (li, c) in enumerate(singles):
        if id(c) in used:
            continue
        chain = [(li, c)]
        for li2, c2 in singles[n + 1 :]:
            last_li, last_c = chain[-1]
            if abs(c2.start - last_c.start) <= 1 and 0 < items[li2][0] - items[last_li][0] <= 2:
                chain.append((li2, c2))
        if len(chain) >= 3:
            for li2, c2 in chain:
                used.add(id(c2))
                items[li2][1].remove(c2)
            first = chain[0][1]
            text = "".join(c2.text for _, c2 in chain)
            out.append(_Label(text, first.line, chain[-1][1].line, first.start, first.end, _starts_label(text)))
    return out


def _merge_columns(band: Sequence[tuple[int, list[_Chunk]]]) -> list[Cell]:
    """Header lines stacked over each other → one row, cells merged where their columns overlap."""
    cols: list[list] = []  # [start, end, text, line]
    for number, chunks in band:
        for c in chunks:
            hit = next((col for col in cols if c.start <= col[1] and col[0] <= c.end), None)
            if hit:
                hit[0], hit[1], hit[2] = min(hit[0], c.start), max(hit[1], c.end), hit[2] + c.text
            else:
                cols.append([c.start, c.end, c.text, number])
    return [Cell(t, line, start) for start, _, t, line in sorted(cols, key=lambda x: x[0])]


def _leaf_columns(band: Sequence[tuple[int, list[_Chunk]]]) -> list[tuple[int, int]]:
    """The finest columns a header band defines (the bottom cell of every stack)."""
    chunks = [c for _, cs in band for c in cs]
    # a leaf has nothing printed under it: parents (申请人情况, 法人或其他组织) and the first lines
    # of wrapped headers (商业/企业) all have a cell below them

    def covered(c: _Chunk) -> bool:
        below = [o for o in chunks if o.line > c.line]
        if any(o.start < c.end and c.start < o.end for o in below):
            return True  # something is printed under it
        # a piece of a wrapped parent (行政诉/讼) sits in the gap between two cells of a lower line
        return any(
            any(o.line == line and c.start - 3 <= o.end <= c.start for o in below)
            and any(o.line == line and c.end <= o.start <= c.end + 3 for o in below)
            for line in {o.line for o in below}
        )

    leaves = sorted((c.start, c.end) for c in chunks if not covered(c))
    merged: list[list[int]] = []
    for a, b in leaves:
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _align_blanks(rows: list[list[Cell]], kinds: list[str], anchors: list[list[tuple[int, int]]]) -> None:
    """Per block (rows between headers and captions), put every number under its column.

    Columns are the clusters of overlapping horizontal extents of all numbers in the block
    (numbers of one column overlap whether the layout aligned them left, right or centred).
    A row with fewer numbers gets blank cells where it printed nothing, and a known leaf row
    (``5.属于三类内部事务信息``, ``规章``) printed without any number gets a blank per column.
    """
    block: list[int] = []
    header: list[tuple[int, int]] = []
    for idx in [*range(len(rows)), None]:
        if idx is not None and kinds[idx] in {"data", "label"} and not _starts_block(rows[idx]):
            block.append(idx)
            continue
        data = [i for i in block if kinds[i] == "data"]
        _align_block(rows, data, [i for i in block if kinds[i] == "label"], header)
        block = []
        header = anchors[idx] if idx is not None and kinds[idx] == "header" else []


def _starts_block(row: list[Cell]) -> bool:
    """Captions and section headings separate blocks with their own columns."""
    n = _norm("".join(c.text for c in row))
    return "第二十条" in n or bool(re.match(_NUMBERED, n) and table_of_heading(n))


def _trailing_value_cells(row: list[Cell]) -> list[Cell]:
    k = len(row)
    while k > 0 and (not row[k - 1].text or _VALUE_TOKEN.fullmatch(_nfkc(row[k - 1].text))):
        k -= 1
    return row[k:]


def _is_leaf_label(text: str, v2021_other: bool) -> bool:
    """A table row that prints values (not a group label, caption or heading)."""
    n = normalize_label(text)
    if not n or len(n) > 60 or n in {"总计", "合计"}:  # a bare 总计 is the column header, not （七）总计
        return False
    if match_requests_leaf(n, "other" if v2021_other else None) or match_proactive_row(n):
        return not match_block_caption(n)
    return match_requests_group(n) == "other" and not v2021_other  # （六）其他处理 is a leaf in v2019


def _align_block(rows: list[list[Cell]], data: list[int], label_only: list[int], header: list[tuple[int, int]]) -> None:
    extents = sorted((v.col, v.col + len(v.text)) for i in data for v in _trailing_value_cells(rows[i]) if v.text)
    clusters: list[list[int]] = []
    for a, b in extents:
        if clusters and a < clusters[-1][1]:
            clusters[-1][1] = max(clusters[-1][1], b)
        else:
            clusters.append([a, b])
    widest = max((len(_trailing_value_cells(rows[i])) for i in data), default=0)
    labelled = any(len(rows[i]) > len(_trailing_value_cells(rows[i])) for i in [*data, *label_only])
    from_header = [list(x) for x in (header[1:] if labelled else header)]
    columns: list[list[int]] = []
    if from_header and len(from_header) >= max(widest, 1) and all(_placeable(rows[i], from_header) for i in data):
        columns = from_header  # the header explains every number: its columns, blank ones included
    if not columns:
        if not clusters or len(clusters) < widest:
            return  # numbers too irregular to tell columns apart: leave the rows as printed
        columns = clusters
    for i in data:
        values = [v for v in _trailing_value_cells(rows[i]) if v.text]
        slots = [_slot(columns, v.col, v.col + len(v.text)) for v in values]
        if -1 in slots or len(set(slots)) != len(slots) or slots != sorted(slots):
            continue
        line = values[0].row if values else rows[i][0].row
        placed = [values[slots.index(k)] if k in slots else Cell("", line, a) for k, (a, _) in enumerate(columns)]
        rows[i] = rows[i][: len(rows[i]) - len(_trailing_value_cells(rows[i]))] + placed
    v2021_other = any(
        match_requests_leaf(normalize_label(c.text)) in {"other.no_correction", "other.fee_unpaid"}
        for i in [*data, *label_only]
        for c in rows[i]
    )
    for i in label_only:
        if len(rows[i]) == 1 and _is_leaf_label(rows[i][0].text, v2021_other):
            rows[i] = rows[i] + [Cell("", rows[i][0].row, a) for a, _ in columns]


def _placeable(row: list[Cell], columns: Sequence[Sequence[int]]) -> bool:
    """Each number of the row falls in its own column, left to right."""
    slots = [_slot(columns, v.col, v.col + len(v.text)) for v in _trailing_value_cells(row) if v.text]
    return -1 not in slots and slots == sorted(set(slots))


def _slot(columns: Sequence[Sequence[int]], a: int, b: int) -> int:
    """The column an extent [a, b) falls in: the one it overlaps most, else the nearest centre."""
    overlap = [(min(b, hi) - max(a, lo), k) for k, (lo, hi) in enumerate(columns)]
    best = max(overlap)
    if best[0] > 0:
        return best[1]
    centre = (a + b) / 2
    k = min(range(len(columns)), key=lambda k: abs((columns[k][0] + columns[k][1]) / 2 - centre))
    lo, hi = columns[k]
    return k if abs((lo + hi) / 2 - centre) <= max(hi - lo, b - a) else -1


def _layout_region(lines: list[str]) -> tuple[int, int]:
    """Lines from the first statistical table to the closing sections (五/六), or all lines."""
    start, end = None, len(lines)
    for i, line in enumerate(lines):
        n = _norm(line)
        if start is None and ("第二十条" in n or ("主动公开政府信息情况" in n and re.match(_NUMBERED, n))):
            start = i
        elif start is not None and _CLOSING_HEADING.match(n):
            end = i
            break
    if start is None:
        for i, line in enumerate(lines):
            n = _norm(line)
            if _REQUESTS_HEADING.match(n) or "本年新收" in n:
                start = i
                break
    return (start or 0), end
