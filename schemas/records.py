"""Records that flow from the extractors to the warehouse.

Plain dataclasses, so extractors, checks and notebooks share them without any framework.
Document-level provenance (sha256, source, URL, extractor version) is added by the warehouse
when a ``DocumentResult`` is staged, not repeated on every record here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Report statuses (DESIGN.md): one of these per document.
STATUS_OK = "ok"
STATUS_PARTIAL = "partial"
STATUS_FAILED = "failed"
STATUS_NEEDS_OCR = "needs_ocr"
STATUS_NEEDS_CONVERTER = "needs_converter"
STATUS_LEGACY = "legacy"
STATUS_NOT_A_REPORT = "not_a_report"
REPORT_STATUSES = (
    STATUS_OK,
    STATUS_PARTIAL,
    STATUS_FAILED,
    STATUS_NEEDS_OCR,
    STATUS_NEEDS_CONVERTER,
    STATUS_LEGACY,
    STATUS_NOT_A_REPORT,
)

# Check statuses.
PASS = "pass"
FAIL = "fail"
NOT_ASSESSABLE = "not_assessable"


@dataclass(slots=True)
class Fact:
    """One printed cell mapped onto the canonical keys."""

    table: str
    row_key: str
    column_key: str
    value: float | None
    unit: str | None
    raw_text: str
    value_status: str
    template_version: str
    row_label: str = ""
    column_label: str = ""
    locator: str = ""
    page: int | None = None
    grid_row: int | None = None
    grid_col: int | None = None
    note: str = ""
    bbox: tuple[float, float, float, float] | None = None
    box_unit: str | None = None
    confidence: float | None = None


@dataclass(slots=True)
class Unmapped:
    """A printed row or column whose label matched no canonical key, kept with its text."""

    table: str
    label: str
    values: list[str]
    reason: str
    locator: str = ""
    page: int | None = None
    grid_row: int | None = None


@dataclass(slots=True)
class CheckResult:
    """One identity evaluated on one row or column.

    ``expected`` is the printed total (left side), ``actual`` the sum of the printed parts;
    ``difference`` is expected - actual. ``blank_as_zero`` says what the identity gives when
    blank leaf cells are read as 0 (information only: a blank total is never read as 0).
    ``total_cells`` and ``part_cells`` name the operands as ``row_key/column_key``, so a reader
    (the validation report) can mark exactly the printed cells an identity compares.
    """

    check_id: str
    table: str
    row_key: str
    column_key: str
    expected: float | None
    actual: float | None
    difference: float | None
    status: str
    severity: str = "error"
    detail: str = ""
    blank_as_zero: str | None = None
    total_cells: list[str] = field(default_factory=list)
    part_cells: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DocumentResult:
    """Everything one document yields: status, facts, unmapped rows, checks, tables as printed."""

    status: str
    reason: str = ""
    format: str = ""
    title: str = ""
    publisher: str = ""
    year: int | None = None
    template_versions: dict[str, str] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    derived: list[Fact] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    grids: list[list[list[str]]] = field(default_factory=list)
    grid_locators: list[str] = field(default_factory=list)
    #: per grid, its merged cells as printed: ``[row, col, rowspan, colspan]`` (``Grid.spans``)
    grid_spans: list[list[list[int]]] = field(default_factory=list)
    narrative: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def failed_checks(self) -> int:
        return sum(1 for c in self.checks if c.status == FAIL and c.severity == "error")
