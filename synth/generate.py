"""Synthetic 政府信息公开工作年度报告 from known values, with the defects met in real reports.

Golden tests need exact expectations at any scale: the generator draws internally consistent
values (every hard identity of ``spec/keys.yaml`` holds), formats them the way real reports
print them (增40, 251000元, blanks for zeros, full-width digits ...), applies label defects
(typos, line breaks, glosses) and, on request, breaks a printed total so that a named check
fails. Renderers (``synth.text``, ``synth.html``, ``synth.pdf``) turn the report into bytes;
``SyntheticReport.expected_facts()`` is what an exact extractor must return.

Legacy (pre-2019) reports and documents that are not reports at all are generated as plain
``PrintedDocument`` objects: they carry no canonical facts, only a status to expect.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from xxgk.schemas import lexicon as lx
from xxgk.schemas.model import (
    APPLICANT_COLUMNS,
    PROACTIVE,
    PROACTIVE_BLOCK_CAPTIONS,
    PROACTIVE_SPEC,
    REQUESTS,
    REQUESTS_GROUP_LABELS,
    REQUESTS_SPEC,
    REVIEW_LITIGATION,
    REVIEW_SPEC,
    SPECS,
    TABLE_HEADINGS,
    TABLES,
    V2019,
    V2021,
    expected_cells,
)
from xxgk.schemas.values import OK, looks_like_value, parse_cell_value
from xxgk.synth.report import CellKey, SyntheticReport

# ---------------------------------------------------------------------------------------------
# Defects
# ---------------------------------------------------------------------------------------------

#: Label defects: applied to ``report.labels``, printed the same way by every renderer.
LABEL_DEFECTS = (
    "label_whitespace",  # spaces and line breaks inside labels (本年新/制作数量, 总 计)
    "punct_width",  # half-width ()/: and ，for 、 where the template prints full width
    "ascii_quotes",  # 危及"三安全一稳定" with ASCII quotes
    "label_typos",  # 其他法律行政止公开, 三类内容事务信息, 只计这一情况
    "glosses",  # 本年增/减(指2020年增加或减少的事项数…), 现行有效件数（历史累计）
    "heading_variants",  # 四、因政府信息公开工作被申请行政复议、提起行政诉讼情况 ...
    "traditional_forms",  # labels set in an old font or mirrored: 結轉下年度, 維持, 處理決定數量
    "ocr_confusions",  # 己/已, 末/未, l./1. as OCR and old typesetting print them
    "enumerator_variants",  # (1)属于国家秘密, 1、, no enumerator, 一、 for （一）
    "label_particles",  # 属于国家秘密的, 保护第三方合法权益之
    "header_variants",  # 本年公开数量 for 本年新公开数量, 本年增/减量
)
#: Value defects: change the printed text of cells (the expected facts follow the text).
VALUE_DEFECTS = (
    "blank_zeros",  # zeros left blank (blank is not 0)
    "blank_total_column",  # table 三 总计 blank on the outcome rows (Shanghai 2019)
    "signed_ascii",  # +3 / -2 instead of 增3 / 减2 (v2019 本年增/减)
    "money_yuan",  # 采购总金额 printed in 元 (251000元)
    "money_no_unit",  # 采购总金额 printed without any unit: unit unknown
    "thousands_sep",  # 56,284
    "fullwidth_digits",  # １７５
    "dashes",  # - / — / － for zeros in table 二
    "slashes",  # / for zeros in table 二 (规章 of bodies that make none)
    "wrong_total",  # a printed total that does not add up: the check fails, the value is kept
    "measure_words",  # counts printed with a measure word: 2笔, 3个, 5家, 12次, 7人次
    "procurement_one_cell",  # （九） count and amount printed in one cell: 3笔 125000元
)
#: Rendering artefacts: recorded on the report, produced by the renderers that know them.
RENDER_DEFECTS = ("stray_header_zero",)  # a 0 where the merged 总计 header continues (yuelu)

DEFECTS: tuple[str, ...] = LABEL_DEFECTS + VALUE_DEFECTS + RENDER_DEFECTS

#: Defects a run-together export cannot show faithfully (a blank cell or a separator vanishes
#: into the digit run): corpora meant for that form leave them out.
RUNS_INCOMPATIBLE = frozenset(
    {"blank_zeros", "blank_total_column", "thousands_sep", "dashes", "slashes", "measure_words", "procurement_one_cell"}
)

_V2019_ONLY_DEFECTS = frozenset({"signed_ascii", "money_yuan", "money_no_unit", "procurement_one_cell"})
#: Defects added after the first corpora were drawn: random draws leave them out, so the
#: reports of a seed stay the same; corpora still cover each of them (``corpus_scenarios``).
_NOT_DRAWN = frozenset(
    {
        "traditional_forms",
        "ocr_confusions",
        "enumerator_variants",
        "label_particles",
        "header_variants",
        "measure_words",
        "procurement_one_cell",
    }
)
#: Measure words producers print after counts (one per report, like a real producer).
MEASURE_WORDS = ("件", "个", "笔", "次", "人次", "家", "项")

SCALES = ("zero", "small", "medium", "large")

# ---------------------------------------------------------------------------------------------
# Publishers
# ---------------------------------------------------------------------------------------------

_CITIES = (
    ("长沙市", "changsha"),
    ("淮安市", "huaian"),
    ("杭州市", "hangzhou"),
    ("武汉市", "wuhan"),
    ("成都市", "chengdu"),
    ("苏州市", "suzhou"),
    ("南宁市", "nanning"),
    ("济南市", "jinan"),
    ("西安市", "xian"),
    ("福州市", "fuzhou"),
    ("合肥市", "hefei"),
    ("昆明市", "kunming"),
    ("宿迁市", "suqian"),
    ("包头市", "baotou"),
    ("威海市", "weihai"),
)
_DISTRICTS = (
    ("城东区", "chengdong"),
    ("城西区", "chengxi"),
    ("新城区", "xincheng"),
    ("高新区", "gaoxin"),
    ("江南区", "jiangnan"),
    ("河西区", "hexi"),
    ("北湖区", "beihu"),
    ("南山区", "nanshan"),
    ("临江县", "linjiang"),
    ("青山县", "qingshan"),
    ("平安县", "pingan"),
)
_DEPARTMENTS = (
    ("人民政府办公室", "office"),
    ("生态环境局", "eco"),
    ("财政局", "finance"),
    ("自然资源和规划局", "land"),
    ("住房和城乡建设局", "housing"),
    ("市场监督管理局", "market"),
    ("教育局", "edu"),
    ("卫生健康委员会", "health"),
    ("科学技术局", "sci"),
    ("交通运输局", "transport"),
)
_TOWNS = (
    ("青石镇人民政府", "qingshi"),
    ("白沙镇人民政府", "baisha"),
    ("东风街道办事处", "dongfeng"),
    ("桃源乡人民政府", "taoyuan"),
)


@dataclass(frozen=True)
class Publisher:
    """A synthetic publishing body: printed name, ASCII source id, kind (drives the scale)."""

    name: str
    source_id: str
    kind: str  # city_gov | district_gov | department | town


def random_publisher(rng: random.Random) -> Publisher:
    """A realistic publisher: a city or district government, a department, a town."""
    city, city_slug = rng.choice(_CITIES)
    district, district_slug = rng.choice(_DISTRICTS)
    roll = rng.random()
    if roll < 0.15:
        return Publisher(f"{city}人民政府", city_slug, "city_gov")
    if roll < 0.5:
        return Publisher(f"{city}{district}人民政府", f"{city_slug}-{district_slug}", "district_gov")
    if roll < 0.85:
        dept, dept_slug = rng.choice(_DEPARTMENTS)
        if rng.random() < 0.4:
            return Publisher(f"{city}{dept}", f"{city_slug}-{dept_slug}", "department")
        return Publisher(f"{city}{district}{dept}", f"{city_slug}-{district_slug}-{dept_slug}", "department")
    town, town_slug = rng.choice(_TOWNS)
    return Publisher(f"{city}{district}{town}", f"{city_slug}-{district_slug}-{town_slug}", "town")


def _all_publishers() -> dict[str, str]:
    names: dict[str, str] = {}
    for city, cs in _CITIES:
        names[f"{city}人民政府"] = cs
        for dept, ps in _DEPARTMENTS:
            names[f"{city}{dept}"] = f"{cs}-{ps}"
        for district, ds in _DISTRICTS:
            names[f"{city}{district}人民政府"] = f"{cs}-{ds}"
            for dept, ps in _DEPARTMENTS:
                names[f"{city}{district}{dept}"] = f"{cs}-{ds}-{ps}"
            for town, ts in _TOWNS:
                names[f"{city}{district}{town}"] = f"{cs}-{ds}-{ts}"
    return names


_PUBLISHER_IDS = _all_publishers()


def source_id_for(publisher: str) -> str:
    """A stable ASCII source id for a publisher name (pool names get readable slugs)."""
    known = _PUBLISHER_IDS.get(publisher)
    if known:
        return known
    return "pub-" + hashlib.sha1(publisher.encode("utf-8")).hexdigest()[:10]


def _publisher_kind(name: str) -> str:
    if name.endswith(("镇人民政府", "乡人民政府", "街道办事处")):
        return "town"
    if name.endswith("市人民政府"):
        return "city_gov"
    if name.endswith(("区人民政府", "县人民政府")):
        return "district_gov"
    return "department"


def _short_name(publisher: str) -> str:
    """What the narrative calls the publisher (我区, 本局 ...)."""
    kind = _publisher_kind(publisher)
    if kind == "city_gov":
        return "我市"
    if kind == "district_gov":
        return "我县" if publisher.endswith("县人民政府") else "我区"
    if kind == "town":
        return "我镇" if "镇" in publisher else ("我乡" if "乡" in publisher else "本街道")
    return "本机关"


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------

SECTION_HEADINGS = {
    "overview": "一、总体情况",
    PROACTIVE: TABLE_HEADINGS[PROACTIVE],
    REQUESTS: TABLE_HEADINGS[REQUESTS],
    REVIEW_LITIGATION: TABLE_HEADINGS[REVIEW_LITIGATION],
    "problems": "五、存在的主要问题及改进情况",
    "other_matters": "六、其他需要报告的事项",
}
SECTION_ORDER = ("overview", PROACTIVE, REQUESTS, REVIEW_LITIGATION, "problems", "other_matters")

REQUESTS_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def canonical_labels(versions: Mapping[str, str], requests_layout: str) -> dict[str, str]:
    """Every label a report of these versions prints, by label id, as the template prints it.

    Ids: ``heading.<section>``, ``proactive.block.<art>``, ``proactive.content``,
    ``proactive.col.<key>``, ``proactive.row.<key>``, ``requests.note``, ``requests.applicant``,
    ``requests.legal_group``, ``requests.col.<key>``, ``requests.group.<key>``,
    ``requests.row.<key>``, ``review_litigation.review`` / ``.litigation`` / ``.direct`` /
    ``.after_review``, ``review_litigation.col.<key>``.
    """
    labels: dict[str, str] = {f"heading.{k}": v for k, v in SECTION_HEADINGS.items()}
    pv = versions[PROACTIVE]
    labels.update({f"{PROACTIVE}.block.{k}": v for k, v in PROACTIVE_BLOCK_CAPTIONS.items()})
    labels[f"{PROACTIVE}.content"] = "信息内容"
    for col in PROACTIVE_SPEC.columns:
        if pv in col.labels:
            labels[f"{PROACTIVE}.col.{col.key}"] = col.labels[pv]
    for row in PROACTIVE_SPEC.rows:
        if pv in row.labels:
            labels[f"{PROACTIVE}.row.{row.key}"] = row.labels[pv]
    labels[f"{REQUESTS}.note"] = REQUESTS_NOTE
    labels[f"{REQUESTS}.applicant"] = "申请人情况"
    labels[f"{REQUESTS}.legal_group"] = "法人或其他组织"
    for col in REQUESTS_SPEC.columns:
        labels[f"{REQUESTS}.col.{col.key}"] = col.labels[V2019]
    labels.update({f"{REQUESTS}.group.{k}": v for k, v in REQUESTS_GROUP_LABELS.items()})
    for row in REQUESTS_SPEC.rows:
        if requests_layout in row.labels:
            labels[f"{REQUESTS}.row.{row.key}"] = row.labels[requests_layout]
    labels[f"{REVIEW_LITIGATION}.review"] = "行政复议"
    labels[f"{REVIEW_LITIGATION}.litigation"] = "行政诉讼"
    labels[f"{REVIEW_LITIGATION}.direct"] = "未经复议直接起诉"
    labels[f"{REVIEW_LITIGATION}.after_review"] = "复议后起诉"
    for col in REVIEW_SPEC.columns:
        labels[f"{REVIEW_LITIGATION}.col.{col.key}"] = col.labels[V2019]
    return labels


def labels_of(report: SyntheticReport) -> dict[str, str]:
    """The printed labels of a report: its own where set, canonical for the rest."""
    labels = canonical_labels(report.versions, report.requests_layout)
    labels.update(report.labels)
    return labels


_TYPOS = {
    f"{REQUESTS}.row.denied.law_prohibited": ("行政法规禁止公开", "行政止公开"),
    f"{REQUESTS}.row.denied.internal_affairs": ("内部事务", "内容事务"),
    f"{REQUESTS}.row.partially_granted": ("只计这一情形", "只计这一情况"),
}
_HEADING_VARIANTS = {
    f"heading.{REVIEW_LITIGATION}": ("四、因政府信息公开工作被申请行政复议、提起行政诉讼情况",),
    "heading.problems": ("五、政府信息公开工作存在的主要问题及改进情况",),
    "heading.overview": ("一、总体情况",),
}


_HEADER_VARIANTS = {
    f"{PROACTIVE}.col.new_published": ("本年新公开数量", "本年公开数量"),
    f"{PROACTIVE}.col.items_change": ("本年增/减", "本年增/减量"),
}
_TRADITIONAL = str.maketrans(dict(zip(lx.SIMPLIFIED_FORMS, lx.TRADITIONAL_FORMS, strict=True)))


def _renumber(label: str, rng: random.Random) -> str:
    """Another enumerator for a table-三 row label: 1. → (1) / 1、 / none; （一） → 一、 / (一) / none."""
    m = re.match(r"^(\d+)\.", label)
    if m:
        rest = label[m.end() :]
        return rng.choice((f"({m.group(1)}){rest}", f"{m.group(1)}、{rest}", f"（{m.group(1)}）{rest}", rest))
    m = re.match(r"^（([一二三四五六七八九十])）", label)
    if m:
        rest = label[m.end() :]
        if m.group(1) == "七":  # a bare 总计 row label reads as the column header: never printed so
            return f"({m.group(1)}){rest}"
        return rng.choice((f"({m.group(1)}){rest}", f"{m.group(1)}.{rest}", rest))
    return label


def _insert(text: str, rng: random.Random, sep: str) -> str:
    """Break ``text`` with ``sep`` somewhere in its body (never inside a leading 1. or （一）)."""
    start = 2
    if text.startswith("（"):
        start = text.find("）") + 2
    elif len(text) > 2 and text[1] in ".、":
        start = 3
    if len(text) - start < 2:
        return text
    for _ in range(8):
        pos = rng.randint(start, len(text) - 1)
        if not (looks_like_value(text[:pos]) or looks_like_value(text[pos:])):
            return text[:pos] + sep + text[pos:]
    return text


def _apply_label_defects(labels: dict[str, str], defects: set[str], rng: random.Random, year: int) -> dict[str, str]:
    out = dict(labels)
    if "label_typos" in defects:
        for key, (old, new) in _TYPOS.items():
            if key in out and rng.random() < 0.8:
                out[key] = out[key].replace(old, new)
    if "glosses" in defects:
        glosses = {
            f"{PROACTIVE}.col.items_change": f"(指{year}年增加或减少的事项数,减用负值表示,如-8)",
            f"{PROACTIVE}.col.decisions": f"(指{year}年办件量)",
            f"{PROACTIVE}.col.in_force": "（历史累计）",
            f"{PROACTIVE}.col.items_prev_year": f"（指{year - 1}年底事项数）",
        }
        for key, gloss in glosses.items():
            if key in out:
                out[key] += gloss
    if "ascii_quotes" in defects:
        key = f"{REQUESTS}.row.denied.security_stability"
        out[key] = out[key].replace("“", '"').replace("”", '"')
    if "punct_width" in defects:
        for key, text in out.items():
            if key.startswith("heading."):
                continue
            if rng.random() < 0.6:
                text = text.replace("（", "(").replace("）", ")").replace("：", ":")
            if key.startswith(f"{REQUESTS}.row.other.") and rng.random() < 0.7:
                text = text.replace("、", "，")
            out[key] = text
    if "heading_variants" in defects:
        for key, variants in _HEADING_VARIANTS.items():
            if rng.random() < 0.7:
                out[key] = rng.choice(variants)
    if "header_variants" in defects:
        for key, (old, new) in _HEADER_VARIANTS.items():
            if key in out and rng.random() < 0.8:
                out[key] = out[key].replace(old, new)
    if "enumerator_variants" in defects:
        for key, text in out.items():
            if key.startswith(f"{REQUESTS}.row.") and rng.random() < 0.7:
                out[key] = _renumber(text, rng)
    if "label_particles" in defects:
        for key, text in out.items():
            if key.startswith((f"{REQUESTS}.row.denied.", f"{REQUESTS}.row.unable.")) and rng.random() < 0.6:
                out[key] = text + rng.choice(("的", "的", "之"))
    if "ocr_confusions" in defects:
        for key, text in out.items():
            if key.startswith("heading."):
                continue
            text = text.replace("已", "己").replace("未", "末") if rng.random() < 0.8 else text
            if re.match(r"^1[.、]", text) and rng.random() < 0.5:
                text = "l" + text[1:]
            out[key] = text
    if "traditional_forms" in defects:
        for key, text in out.items():
            if not key.startswith("heading.") and rng.random() < 0.7:
                out[key] = text.translate(_TRADITIONAL)
    if "label_whitespace" in defects:
        for key, text in out.items():
            if key.startswith("heading.") or len(text) < 4:
                continue
            roll = rng.random()
            if roll < 0.12:
                out[key] = _insert(text, rng, "\n")
            elif roll < 0.2:
                out[key] = _insert(text, rng, " ")
    return out


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

_OUTCOME_WEIGHTS = {
    "granted": 0.35,
    "partially_granted": 0.08,
    "denied.state_secret": 0.01,
    "denied.law_prohibited": 0.02,
    "denied.security_stability": 0.01,
    "denied.third_party_rights": 0.02,
    "denied.internal_affairs": 0.02,
    "denied.process_info": 0.03,
    "denied.enforcement_file": 0.01,
    "denied.admin_query": 0.02,
    "unable.not_held": 0.22,
    "unable.needs_creation": 0.04,
    "unable.unclear_after_correction": 0.03,
    "not_processed.petition_complaint": 0.04,
    "not_processed.duplicate": 0.02,
    "not_processed.publication": 0.01,
    "not_processed.excessive_repeated": 0.01,
    "not_processed.confirm_or_reissue": 0.01,
    "other": 0.05,
    "other.no_correction": 0.03,
    "other.fee_unpaid": 0.005,
    "other.other": 0.02,
}

_NEW_REQUESTS = {"zero": (0, 0), "small": (1, 25), "medium": (20, 600), "large": (600, 15000)}
_LEGAL_SHARE = {"zero": 0.0, "small": 0.25, "medium": 0.5, "large": 0.85}


def _outcome_rows(layout: str) -> list[str]:
    rows = [r for r, _ in expected_cells(REQUESTS, layout, layout)]
    ordered = list(dict.fromkeys(rows))
    first, last = ordered.index("granted"), ordered.index("total_processed")
    return ordered[first:last]


def _distribute(rng: random.Random, n: int, rows: list[str]) -> dict[str, int]:
    """Split ``n`` requests over the outcome leaves: each request lands in exactly one leaf."""
    out = dict.fromkeys(rows, 0)
    if n <= 0:
        return out
    weights = []
    for row in rows:
        keep = row == "granted" or rng.random() < (0.75 if n > 50 else 0.35)
        weights.append(_OUTCOME_WEIGHTS[row] * rng.uniform(0.3, 1.7) if keep else 0.0)
    total_w = sum(weights)
    counts = [int(n * w / total_w) for w in weights]
    for _ in range(n - sum(counts)):
        counts[rng.choices(range(len(rows)), weights=weights)[0]] += 1
    return dict(zip(rows, counts, strict=True))


def _requests_values(rng: random.Random, scale: str, layout: str) -> dict[tuple[str, str], int]:
    outcome_rows = _outcome_rows(layout)
    values: dict[tuple[str, str], int] = {}
    lo, hi = _NEW_REQUESTS[scale]
    natural_new = rng.randint(lo, hi)
    for col in APPLICANT_COLUMNS:
        if col == "natural_person":
            new = natural_new
        elif rng.random() < _LEGAL_SHARE[scale]:
            new = max(1, int(natural_new * rng.uniform(0.003, 0.08)))
        else:
            new = 0
        carried = int(new * rng.uniform(0.0, 0.12)) if rng.random() < 0.5 else 0
        inflow = new + carried
        forward = int(inflow * rng.uniform(0.0, 0.12)) if rng.random() < 0.6 else 0
        values[("new_requests", col)] = new
        values[("carried_over", col)] = carried
        values[("carried_forward", col)] = forward
        values[("total_processed", col)] = inflow - forward
        for row, count in _distribute(rng, inflow - forward, outcome_rows).items():
            values[(row, col)] = count
    rows = {r for r, _ in values}
    for row in rows:
        values[(row, "total")] = sum(values[(row, c)] for c in APPLICANT_COLUMNS)
    return values


_REVIEW_MAX = {"zero": 0, "small": 2, "medium": 8, "large": 60}


def _review_values(rng: random.Random, scale: str) -> dict[tuple[str, str], int]:
    values: dict[tuple[str, str], int] = {}
    top = _REVIEW_MAX[scale]
    for row in REVIEW_SPEC.row_keys:
        active = rng.random() < (0.7 if row != "litigation_after_review" else 0.4)
        parts = {}
        for col in ("upheld", "corrected", "other", "pending"):
            share = {"upheld": 1.0, "corrected": 0.3, "other": 0.3, "pending": 0.4}[col]
            parts[col] = rng.randint(0, max(0, int(top * share))) if active else 0
        parts["total"] = sum(parts.values())
        for col, v in parts.items():
            values[(row, col)] = v
    return values


def _signed(rng: random.Random, scale_max: int) -> int:
    roll = rng.random()
    if roll < 0.4:
        return 0
    if roll < 0.8:
        return rng.randint(1, max(1, scale_max // 4))
    return -rng.randint(1, max(1, scale_max // 20))


def _money(rng: random.Random, top: float, decimals: int) -> tuple[int, int, int]:
    """An amount as (whole, fraction, decimals): exact text, no float repr surprises."""
    whole = rng.randint(0, int(top))
    frac = rng.randint(0, 10**decimals - 1) if decimals else 0
    return whole, frac, decimals


def _money_text(whole: int, frac: int, decimals: int) -> str:
    return f"{whole}.{frac:0{decimals}d}" if decimals else str(whole)


_PROACTIVE_SIZE = {"zero": 0.05, "small": 0.2, "medium": 1.0, "large": 4.0}


def _proactive_values(
    rng: random.Random, version: str, scale: str, kind: str
) -> dict[tuple[str, str], int | tuple[int, int, int]]:
    """Table 二 values: ints, or (whole, fraction, decimals) for money cells."""
    f = _PROACTIVE_SIZE[scale]
    makes_rules = kind == "city_gov" or (kind == "district_gov" and rng.random() < 0.1)
    out: dict[tuple[str, str], int | tuple[int, int, int]] = {}

    def n(top: float) -> int:
        return rng.randint(0, max(0, int(top * f)))

    if version == V2019:
        for row, top_new, top_total in (("rules", 6, 60), ("normative_docs", 60, 600)):
            made = n(top_new) if (row != "rules" or makes_rules) else 0
            published = max(0, made - rng.randint(0, 2))
            out[(row, "new_made")] = made
            out[(row, "new_published")] = published
            out[(row, "published_total")] = published + (n(top_total) if (row != "rules" or makes_rules) else 0)
        for row, top_items, top_dec in (
            ("admin_licensing", 1500, 60000),
            ("other_admin_services", 1000, 25000),
            ("admin_penalty", 3000, 8000),
            ("admin_coercion", 200, 300),
        ):
            out[(row, "items_prev_year")] = n(top_items)
            out[(row, "items_change")] = _signed(rng, max(4, int(top_items * f)))
            out[(row, "decisions")] = n(top_dec)
        out[("admin_fees", "items_prev_year")] = n(40)
        out[("admin_fees", "items_change")] = _signed(rng, 8)
        projects = n(2000)
        out[("gov_procurement", "procurement_projects")] = projects
        out[("gov_procurement", "procurement_amount")] = (
            _money(rng, 100000 * f, rng.choice((2, 2, 4, 5))) if projects else (0, 0, 0)
        )
    else:
        for row, top_issued, top_force in (("rules", 5, 100), ("normative_docs", 60, 800)):
            active = row != "rules" or makes_rules
            out[(row, "issued")] = n(top_issued) if active else 0
            out[(row, "repealed")] = n(top_issued / 2) if active else 0
            out[(row, "in_force")] = n(top_force) if active else 0
        out[("admin_licensing", "decisions")] = n(60000)
        out[("admin_penalty", "decisions")] = n(8000)
        out[("admin_coercion", "decisions")] = n(300)
        out[("admin_fees", "fee_amount")] = (
            _money(rng, 60000 * f, rng.choice((2, 2, 4))) if rng.random() < 0.6 else (0, 0, 0)
        )
    return out


_FULLWIDTH = str.maketrans("0123456789.,+-", "０１２３４５６７８９．，＋－")


@dataclass
class _Style:
    """How this report prints its numbers (chosen once per report, like a real producer)."""

    defects: set[str]
    rng: random.Random
    dash_token: str = "-"
    fullwidth_share: float = 0.0
    measure_word: str = ""

    def count(self, n: int) -> str:
        text = f"{n:,}" if ("thousands_sep" in self.defects and n >= 1000) else str(n)
        return self.widen(text)

    def counted(self, n: int) -> str:
        """A count as the table prints it, with the producer's measure word on about half the cells."""
        text = self.count(n)
        if self.measure_word and self.rng.random() < 0.5:
            text += self.measure_word
        return text

    def widen(self, text: str) -> str:
        if self.fullwidth_share and self.rng.random() < self.fullwidth_share:
            return text.translate(_FULLWIDTH)
        return text


