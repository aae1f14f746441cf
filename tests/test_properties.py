"""Property tests (hypothesis) of the value parser, the label matcher and the grid mapper (issue 14 §3).

Random text never raises; nothing yields a value that was not printed (every parsed number's
digits are in the cell, every fact's text is a cell's text, no key is matched from text without
a CJK word); and the generator's values come back (``synth`` prints known values, the parser and
the mapper give them back). CI runs the derandomized ``ci`` profile (fixed examples, no example
database); ``HYPOTHESIS_PROFILE=explore`` searches with new random examples and more of them.
"""

from __future__ import annotations

import os
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xxgk.schemas import lexicon as lx
from xxgk.schemas.grid import Cell, Grid
from xxgk.schemas.labels import (
    fold_label,
    match_block_caption,
    match_proactive_column,
    match_proactive_row,
    match_requests_group,
    match_requests_leaf,
    match_review_row,
    table_of_heading,
)
from xxgk.schemas.mapping import map_grids
from xxgk.schemas.model import REQUESTS_SPEC, V2019, V2021
from xxgk.schemas.values import (
    OK,
    VALUE_STATUSES,
    looks_like_value,
    parse_cell_value,
    value_tokens,
)
from xxgk.synth.generate import PrintedTable, generate_report, printed_tables

CHINESE_NUMERAL = "chinese_numeral"  # ParsedValue.note of a cell written in Chinese numerals

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: What printed cells are made of: digits (ASCII, full-width, superscript, circled), Chinese
#: numerals, measure words, money units, signs, null tokens, punctuation, spaces, label words.
PIECES = [
    *"0123456789",
    *"０１２３４５６７８９",
    *"²³¹⁰①⑵⒈",
    *"٣३",
    *lx.CN_DIGITS,
    *lx.CN_MULTIPLIERS,
    *lx.COUNT_MEASURE_WORDS,
    *lx.MONEY_UNITS,
    *lx.SIGN_PLUS_WORDS,
    *lx.SIGN_MINUS_WORDS,
    *lx.DASH_TOKENS,
    *lx.SLASH_TOKENS,
    *lx.NONE_WORDS,
    *",.，。、+-−/ \u3000\n\t()（）%",
]
cell_text = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    st.text(max_size=12),
)


def _printed_digits(raw: str) -> str:
    """The digits a cell prints, as ASCII: decimal digits of any script (``unicodedata.decimal``)."""
    return "".join(str(unicodedata.decimal(ch)) for ch in raw if unicodedata.decimal(ch, None) is not None)


def _digits_of(value: float) -> str:
    text = f"{abs(value):.6f}".rstrip("0").rstrip(".")
    return text.replace(".", "").lstrip("0") or "0"


# --- the value parser --------------------------------------------------------------------------


@given(raw=cell_text, signed=st.booleans(), money=st.booleans(), in_header=st.booleans())
def test_value_parser_never_raises_and_never_yields_a_number_not_printed(
    raw: str, signed: bool, money: bool, in_header: bool
) -> None:
    parsed = parse_cell_value(raw, unit="count", signed=signed, money=money, unit_printed_in_header=in_header)
    assert parsed.status in VALUE_STATUSES
    if parsed.value is None:
        return
    assert parsed.status == OK
    if parsed.note == CHINESE_NUMERAL or (signed and parsed.value == 0 and not _printed_digits(raw)):
        return  # 十二 prints no digits; 持平 (unchanged) is a printed zero
    amount = parsed.value
    if money and parsed.unit == lx.WAN_YUAN:
        printed_unit = next((u for u in sorted(lx.MONEY_UNITS, key=len, reverse=True) if parsed.raw_text.endswith(u)), None)
        if printed_unit:
            amount = parsed.value / lx.MONEY_UNITS[printed_unit]
    assert _digits_of(round(amount, 6)) in _printed_digits(raw).lstrip("0") or _digits_of(amount) == "0", (raw, parsed)


@given(raw=cell_text)
def test_value_tokens_are_the_printed_text(raw: str) -> None:
    tokens = value_tokens(raw)
    looks_like_value(raw)
    if tokens:
        kept = "".join(unicodedata.normalize("NFKC", raw).split())
        assert "".join("".join(t.split()) for t in tokens) == kept


