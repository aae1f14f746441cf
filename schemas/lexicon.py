"""Every printed word xxgk reads, in one place: labels, headings, captions, units, measure words.

The extractors and the mapper never spell a printed word themselves: they read it from here
(the canonical labels of the two national formats come from ``schemas.model``; this module
adds the keyword cores real reports are matched on, the words that mark headers, sections,
versions and pre-2019 formats, and the words a printed value may carry). How a printed label
is folded before it is compared (brackets, enumerators, 的/之, traditional forms, OCR
confusions) is ``schemas.labels``; how a value token is read is ``schemas.values``.

Cores are matched on folded labels (``schemas.labels.fold_label``), so they are written here
in their folded form: simplified characters, ASCII brackets, no whitespace, no 的/之.
"""

from __future__ import annotations

import re

# --- how one printed word varies ---------------------------------------------------------------

#: Traditional forms (old fonts, mirrors) of the characters of this vocabulary, and the simplified
#: character each folds to. Generated from OpenCC (t2s) over every CJK character whose simplified
#: form is in ``vocabulary()``; ``tests/test_lexicon.py`` regenerates it and prints it when it differs.
TRADITIONAL_FORMS = "萬業舉於會傳關內決況減齣製辦務動區單捲厤曆歷發髮隻閤衕後圍國處復複審傢對屬廢開強噹當總執護報據數無機權條構査標沒現眞確祕稱穩類纍糾納組織經結繼續維繳網罰範獲穫補規計認議許訟訪訴詢請購費轉過這踰埰寀採問麪麫麵項題額"
SIMPLIFIED_FORMS = "万业举于会传关内决况减出制办务动区单卷历历历发发只合同后围国处复复审家对属废开强当当总执护报据数无机权条构查标没现真确秘称稳类累纠纳组织经结继续维缴网罚范获获补规计认议许讼访诉询请购费转过这逾采采采问面面面项题额"
#: Characters OCR (and old typesetting) confuses with a label character: folded in labels only,
#: never in values (a value is read as printed or not at all).
OCR_LABEL_CONFUSIONS = {"己": "已", "巳": "已", "末": "未", "曰": "日"}
#: Letters OCR reads for the digits of an enumerator (l.属于国家秘密, (O)): folded there only.
OCR_DIGIT_CONFUSIONS = {"l": "1", "I": "1", "|": "1", "O": "0", "o": "0"}
#: Brackets that all fold to ASCII parentheses (NFKC already folds the full-width ones).
BRACKET_FORMS = {
    "【": "(",
    "】": ")",
    "〔": "(",
    "〕": ")",
    "[": "(",
    "]": ")",
    "〈": "(",
    "〉": ")",
    "《": "(",
    "》": ")",
}
#: Characters dropped from labels before matching: quotes and the particles 的/之
#: (属于国家秘密的, 危及"三安全一稳定"之).
LABEL_DROPPED = "“”\"'「」『』‘’＂的之"

# --- table 三 (收到和处理政府信息公开申请情况) ------------------------------------------------

#: Keyword cores per row key, in the order they are tried (the first key whose core a label
#: contains wins; ``granted`` is tried last because 部分公开/不予公开 labels contain 公开).
REQUEST_ROW_CORES: dict[str, tuple[str, ...]] = {
    "new_requests": ("本年新收",),
    "carried_over": ("上年结转",),
    "carried_forward": ("结转下年度", "结转下一年度", "结转下年"),
    "partially_granted": ("部分公开",),
    "denied.state_secret": ("国家秘密",),
    # 行政止公开: a real typo (洪泽 2023) of 行政法规禁止公开
    "denied.law_prohibited": ("禁止公开", "法规禁止", "行政止公开"),
    "denied.security_stability": ("三安全", "一稳定"),
    "denied.third_party_rights": ("第三方",),
    # 三类内容事务信息: a real typo of 三类内部事务信息
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
    "other.no_correction": ("逾期不补正", "不补正"),
    "other.fee_unpaid": ("缴纳费用", "收费通知"),
    "granted": ("予以公开",),
}
#: Words that keep a label from being ``granted`` although it contains 予以公开's neighbours.
REQUEST_NOT_GRANTED = ("部分", "不予")