def _format_signed(style: _Style, n: int) -> str:
    if n == 0:
        return "0"
    if "signed_ascii" in style.defects:
        return ("+" if n > 0 else "-") + style.count(abs(n))
    return ("增" if n > 0 else "减") + style.count(abs(n))


def _format_procurement(style: _Style, money: tuple[int, int, int], rng: random.Random) -> str:
    whole, frac, decimals = money
    if "money_yuan" in style.defects:
        # the amount in 元: 万元 × 10000, printed as integer yuan or with 分
        yuan = whole * 10000 + (frac * 10000) // (10**decimals if decimals else 1)
        cents = rng.choice((0, 0, rng.randint(1, 99)))
        text = f"{yuan:,}" if "thousands_sep" in style.defects and yuan >= 1000 else str(yuan)
        if cents:
            text += f".{cents:02d}"
        return style.widen(text) + "元"
    amount = _money_text(whole, frac, decimals)
    if "thousands_sep" in style.defects and whole >= 1000:
        amount = f"{whole:,}" + amount[len(str(whole)) :]
    if "money_no_unit" in style.defects:
        return style.widen(amount)
    return style.widen(amount) + "万元"


# ---------------------------------------------------------------------------------------------
# Identities
# ---------------------------------------------------------------------------------------------


def _num(report_cells: Mapping[CellKey, str], table: str, row: str, col: str) -> float | None:
    spec = SPECS[table].column(col)
    parsed = parse_cell_value(
        report_cells.get((table, row, col), ""),
        unit=spec.unit,
        signed=spec.signed,
        money=spec.money,
        unit_printed_in_header=spec.unit_in_header,
    )
    return parsed.value if parsed.status == OK else None


