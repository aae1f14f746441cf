"""Match printed labels to canonical keys.

Real labels carry line breaks, full-width punctuation, quotes, typos (其他法律行政止公开,
三类内容事务信息) and glosses in parentheses, so matching works on keyword cores of a
normalised label (template_notes §8.2), in the group context of the row, never on exact text.
"""

from __future__ import annotations

import re
import unicodedata

from xxgk.schemas.model import PROACTIVE, REQUESTS, REVIEW_LITIGATION

_WS = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_QUOTES = re.compile(r"[“”\"'「」『』‘’＂]")
_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|\(?[一二三四五六七八九十]+\)|\d+[.、)]|\(\d+\))+")
_GLOSS = re.compile(r"\([^()]*\)")


def normalize_label(text: str | None) -> str:
    """NFKC, no whitespace, no quotes, ASCII parentheses, no trailing colon.

    NFKC also folds full-width digits and punctuation (（）→(), ，→,), so every form of a
    label compares equal after this.
    """
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", text)
    t = _WS.sub("", t)
    t = _QUOTES.sub("", t)
    t = t.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    return t.rstrip(":：")


def strip_numbering(label: str) -> str:
    """Drop leading 一、 / (三) / 1. markers of a normalised label."""
    return _NUMBERING.sub("", label)


def strip_glosses(label: str) -> str:
    """Drop parenthesised glosses (指2020年…) of a normalised label."""
    return _GLOSS.sub("", label)


# --- table 三 ------------------------------------------------------------------------------

#: Group markers of table 三; a label that is only a group sets the context of the rows below.
REQUESTS_GROUPS = {"results", "denied", "unable", "not_processed", "other"}

_REQUEST_LEAVES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("new_requests", ("本年新收",)),
    ("carried_over", ("上年结转",)),
    ("carried_forward", ("结转下年度", "结转下一年度", "结转下年")),
    ("partially_granted", ("部分公开",)),
    ("denied.state_secret", ("国家秘密",)),
    ("denied.law_prohibited", ("禁止公开", "行政法规禁止", "行政止公开")),
    ("denied.security_stability", ("三安全", "一稳定")),
    ("denied.third_party_rights", ("第三方",)),
    ("denied.internal_affairs", ("内部事务", "三类内")),
    ("denied.process_info", ("过程性",)),
    ("denied.enforcement_file", ("执法案卷",)),
    ("denied.admin_query", ("查询事项",)),
    ("unable.not_held", ("不掌握",)),
    ("unable.needs_creation", ("另行制作", "现成信息")),
    ("unable.unclear_after_correction", ("补正后", "仍不明确")),
    ("not_processed.petition_complaint", ("信访",)),
    ("not_processed.duplicate", ("重复申请",)),
    ("not_processed.publication", ("出版物",)),
    ("not_processed.excessive_repeated", ("大量反复",)),
    ("not_processed.confirm_or_reissue", ("重新出具", "确认或重新")),
    ("other.no_correction", ("逾期不补正", "不补正")),
    ("other.fee_unpaid", ("缴纳费用", "收费通知")),
    ("granted", ("予以公开",)),
)

_REQUEST_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("results", ("本年度办理结果", "办理结果")),
    ("denied", ("不予公开",)),
    ("unable", ("无法提供",)),
    ("not_processed", ("不予处理",)),
    ("other", ("其他处理",)),
)

_REQUESTS_HEADER_WORDS = ("自然人", "商业企业", "科研机构", "社会公益", "法律服务", "法人或其他组织", "申请人情况")


def match_requests_leaf(label: str, parent: str | None = None) -> str | None:
    """The table-三 leaf row a normalised label names, or None.

    ``parent`` is the current group (denied/unable/not_processed/other): a bare ``3.其他`` is only
    ``other.other`` under （六）.
    """
    if not label:
        return None
    for key, cores in _REQUEST_LEAVES:
        if key == "granted" and ("部分" in label or "不予" in label):
            continue
        if any(core in label for core in cores):
            return key
    core = strip_numbering(label)
    if core in {"总计", "合计"} or re.search(r"\(七\)|七[、.]?总计", label):
        return "total_processed"
    if core in {"其他", "其它"} and (parent == "other" or label.startswith("3")):
        # no other group of table 三 has a child 其他; （六）'s third child is 3.其他
        return "other.other"
    return None


def match_requests_group(label: str) -> str | None:
    """The group a label opens (三、本年度办理结果, （三）不予公开, ...), or None."""
    for key, cores in _REQUEST_GROUPS:
        if any(core in label for core in cores):
            return key
    return None