#: Group labels of table 三: a label naming only a group sets the context of the rows below it.
REQUEST_GROUP_CORES: dict[str, tuple[str, ...]] = {
    "results": ("本年度办理结果", "办理结果"),
    "denied": ("不予公开",),
    "unable": ("无法提供",),
    "not_processed": ("不予处理",),
    "other": ("其他处理",),
}
#: Printed label variants of rows whose keys.yaml label is not how every report prints them.
REQUEST_EXTRA_LABELS: dict[str, tuple[str, ...]] = {
    "other": ("(六)其他处理",),
    "other.other": ("3.其他", "3、其他"),
    "total_processed": ("(七)总计", "(七)合计"),
}
#: Printed labels of table 三's group rows (never values of their own: their subtotals are derived).
REQUEST_GROUP_LABELS: dict[str, str] = {
    "results": "三、本年度办理结果",
    "denied": "(三)不予公开",
    "unable": "(四)无法提供",
    "not_processed": "(五)不予处理",
    "other": "(六)其他处理",
}
#: A bare total word: （七）总计 in the label column, 总计 as a column header elsewhere.
TOTAL_WORDS = ("总计", "合计")
#: （七）总计 however it is enumerated (七、总计, 七.合计, (七)).
REQUEST_TOTAL_ROW = re.compile(r"\(七\)|七[、.]?(?:总计|合计)")
#: The folded cores that find （七）总计 in a text stream.
REQUEST_TOTAL_CORES = ("七总计", "七合计", "总计", "合计")
#: A bare 其他: （六）'s third child 3.其他 (the only 其他 leaf of table 三).
OTHER_WORDS = ("其他", "其它")

#: Words of table 三's header rows (applicant columns and their groups).
REQUEST_COLUMN_CORES: dict[str, tuple[str, ...]] = {
    "natural_person": ("自然人",),
    "legal_commercial": ("商业企业",),
    "legal_research": ("科研机构",),
    "legal_public_interest": ("社会公益",),
    "legal_law_firm": ("法律服务",),
    "legal_other": OTHER_WORDS,
    "total": TOTAL_WORDS,
}
REQUEST_HEADER_GROUP_WORDS = ("申请人情况", "法人或其他组织")
#: The printed note of table 三's corner cell (本列数据的勾稽关系为…).
REQUEST_NOTE_WORDS = ("勾稽", "本列数据")

# --- table 二 (主动公开政府信息情况) -----------------------------------------------------------

PROACTIVE_ROW_CORES: dict[str, tuple[str, ...]] = {
    "other_admin_services": ("其他对外管理服务", "对外管理服务"),
    "normative_docs": ("规范性文件",),
    "rules": ("规章",),
    "admin_licensing": ("行政许可",),
    "admin_penalty": ("行政处罚",),
    "admin_coercion": ("行政强制",),
    "admin_fees": ("行政事业性收费", "事业性收费"),
    "gov_procurement": ("集中采购", "政府采购"),
}
PROACTIVE_COLUMN_CORES: dict[str, tuple[str, ...]] = {
    "new_made": ("新制作",),
    # 本年公开数量: printed for 本年新公开数量 by some reports
    "new_published": ("新公开", "本年公开"),
    "published_total": ("对外公开总", "公开总数"),
    "items_prev_year": ("上一年项目", "上年项目"),
    "items_change": ("增/减", "增减", "增或减"),
    "decisions": ("处理决定",),
    "procurement_projects": ("采购项目",),
    "procurement_amount": ("采购总金额", "采购金额"),
    "issued": ("制发",),
    "repealed": ("废止",),
    "in_force": ("现行有效",),
    "fee_amount": ("收费金额",),
}
#: The first header cell of every table-二 block.
PROACTIVE_HEADER_WORDS = ("信息内容",)
#: 第二十条第（五）项: the caption of a table-二 block (folded: ASCII brackets).
BLOCK_CAPTION = re.compile(r"第二十条第?\(?([一二三四五六七八九十]+)\)?项")
BLOCK_CAPTION_WORD = "第二十条"
BLOCK_BY_NUMERAL = {"一": "art20_1", "五": "art20_5", "六": "art20_6", "八": "art20_8", "九": "art20_9"}