def _identity(total: float | None, parts: list[float | None]) -> bool | None:
    if total is None or any(p is None for p in parts):
        return None
    return total == sum(p for p in parts if p is not None)


def evaluate_identities(cells: Mapping[CellKey, str], requests_layout: str) -> dict[str, bool | None]:
    """Every hard identity on the printed cells: True holds, False fails, None not assessable.

    Names are ``<check_id>:<row or column>`` (``requests.balance:total``,
    ``requests.row_total:granted``, ``requests.outcomes:natural_person``,
    ``review_litigation.row_total:admin_review``). Blank, dash and other non-numbers make an
    identity not assessable; they are never read as 0.
    """
    result: dict[str, bool | None] = {}
    req_rows = list(dict.fromkeys(r for r, _ in expected_cells(REQUESTS, requests_layout, requests_layout)))
    leaves = _outcome_rows(requests_layout)
    for col in REQUESTS_SPEC.column_keys:

        def v(row: str, col: str = col) -> float | None:
            return _num(cells, REQUESTS, row, col)

        new, carried, processed, forward = (
            v("new_requests"),
            v("carried_over"),
            v("total_processed"),
            v("carried_forward"),
        )
        if None in (new, carried, processed, forward):
            result[f"requests.balance:{col}"] = None
        else:
            result[f"requests.balance:{col}"] = new + carried == processed + forward  # type: ignore[operator]
        result[f"requests.outcomes:{col}"] = _identity(processed, [v(r) for r in leaves])
    for row in req_rows:
        result[f"requests.row_total:{row}"] = _identity(
            _num(cells, REQUESTS, row, "total"), [_num(cells, REQUESTS, row, c) for c in APPLICANT_COLUMNS]
        )
    for row in REVIEW_SPEC.row_keys:
        result[f"review_litigation.row_total:{row}"] = _identity(
            _num(cells, REVIEW_LITIGATION, row, "total"),
            [_num(cells, REVIEW_LITIGATION, row, c) for c in ("upheld", "corrected", "other", "pending")],
        )
    return result