def is_requests_header(labels: list[str]) -> bool:
    """True for the header rows of table 三 (applicant columns, the 勾稽关系 note)."""
    joined = "".join(labels)
    if "勾稽" in joined:
        return True
    return sum(1 for w in _REQUESTS_HEADER_WORDS if w in joined) >= 2


# --- table 二 ------------------------------------------------------------------------------

_PROACTIVE_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("other_admin_services", ("其他对外管理服务", "对外管理服务")),
    ("normative_docs", ("规范性文件",)),
    ("rules", ("规章",)),
    ("admin_licensing", ("行政许可",)),
    ("admin_penalty", ("行政处罚",)),
    ("admin_coercion", ("行政强制",)),
    ("admin_fees", ("行政事业性收费", "事业性收费")),
    ("gov_procurement", ("集中采购", "政府采购")),
)

_PROACTIVE_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("new_made", ("新制作",)),
    ("new_published", ("新公开",)),
    ("published_total", ("对外公开总", "公开总数")),
    ("items_prev_year", ("上一年项目", "上年项目")),
    ("items_change", ("增/减", "增减", "增或减")),
    ("decisions", ("处理决定",)),
    ("procurement_projects", ("采购项目",)),
    ("procurement_amount", ("采购总金额", "采购金额")),
    ("issued", ("制发",)),
    ("repealed", ("废止",)),
    ("in_force", ("现行有效",)),
    ("fee_amount", ("收费金额",)),
)

_BLOCK_CAPTION = re.compile(r"第二十条第?\(?([一二三四五六七八九十]+)\)?项")
_BLOCK_BY_NUMERAL = {"一": "art20_1", "五": "art20_5", "六": "art20_6", "八": "art20_8", "九": "art20_9"}

PROACTIVE_V2021_MARKERS = ("制发", "废止", "现行有效", "收费金额", "行政规范性文件", "本年处理决定")
PROACTIVE_V2019_MARKERS = (
    "新制作",
    "新公开",
    "对外公开总",
    "上一年项目",
    "增/减",
    "第二十条第(九)项",
    "集中采购",
    "其他对外管理服务",
)


def match_proactive_row(label: str) -> str | None:
    """The table-二 row a normalised label names (规章, 行政许可, ...), or None."""
    core = strip_glosses(strip_numbering(label))
    for key, cores in _PROACTIVE_ROWS:
        if any(c in core for c in cores):
            return key
    return None


def match_proactive_column(label: str) -> str | None:
    """The table-二 column a normalised header label names, or None."""
    for key, cores in _PROACTIVE_COLUMNS:
        if any(c in label for c in cores):
            return key
    return None


def match_block_caption(label: str) -> str | None:
    """``第二十条第（五）项`` → ``art20_5``; None if the label is no block caption."""
    m = _BLOCK_CAPTION.search(label)
    if not m:
        return None
    return _BLOCK_BY_NUMERAL.get(m.group(1), f"art20_{m.group(1)}")


# --- table 四 ------------------------------------------------------------------------------

_REVIEW_HEADER_WORDS = (
    "行政复议",
    "行政诉讼",
    "结果维持",
    "结果纠正",
    "其他结果",
    "尚未审结",
    "未经复议",
    "复议后起诉",
)


def is_review_header(labels: list[str]) -> bool:
    """True for the header rows of table 四."""
    joined = "".join(labels)
    hits = sum(1 for w in _REVIEW_HEADER_WORDS if w in joined)
    return hits >= 2 or ("维持" in joined and "纠正" in joined)


def match_review_row(label: str) -> str | None:
    """For a table 四 printed as three rows of five: which group a label names."""
    if "未经复议" in label or "直接起诉" in label:
        return "litigation_direct"
    if "复议后" in label:
        return "litigation_after_review"
    if "行政复议" in label:
        return "admin_review"
    return None


# --- which table ---------------------------------------------------------------------------


def table_of_heading(label: str) -> str | None:
    """The table a section heading (二、主动公开政府信息情况 ...) introduces, or None."""
    if "主动公开政府信息情况" in label or "主动公开情况" in label:
        return PROACTIVE
    if "收到和处理政府信息公开申请" in label or ("依申请公开" in label and "情况" in label):
        return REQUESTS
    if ("行政复议" in label and "行政诉讼" in label and "情况" in label) or "复议诉讼情况" in label:
        return REVIEW_LITIGATION
    return None


PRE2019_MARKERS = (
    "当面申请",
    "传真申请",
    "同意公开答复",
    "同意部分公开",
    "否决公开",
    "不同意公开",
    "行政申诉",
    "依申请公开信息收取的费用",
    "历年累计",
    "免予公开范围",
    "网上申请",
    "信函申请",
)