#: Words only one version of table 二 prints (template_notes §8.1).
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

#: Units printed in a table-二 header cell (本年收费金额（单位：万元）, 采购总金额（元）).
HEADER_UNIT_WAN = ("万元",)
HEADER_UNIT_YUAN = ("单位:元", "(元)")

# --- table 四 (行政复议、行政诉讼情况) ---------------------------------------------------------

REVIEW_HEADER_WORDS = (
    "行政复议",
    "行政诉讼",
    "结果维持",
    "结果纠正",
    "其他结果",
    "尚未审结",
    "未经复议",
    "复议后起诉",
)
#: Two words that together make a table-四 header even when printed apart (结/果/维/持 columns).
REVIEW_HEADER_PAIR = ("维持", "纠正")
#: The three groups of five cells, when printed as three rows.
REVIEW_GROUP_CORES: dict[str, tuple[str, ...]] = {
    "litigation_direct": ("未经复议", "直接起诉"),
    "litigation_after_review": ("复议后",),
    "admin_review": ("行政复议",),
}
REVIEW_COLUMN_CORES: dict[str, tuple[str, ...]] = {
    "upheld": ("维持",),
    "corrected": ("纠正",),
    "other": ("其他结果", "其他"),
    "pending": ("尚未审结", "未审结", "审结"),
    "total": TOTAL_WORDS,
}
#: Header fragments table 四 is printed with when its cells are split over lines (尚未/审结, 结果).
REVIEW_HEADER_FRAGMENTS = ("维持", "纠正", "其他", "尚未", "审结", "结果")

# --- sections, titles, documents ---------------------------------------------------------------

CN_NUMERALS = "一二三四五六七八九十"
#: How reports number the three tables (二、主动公开…, 三、收到和处理…, 四、…行政复议): used in messages.
TABLE_NUMERALS = {"proactive": "二", "requests": "三", "review_litigation": "四"}

#: Section headings that open each statistical table (folded, without their 二、/三、/四、).
TABLE_HEADING_CORES: dict[str, tuple[str, ...]] = {
    "proactive": ("主动公开政府信息情况", "主动公开情况"),
    "requests": ("收到和处理政府信息公开申请",),
    "review_litigation": ("复议诉讼情况",),
}
#: Headings that name a table with words printed apart (依申请公开…情况, 行政复议、行政诉讼情况).
TABLE_HEADING_ALL_OF: dict[str, tuple[str, ...]] = {
    "requests": ("依申请公开", "情况"),
    "review_litigation": ("行政复议", "行政诉讼", "情况"),
}
#: Headings that close the statistical part (五、存在的主要问题…, 六、其他需要报告的事项).
CLOSING_HEADING_CORES = ("存在主要问题", "其他需要报告事项")
#: A numbered section heading's enumerator (二、).
SECTION_NUMBER = rf"[{CN_NUMERALS}]{{1,2}}、"
#: Section headings in folded text: where table 三 and table 四 start, where the tables end.
REQUESTS_HEADING = re.compile(SECTION_NUMBER + r"收到和处理政府信息公开申请情况")
REVIEW_HEADING = re.compile(SECTION_NUMBER + r"[^。;、\d]{0,24}?行政复议[^。;\d]{0,12}?行政诉讼情况")
CLOSING_HEADING = re.compile(
    SECTION_NUMBER + "(?:" + "|".join(rf"[^。;、\d]{{0,12}}?{w}" for w in CLOSING_HEADING_CORES) + ")"
)

