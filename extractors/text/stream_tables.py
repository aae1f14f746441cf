"""The text-stream form: tables 二/三/四 found by their labels in text whose cells run together.

Crawler exports (the Pingtan ``page.txt``) keep no cell structure: the tables are found by
their canonical labels (``schemas.lexicon``), and every value run between two labels is split
into the table's number of cells (``runs``, ``joint``), keeping the splits that satisfy the
hard identities; cells several splits leave open are ambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from xxgk.extractors.text.common import compact
from xxgk.extractors.text.joint import REQUEST_COLUMNS, REQUEST_ROW_IDENTITY, solve_requests
from xxgk.extractors.text.runs import RunSplit, split_run
from xxgk.extractors.text.stream import (
    Match,
    Stream,
    Window,
    anchor,
    decided_cells,
    earliest,
    label_cells,
    label_spans,
    value_cells,
    window,
)
from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.model import PROACTIVE_CELLS, PROACTIVE_SPEC, REQUESTS_SPEC, REVIEW_SPEC, V2019, V2021

# --- the words of each table, as anchors in the folded text ----------------------------------


def _request_cores(key: str) -> tuple[str, ...]:
    if key == "other":
        return lx.REQUEST_GROUP_CORES["other"]
    if key == "total_processed":
        return lx.REQUEST_TOTAL_CORES
    return lx.REQUEST_ROW_CORES.get(key, ())


#: Rows of table 三 in print order: ... not_processed.*, （六）, other.* (v2021), （七）总计, 四、结转.
_REQUEST_ANCHORS = [
    anchor(r.key, [*r.labels.values(), *lx.REQUEST_EXTRA_LABELS.get(r.key, ())], _request_cores(r.key))
    for r in REQUESTS_SPEC.rows
]
_OPTIONAL_LEAVES = {"other.no_correction", "other.fee_unpaid", "other.other"}
_REQUEST_GROUP_ANCHORS = tuple(
    anchor(key, [lx.REQUEST_GROUP_LABELS[key]], lx.REQUEST_GROUP_CORES[key])
    for key in ("results", "denied", "unable", "not_processed")
)
_REQUESTS_HEADER_WORDS = tuple(
    compact(w) for w in (*lx.REQUEST_HEADER_GROUP_WORDS, *(c.labels[V2019] for c in REQUESTS_SPEC.columns))
)
_REQUESTS_HEADER_STARTS = (f"({lx.REQUEST_NOTE_WORDS[1]}", lx.REQUEST_HEADER_GROUP_WORDS[0])

_PROACTIVE_ROW_ANCHORS = {
    r.key: anchor(r.key, r.labels.values(), lx.PROACTIVE_ROW_CORES[r.key]) for r in PROACTIVE_SPEC.rows
}
_PROACTIVE_COLUMN_WORDS: dict[str, str] = {}
for _col in PROACTIVE_SPEC.columns:
    for _w in (*_col.labels.values(), *lx.PROACTIVE_COLUMN_CORES[_col.key]):
        _PROACTIVE_COLUMN_WORDS.setdefault(compact(_w), _col.key)
_COLUMN_WORDS_LONGEST = sorted(_PROACTIVE_COLUMN_WORDS, key=len, reverse=True)
_COLUMN_KIND = {c.key: ("signed" if c.signed else "money" if c.money else "count") for c in PROACTIVE_SPEC.columns}

_REVIEW_SPAN_WORDS = tuple(
    compact(w)
    for w in (
        *lx.REVIEW_HEADER_WORDS[:2],
        *(r.labels[V2019].split("/")[-1] for r in REVIEW_SPEC.rows[1:]),
        *(c.labels[V2019] for c in REVIEW_SPEC.columns),
    )
)
_REVIEW_SCAN_WORDS = (*_REVIEW_SPAN_WORDS, *lx.REVIEW_HEADER_FRAGMENTS)
_REVIEW_HEADER_PROOF = (*lx.REVIEW_HEADER_PAIR, lx.REVIEW_COLUMN_CORES["pending"][-1])
_REVIEW_GROUPS = ((4, (0, 1, 2, 3)), (9, (5, 6, 7, 8)), (14, (10, 11, 12, 13)))

_N = lx.CN_NUMERALS
_ORDINAL_TAIL = re.compile(rf"(?:\(?[0-9{_N}]{{1,2}}[)、.]|[{_N}]{{1,2}}、)[^()]*$")
_ORDINAL_END = re.compile(rf"(?:[{_N}]{{1,2}}、|\([{_N}]{{1,2}}\)|\d{{1,2}}[.、])$")
_T2, _T3, _T4 = (f"table {lx.TABLE_NUMERALS[t]} (text)" for t in ("proactive", "requests", "review_litigation"))


@dataclass(slots=True)
class _Table:
    rows: list[list[Cell]] = field(default_factory=list)
    end: int = 0  # compact offset after the table's last label


def parse_stream(text: str) -> tuple[list[Grid], list[str]]:
    """Find tables 二/三/四 in a text whose cells run together, by their labels; split the runs.

    Section headings are recognised by their full text (``四、政府信息公开行政复议…情况``), so
    the table-三 row ``四、结转下年度继续办理`` never ends a table.
    """
    st = Stream(text)
    warnings: list[str] = []
    comp = st.compact
    caption = lx.BLOCK_CAPTION.search(comp)
    t2_lo = caption.start() if caption else None
    search_from = t2_lo or 0
    t3_lo, t3_body = _requests_start(st, search_from)
    grids: list[Grid] = []

    t2_hi = t3_lo if t3_lo is not None else len(comp)
    if t3_lo is None:
        review = lx.REVIEW_HEADING.search(comp, search_from)
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


def _requests_start(st: Stream, lo: int) -> tuple[int | None, int]:
    """(start of table 三, start of its header): heading, 勾稽 note, 申请人情况 or the first row."""
    comp = st.compact
    first_row = st.find(_REQUEST_ANCHORS[0], lo, len(comp))
    if first_row is None:
        return None, 0
    heading = None
    for m in lx.REQUESTS_HEADING.finditer(comp, lo, first_row.start):
        heading = m  # the last heading before the first row (a table of contents may name it earlier)
    if heading:
        return heading.start(), heading.end()
    marks = [i for i in (comp.find(w, lo, first_row.start) for w in _REQUESTS_HEADER_STARTS) if i >= 0]
    start = min(marks) if marks else first_row.start
    return start, start


_OTHER_SIBLINGS = {"other.no_correction", "other.fee_unpaid"}
_TOTAL_ANCHOR = next(a for a in _REQUEST_ANCHORS if a.key == "total_processed")


def _unnumbered_other(st: Stream, items: Sequence[tuple[Match, bool]], cursor: int, hi: int) -> Match | None:
    """A bare 其他 printed as （六）'s third sub-row without its 3.: only after its two siblings.

    Anywhere else 其他 is part of other labels (其他法律…, 其他处理), so it is looked for only
    between the second sibling and （七）总计.
    """
    if not {m.key for m, grp in items if not grp} >= _OTHER_SIBLINGS:
        return None
    total = st.find(_TOTAL_ANCHOR, cursor, hi)
    hit = earliest(st.compact, lx.OTHER_WORDS, cursor, total.start if total else hi)
    return Match("other.other", hit[0], hit[1], False) if hit else None


def _parse_requests(st: Stream, lo: int, body: int, warnings: list[str]) -> _Table:
    comp = st.compact
    hi = len(comp)
    review = lx.REVIEW_HEADING.search(comp, body)
    if review:
        hi = review.start()
    items: list[tuple[Match, bool]] = []  # (match, is_group)
    missing: list[str] = []
    cursor = body
    anchors = _REQUEST_ANCHORS
    for idx, row_anchor in enumerate(anchors):
        m = st.find(row_anchor, cursor, hi)
        if m is None and row_anchor.key == "other.other":
            m = _unnumbered_other(st, items, cursor, hi)
        if m is not None and row_anchor.key not in _OPTIONAL_LEAVES:
            # a later row found first means this label is missing here (its match is further on)
            nxt = next((a for a in anchors[idx + 1 :] if a.key not in _OPTIONAL_LEAVES), None)
            m2 = st.find(nxt, cursor, hi) if nxt else None
            if m2 is not None and m2.start < m.start:
                m = None
        if m is None:
            if row_anchor.key not in _OPTIONAL_LEAVES:
                missing.append(row_anchor.key)
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
        warnings.append(f"{_T3}: rows not found: {', '.join(missing)}")
    v2021 = any(m.key.startswith("other.") for m in leaves)
    if v2021:  # （六）其他处理 is a group label over its three sub-rows
        items = [(m, grp or m.key == "other") for m, grp in items]

    # windows between labels
    windows: list[Window] = []
    for i, (m, _) in enumerate(items):
        nxt_start = items[i + 1][0].start if i + 1 < len(items) else hi
        nxt_anchor = next((a for a in anchors if i + 1 < len(items) and a.key == items[i + 1][0].key), None)
        ordinal = nxt_anchor.ordinal if nxt_anchor and not items[i + 1][0].full else None
        windows.append(window(st, st.s_end(m.end), st.s(nxt_start) if nxt_start < len(comp) else len(st.src), ordinal))

    splits: dict[str, RunSplit] = {}
    values: dict[str, str] = {}
    for (m, grp), w in zip(items, windows, strict=True):
        if grp or not w.value:
            continue
        splits[m.key] = split_run(w.value, ["count"] * REQUEST_COLUMNS, REQUEST_ROW_IDENTITY)
        values[m.key] = w.value
    loose: dict[str, RunSplit] = {}

    def free(key: str) -> RunSplit:
        if key not in loose:
            loose[key] = split_run(values[key], ["count"] * REQUEST_COLUMNS)
        return loose[key]

    solved, level, _ = solve_requests(splits, free)
    if splits and level != "all identities":
        warnings.append(
            f"{_T3}: no split of the runs satisfies every identity; split assuming {level} "
            "(the checks report the failing identities)"
        )

    rows: list[list[Cell]] = []
    prefix_start = _prefix_start(st, body, items[0][0])
    header = label_cells(st, label_spans(st, body, prefix_start, _REQUESTS_HEADER_WORDS))
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
            warnings.append(f"{_T3}: no values after {label.text!r}")
            rows.append([*pending, label])
            pending = []
            continue
        if grp:  # a group label printed with values (a printed subtotal): kept for the mapper to judge
            cells = value_cells(st, w, split_run(w.value, ["count"] * REQUEST_COLUMNS), label.text, warnings)
        else:
            cells = value_cells(st, w, solved[m.key], label.text, warnings)
        rows.append([*pending, label, *cells])
        pending = []
    end = items[-1][0].end
    return _Table(rows, end)


def _prefix_start(st: Stream, lo: int, first: Match) -> int:
    """Where the first row label starts: its match, or an ordinal printed just before a core match."""
    if first.full:
        return first.start
    before = st.compact[lo : first.start]
    m = _ORDINAL_END.search(before)
    return first.start - len(m.group()) if m else first.start


def _label_end(st: Stream, items: Sequence[tuple[Match, bool]], i: int, hi: int) -> int:
    """Source end of a label followed by no value: up to an ordinal that starts the next label."""
    s_lo = st.s_end(items[i][0].end)
    if i + 1 >= len(items):  # the last label: its own text only
        return s_lo
    nxt = items[i + 1][0].start
    s_hi = st.s(nxt) if nxt < len(st.compact) else len(st.src)
    tail = _ORDINAL_TAIL.search(st.src[s_lo:s_hi])
    return s_lo + tail.start() if tail else s_hi


def _parse_proactive(st: Stream, lo: int, hi: int, warnings: list[str]) -> _Table:
    comp = st.compact
    region = comp[lo:hi]
    v21 = sum(1 for mk in lx.PROACTIVE_V2021_MARKERS if compact(mk) in region)
    v19 = sum(1 for mk in lx.PROACTIVE_V2019_MARKERS if compact(mk) in region)
    version = V2021 if v21 > v19 else V2019
    captions = list(lx.BLOCK_CAPTION.finditer(comp, lo, hi))
    claims = _proactive_claims(comp, lo, hi)
    # rows of a block printed without its caption are found under the caption before them
    captioned = {lx.BLOCK_BY_NUMERAL.get(c.group(1)) for c in captions}
    rows: list[list[Cell]] = []
    end = lo
    for ci, cap in enumerate(captions):
        b_lo, b_hi = cap.end(), captions[ci + 1].start() if ci + 1 < len(captions) else hi
        block = lx.BLOCK_BY_NUMERAL.get(cap.group(1))
        allowed = [r.key for r in PROACTIVE_SPEC.rows if block is None or r.block in (block, *({r.block} - captioned))]
        matches: list[Match] = []
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
        header_spans = label_spans(st, b_lo, matches[0].start, [*_PROACTIVE_COLUMN_WORDS, *lx.PROACTIVE_HEADER_WORDS])
        columns = [c for c in (_column_at(comp, a, b) for a, b in header_spans) if c]
        header = label_cells(st, header_spans)
        if header:
            rows.append(header)
        if not columns:
            columns = list(PROACTIVE_CELLS[version].get(block or "", ()))
        for j, m in enumerate(matches):
            nxt = matches[j + 1].start if j + 1 < len(matches) else b_hi
            w = window(st, st.s_end(m.end), st.s(nxt) if nxt < len(comp) else len(st.src), None)
            label_start = st.s(m.start)
            label = st.cell(st.printed(label_start, w.suffix_end if w.value else st.s_end(m.end)), label_start)
            if not w.value:
                warnings.append(f"{_T2}: no values after {label.text!r}")
                rows.append([label])
                continue
            kinds = [_COLUMN_KIND[c] for c in columns] or ["count"] * len(w.value.split())
            split = split_run(w.value, kinds)
            narrowed, evidence = _narrated(split, columns, claims.get(m.key, {}))
            cells = value_cells(st, w, narrowed, label.text, warnings)
            if evidence:
                cells = decided_cells(cells, split, evidence)
            rows.append([label, *cells])
    return _Table(rows, end)


def _proactive_claims(comp: str, lo: int, hi: int) -> dict[str, dict[str, tuple[int, str]]]:
    """Counts of table-二 rows the narrative outside the table states: row → column → (value, words)."""
    outside = comp[:lo] + "。" + comp[hi:]
    claims: dict[str, dict[str, tuple[int, str]]] = {}
    for row, cores in lx.PROACTIVE_ROW_CORES.items():
        names = "|".join(re.escape(compact(c)) for c in sorted(cores, key=len, reverse=True))
        for column, verbs in lx.NARRATIVE_PROACTIVE_COLUMNS.items():
            verb = "|".join(re.escape(v) for v in sorted(verbs, key=len, reverse=True))
            found = {
                (int(x.group(1)), x.group(0))
                for x in re.finditer(lx.NARRATIVE_PROACTIVE_CLAIM.format(verb=verb, row=names), outside)
            }
            if len({v for v, _ in found}) == 1:  # two different counts for one cell settle nothing
                claims.setdefault(row, {})[column] = min(found)
    return claims


def _narrated(split: RunSplit, columns: Sequence[str], told: dict[str, tuple[int, str]]) -> tuple[RunSplit, str]:
    """``split`` narrowed to the readings the narrative's counts allow, and the words that did it.

    Only a narrowing to exactly one reading counts; otherwise the run stays as the table left it.
    """
    if len(split.spans) < 2 or split.truncated or not told or len(columns) != len(split.kinds):
        return split, ""
    used = [(columns.index(c), v, words) for c, (v, words) in told.items() if c in columns]
    keep = [i for i in range(len(split.spans)) if all(split.values(i)[j] == v for j, v, _ in used)]
    if len(keep) != 1:
        return split, ""
    narrowed = RunSplit(split.run, split.kinds, (split.spans[keep[0]],))
    return narrowed, "split by the narrative: " + "; ".join(w for _, _, w in used)


def _column_at(comp: str, a: int, b: int) -> str | None:
    """The table-二 column whose header word starts the compact span [a, b)."""
    for word in _COLUMN_WORDS_LONGEST:
        if comp.startswith(word, a) and a + len(word) <= b:
            return _PROACTIVE_COLUMN_WORDS[word]
    return None


def _parse_review(st: Stream, lo: int, warnings: list[str], *, has_requests: bool) -> _Table:
    comp = st.compact
    heading = lx.REVIEW_HEADING.search(comp, lo)
    if heading:
        start = heading.end()
    elif has_requests:
        first = comp.find(lx.REVIEW_HEADER_WORDS[0], lo)
        if first < 0:
            return _Table()
        start = first
    else:
        return _Table()
    closing = lx.CLOSING_HEADING.search(comp, start)
    hi = closing.start() if closing else len(comp)
    # a sentence between the heading and the header (2022年，未有…行政复议…情况。) is narrative
    proof = earliest(comp, _REVIEW_HEADER_PROOF, start, hi)
    if proof is not None:
        ends = [m.end() for m in lx.SENTENCE_END.finditer(comp, start, proof[0])]
        start = ends[-1] if ends else start
    # header words run up to the first value; narrative digits before any header word end the search
    p, last = start, None
    while p < hi:
        hit = earliest(comp, _REVIEW_SCAN_WORDS, p, hi)
        if hit is None or re.search(r"\d", comp[p : hit[0]]):
            break
        last = hit[1]
        p = hit[1]
    if last is None or not any(w in comp[start:last] for w in _REVIEW_HEADER_PROOF):
        return _Table()
    s_hi = st.s(hi) if hi < len(comp) else len(st.src)
    w = window(st, st.s_end(last), s_hi, None, max_suffix=4)
    rows: list[list[Cell]] = []
    header = label_cells(st, label_spans(st, start, last, _REVIEW_SPAN_WORDS))
    if header:
        rows.append(header)
    if not w.value:
        warnings.append(f"{_T4}: header found but no values after it")
        return _Table(rows, last)
    # the fewest broken group totals: a misprinted cell breaks exactly the total of its group
    for broken in range(len(_REVIEW_GROUPS) + 1):
        split = split_run(w.value, ["count"] * 15, _REVIEW_GROUPS, max_violations=broken)
        if split.spans:
            break
    if split.spans and broken:
        warnings.append(
            f"{_T4}: no split of {w.value.strip()!r} keeps every group total; "
            f"splits breaking {broken} kept (the checks report the failing totals)"
        )
    rows.append(value_cells(st, w, split, _T4, warnings))
    return _Table(rows, last)