def failing_identities(cells: Mapping[CellKey, str], requests_layout: str) -> tuple[str, ...]:
    """The names of the identities the printed cells violate, sorted."""
    return tuple(sorted(k for k, ok in evaluate_identities(cells, requests_layout).items() if ok is False))


# ---------------------------------------------------------------------------------------------
# Narrative
# ---------------------------------------------------------------------------------------------

_OVERVIEW = (
    "{year}年，{short}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
    "坚持“公开为常态、不公开为例外”，持续推进决策、执行、管理、服务、结果公开。",
    "{year}年，{short}按照上级关于政务公开工作的部署，围绕中心工作，不断完善政府信息公开制度，政务公开工作取得新进展。",
)
_PROACTIVE_SENT = (
    "（一）主动公开。全年通过门户网站主动公开政府信息{published}条，发布政策解读{readings}篇。",
    "（一）主动公开方面。聚焦重点领域信息公开，全年主动公开各类政府信息{published}条。",
)
_MANAGEMENT = (
    "（三）政府信息管理。严格落实公开属性源头认定和发布前审查制度，动态调整主动公开基本目录。",
    "（三）政府信息管理方面。规范政府信息发布流程，坚持“先审查、后公开”原则，确保发布信息准确。",
)
_PLATFORM = (
    "（四）政府信息公开平台建设。持续优化政府门户网站政府信息公开专栏，加强政务新媒体管理。",
    "（四）平台建设方面。整合政务公开平台资源，提升网站集约化水平。",
)
_SUPERVISION = (
    "（五）监督保障。将政务公开工作纳入绩效考核，组织开展政务公开业务培训{trainings}次。",
    "（五）监督保障方面。强化工作考核和社会评议，及时回应社会关切。",
)
_PROBLEMS = (
    "{year}年，{short}政府信息公开工作取得了一定成效，但也存在政策解读形式较为单一、基层公开标准化水平有待提升等问题。"
    "下一步，将进一步优化公开内容，加强业务培训，提升政务公开质量。",
    "主要问题：一是公开内容的深度和广度仍需拓展；二是工作人员业务能力有待提高。"
    "改进措施：加强统筹协调，完善工作机制，推动政务公开工作提质增效。",
)