#: Words that name an annual report in a title: 年度报告 (the national title), 年报, 工作报告.
ANNUAL_REPORT = "年度报告"
ANNUAL_REPORT_SHORT = "年报"
WORK_REPORT = "工作报告"
REPORT_TITLE_WORDS = (ANNUAL_REPORT, ANNUAL_REPORT_SHORT, WORK_REPORT)
#: A report year as printed in a title (2023年, 2023年度); the capturing form gives the year.
TITLE_YEAR = r"(?:19|20)\d{2}\s*年度?"
TITLE_YEAR_CAPTURE = r"((?:19|20)\d{2})\s*年度?"
#: A printed date (2024-01-30, 2024年1月30日, 2024.1.30).
PRINTED_DATE = re.compile(r"(?:19|20)\d{2}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}")
#: The name of the report in a title: 政府信息公开工作年度报告 and the variants real titles use
#: (信息公开年度报告, 政府信息公开年度工作报告, 信息公开工作报告, 政务公开…年度报告).
REPORT_NAME = r"(?:(?:政府|政务)?信息公开(?:工作)?(?:年度报告|年度工作报告|工作报告)|政务公开[^\n。]{0,10}?年度报告)"
#: What a body calls itself before the report name (the start of 政府信息公开 / 政务公开 / 信息公开).
REPORT_NAME_START = r"(?:政府信息公开|政务公开|信息公开)"
#: A report title: the report's name, or a year's 年报 (a bare 政府信息公开年报 is a CMS column name).
REPORT_TITLE = re.compile(
    rf"{REPORT_NAME}|{TITLE_YEAR}[^\n。]{{0,30}}?(?:政府|政务)?(?:信息)?公开[^\n。]{{0,6}}?{ANNUAL_REPORT_SHORT}"
)
#: A report title as a listing link prints it (looser: listings truncate and abbreviate).
REPORT_LINK_TITLE = re.compile(
    r"(政府|政务)?信息公开.{0,16}(年度报告|年报|年度工作报告|工作报告)|政务公开.{0,10}年度报告|信息公开年报"
)
#: Listing items that name a report but are not it (解读, 图解, 通知 …, a bare 统计表).
REPORT_LINK_EXCLUDED = re.compile(r"解读|图解|一图|图说|读懂|视频|问答|通知|指南|目录|意见|方案|统计表$")
#: A year in a title (2023年, 2023年度; the bare 2023 ranks after these).
LINK_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)\s*(年|年度)?")
#: A year written in numerals (二〇二三年), with the forms old fonts and OCR give 〇.
CN_YEAR = re.compile(r"([二一][〇零○Ｏ O一二三四五六七八九]{3})\s*年")
CN_YEAR_DIGITS = {"〇": "0", "零": "0", "○": "0", "Ｏ": "0", "O": "0", "一": "1", "二": "2", "三": "3", "四": "4",
                  "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}  # fmt: skip
#: The anchor text of a listing's next-page link.
NEXT_PAGE_TEXTS = ("下一页", "下页", "下一頁", "next", "›", "»", ">", ">>")
#: Words whose presence on a page says it holds a report's tables (not just a link to it).
REPORT_PAGE_WORDS = (
    "主动公开",
    "依申请",
    "申请人",
    "行政复议",
    "行政诉讼",
    "信息公开",
    "第二十条",
    "规章",
    "行政许可",
    "行政处罚",
)
#: A label before the title in converted text (标题：…).
TITLE_LABEL = re.compile(r"^\s*(?:#+\s*)?(?:标题|题目|title)\s*[:：]\s*", re.IGNORECASE)

#: Words only the statistical tables of a report print (national and pre-2019 formats).
TABLE_ONLY_WORDS = (
    "信息内容",
    "第二十条",
    "本年新收",
    "上年结转",
    "申请人情况",
    "自然人",
    "法人或其他组织",
    "予以公开",
    "不予公开",
    "结转下年度",
    "本年制发",
    "本年新制作",
    "处理决定",
    "行政复议",
    "行政诉讼",
    "当面申请",
    "同意公开",
    "历年累计",
    "指标名称",
)
#: Table labels of the pre-2019 formats (2008 条例 era): route to ``legacy`` (template_notes §8.1).
PRE2019_MARKERS = (
    "当面申请",
    "传真申请",
    "同意公开答复",
    "同意部分公开",
    "否决公开",
    "不同意公开",
    "行政申诉",
    "依申请公开信息收取费用",
    "历年累计",
    "免予公开范围",
    "网上申请",
    "信函申请",
)
#: Labels of the metadata box a CMS prints above an article (索引号/发布机构/...).
METADATA_LABELS = (
    "索引号",
    "发布机构",
    "发文机关",
    "发文日期",
    "成文日期",
    "发布日期",
    "生效日期",
    "废止日期",
    "文号",
    "主题分类",
    "组配分类",
    "体裁分类",
    "信息分类",
    "主题词",
    "关键词",
    "信息来源",
    "公开方式",
    "公开范围",
    "有效性",
    "所属机构",
    "内容概述",
    "公开时限",
)
#: The metadata labels that name the publisher.
PUBLISHER_LABELS = ("发布机构", "发文机关", "所属机构", "信息来源")
#: Companion items a listing prints beside a report (解读, 图解, ...): not the report itself.
COMPANION_WORDS = ("解读", "图解", "一图读懂", "图读", "通知", "政策问答", "答记者问", "视频")
#: Leading words that are not part of a publisher's name in a title (关于…的报告, 标题：…).
TITLE_PREFIX_WORDS = ("关于", "标题")

# --- values ------------------------------------------------------------------------------------

#: Money units and their factor to 万元 (the canonical money unit).
YUAN, WAN_YUAN, YI_YUAN = "元", "万元", "亿元"
MONEY_UNITS: dict[str, float] = {YUAN: 0.0001, WAN_YUAN: 1.0, YI_YUAN: 10000.0}
#: Units a number may carry in any column of the tables (件, 项 and the ubiquitous 个).
TABLE_UNIT_WORDS = ("件", "项", "个")
#: Measure words a count may carry in its cell (2笔, 3个, 5家, 12次, 7人次), longest first.
COUNT_MEASURE_WORDS = ("人次", "件", "项", "个", "条", "笔", "家", "次", "宗", "起", "份", "部", "批")
#: Prefixes of a signed change (本年增/减): 增40 → +40, 减1 → -1.
SIGN_PLUS_WORDS = ("增加", "新增", "增", "+")
SIGN_MINUS_WORDS = ("减少", "减", "-", "−", "－")
#: A change printed in words: 0.
UNCHANGED_WORDS = ("持平", "无变化", "不变")
#: Null tokens: the cell prints that there is nothing (value null, never 0).
DASH_TOKENS = ("-", "－", "—", "–", "──", "——", "―", "--", "N/A", "n/a", "NA")
SLASH_TOKENS = ("/", "／", "\\", "＼")
NONE_WORDS = ("无", "空")
#: Chinese numerals of a count written in words (十二, 一百零五).
CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_MULTIPLIERS = {"十": 10, "百": 100, "千": 1000, "万": 10000}

# --- narrative ---------------------------------------------------------------------------------

_NUMBER = r"(\d[\d,]*)"
_CLAUSE = "。；;，,"
#: Headline numbers the narrative quotes, by topic (group 1 is the number): 收到政府信息公开申请218件,
#: 行政复议和行政诉讼案件3件, 行政复议案件2件, 行政诉讼1起.
NARRATIVE_CLAIMS: dict[str, re.Pattern[str]] = {
    "requests": re.compile(
        rf"(?:收到|受理|新收|办理|接收|共收到|共受理)[^{_CLAUSE}]{{0,24}}?(?:政府信息公开|依申请公开)[^{_CLAUSE}]{{0,12}}?"
        rf"(?:申请|事项|件)[^{_CLAUSE}\d]{{0,6}}?{_NUMBER}\s*(?:件|项|份|个)"
    ),
    "review_and_litigation": re.compile(
        rf"行政复议(?:和|及|与|、)(?:行政)?诉讼(?:案件)?[^{_CLAUSE}\d]{{0,8}}?{_NUMBER}\s*(?:件|起)"
    ),
    "admin_review": re.compile(rf"行政复议(?!和|及|与|、)(?:案件|申请)?[^{_CLAUSE}\d]{{0,8}}?{_NUMBER}\s*(?:件|起)"),
    "litigation": re.compile(rf"行政诉讼(?:案件)?[^{_CLAUSE}\d]{{0,8}}?{_NUMBER}\s*(?:件|起)"),
}
#: Verbs before a table-二 row's name in the narrative, by the column they count (制发行政规范性文件3件
#: is ``issued``, 主动公开规章22件 is ``new_published``, 现行有效规范性文件41件 is ``in_force``).
NARRATIVE_PROACTIVE_COLUMNS: dict[str, tuple[str, ...]] = {
    "new_made": ("新制作", "制作"),
    "new_published": ("新公开", "主动公开"),
    "published_total": ("累计公开", "对外公开"),
    "issued": ("制发", "印发", "出台"),
    "repealed": ("废止",),
    "in_force": ("现行有效",),
}
#: How a narrative count of a table-二 row reads: verb, then (within a few characters) the row's
#: name, then the number and a measure word. Formatted with ``verb`` and ``row`` alternations.
NARRATIVE_PROACTIVE_CLAIM = (
    r"(?:{verb})[^。;,，；\d和及与、]{{0,6}}?(?:{row})[^。;,，；\d和及与、]{{0,4}}?(\d+)(?:件|项|个)"
)
#: Where a sentence ends.
SENTENCE_END = re.compile(r"[。；;！!\n]")


# --- page furniture ----------------------------------------------------------------------------

#: A page number or footer line (- 3 -, 第3页 共9页, 3/9).
PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,3}\s*[-—–－]|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)


