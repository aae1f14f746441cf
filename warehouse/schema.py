"""Column definitions of the four warehouse tables: one source for Parquet schemas and the docs.

The Arrow schema of every file (field metadata ``description``/``unit``, table metadata) and
``docs/data-dictionary.md`` are both generated from ``TABLES`` below, and a test checks they agree.
Column names listed in DESIGN.md "Outputs" are a contract: add columns, never rename them.

``year`` is the hive partition column (``year=2023/``): it lives in the directory name, not in the
files, and is read back as int64 when the reader is given ``partitioning()`` (pyarrow, pandas) or
by default (DuckDB ``hive_partitioning``, Polars).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import pyarrow as pa

SCHEMA_VERSION = "1"
YEAR_TYPE = pa.int64()


@dataclass(frozen=True)
class Column:
    """One column: name, Arrow type, meaning, and unit where the column carries one."""

    name: str
    type: pa.DataType
    description: str
    unit: str = ""
    partition: bool = False


@dataclass(frozen=True)
class TableDef:
    """One warehouse table: its columns in file order and the row order its files are sorted in."""

    name: str
    description: str
    grain: str
    columns: tuple[Column, ...]
    sort_key: tuple[str, ...]

    @property
    def file_columns(self) -> tuple[Column, ...]:
        """Columns stored inside the Parquet files (all but the partition column)."""
        return tuple(c for c in self.columns if not c.partition)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_STR = pa.string()
_F64 = pa.float64()
_I32 = pa.int32()
_I64 = pa.int64()
_ALTERNATIVES = pa.list_(
    pa.struct(
        [
            ("url", _STR),
            ("format", _STR),
            ("document_sha256", _STR),
            ("status", _STR),
            ("reason", _STR),
        ]
    )
)

_YEAR = Column(
    "year",
    YEAR_TYPE,
    "Report year (the year the report covers, not the year it was published). Hive partition column "
    "(directory year=YYYY). Taken from the source registry when it knows it, else from the document; "
    "-1 when neither knows (partition year=-1).",
    partition=True,
)
_SHA = Column(
    "document_sha256",
    _STR,
    "sha256 (hex) of the document's raw bytes as fetched or read: finds the document in the raw archive.",
)
_SOURCE = Column("source_id", _STR, "Id of the source in the sources registry (one publishing body's report series).")
_PUBLISHER = Column(
    "publisher", _STR, "Publishing body (registry name when known, else the name printed in the document)."
)
_REPORT_ID = Column(
    "report_id", _STR, "Readable id of the published document: <source_id>/<year or 'unknown'>/<sha256[:12]>."
)
_REGION = Column("region_code", _STR, "Administrative division code of the publisher when the registry knows it.")
_URL = Column("source_url", _STR, "URL the document was fetched from (null for local files).")
_VERSION = Column("extractor_version", _STR, "Version of the extractor code that produced this row.")
_TABLE = Column(
    "table",
    _STR,
    "Statistical table of the report: proactive (二 主动公开), requests (三 依申请公开), "
    "review_litigation (四 行政复议/行政诉讼).",
)
_LOCATOR = Column(
    "locator", _STR, "Which printed table of the document the cell comes from (e.g. 'html table 3', 'pdf p.3 table 1')."
)
_PAGE = Column("page", _I32, "Page of the document (1-based) for paged formats; null otherwise.")

FACTS = TableDef(
    name="facts",
    description="One row per printed cell of the three statistical tables, mapped onto the canonical keys of "
    "spec/keys.yaml, with the text as printed and where it was printed. Derived subtotals (never printed) "
    "are included with is_derived = true and value_status = 'derived'.",
    grain="document × table × row_key × column_key (as printed; a key printed twice appears twice)",
    columns=(
        _REPORT_ID,
        _SHA,
        _SOURCE,
        _PUBLISHER,
        _REGION,
        _YEAR,
        _TABLE,
        Column("row_key", _STR, "Canonical row key (spec/keys.yaml), e.g. 'granted', 'denied.state_secret'."),
        Column("column_key", _STR, "Canonical column key (spec/keys.yaml), e.g. 'natural_person', 'total'."),
        Column(
            "value",
            _F64,
            "The number printed, in the column's unit (money normalised to 万元; 增40/减1 read as +40/-1). "
            "Null when the cell holds no number (blank, dash, slash, text): a blank is never 0.",
            unit="see unit",
        ),
        Column("unit", _STR, "Unit of value: 件 (items), 项 (entries) or 万元 (10,000 yuan)."),
        Column("raw_text", _STR, "The cell text as printed (NFKC-normalised, whitespace removed); never edited."),
        Column(
            "value_status",
            _STR,
            "How the cell was read: ok, blank, dash, slash, none_text (无), unparseable, ambiguous "
            "(digits that can be split more than one way; value is a best guess or null), "
            "split_by_narrative (a digit run the table alone could split several ways, split the one way the "
            "report's own narrative allows; the evidence is in note), split_by_other_copy (the same, settled by "
            "another copy of the report), derived.",
        ),
        Column("template_version", _STR, "Format of this table as detected from its labels: v2019 or v2021."),
        Column("row_label", _STR, "Row label as printed."),
        Column("column_label", _STR, "Column label as printed."),
        _LOCATOR,
        _PAGE,
        Column("grid_row", _I32, "Row index (0-based) of the cell in its printed table, merged cells expanded."),
        Column("grid_col", _I32, "Column index (0-based) of the cell in its printed table, merged cells expanded."),
        Column("note", _STR, "Extractor or mapper note about this cell (e.g. why it is ambiguous)."),
        Column(
            "bbox",
            pa.list_(pa.float32(), 4),
            "Where the cell was printed on its page (see page): [x0, top, x1, bottom] in box_unit, from the page's "
            "top-left corner. PDF: the drawn cell of a ruled table (a merged cell: the whole merged area), or the "
            "printed text of a table read from word positions (an empty cell: its column and row band); OCR: the "
            "recognised cell. Null when the format has no geometry (HTML, text, Word, spreadsheets) and for derived "
            "facts.",
        ),
        Column(
            "box_unit", _STR, "Unit of bbox: pt (PDF points, 1/72 inch; also OCR of a PDF page) or px (image pixels)."
        ),
        Column(
            "confidence", pa.float32(), "OCR recognition confidence (0-1) of a cell read from an image; null otherwise."
        ),
        Column("is_derived", pa.bool_(), "True for subtotals computed from printed cells (never printed)."),
        Column("fact_index", _I32, "Position of the fact within its document (print order; derived facts last)."),
        _URL,
        _VERSION,
    ),
    sort_key=("source_id", "document_sha256", "fact_index"),
)

REPORTS = TableDef(
    name="reports",
    description="One row per published document: where it came from, what status it got and why, which "
    "template each table follows, and how many facts, failed checks and unmapped rows it produced.",
    grain="document (source_id × year × document_sha256)",
    columns=(
        _REPORT_ID,
        _SHA,
        _SOURCE,
        _PUBLISHER,
        _REGION,
        Column("level", _STR, "Administrative level of the publisher when the registry knows it."),
        _YEAR,
        Column("year_source", _STR, "Where year comes from: registry, document (read from the report) or unknown."),
        Column("document_year", _I64, "Report year as read from the document by the extractor (null if not read)."),
        Column("document_publisher", _STR, "Publisher as read from the document by the extractor."),
        Column("format", _STR, "Document format (html, pdf, text, doc, docx ...) as detected from the bytes."),
        Column(
            "status",
            _STR,
            "Document status: ok, partial (some tables or cells missing), failed, needs_ocr (scanned image the OCR path could not read), "
            "needs_converter (a Word/WPS file and no converter program on this machine), "
            "legacy (pre-2019 format, unsupported), not_a_report.",
        ),
        Column("reason", _STR, "Why the status is not ok, in words (empty when ok)."),
        Column("title", _STR, "Title of the document as found in it."),
        _URL,
        Column("fetched_at", pa.timestamp("us", tz="UTC"), "When the bytes were fetched (UTC)."),
        Column("http_status", _I32, "HTTP status of the fetch (null for local files)."),
        Column("etag", _STR, "HTTP ETag header of the fetch."),
        Column("last_modified", _STR, "HTTP Last-Modified header of the fetch, as sent."),
        Column("path", _STR, "Where the raw bytes are stored (raw archive path or local file)."),
        Column(
            "chosen_because",
            _STR,
            "Why this document is its report's when the report came as several (a page and its attachments): "
            "read ok first in order, or the best of those read. Null when it was the report's only document.",
        ),
        Column(
            "alternatives",
            _ALTERNATIVES,
            "The report's other documents and why none is the one: url, format, document_sha256, status "
            "(null when not read) and reason. Order: page with tables, then Word/WPS, spreadsheets, PDF, "
            "archives, text, pages, pictures. Null when the document was the report's only one.",
        ),
        Column(
            "template_proactive", _STR, "Template version detected for table proactive (v2019/v2021), null if absent."
        ),
        Column("template_requests", _STR, "Template version detected for table requests, null if absent."),
        Column(
            "template_review_litigation", _STR, "Template version detected for table review_litigation, null if absent."
        ),
        Column("template_versions", _STR, "All detected template versions as a JSON object {table: version}."),
        Column("n_facts", _I32, "Number of printed facts of the document (rows in facts with is_derived = false)."),
        Column("n_derived", _I32, "Number of derived facts of the document."),
        Column("n_checks", _I32, "Number of checks of scope document evaluated (cross-year checks not counted)."),
        Column("n_failed_checks", _I32, "Number of failed checks of severity error."),
        Column("n_unmapped", _I32, "Number of printed rows/columns whose labels matched no canonical key."),
        Column("n_warnings", _I32, "Number of extractor/mapper warnings."),
        Column(
            "consistency",
            _STR,
            "Whether the report's hard identities (勾稽关系, checks of severity error) hold: consistent (at least one "
            "was evaluated and none failed), inconsistent (at least one failed: its numbers do not add up as printed), "
            "not_assessable (none could be evaluated: no tables read, or every identity lacks a side). Filter "
            "consistency = 'consistent' for numbers that add up.",
        ),
        Column(
            "is_primary",
            pa.bool_(),
            "True for the one document counted for its source and year: the documents of one source/year (page, PDF "
            "attachment, text export, re-upload) are copies of one report; the primary has the best status, then the "
            "most printed cells, then the kind of file (the html page holding the tables > Word/WPS > spreadsheets > pdf "
            "> text/markdown exports > image), then the lowest sha256: the rule that chooses a report's document "
            "among its page and attachments (schemas/choice.py). not_a_report documents are never primary. Count "
            "primaries only.",
        ),
        Column(
            "primary_document_sha256",
            _STR,
            "document_sha256 of the primary copy of this document's report (its own when is_primary; null for "
            "not_a_report).",
        ),
        Column(
            "n_copies", _I32, "Number of documents carrying this report (its source and year), the primary included."
        ),
        Column("warnings", pa.list_(_STR), "Extractor/mapper warnings, in order."),
        _VERSION,
    ),
    sort_key=("source_id", "document_sha256"),
)

CHECKS = TableDef(
    name="checks",
    description="One row per check evaluated on one row or column of a document. scope 'document': the identities "
    "(勾稽关系, severity error) and the soft checks of the document itself (severity warning, e.g. "
    "narrative.matches_tables: a headline number quoted in the text against the table); expected is the printed "
    "total, actual the sum of the printed parts; printed numbers are never repaired. scope 'cross_year': "
    "continuity of a source's report with its previous year's report (requests.carry_continuity, "
    "proactive.in_force_continuity; severity warning), computed by the warehouse at publish time from the "
    "published facts and recomputed whenever either year of the pair is republished; the row belongs to the "
    "later year's document.",
    grain="document × scope × check_id × row_key × column_key",
    columns=(
        _REPORT_ID,
        _SHA,
        _SOURCE,
        _PUBLISHER,
        _YEAR,
        Column(
            "check_id", _STR, "Identity checked, e.g. requests.row_total, requests.balance (spec/keys.yaml checks)."
        ),
        _TABLE,
        Column("row_key", _STR, "Row the identity was evaluated on ('*' when it applies to a whole column)."),
        Column("column_key", _STR, "Column the identity was evaluated on ('*' when it applies to a whole row)."),
        Column(
            "expected",
            _F64,
            "Left side: the printed total (null when not printed or not a number); narrative: the number the "
            "text quotes; cross_year: this year's printed value (carried_over, in_force).",
        ),
        Column(
            "actual",
            _F64,
            "Right side: the sum of the printed parts (null when not assessable); cross_year: what the other "
            "year implies (carried_forward of the previous year; in_force of the previous year + issued - "
            "repealed of this year).",
        ),
        Column("difference", _F64, "expected - actual (null when either side is null)."),
        Column("status", _STR, "pass, fail or not_assessable (a side is missing)."),
        Column("severity", _STR, "error (hard identity) or warning (soft check)."),
        Column(
            "detail",
            _STR,
            "The identity and its operands in words; for narrative checks the sentence quoted; for cross-year "
            "checks both years' values and which document of each year was compared.",
        ),
        Column(
            "blank_as_zero",
            _STR,
            "What the identity gives when blank part cells are read as 0 (information only; a blank total is never 0).",
        ),
        Column(
            "scope",
            _STR,
            "document (the check reads this document alone; written with the document) or cross_year (compares "
            "this document with the same source's report of other_year; recomputed by every publish that "
            "touches either year). Files written before this column existed have no scope: their rows are "
            "document checks.",
        ),
        Column("other_year", _I64, "cross_year: the year compared with (the previous year); null for scope document."),
        Column(
            "other_document_sha256",
            _STR,
            "cross_year: sha256 of the other year's document compared with (when a source/year has several "
            "documents, its primary copy: reports.is_primary); null for scope document.",
        ),
        Column(
            "other_value",
            _F64,
            "cross_year: the other year's printed value the check compares (carried_forward or in_force of "
            "other_year); null for scope document or when not a number.",
            unit="件",
        ),
        Column("check_index", _I32, "Position of the check within its document and scope."),
        _VERSION,
    ),
    sort_key=("source_id", "document_sha256", "scope", "check_index"),
)

UNMAPPED = TableDef(
    name="unmapped",
    description="Printed rows and columns whose labels matched no canonical key: kept with their text, never "
    "forced onto a key and never dropped.",
    grain="document × unmapped printed row or column",
    columns=(
        _REPORT_ID,
        _SHA,
        _SOURCE,
        _PUBLISHER,
        _YEAR,
        _TABLE,
        Column("label", _STR, "The label as printed."),
        Column("values", pa.list_(_STR), "The cell texts printed beside the label, in print order."),
        Column("reason", _STR, "Why the label was not mapped."),
        _LOCATOR,
        _PAGE,
        Column("grid_row", _I32, "Row index (0-based) in the printed table, merged cells expanded."),
        Column("unmapped_index", _I32, "Position of the unmapped row within its document."),
        _VERSION,
    ),
    sort_key=("source_id", "document_sha256", "unmapped_index"),
)

_VERSION_STATE = (
    "How reports of format {v} carry this cell: printed, derived (computed from printed cells, never printed "
    "in this format) or null (the format has no such cell)."
)

KEYS = TableDef(
    name="keys",
    description="One row per canonical cell (table × row_key × column_key) of the three statistical tables: its "
    "printed Chinese labels per format version, an English name, its unit, whether each format prints or derives it, "
    "and the identities it takes part in. Generated from the model (schemas/model.py, spec/keys.yaml); not "
    "partitioned (warehouse/keys/part-0.parquet, rewritten by every publish).",
    grain="table × row_key × column_key",
    columns=(
        _TABLE,
        Column("row_key", _STR, "Canonical row key (as in facts.row_key)."),
        Column("column_key", _STR, "Canonical column key (as in facts.column_key)."),
        Column(
            "parent_key",
            _STR,
            "The group the row belongs to: requests: the derived subtotal row (denied, unable, not_processed, other); "
            "proactive: the block of 第二十条 (art20_1 ...); review_litigation: litigation_total for the two litigation "
            "rows; null otherwise.",
        ),
        Column(
            "label_zh",
            _STR,
            "Printed label of the cell, 'row label / column label', in the newest format that has the cell "
            "(the group label for derived rows; a derived column has no printed column label).",
        ),
        Column("label_zh_v2019", _STR, "Printed label 'row / column' in the v2019 format (null: not in v2019)."),
        Column("label_zh_v2021", _STR, "Printed label 'row / column' in the v2021 format (null: not in v2021)."),
        Column("row_label_zh", _STR, "Printed row label (newest format that has the cell)."),
        Column(
            "column_label_zh",
            _STR,
            "Printed column label (newest format that has the cell; empty for derived columns).",
        ),
        Column("name_en", _STR, "English name of the cell: 'row name - column name'."),
        Column("row_name_en", _STR, "English name of the row."),
        Column("column_name_en", _STR, "English name of the column."),
        Column("unit", _STR, "Unit of the cell's value: 件, 项 or 万元."),
        Column("in_v2019", _STR, _VERSION_STATE.format(v="v2019")),
        Column("in_v2021", _STR, _VERSION_STATE.format(v="v2021")),
        Column("derived", pa.bool_(), "True when no format prints the cell (always computed)."),
        Column(
            "identities",
            _STR,
            "Hard identities (checks.check_id, severity error) the cell takes part in, comma-separated.",
        ),
        Column(
            "soft_checks",
            _STR,
            "Soft checks (warnings, cross-year continuity) the cell takes part in, comma-separated; null if none.",
        ),
        Column("key_index", _I32, "Position of the cell in print order (proactive, requests, review_litigation)."),
    ),
    sort_key=("key_index",),
)

TABLES: dict[str, TableDef] = {t.name: t for t in (FACTS, REPORTS, CHECKS, UNMAPPED)}
TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
#: Published tables that are not partitioned by year (one file: warehouse/<name>/part-0.parquet).
REFERENCE_TABLES: dict[str, TableDef] = {KEYS.name: KEYS}
ALL_TABLES: dict[str, TableDef] = {**TABLES, **REFERENCE_TABLES}


def partitioning_schema() -> pa.Schema:
    """The hive partitioning schema: ``year`` as int64."""
    return pa.schema([pa.field("year", YEAR_TYPE)])


def _field(col: Column) -> pa.Field:
    meta = {"description": col.description}
    if col.unit:
        meta["unit"] = col.unit
    return pa.field(col.name, col.type, nullable=True, metadata=meta)


@cache
def arrow_schema(name: str) -> pa.Schema:
    """The schema of the Parquet files of table ``name``: field descriptions plus table metadata."""
    t = ALL_TABLES[name]
    columns = {c.name: c.description for c in t.columns}
    metadata = {
        "xxgk.table": t.name,
        "xxgk.description": t.description,
        "xxgk.grain": t.grain,
        "xxgk.schema_version": SCHEMA_VERSION,
        "xxgk.partitioning": "hive: year=<int64> directories; year=-1 holds documents of unknown year"
        if name in TABLES
        else "none: one file",
        "xxgk.sort_key": ",".join(t.sort_key),
        "xxgk.columns": json.dumps(columns, ensure_ascii=False, sort_keys=False),
    }
    return pa.schema([_field(c) for c in t.file_columns], metadata=metadata)


@cache
def dataset_schema(name: str) -> pa.Schema:
    """The schema a reader sees over the partitioned table (file columns + ``year``)."""
    return arrow_schema(name).append(_field(_YEAR))