def _requests_sentence(values: Mapping[tuple[str, str], int], template_ix: int) -> str:
    new = values[("new_requests", "total")]
    carried = values[("carried_over", "total")]
    processed = values[("total_processed", "total")]
    forward = values[("carried_forward", "total")]
    if template_ix == 0:
        return (
            f"（二）依申请公开。全年共收到政府信息公开申请{new}件，上年结转{carried}件，"
            f"已办结{processed}件，结转下年度继续办理{forward}件。"
        )
    return f"（二）依申请公开方面。全年共收到政府信息公开申请{new}件，全部依法按时答复，办结{processed}件。"


def _narrative(
    rng: random.Random,
    publisher: str,
    year: int,
    versions: Mapping[str, str],
    labels: Mapping[str, str],
    req_values: Mapping[tuple[str, str], int],
    review_values: Mapping[tuple[str, str], int],
) -> str:
    short = _short_name(publisher)
    notice = "国办公开办函〔2021〕30号" if versions[PROACTIVE] == V2021 else "国办公开办函〔2019〕60号"
    lines = [
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和{notice}要求编制。"
        f"本报告所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。"
        f"本报告电子版可在{publisher}门户网站查阅或下载。",
        labels["heading.overview"],
        rng.choice(_OVERVIEW).format(year=year, short=short),
        rng.choice(_PROACTIVE_SENT).format(published=rng.randint(50, 20000), readings=rng.randint(0, 120)),
        _requests_sentence(req_values, rng.randint(0, 1)),
        rng.choice(_MANAGEMENT),
        rng.choice(_PLATFORM),
        rng.choice(_SUPERVISION).format(trainings=rng.randint(1, 12)),
        labels[f"heading.{PROACTIVE}"],
        labels[f"heading.{REQUESTS}"],
        labels[f"heading.{REVIEW_LITIGATION}"],
        labels["heading.problems"],
        rng.choice(_PROBLEMS).format(year=year, short=short),
        labels["heading.other_matters"],
    ]
    reviews = review_values[("admin_review", "total")]
    suits = review_values[("litigation_direct", "total")] + review_values[("litigation_after_review", "total")]
    if versions[PROACTIVE] == V2021:
        lines.append(f"{year}年，{short}未收取政府信息公开信息处理费。")
    else:
        lines.append("无。")
    if reviews or suits:
        lines.insert(8, f"全年因政府信息公开工作被申请行政复议{reviews}件，被提起行政诉讼{suits}件。")
    month, day = rng.randint(1, 3), rng.randint(1, 28)
    lines += [publisher, f"{year + 1}年{month}月{day}日"]
    return "\n".join(lines)


def report_title(publisher: str, year: int, style: int = 0) -> str:
    """The title forms met in practice (publisher first, year first, 年度)."""
    if style == 1:
        return f"{year}年{publisher}政府信息公开工作年度报告"
    if style == 2:
        return f"{publisher}{year}年度政府信息公开工作年度报告"
    return f"{publisher}{year}年政府信息公开工作年度报告"


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


def _choose_versions(
    rng: random.Random,
    year: int | None,
    versions: str | Mapping[str, str] | None,
    requests_layout: str | None,
) -> tuple[int, dict[str, str], str]:
    """Year and per-table versions consistent with real life (2019/2020 → v2019, some mismatches)."""
    explicit = versions is not None
    if isinstance(versions, str):
        chosen = dict.fromkeys(TABLES, versions)
    elif versions is not None:
        base = versions.get(PROACTIVE) or next(iter(versions.values()))
        chosen = {t: versions.get(t, base) for t in TABLES}
    else:
        chosen = {}
    for v in chosen.values():
        if v not in (V2019, V2021):
            raise ValueError(f"unknown template version {v!r}")
    if year is None:
        if chosen.get(PROACTIVE) == V2021:
            year = rng.randint(2021, 2025)
        elif chosen.get(PROACTIVE) == V2019:
            year = rng.choice((2019, 2020)) if rng.random() < 0.8 else rng.randint(2021, 2025)
        else:
            year = rng.randint(2019, 2025)
    if year < 2019:
        raise ValueError(f"year {year} is pre-2019: use generate_legacy() for legacy reports")
    if not chosen:
        pv = V2019 if year <= 2020 or rng.random() < 0.1 else V2021
        chosen = dict.fromkeys(TABLES, pv)
    if requests_layout is None:
        if explicit:
            requests_layout = chosen[REQUESTS]
        else:
            requests_layout = V2019 if chosen[PROACTIVE] == V2019 or rng.random() < 0.25 else V2021
    if requests_layout not in (V2019, V2021):
        raise ValueError(f"unknown requests layout {requests_layout!r}")
    chosen[REQUESTS] = requests_layout  # the labels printed decide the table's version
    if not (isinstance(versions, Mapping) and REVIEW_LITIGATION in versions):
        chosen[REVIEW_LITIGATION] = chosen[PROACTIVE]  # table 四 is identical: inherits 二's version
    return year, chosen, requests_layout


def _default_scale(rng: random.Random, kind: str) -> str:
    weights = {
        "city_gov": (0.0, 0.05, 0.35, 0.6),
        "district_gov": (0.02, 0.25, 0.6, 0.13),
        "department": (0.15, 0.5, 0.32, 0.03),
        "town": (0.4, 0.55, 0.05, 0.0),
    }[kind]
    return rng.choices(SCALES, weights=weights)[0]


def _stream(seed: int, name: str) -> random.Random:
    return random.Random(f"xxgk-synth:{seed}:{name}")


def _random_defects(rng: random.Random) -> set[str]:
    k = rng.choices((0, 1, 2, 3), weights=(0.3, 0.35, 0.25, 0.1))[0]
    return set(rng.sample([d for d in DEFECTS if d not in _NOT_DRAWN], k))