@given(n=st.integers(min_value=0, max_value=10**9), commas=st.booleans(), wide=st.booleans(), measure=st.booleans())
def test_printed_counts_round_trip(n: int, commas: bool, wide: bool, measure: bool) -> None:
    text = f"{n:,}" if commas else str(n)
    if wide:
        text = text.translate(str.maketrans("0123456789,", "０１２３４５６７８９，"))
    if measure:
        text += lx.COUNT_MEASURE_WORDS[0]
    parsed = parse_cell_value(text, unit="count")
    assert (parsed.status, parsed.value) == (OK, float(n)), text


# --- the label matcher -----------------------------------------------------------------------

MATCHERS = (
    match_requests_leaf,
    match_requests_group,
    match_proactive_row,
    match_proactive_column,
    match_block_caption,
    match_review_row,
    table_of_heading,
)


@given(label=st.text(max_size=40))
def test_label_matchers_never_raise(label: str) -> None:
    folded = fold_label(label)
    assert fold_label(folded) == folded
    for match in MATCHERS:
        match(label)


@given(label=st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=40))
def test_no_key_is_matched_without_a_printed_word(label: str) -> None:
    """Every label core is Chinese: text without a CJK character names no row or column."""
    for match in MATCHERS:
        assert match(label) is None, (match.__name__, label)


REQUEST_LABELS = [
    (row.key, row.labels[version]) for row in REQUESTS_SPEC.rows for version in (V2019, V2021) if row.labels.get(version)
]


@given(data=st.data())
def test_requests_labels_match_their_key_whatever_the_line_breaks(data: st.DataObject) -> None:
    key, label = data.draw(st.sampled_from(REQUEST_LABELS))
    row = REQUESTS_SPEC.row(key)
    parent = None
    if row.parent:
        parent = REQUESTS_SPEC.derived_rows.get(row.parent)
    cuts = data.draw(st.lists(st.integers(0, len(label)), max_size=3, unique=True))
    broken = label
    for cut in sorted(cuts, reverse=True):
        broken = broken[:cut] + data.draw(st.sampled_from(["\n", " ", "\u3000", "\r\n"])) + broken[cut:]
    def named(text: str) -> str | None:
        folded = fold_label(text)
        return match_requests_leaf(folded, parent) or match_requests_group(folded)

    assert named(broken) == named(label) == key


# --- the grid mapper --------------------------------------------------------------------------


def grid_of(table: PrintedTable, locator: str) -> Grid:
    """A printed table with its merged cells expanded, as every extractor hands it to the mapper."""
    cells: dict[tuple[int, int], Cell] = {}
    for r, row in enumerate(table.rows):
        c = 0
        for span in row:
            while (r, c) in cells:
                c += 1
            for dr in range(span.rowspan):
                for dc in range(span.colspan):
                    cells[(r + dr, c + dc)] = Cell(span.text, r + dr, c + dc, span_of=(r, c))
            c += span.colspan
    n_rows = max(r for r, _ in cells) + 1
    rows = [[cells.get((r, c), Cell("", r, c)) for c in range(table.ncols)] for r in range(n_rows)]
    return Grid(rows, locator)


@settings(max_examples=25)
@given(seed=st.integers(min_value=0, max_value=10_000), versions=st.sampled_from(["v2019", "v2021", None]))
def test_mapper_gives_back_the_generators_values(seed: int, versions: str | None) -> None:
    report = generate_report(seed, versions=versions, defects=())
    grids = [grid_of(t, f"table {i}") for i, t in enumerate(printed_tables(report).values())]
    mapped = map_grids(grids)
    got = {(f.table, f.row_key, f.column_key): (f.raw_text, f.value_status) for f in mapped.facts}
    want = {(e["table"], e["row_key"], e["column_key"]): (e["raw_text"], e["status"]) for e in report.expected_facts()}
    assert got == want


@settings(max_examples=60)
@given(
    rows=st.lists(
        st.lists(st.one_of(cell_text, st.sampled_from([label for _, label in REQUEST_LABELS])), min_size=1, max_size=9),
        min_size=1,
        max_size=12,
    )
)
def test_mapper_never_raises_and_every_fact_is_a_printed_cell(rows: list[list[str]]) -> None:
    width = max(len(r) for r in rows)
    grid = Grid.from_texts([r + [""] * (width - len(r)) for r in rows], "random")
    printed = {unicodedata.normalize("NFKC", "".join(text.split())) for row in rows for text in row}
    for fact in map_grids([grid]).facts:
        if fact.value is not None:
            assert fact.raw_text in printed or any(fact.raw_text in p for p in printed), fact


