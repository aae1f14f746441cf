"""Runs of values printed without separators (``规范性文件7777166``) split into cells.

A crawler export keeps no cell boundaries, so every way a run can be read as the table's
number of cells is listed, keeping only the splits that satisfy the hard identities; a cell
the remaining splits disagree on is reported ambiguous by the caller, never guessed silently.
The cells read with the one value-token grammar of ``schemas.values``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xxgk.extractors.text.common import nfkc
from xxgk.schemas.values import MEASURE_WORDS, RUN_TOKEN_MAX, RUN_TOKENS, token_value


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
        return tuple(token_value(self.run[a:b], k) for (a, b), k in zip(self.spans[index], self.kinds, strict=True))


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
    text = nfkc(run)
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
                    for word in MEASURE_WORDS:  # the total may carry a measure word (12件)
                        if text.startswith(word, pos + len(want)) and pos + len(want) + len(word) <= seg_end:
                            yield pos + len(want) + len(word)
                return
        yield from range(pos + 1, min(seg_end, pos + RUN_TOKEN_MAX[kind]) + 1)

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
        pattern = RUN_TOKENS[kinds[ci]]
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
            value = token_value(token, kinds[ci])
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
    count = RUN_TOKENS["count"]
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
            value = token_value(last, "count") if count.fullmatch(last) else None
            if si == len(prefix) - 1 and value is not None and abs(partial + value - total) < 1e-9:
                out.append((*spans, (pos, seg_end), (x, last_end)))
            return
        for end in range(pos + 1, min(seg_end, pos + width) + 1):
            token = text[pos:end]
            if not count.fullmatch(token):
                continue
            value = token_value(token, "count") or 0.0
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
        total = token_value(total_text, "count") if count.fullmatch(total_text) else None
        prefix = [*segs[:-1], (last_start, x)] if x > last_start else list(segs[:-1])
        if total is None or not prefix or len(prefix) > n - 1:
            continue
        rec(prefix, 0, prefix[0][0], 0, 0.0, total, x)
    out.sort()
    return RunSplit(text, ("count",) * n, tuple(out), state["truncated"])


def _digits_len(token: str) -> int:
    return len(re.sub(r"\D", "", token.split(".")[0])) or len(token)


def guess_order(split: RunSplit) -> list[int]:
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


def describe_split(split: RunSplit, order: Sequence[int]) -> str:
    shown = [" / ".join(split.run[a:b] for a, b in split.spans[i]) for i in order[:4]]
    more = " …" if len(order) > 4 else ""
    count = f"{len(order)}{'+' if split.truncated else ''}"
    return (
        f"digit run {split.run.strip()!r} splits {count} ways into {len(split.kinds)} cells ({'; '.join(shown)}{more})"
    )