def generate_report(
    seed: int,
    *,
    year: int | None = None,
    versions: str | Mapping[str, str] | None = None,
    requests_layout: str | None = None,
    defects: Iterable[str] | None = None,
    publisher: str | None = None,
    scale: str | None = None,
    title_style: int | None = None,
) -> SyntheticReport:
    """A report drawn from ``seed``: consistent values, printed with ``defects``.

    ``versions`` is one version for all tables or a mapping per table; ``requests_layout``
    v2019 keeps （六） unsplit (real v2021 reports do this). ``defects`` None draws a random
    realistic mix; an empty iterable gives a clean report. With ``wrong_total`` one printed
    total is off and ``failing_checks`` names the identities that fail.
    """
    # independent streams: asking for one more defect never changes the values or the others
    rng = _stream(seed, "meta")
    year, chosen, layout = _choose_versions(rng, year, versions, requests_layout)
    wanted = _random_defects(_stream(seed, "defects")) if defects is None else set(defects)
    unknown = wanted - set(DEFECTS)
    if unknown:
        raise ValueError(f"unknown defects: {sorted(unknown)}")
    if chosen[PROACTIVE] == V2021:
        wanted -= _V2019_ONLY_DEFECTS
    if "money_yuan" in wanted:
        wanted.discard("money_no_unit")

    pub = random_publisher(rng)
    if publisher is not None:
        pub = Publisher(publisher, source_id_for(publisher), _publisher_kind(publisher))
    if scale is None:
        scale = _default_scale(rng, pub.kind)
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}")

    title_style = rng.choice((0, 0, 0, 1, 2)) if title_style is None else title_style
    prng = _stream(seed, "print")
    style = _Style(
        defects=wanted,
        rng=prng,
        dash_token=prng.choice(("-", "—", "－", "--")),
        fullwidth_share=(1.0 if prng.random() < 0.6 else prng.uniform(0.3, 0.9))
        if "fullwidth_digits" in wanted
        else 0.0,
        measure_word=_stream(seed, "measure").choice(MEASURE_WORDS) if "measure_words" in wanted else "",
    )
    vrng = _stream(seed, "values")
    req_values = _requests_values(vrng, scale, layout)
    review_values = _review_values(vrng, scale)
    pro_values = _proactive_values(vrng, chosen[PROACTIVE], scale, pub.kind)

    cells: dict[CellKey, str] = {}
    for (row, col), value in pro_values.items():
        if col == "procurement_amount":
            assert isinstance(value, tuple)
            cells[(PROACTIVE, row, col)] = (
                _format_procurement(style, value, prng) if value != (0, 0, 0) else style.widen("0")
            )
        elif col == "fee_amount":
            assert isinstance(value, tuple)
            cells[(PROACTIVE, row, col)] = style.widen(_money_text(*value))
        elif col == "items_change":
            assert isinstance(value, int)
            cells[(PROACTIVE, row, col)] = _format_signed(style, value)
        else:
            assert isinstance(value, int)
            cells[(PROACTIVE, row, col)] = style.counted(value)
    for (row, col), value in req_values.items():
        cells[(REQUESTS, row, col)] = style.counted(value)
    for (row, col), value in review_values.items():
        cells[(REVIEW_LITIGATION, row, col)] = style.counted(value)
    if "procurement_one_cell" in wanted and (PROACTIVE, "gov_procurement", "procurement_projects") in cells:
        word = _stream(seed, "measure").choice(("笔", "个", "项"))
        n = pro_values[("gov_procurement", "procurement_projects")]
        cells[(PROACTIVE, "gov_procurement", "procurement_projects")] = style.count(n) + word  # type: ignore[arg-type]
        amount = cells[(PROACTIVE, "gov_procurement", "procurement_amount")]
        if not amount.endswith("元"):
            cells[(PROACTIVE, "gov_procurement", "procurement_amount")] = amount + "万元"

    protect: set[CellKey] = set()
    first: CellKey | None = None
    wrng = _stream(seed, "wrong")
    if "wrong_total" in wanted:
        # blanks make an identity not assessable: keep one identity's operands printed
        if wrng.random() < 0.5:
            row = wrng.choice(REVIEW_SPEC.row_keys)
            protect = {(REVIEW_LITIGATION, row, c) for c in REVIEW_SPEC.column_keys}
            first = (REVIEW_LITIGATION, row, "total")
        else:
            row = wrng.choice(("new_requests", "carried_over", "total_processed", "carried_forward"))
            protect = {(REQUESTS, row, c) for c in REQUESTS_SPEC.column_keys}
            first = (REQUESTS, row, "total")
    drng = _stream(seed, "cells")
    draws = {key: (drng.random(), drng.random(), drng.random()) for key in sorted(cells)}
    _apply_value_defects(cells, wanted, style, draws, layout, protect)
    failing: tuple[str, ...] = ()
    if "wrong_total" in wanted:
        failing = _break_a_total(cells, style, wrng, layout, first)

    labels = _apply_label_defects(canonical_labels(chosen, layout), wanted, _stream(seed, "labels"), year)
    title = report_title(pub.name, year, title_style)
    narrative = _narrative(_stream(seed, "text"), pub.name, year, chosen, labels, req_values, review_values)
    report = SyntheticReport(
        publisher=pub.name,
        year=year,
        versions=chosen,
        requests_layout=layout,
        cells=cells,
        title=title,
        narrative=narrative,
        defects=tuple(d for d in DEFECTS if d in wanted),
        failing_checks=failing,
        labels=labels,
    )
    return report


def _apply_value_defects(
    cells: dict[CellKey, str],
    defects: set[str],
    style: _Style,
    draws: Mapping[CellKey, tuple[float, float, float]],
    layout: str,
    protect: set[CellKey],
) -> None:
    """Slashes, dashes and blanks for zeros; per-cell draws keep the pattern independent of the rest."""

    def is_zero(key: CellKey) -> bool:
        return key not in protect and cells[key].translate(str.maketrans("０", "0")) == "0"

    if "slashes" in defects:
        for key in list(cells):
            if key[0] != PROACTIVE or not is_zero(key):
                continue
            if key[1] == "rules" or draws[key][0] < 0.4:
                cells[key] = "/" if draws[key][1] < 0.6 else "／"
    if "dashes" in defects:
        for key in list(cells):
            if key[0] == PROACTIVE and is_zero(key) and draws[key][1] < 0.7:
                cells[key] = style.dash_token
    if "blank_total_column" in defects:
        for row in _outcome_rows(layout):
            if (REQUESTS, row, "total") not in protect:
                cells[(REQUESTS, row, "total")] = ""
    if "blank_zeros" in defects:
        for key in list(cells):
            if is_zero(key) and draws[key][2] < 0.85:
                cells[key] = ""


def _break_a_total(
    cells: dict[CellKey, str], style: _Style, rng: random.Random, layout: str, first: CellKey | None
) -> tuple[str, ...]:
    """Misprint one total so that at least one identity fails; return the failing identities."""
    candidates: list[CellKey] = [(REVIEW_LITIGATION, r, "total") for r in REVIEW_SPEC.row_keys]
    rows = list(dict.fromkeys(r for r, _ in expected_cells(REQUESTS, layout, layout)))
    candidates += [(REQUESTS, r, "total") for r in rows]
    candidates += [(REQUESTS, "total_processed", c) for c in APPLICANT_COLUMNS]
    rng.shuffle(candidates)
    if first is not None:
        candidates.remove(first)
        candidates.insert(0, first)
    for key in candidates:
        original = cells[key]
        current = _num(cells, key[0], key[1], key[2])
        if current is None:
            continue
        if key[0] == REVIEW_LITIGATION and current > 0 and rng.random() < 0.6:
            wrong = 0  # the Hongze error: a total printed 0 beside non-zero cases
        else:
            delta = rng.randint(1, 12)
            wrong = int(current) + delta if current < delta or rng.random() < 0.5 else int(current) - delta
        cells[key] = style.count(wrong)
        failing = failing_identities(cells, layout)
        if failing:
            return failing
        cells[key] = original
    raise AssertionError("no total could be broken")  # pragma: no cover - a report always has totals


# ---------------------------------------------------------------------------------------------
# Corpora
# ---------------------------------------------------------------------------------------------

#: (proactive version, requests layout, year range) of the version mixes met in real reports.
VERSION_SCENARIOS: tuple[tuple[str, str, tuple[int, int]], ...] = (
    (V2019, V2019, (2019, 2020)),  # the v2019 era
    (V2021, V2021, (2021, 2025)),  # the v2021 era
    (V2021, V2019, (2021, 2025)),  # v2021 二 with the unsplit （六） (Hongze 2023/2024)
    (V2019, V2019, (2021, 2025)),  # the old template after 2021 (佳县 2022)
)


