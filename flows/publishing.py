"""The publish step: the run's staged documents into the warehouse and the validation reports, one commit.

Only what changed is published (``warehouse.published_inputs`` remembers which staged file every
published document came from), and what is published goes through a ``PublishTransaction``:
written against a shadow of the published trees, which becomes the current snapshot in one
atomic swap once everything is written, so readers and a run killed at any point see the old
published state or the new one, never a mix (``flows.transaction``). Plain functions,
no Prefect import (the ``publish`` task in ``flows.tasks`` adds the per-source artifacts).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from xxgk.flows.transaction import PublishTransaction, publish_lock, recover_locked
from xxgk.warehouse.layout import validation_dir, warehouse_dir
from xxgk.warehouse.published_inputs import PublishPlan, plan_publish, record_inputs

_log = logging.getLogger("xxgk")


@dataclass(slots=True)
class PublishOutcome:
    """What ``publish`` wrote: file counts and where the outputs are.

    ``written``/``unchanged``/``removed`` count warehouse files; ``changed`` lists every published
    file (warehouse and validation, relative to the data directory) the commit replaced or removed.
    ``artifacts``: Prefect artifacts created (per source, under Prefect only).
    """

    warehouse: str
    validation_index: str | None
    documents: int
    written: int
    unchanged: int
    removed: int
    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    artifacts: int = 0
    #: documents of the run already published from the same staged results, left alone
    up_to_date: int = 0


def publish_staged(
    data_dir: Path | str,
    staged: Iterable[str | Path],
    *,
    years: Iterable[int] | None = None,
    replace: bool = False,
    force: bool = False,
    archive_dir: Path | str | None = None,
) -> PublishOutcome:
    """Publish the run's staged documents: Parquet warehouse, then the validation reports, as one commit.

    Only what changed is published: ``warehouse.published_inputs`` records which staged file every
    published document came from, so a run handing in the same staged files publishes nothing (no
    file read, nothing written) and a run with a few new ones publishes only their sources
    (``force`` publishes everything). What is published runs in a ``PublishTransaction``: against a
    shadow of the published trees, made the current snapshot in one atomic swap once everything is
    written, so readers, and a run killed at any point, see the old state or the new one. The plan,
    the publish and the record of published inputs are made under one hold of the publish locks, so
    two concurrent runs never lose each other's record. Both steps are idempotent and write only
    files whose bytes change.
    ``years``/``replace`` are ``warehouse.publish``'s: only documents of those years; with
    ``replace``, those year partitions rebuilt from this run alone (a full backfill).
    ``archive_dir``: the raw archive (default ``<data dir>/archive``), whose ``harvest.json`` gives
    the validation index every source's harvest outcome, also when nothing else is published.
    """
    paths = sorted({str(p) for p in staged})
    year_list = sorted({int(y) for y in years}) if years is not None else None
    with publish_lock(data_dir):  # plan, publish and record in one hold: no lost update of the record
        recovered = recover_locked(data_dir)
        plan = plan_publish(data_dir, paths, years=year_list, replace=replace, force=force or bool(recovered))
        return _publish_planned(data_dir, plan, year_list, replace, archive_dir, recovered)


def _publish_planned(
    data_dir: Path | str,
    plan: PublishPlan,
    year_list: list[int] | None,
    replace: bool,
    archive_dir: Path | str | None,
    recovered: list[str],
) -> PublishOutcome:
    """``publish_staged`` once the plan is made, the publish locks held."""
    index = validation_dir(data_dir) / "index.html"
    harvest_file = Path(archive_dir if archive_dir is not None else Path(data_dir) / "archive") / "harvest.json"
    if plan.nothing_to_do:
        if harvest_file.is_file() and index.is_file():
            from xxgk.warehouse.validation import refresh_harvest

            refresh_harvest(data_dir, harvest_file, locked=True)  # a harvest changed, nothing to publish
        _log.info("nothing to publish: %d documents already published from these staged results", plan.up_to_date)
        return PublishOutcome(
            warehouse=str(warehouse_dir(data_dir)),
            validation_index=str(index) if index.is_file() else None,
            documents=0,
            written=0,
            unchanged=len(plan.record.outputs) if plan.record else 0,
            removed=0,
            up_to_date=plan.up_to_date,
            warnings=[f"an interrupted publish was {r} first" for r in recovered],
        )
    if plan.up_to_date:
        _log.info("publishing %d documents (%s); %d already published", len(plan.paths), plan.reason, plan.up_to_date)
    # imported here: pyarrow.dataset and pandas cost ~1.4 s, which a run with nothing to publish saves
    from xxgk.warehouse.publish import publish
    from xxgk.warehouse.validation import prune_validation_reports, write_validation_reports

    with PublishTransaction(data_dir, locked=True) as txn:
        summary = publish(txn.root, plan.paths, years=year_list, replace=replace)
        if plan.paths:  # then prune the source/years the publish removed from the warehouse
            reports = write_validation_reports(
                txn.root, plan.paths, documents_root=Path(data_dir), harvest_file=harvest_file, prune=True
            )
        else:
            reports = []
            prune_validation_reports(txn.root)
    record_inputs(
        data_dir, plan.record, summary.published, years=year_list, replace=replace, touched=summary.touched
    )
    root = Path(txn.root)
    changed = txn.result.replaced + txn.result.removed
    in_warehouse = [c for c in changed if c.startswith("warehouse/")]
    return PublishOutcome(
        warehouse=str(warehouse_dir(data_dir)),
        validation_index=str(index) if reports or index.is_file() else None,
        documents=summary.documents,
        written=len([c for c in in_warehouse if c in txn.result.replaced]),
        unchanged=len(summary.unchanged),
        removed=len([c for c in in_warehouse if c in txn.result.removed]),
        rows=dict(summary.rows),
        warnings=[w.replace(str(root), str(data_dir)) for w in summary.warnings]
        + [f"an interrupted publish was {r} first" for r in recovered + txn.recovered],
        years=list(summary.years),
        changed=changed,
        up_to_date=plan.up_to_date,
    )