def vocabulary() -> frozenset[str]:
    """Every character of every printed word xxgk matches (what the label fold must cover)."""
    from xxgk.schemas.model import SPECS

    words: list[str] = []
    for table in (
        REQUEST_ROW_CORES,
        REQUEST_GROUP_CORES,
        REQUEST_EXTRA_LABELS,
        REQUEST_COLUMN_CORES,
        PROACTIVE_ROW_CORES,
        PROACTIVE_COLUMN_CORES,
        REVIEW_GROUP_CORES,
        REVIEW_COLUMN_CORES,
        TABLE_HEADING_CORES,
    ):
        for cores in table.values():
            words += cores
    words += [
        *REQUEST_HEADER_GROUP_WORDS,
        *REQUEST_NOTE_WORDS,
        *PROACTIVE_HEADER_WORDS,
        *PROACTIVE_V2021_MARKERS,
        *PROACTIVE_V2019_MARKERS,
        *REVIEW_HEADER_WORDS,
        *REVIEW_HEADER_FRAGMENTS,
        *CLOSING_HEADING_CORES,
        *REPORT_TITLE_WORDS,
        *TABLE_ONLY_WORDS,
        *PRE2019_MARKERS,
        BLOCK_CAPTION_WORD,
        "政府信息公开工作年度报告",
    ]
    for spec in SPECS.values():
        for item in (*spec.rows, *spec.columns):
            words += item.labels.values()
    return frozenset(ch for w in words for ch in w if "\u4e00" <= ch <= "\u9fff")