def corpus_scenarios(exclude_defects: Iterable[str] = ()) -> list[tuple[int, str, str, tuple[str, ...]]]:
    """Every (scenario index, version, layout, defects) combination a corpus must cover.

    Each defect alone on each version mix, a clean report per mix, and a few realistic
    combinations (yuelu-like, shanghai-like, hongze-like).
    """
    excluded = set(exclude_defects)
    singles = [(d,) for d in DEFECTS if d not in excluded]
    combos = [
        ("label_whitespace", "stray_header_zero"),
        ("blank_zeros", "blank_total_column", "money_yuan"),
        ("label_typos", "wrong_total"),
        ("punct_width", "ascii_quotes", "glosses", "fullwidth_digits"),
        ("thousands_sep", "signed_ascii", "dashes", "wrong_total"),
    ]
    combos = [c for c in combos if not set(c) & excluded]
    out = []
    for ix, (pv, layout, _years) in enumerate(VERSION_SCENARIOS):
        for defects in [(), *singles, *combos]:
            if pv == V2021 and set(defects) and set(defects) <= _V2019_ONLY_DEFECTS:
                continue
            out.append((ix, pv, layout, defects))
    return out


def generate_corpus(
    n: int,
    seed: int = 0,
    *,
    exclude_defects: Iterable[str] = (),
    scales: Iterable[str] = SCALES,
) -> list[SyntheticReport]:
    """``n`` reports; the first ones cover every version mix × defect combination, then random.

    ``exclude_defects`` leaves out defects a target form cannot show (``RUNS_INCOMPATIBLE``).
    Deterministic in (n, seed, exclude_defects, scales).
    """
    excluded = set(exclude_defects)
    scale_list = tuple(scales)
    combos = corpus_scenarios(excluded)
    rng = random.Random(f"xxgk-corpus:{seed}")
    reports: list[SyntheticReport] = []
    for i in range(n):
        report_seed = seed * 1_000_003 + i
        if i < len(combos):
            ix, pv, layout, defects = combos[i]
            lo, hi = VERSION_SCENARIOS[ix][2]
            reports.append(
                generate_report(
                    report_seed,
                    year=rng.randint(lo, hi),
                    versions=pv,
                    requests_layout=layout,
                    defects=defects,
                    scale=scale_list[i % len(scale_list)],
                )
            )
        else:
            pool = [d for d in DEFECTS if d not in excluded]
            defects = tuple(rng.sample(pool, rng.choice((0, 1, 2, 3))))
            reports.append(generate_report(report_seed, defects=defects, scale=rng.choice(scale_list)))
    return reports


