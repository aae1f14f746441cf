"""What conversions and careless publishing do to a printed report: the structural defects.

The generator's defects change labels and values, which every renderer prints alike; the
defects here change the structure of one rendered text (the cells and Markdown forms, and the
runs form of crawler exports), as text/OCR conversions and real publishers do:

* ``split_row_lines``: one table row printed as several rows of partial cells;
* ``pull_out_cell``: a converter moves a cell out of its table into the line before it;
* ``insert_after``: a sentence of narrative between a table's heading and its header;
* ``drop_text``: a printed piece left out (a block caption, a row);
* ``legacy_report``: a pre-2019 report titled without 政府/工作, its statistics in prose only;
* ``listing_page``: a column page listing many reports (titles and dates, no report body).

Each returns the changed text (or document) only; the expected facts stay the report's own,
so a golden test states exactly what an extractor must make of the damage.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from xxgk.synth.generate import PrintedDocument, random_publisher


def _row_block(lines: list[str], label: str) -> tuple[int, int]:
    """(first line, end line) of the cells-form row whose label line contains ``label``."""
    at = next(i for i, ln in enumerate(lines) if ln.startswith("\t") and label in ln)
    start = at
    while start > 0 and lines[start - 1] != "":
        start -= 1
    end = at
    while end < len(lines) and lines[end] != "":
        end += 1
    return start, end


def split_row_lines(cells_text: str, label: str, parts: Sequence[int]) -> str:
    """The cells form with the row labelled ``label`` printed as ``len(parts)`` rows.

    The first row keeps the label and the first ``parts[0]`` values, each next row prints the
    next ``parts[i]`` values and no label (a blank line ends a row in this form).
    """
    lines = cells_text.split("\n")
    start, end = _row_block(lines, label)
    block = lines[start:end]
    values = [i for i, ln in enumerate(block) if ln.startswith("\t") and _is_value_line(ln)]
    if sum(parts) != len(values):
        raise ValueError(f"row {label!r} prints {len(values)} values, not {sum(parts)}")
    cut_after = []
    acc = 0
    for n in parts[:-1]:
        acc += n
        cut_after.append(values[acc - 1])
    out: list[str] = []
    for i, ln in enumerate(block):
        out.append(ln)
        if i in cut_after:
            out.append("")
    return "\n".join(lines[:start] + out + lines[end:])


def split_last_row_lines(cells_text: str, after: str, parts: Sequence[int]) -> str:
    """The cells form with the first label-less row after the line containing ``after`` split into rows."""
    lines = cells_text.split("\n")
    at = next(i for i, ln in enumerate(lines) if after in ln)
    start = next(
        i for i in range(at, len(lines)) if lines[i] == "" and i + 1 < len(lines) and _is_value_line(lines[i + 1])
    )
    start += 1
    end = start
    while end < len(lines) and lines[end] != "":
        end += 1
    values = list(range(start, end))
    if sum(parts) != len(values):
        raise ValueError(f"the row prints {len(values)} values, not {sum(parts)}")
    out = list(lines[:start])
    acc = 0
    for n in parts:
        out += [*lines[start + acc : start + acc + n], ""]
        acc += n
    return "\n".join(out[:-1] + lines[end:])


def _is_value_line(line: str) -> bool:
    text = line.strip()
    return line.startswith("\t") and (text == "" or text.replace(",", "").replace(".", "").isdigit())


def pull_out_cell(markdown: str, label: str, index: int) -> tuple[str, str]:
    """The Markdown form with value cell ``index`` of the row labelled ``label`` moved out of the table.

    As a PDF→Markdown converter does, the cell's text lands on a line of its own just before the
    table fragment, and the row is printed one cell short. Returns the text and the moved value.
    """
    lines = markdown.split("\n")
    at = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("|") and label in ln)
    cells = lines[at].strip().strip("|").split("|")
    labelled = [i for i, c in enumerate(cells) if label in c]
    first_value = labelled[-1] + 1
    while first_value < len(cells) and not cells[first_value].strip():
        first_value += 1
    moved = cells.pop(first_value + index).strip()
    lines[at] = "| " + " | ".join(c.strip() for c in cells) + " |"
    top = at
    while top > 0 and lines[top - 1].lstrip().startswith("|"):
        top -= 1
    lines.insert(top, moved)
    return "\n".join(lines), moved


def insert_after(text: str, marker: str, sentence: str) -> str:
    """``text`` with ``sentence`` printed right after ``marker``: on a line of its own when the marker
    ends its line, else inline (a run-together export has no lines to speak of)."""
    at = text.index(marker) + len(marker)
    if text[at : at + 1] in ("\n", ""):
        return text[:at] + "\n" + sentence + text[at:]
    return text[:at] + sentence + text[at:]


def drop_text(text: str, what: str) -> str:
    """``text`` with the first occurrence of ``what`` left out (a line of its own goes entirely)."""
    lines = text.split("\n")
    for i, ln in enumerate(lines):
        if what in ln:
            if ln.strip().strip("\t") == what:
                return "\n".join(lines[:i] + lines[i + 1 :])
            lines[i] = ln.replace(what, "", 1)
            return "\n".join(lines)
    raise ValueError(f"{what!r} is not in the text")


#: Titles of pre-2019 reports that name neither 政府 nor 工作 (and the national one).
LEGACY_TITLES = (
    "{pub}{year}年信息公开年度报告",
    "{pub}{year}年政务公开年报",
    "{pub}{year}年信息公开工作报告",
    "{pub}{year}年度政府信息公开工作年度报告",
)


def legacy_report(seed: int, title_form: int = 0, *, year: int | None = None) -> PrintedDocument:
    """A pre-2019 report with its statistics in prose only (no table), under one of ``LEGACY_TITLES``."""
    rng = random.Random(f"xxgk-legacy-prose:{seed}")
    year = rng.randint(2009, 2018) if year is None else year
    pub = random_publisher(rng).name
    received, granted = rng.randint(0, 80), 0
    granted = rng.randint(0, received)
    blocks: list[str | object] = [
        "一、概述",
        f"{year}年，我单位认真贯彻落实《中华人民共和国政府信息公开条例》，信息公开工作有序推进。",
        "二、主动公开政府信息情况",
        f"全年主动公开政府信息{rng.randint(50, 900)}条，其中规范性文件{rng.randint(0, 20)}条。",
        "三、依申请公开政府信息情况",
        f"全年共受理信息公开申请{received}件，已全部按期答复，其中同意公开{granted}件。",
        "四、因政府信息公开申请提起行政复议、行政诉讼情况",
        "全年未发生因政府信息公开申请提起行政复议、行政诉讼的情况。",
        "五、存在的主要问题和改进措施",
        "信息公开的及时性和规范性有待进一步提高。",
        pub,
    ]
    return PrintedDocument(
        title=LEGACY_TITLES[title_form].format(pub=pub, year=year),
        publisher=pub,
        year=year,
        blocks=blocks,  # type: ignore[arg-type]
        kind="legacy",
        published=f"{year + 1}-03-{rng.randint(1, 28):02d}",
        expected_status="legacy",
    )


def listing_page(seed: int, n: int = 12) -> PrintedDocument:
    """A column page (栏目页) listing ``n`` annual reports of several years: titles and dates, no body."""
    rng = random.Random(f"xxgk-listing:{seed}")
    pub = random_publisher(rng).name
    last = rng.randint(2021, 2025)
    blocks: list[str | object] = ["政府信息公开年报", "当前位置：首页 > 政府信息公开 > 政府信息公开年报"]
    for i in range(n):
        year = last - i % 6
        body = rng.choice(("", "办公室", "财政局", "教育局", "民政局", "卫生健康委员会"))
        blocks.append(f"{pub}{body}{year}年政府信息公开工作年度报告")
        blocks.append(f"{year + 1}-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}")
    blocks += ["共3页  首页  上一页  1  2  3  下一页  尾页", "主办单位：" + pub]
    return PrintedDocument(
        title=f"政府信息公开年报_{pub}",
        publisher=pub,
        year=None,
        blocks=blocks,  # type: ignore[arg-type]
        kind="not_a_report",
        published="",
        expected_status="not_a_report",
    )
