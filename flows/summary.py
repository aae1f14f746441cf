"""What a run did, in one record: the summary the CLI prints and tests assert on.

``summarize`` counts the per-document outcomes (``flows.extraction``), the harvest per source
(``flows.harvesting``) and the publish step (``flows.publishing``) into a ``RunSummary``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from xxgk.flows.extraction import INTERNAL_ERROR, DocumentOutcome, current_extractor_version
from xxgk.flows.harvesting import SourceOutcome
from xxgk.flows.publishing import PublishOutcome


@dataclass(slots=True)
class RunSummary:
    """The result of a run, as the CLI prints it and tests assert on it."""

    data_dir: str
    documents: int
    by_status: dict[str, int]
    by_action: dict[str, int]
    cells: int
    failed_checks: int
    unmapped: int
    extractor_version: str
    warehouse: str | None
    validation_index: str | None
    files_written: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    #: documents already published from the same staged results: not read again by the publish step
    published_up_to_date: int = 0
    seconds: float = 0.0
    runner: str = "local"
    batches: int = 0
    problems: list[DocumentOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: list[SourceOutcome] = field(default_factory=list)
    inputs: str = ""
    archive: str | None = None
    portal: str | None = None
    harvest_seconds: float = 0.0
    #: worker processes the harvest ran in (0: the flow's own process)
    harvest_processes: int = 0
    run_id: str = ""
    #: which known report pages and attachments were asked about (``harvest.revisit``: due, all, none)
    revalidate: str = ""
    #: how stale a report can be at most after this run (``harvest.revisit.staleness_bound``)
    staleness: str = ""

    @property
    def not_due(self) -> int:
        """Known report pages and attachments not asked about this run (not due under the revisit policy)."""
        return sum(s.not_due for s in self.sources)

    @property
    def internal_errors(self) -> int:
        """Documents on which the extractor raised or whose file could not be read: bugs, not data."""
        return self.by_action.get("error", 0) + sum(1 for p in self.problems if p.reason.startswith(INTERNAL_ERROR))

    @property
    def failed_sources(self) -> list[SourceOutcome]:
        """Harvested sources that gave nothing usable (failed, layout_changed, empty)."""
        return [s for s in self.sources if s.failed]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(
    data_dir: Path | str,
    outcomes: list[DocumentOutcome],
    published: PublishOutcome | None,
    *,
    seconds: float,
    runner: str,
    batches: int,
    sources: list[SourceOutcome] | None = None,
) -> RunSummary:
    """Counts of a run from the per-document outcomes, the harvest and the publish step."""
    problems = [o for o in outcomes if o.action == "error" or o.status != "ok"]
    return RunSummary(
        data_dir=str(data_dir),
        documents=len(outcomes),
        by_status=dict(Counter(o.status for o in outcomes if o.action != "error")),
        by_action=dict(Counter(o.action for o in outcomes)),
        cells=sum(o.facts for o in outcomes),
        failed_checks=sum(o.failed_checks for o in outcomes),
        unmapped=sum(o.unmapped for o in outcomes),
        extractor_version=current_extractor_version(),
        warehouse=published.warehouse if published else None,
        validation_index=published.validation_index if published else None,
        files_written=published.written if published else 0,
        files_unchanged=published.unchanged if published else 0,
        files_removed=published.removed if published else 0,
        published_up_to_date=published.up_to_date if published else 0,
        seconds=seconds,
        runner=runner,
        batches=batches,
        problems=problems,
        warnings=list(published.warnings) if published else [],
        sources=list(sources or []),
    )