# ---------------------------------------------------------------------------------------------
# Printed documents (the layout every renderer draws), legacy reports, non-reports
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A printed table cell that may span rows/columns; ``key`` names the canonical value cell."""

    text: str
    rowspan: int = 1
    colspan: int = 1
    key: CellKey | None = None
    header: bool = False


@dataclass
class PrintedTable:
    """A table as printed: rows of anchor cells (HTML-like: no copies of merged cells)."""

    name: str
    rows: list[list[Span]]
    ncols: int


@dataclass
class PrintedDocument:
    """A document as printed: title, then lines of text (headings, paragraphs) and tables."""

    title: str
    publisher: str
    year: int | None
    blocks: list[str | PrintedTable]
    kind: str = "report"  # report | legacy | not_a_report
    published: str = ""  # date of publication, YYYY-MM-DD
    expected_status: str = "ok"
    meta: dict[str, str] = field(default_factory=dict)


def _publication_date(rng: random.Random, year: int) -> str:
    return f"{year + 1}-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}"


_LEGACY_ROWS = (
    ("主动公开文件数", "条"),
    ("其中：1、政府网站公开数", "条"),
    ("2、政府公报公开数", "条"),
    ("受理依申请公开信息总数", "条"),
    ("其中：1、当面申请数", "条"),
    ("2、网上申请数", "条"),
    ("3、信函、传真申请数", "条"),
    ("对申请的答复总数", "条"),
    ("其中：1、同意公开答复数", "条"),
    ("2、同意部分公开答复数", "条"),
    ("3、不予公开答复数", "条"),
    ("4、其他类型答复数", "条"),
    ("政府信息公开收费减免金额", "元"),
    ("行政复议数", "件"),
    ("行政诉讼数", "件"),
    ("行政申诉数", "件"),
)


def generate_legacy(seed: int, *, year: int | None = None, publisher: str | None = None) -> PrintedDocument:
    """A pre-2019 report (2014-2018 统计表 era): 当面申请, 同意公开答复 ... status ``legacy``."""
    rng = random.Random(f"xxgk-legacy:{seed}")
    year = rng.randint(2014, 2018) if year is None else year
    if year >= 2019:
        raise ValueError("legacy reports are for years before 2019")
    pub = random_publisher(rng).name if publisher is None else publisher
    short = _short_name(pub)
    published = rng.randint(200, 30000)
    received = rng.randint(0, 300)
    face, online = rng.randint(0, received), 0
    online = rng.randint(0, received - face)
    letters = received - face - online
    granted = rng.randint(0, received)
    partial = rng.randint(0, received - granted)
    denied = rng.randint(0, received - granted - partial)
    other = received - granted - partial - denied
    reviews, suits = rng.randint(0, 5), rng.randint(0, 3)
    values = [
        published,
        published - (gaz := rng.randint(0, 20)),
        gaz,
        received,
        face,
        online,
        letters,
        received,
        granted,
        partial,
        denied,
        other,
        0,
        reviews,
        suits,
        0,
    ]
    rows = [
        [
            Span("指标名称", header=True),
            Span("计量单位", header=True),
            Span(f"{year}年度", header=True),
            Span("历年累计", header=True),
        ]
    ]
    for (label, unit), value in zip(_LEGACY_ROWS, values, strict=True):
        cumulative = value * rng.randint(1, 6) if value else 0
        rows.append([Span(label), Span(unit), Span(str(value)), Span(str(cumulative))])
    table = PrintedTable("legacy", rows, 4)
    blocks: list[str | PrintedTable] = [
        f"根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求，编制本报告。本报告由概述、主动公开政府信息情况、"
        f"政府信息依申请公开工作情况、政府信息公开的收费及减免情况、因政府信息公开申请行政复议、提起行政诉讼的情况、"
        f"政府信息公开工作存在的主要问题及改进情况和政府信息公开情况统计表共七个部分组成。"
        f"本报告所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
        "一、概述",
        f"{year}年，{short}认真贯彻落实《条例》，强化组织领导，完善工作制度，政府信息公开工作有序开展。",
        "二、主动公开政府信息情况",
        f"{year}年，{short}共主动公开政府信息{published}条，其中通过政府网站公开{values[1]}条。",
        "三、政府信息依申请公开工作情况",
        f"{year}年，{short}共受理依申请公开信息{received}条，其中当面申请{face}条、网上申请{online}条、"
        f"信函、传真申请{letters}条；同意公开答复{granted}条，同意部分公开答复{partial}条，不予公开答复{denied}条。",
        "四、政府信息公开的收费及减免情况",
        f"{year}年，{short}依申请提供政府信息未收取任何费用。",
        "五、因政府信息公开申请行政复议、提起行政诉讼的情况",
        f"{year}年，{short}发生政府信息公开行政复议{reviews}件，行政诉讼{suits}件。",
        "六、政府信息公开工作存在的主要问题及改进情况",
        "主要是信息公开的及时性有待加强，公开内容不够全面。下一步将进一步完善制度，加强督查考核。",
        "七、政府信息公开情况统计表",
        table,
        pub,
        f"{year + 1}年{rng.randint(1, 3)}月{rng.randint(1, 28)}日",
    ]
    return PrintedDocument(
        title=f"{pub}{year}年政府信息公开工作年度报告",
        publisher=pub,
        year=year,
        blocks=blocks,
        kind="legacy",
        published=_publication_date(rng, year),
        expected_status="legacy",
    )


def generate_not_a_report(seed: int, *, publisher: str | None = None, year: int | None = None) -> PrintedDocument:
    """A government page that is not an annual report (a 工作要点 notice, a 公开指南)."""
    rng = random.Random(f"xxgk-notareport:{seed}")
    pub = random_publisher(rng).name if publisher is None else publisher
    year = rng.randint(2019, 2025) if year is None else year
    if rng.random() < 0.5:
        title = f"{pub}关于印发{year}年政务公开工作要点的通知"
        blocks: list[str | PrintedTable] = [
            "各有关单位：",
            f"现将《{pub}{year}年政务公开工作要点》印发给你们，请结合实际认真贯彻落实。",
            "一、加强政策发布解读",
            "围绕重大决策部署，做好政策文件发布和解读工作，提高政策知晓度。",
            "二、深化重点领域信息公开",
            "做好财政预决算、重大建设项目、公共资源配置等重点领域信息公开。",
            "三、提升依申请公开办理质量",
            "规范政府信息公开申请办理流程，依法依规答复，减少行政复议和行政诉讼风险。",
            pub,
            f"{year}年{rng.randint(2, 5)}月{rng.randint(1, 28)}日",
        ]
    else:
        title = f"{pub}政府信息公开指南"
        contacts = PrintedTable(
            "contacts",
            [
                [Span("受理机构", header=True), Span("办公地址", header=True), Span("联系电话", header=True)],
                [
                    Span(f"{pub}办公室"),
                    Span(f"人民路{rng.randint(1, 300)}号"),
                    Span(f"0{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}"),
                ],
            ],
            3,
        )
        blocks = [
            "为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》，编制本指南。",
            "一、主动公开",
            "主动公开的政府信息在政府门户网站政府信息公开专栏发布，公民、法人和其他组织可以查阅。",
            "二、依申请公开",
            "申请人可以通过网络、信函、当面等方式提出政府信息公开申请。受理机构如下：",
            contacts,
            "三、监督和救济",
            "公民、法人或者其他组织认为行政机关在政府信息公开工作中侵犯其合法权益的，可以依法申请行政复议或者提起行政诉讼。",
        ]
    return PrintedDocument(
        title=title,
        publisher=pub,
        year=None,
        blocks=blocks,
        kind="not_a_report",
        published=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        expected_status="not_a_report",
    )


def _value_spans(
    report: SyntheticReport, table: str, row: str, cols: Iterable[str], spans: Iterable[int]
) -> list[Span]:
    return [
        Span(report.cells[(table, row, col)], colspan=cs, key=(table, row, col))
        for col, cs in zip(cols, spans, strict=True)
    ]


_BLOCK_SPANS = {1: (3,), 2: (1, 2), 3: (1, 1, 1)}


def _proactive_table(report: SyntheticReport, labels: Mapping[str, str]) -> PrintedTable:
    cells = report.table_cells(PROACTIVE)
    rows: list[list[Span]] = []
    blocks: dict[str, list[str]] = {}
    for row_key, _ in cells:
        block = PROACTIVE_SPEC.row(row_key).block or ""
        if row_key not in blocks.setdefault(block, []):
            blocks[block].append(row_key)
    for block, row_keys in blocks.items():
        cols = [c for r, c in cells if r == row_keys[0]]
        spans = _BLOCK_SPANS[len(cols)]
        rows.append([Span(labels[f"{PROACTIVE}.block.{block}"], colspan=4, header=True)])
        rows.append(
            [Span(labels[f"{PROACTIVE}.content"], header=True)]
            + [Span(labels[f"{PROACTIVE}.col.{c}"], colspan=s, header=True) for c, s in zip(cols, spans, strict=True)]
        )
        for row_key in row_keys:
            values = _value_spans(report, PROACTIVE, row_key, cols, spans)
            if row_key == "gov_procurement" and "procurement_one_cell" in report.defects:
                values = [Span(" ".join(v.text for v in values), colspan=3)]  # 3笔 125000元 in one cell
            rows.append([Span(labels[f"{PROACTIVE}.row.{row_key}"]), *values])
    return PrintedTable(PROACTIVE, rows, 4)


def _requests_table(report: SyntheticReport, labels: Mapping[str, str]) -> PrintedTable:
    layout = report.requests_layout
    cols = REQUESTS_SPEC.column_keys
    ones = (1,) * len(cols)
    lab = {k.removeprefix(f"{REQUESTS}."): v for k, v in labels.items() if k.startswith(f"{REQUESTS}.")}
    rows: list[list[Span]] = [
        [Span(lab["note"], rowspan=3, colspan=3, header=True), Span(lab["applicant"], colspan=7, header=True)],
        [
            Span(lab["col.natural_person"], rowspan=2, header=True),
            Span(lab["legal_group"], colspan=5, header=True),
            Span(lab["col.total"], rowspan=2, header=True),
        ],
        [Span(lab[f"col.{c}"], header=True) for c in cols[1:6]],
    ]
    order = list(dict.fromkeys(r for r, _ in expected_cells(REQUESTS, layout, layout)))
    outcome = order[order.index("granted") : order.index("total_processed") + 1]
    group_sizes: dict[str, int] = {}
    for row in outcome:
        parent = REQUESTS_SPEC.row(row).parent
        if parent:
            group_sizes[parent] = group_sizes.get(parent, 0) + 1
    seen_groups: set[str] = set()
    for row in order:
        values = _value_spans(report, REQUESTS, row, cols, ones)
        label = lab[f"row.{row}"]
        if row in ("new_requests", "carried_over", "carried_forward"):
            rows.append([Span(label, colspan=3), *values])
            continue
        lead: list[Span] = []
        if row == outcome[0]:
            lead.append(Span(lab["group.results"], rowspan=len(outcome)))
        parent = REQUESTS_SPEC.row(row).parent
        if parent:
            if parent not in seen_groups:
                seen_groups.add(parent)
                lead.append(Span(lab[f"group.{parent}"], rowspan=group_sizes[parent]))
            rows.append([*lead, Span(label), *values])
        else:
            rows.append([*lead, Span(label, colspan=2), *values])
    return PrintedTable(REQUESTS, rows, 10)


def _review_table(report: SyntheticReport, labels: Mapping[str, str]) -> PrintedTable:
    lab = {k.removeprefix(f"{REVIEW_LITIGATION}."): v for k, v in labels.items() if k.startswith(REVIEW_LITIGATION)}
    outcome_cols = [c.key for c in REVIEW_SPEC.columns]
    rows: list[list[Span]] = [
        [Span(lab["review"], colspan=5, header=True), Span(lab["litigation"], colspan=10, header=True)],
        [Span(lab[f"col.{c}"], rowspan=2, header=True) for c in outcome_cols]
        + [Span(lab["direct"], colspan=5, header=True), Span(lab["after_review"], colspan=5, header=True)],
        [Span(lab[f"col.{c}"], header=True) for _ in range(2) for c in outcome_cols],
        [
            Span(report.cells[(REVIEW_LITIGATION, r, c)], key=(REVIEW_LITIGATION, r, c))
            for r in REVIEW_SPEC.row_keys
            for c in outcome_cols
        ],
    ]
    return PrintedTable(REVIEW_LITIGATION, rows, 15)


def printed_tables(report: SyntheticReport) -> dict[str, PrintedTable]:
    """The three statistical tables as the national format prints them (merged cells as spans)."""
    labels = labels_of(report)
    return {
        PROACTIVE: _proactive_table(report, labels),
        REQUESTS: _requests_table(report, labels),
        REVIEW_LITIGATION: _review_table(report, labels),
    }


def printed_document(report: SyntheticReport) -> PrintedDocument:
    """The report as printed: narrative lines with each table right after its section heading."""
    labels = labels_of(report)
    tables = printed_tables(report)
    anchors = {labels[f"heading.{t}"]: t for t in TABLES}
    blocks: list[str | PrintedTable] = []
    placed: set[str] = set()
    for line in report.narrative.split("\n"):
        blocks.append(line)
        table = anchors.get(line)
        if table and table not in placed:
            blocks.append(tables[table])
            placed.add(table)
    for table in TABLES:  # a narrative without the heading still prints the table
        if table not in placed:
            blocks += [labels[f"heading.{table}"], tables[table]]
    digest = hashlib.sha1(repr(sorted(report.cells.items())).encode("utf-8")).digest()
    published = f"{report.year + 1}-{1 + digest[0] % 3:02d}-{1 + digest[1] % 28:02d}"
    return PrintedDocument(
        title=report.title or report_title(report.publisher, report.year),
        publisher=report.publisher,
        year=report.year,
        blocks=blocks,
        kind="report",
        published=published,
        expected_status="ok",
    )
