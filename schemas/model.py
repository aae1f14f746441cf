"""The canonical model of the three statistical tables (the contract of ``spec/keys.yaml``).

Everything downstream (label matching, checks, the warehouse, the synthetic generator) reads
its keys, printed labels and units from here, so a key exists in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

V2019 = "v2019"
V2021 = "v2021"
LEGACY = "legacy"
VERSIONS = (V2019, V2021)

PROACTIVE = "proactive"
REQUESTS = "requests"
REVIEW_LITIGATION = "review_litigation"
TABLES = (PROACTIVE, REQUESTS, REVIEW_LITIGATION)

TABLE_HEADINGS = {
    PROACTIVE: "二、主动公开政府信息情况",
    REQUESTS: "三、收到和处理政府信息公开申请情况",
    REVIEW_LITIGATION: "四、政府信息公开行政复议、行政诉讼情况",
}


@dataclass(frozen=True)
class RowSpec:
    """A canonical row: its key, printed labels per template version and, for table 二, its block."""

    key: str
    labels: dict[str, str]
    block: str | None = None
    parent: str | None = None


@dataclass(frozen=True)
class ColumnSpec:
    """A canonical column with its unit; ``signed`` columns may be negative (本年增/减)."""

    key: str
    labels: dict[str, str]
    unit: str
    signed: bool = False
    money: bool = False
    unit_in_header: bool = True


@dataclass(frozen=True)
class TableSpec:
    key: str
    rows: tuple[RowSpec, ...]
    columns: tuple[ColumnSpec, ...]
    derived_rows: dict[str, str] = field(default_factory=dict)

    def row(self, key: str) -> RowSpec:
        return next(r for r in self.rows if r.key == key)

    def column(self, key: str) -> ColumnSpec:
        return next(c for c in self.columns if c.key == key)

    @property
    def row_keys(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.rows)

    @property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


def _both(label: str) -> dict[str, str]:
    return {V2019: label, V2021: label}


PROACTIVE_SPEC = TableSpec(
    key=PROACTIVE,
    rows=(
        RowSpec("rules", _both("规章"), block="art20_1"),
        RowSpec("normative_docs", {V2019: "规范性文件", V2021: "行政规范性文件"}, block="art20_1"),
        RowSpec("admin_licensing", _both("行政许可"), block="art20_5"),
        RowSpec("other_admin_services", {V2019: "其他对外管理服务事项"}, block="art20_5"),
        RowSpec("admin_penalty", _both("行政处罚"), block="art20_6"),
        RowSpec("admin_coercion", _both("行政强制"), block="art20_6"),
        RowSpec("admin_fees", _both("行政事业性收费"), block="art20_8"),
        RowSpec("gov_procurement", {V2019: "政府集中采购"}, block="art20_9"),
    ),
    columns=(
        ColumnSpec("new_made", {V2019: "本年新制作数量"}, "件"),
        ColumnSpec("new_published", {V2019: "本年新公开数量"}, "件"),
        ColumnSpec("published_total", {V2019: "对外公开总数量"}, "件"),
        ColumnSpec("items_prev_year", {V2019: "上一年项目数量"}, "项"),
        ColumnSpec("items_change", {V2019: "本年增/减"}, "项", signed=True),
        ColumnSpec("decisions", {V2019: "处理决定数量", V2021: "本年处理决定数量"}, "件"),
        ColumnSpec("procurement_projects", {V2019: "采购项目数量"}, "项"),
        ColumnSpec("procurement_amount", {V2019: "采购总金额"}, "万元", money=True, unit_in_header=False),
        ColumnSpec("issued", {V2021: "本年制发件数"}, "件"),
        ColumnSpec("repealed", {V2021: "本年废止件数"}, "件"),
        ColumnSpec("in_force", {V2021: "现行有效件数"}, "件"),
        ColumnSpec("fee_amount", {V2021: "本年收费金额（单位：万元）"}, "万元", money=True),
    ),
)

#: Which (block → columns) cells exist in table 二, per template version.
PROACTIVE_CELLS: dict[str, dict[str, tuple[str, ...]]] = {
    V2019: {
        "art20_1": ("new_made", "new_published", "published_total"),
        "art20_5": ("items_prev_year", "items_change", "decisions"),
        "art20_6": ("items_prev_year", "items_change", "decisions"),
        "art20_8": ("items_prev_year", "items_change"),
        "art20_9": ("procurement_projects", "procurement_amount"),
    },
    V2021: {
        "art20_1": ("issued", "repealed", "in_force"),
        "art20_5": ("decisions",),
        "art20_6": ("decisions",),
        "art20_8": ("fee_amount",),
    },
}

#: Printed captions of the blocks of table 二 (第二十条第（X）项).
PROACTIVE_BLOCK_CAPTIONS = {
    "art20_1": "第二十条第（一）项",
    "art20_5": "第二十条第（五）项",
    "art20_6": "第二十条第（六）项",
    "art20_8": "第二十条第（八）项",
    "art20_9": "第二十条第（九）项",
}

_COUNT = "件"

REQUESTS_SPEC = TableSpec(
    key=REQUESTS,
    rows=(
        RowSpec("new_requests", _both("一、本年新收政府信息公开申请数量")),
        RowSpec("carried_over", _both("二、上年结转政府信息公开申请数量")),
        RowSpec("granted", _both("（一）予以公开")),
        RowSpec("partially_granted", _both("（二）部分公开（区分处理的，只计这一情形，不计其他情形）")),
        RowSpec("denied.state_secret", _both("1.属于国家秘密"), parent="denied"),
        RowSpec("denied.law_prohibited", _both("2.其他法律行政法规禁止公开"), parent="denied"),
        RowSpec("denied.security_stability", _both("3.危及“三安全一稳定”"), parent="denied"),
        RowSpec("denied.third_party_rights", _both("4.保护第三方合法权益"), parent="denied"),
        RowSpec("denied.internal_affairs", _both("5.属于三类内部事务信息"), parent="denied"),
        RowSpec("denied.process_info", _both("6.属于四类过程性信息"), parent="denied"),
        RowSpec("denied.enforcement_file", _both("7.属于行政执法案卷"), parent="denied"),
        RowSpec("denied.admin_query", _both("8.属于行政查询事项"), parent="denied"),
        RowSpec("unable.not_held", _both("1.本机关不掌握相关政府信息"), parent="unable"),
        RowSpec("unable.needs_creation", _both("2.没有现成信息需要另行制作"), parent="unable"),
        RowSpec("unable.unclear_after_correction", _both("3.补正后申请内容仍不明确"), parent="unable"),
        RowSpec("not_processed.petition_complaint", _both("1.信访举报投诉类申请"), parent="not_processed"),
        RowSpec("not_processed.duplicate", _both("2.重复申请"), parent="not_processed"),
        RowSpec("not_processed.publication", _both("3.要求提供公开出版物"), parent="not_processed"),
        RowSpec("not_processed.excessive_repeated", _both("4.无正当理由大量反复申请"), parent="not_processed"),
        RowSpec(
            "not_processed.confirm_or_reissue", _both("5.要求行政机关确认或重新出具已获取信息"), parent="not_processed"
        ),
        RowSpec("other", {V2019: "（六）其他处理"}),
        RowSpec(
            "other.no_correction",
            {V2021: "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"},
            parent="other",
        ),
        RowSpec(
            "other.fee_unpaid",
            {V2021: "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"},
            parent="other",
        ),
        RowSpec("other.other", {V2021: "3.其他"}, parent="other"),
        RowSpec("total_processed", _both("（七）总计")),
        RowSpec("carried_forward", _both("四、结转下年度继续办理")),
    ),
    columns=(
        ColumnSpec("natural_person", _both("自然人"), _COUNT),
        ColumnSpec("legal_commercial", _both("商业企业"), _COUNT),
        ColumnSpec("legal_research", _both("科研机构"), _COUNT),
        ColumnSpec("legal_public_interest", _both("社会公益组织"), _COUNT),
        ColumnSpec("legal_law_firm", _both("法律服务机构"), _COUNT),
        ColumnSpec("legal_other", _both("其他"), _COUNT),
        ColumnSpec("total", _both("总计"), _COUNT),
    ),
    derived_rows={
        "denied": "（三）不予公开",
        "unable": "（四）无法提供",
        "not_processed": "（五）不予处理",
        "other": "（六）其他处理",
    },
)

#: Group labels of table 三 that print no values of their own.
REQUESTS_GROUP_LABELS = {
    "results": "三、本年度办理结果",
    "denied": "（三）不予公开",
    "unable": "（四）无法提供",
    "not_processed": "（五）不予处理",
    "other": "（六）其他处理",
}

LEGAL_COLUMNS = ("legal_commercial", "legal_research", "legal_public_interest", "legal_law_firm", "legal_other")
APPLICANT_COLUMNS = ("natural_person", *LEGAL_COLUMNS)

REVIEW_SPEC = TableSpec(
    key=REVIEW_LITIGATION,
    rows=(
        RowSpec("admin_review", _both("行政复议")),
        RowSpec("litigation_direct", _both("行政诉讼/未经复议直接起诉")),
        RowSpec("litigation_after_review", _both("行政诉讼/复议后起诉")),
    ),
    columns=(
        ColumnSpec("upheld", _both("结果维持"), _COUNT),
        ColumnSpec("corrected", _both("结果纠正"), _COUNT),
        ColumnSpec("other", _both("其他结果"), _COUNT),
        ColumnSpec("pending", _both("尚未审结"), _COUNT),
        ColumnSpec("total", _both("总计"), _COUNT),
    ),
)

SPECS: dict[str, TableSpec] = {
    PROACTIVE: PROACTIVE_SPEC,
    REQUESTS: REQUESTS_SPEC,
    REVIEW_LITIGATION: REVIEW_SPEC,
}

#: Printed leaf rows of table 三 per layout; v2021 splits （六） into three rows.
REQUESTS_ROWS_V2019 = tuple(r.key for r in REQUESTS_SPEC.rows if V2019 in r.labels)
REQUESTS_ROWS_V2021 = tuple(r.key for r in REQUESTS_SPEC.rows if V2021 in r.labels)

#: The 15 printed cells of table 四, in print order.
REVIEW_CELL_ORDER = tuple((r.key, c.key) for r in REVIEW_SPEC.rows for c in REVIEW_SPEC.columns)


def unit_of(table: str, column_key: str) -> str:
    return SPECS[table].column(column_key).unit


def expected_cells(table: str, version: str, requests_layout: str | None = None) -> list[tuple[str, str]]:
    """Every (row_key, column_key) a table of this version prints, in print order.

    ``requests_layout`` lets a v2021 report keep the unsplit （六） row (a real, common mix).
    """
    if table == PROACTIVE:
        cells: list[tuple[str, str]] = []
        for row in PROACTIVE_SPEC.rows:
            if version not in row.labels:
                continue
            for col in PROACTIVE_CELLS[version].get(row.block or "", ()):
                cells.append((row.key, col))
        return cells
    if table == REQUESTS:
        layout = requests_layout or version
        rows = REQUESTS_ROWS_V2021 if layout == V2021 else REQUESTS_ROWS_V2019
        return [(r, c) for r in rows for c in REQUESTS_SPEC.column_keys]
    return list(REVIEW_CELL_ORDER)
