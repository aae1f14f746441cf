"""Prefect artifacts: one markdown summary per source, so the Prefect UI shows each run's outcome.

``publish_artifacts`` turns the validation reports on disk into one markdown artifact per source
(status, failed checks, counts, a link to each ``validation/<source>/<year>.html``) plus a link
artifact to the validation index. The publish task calls it once its commit is done, and only for
sources whose artifact would change (``ArtifactState``), so a night with nothing new makes none.

Prefect is imported inside the functions only; outside a flow or task run nothing is created.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from uuid import UUID

_log = logging.getLogger("xxgk")

#: Where the per-source artifacts link to, instead of file:// URLs (e.g. a web server over the data dir).
REPORTS_URL_ENV = "XXGK_REPORTS_URL"
#: Failed checks (and harvest problems) listed in a source's artifact (all are in its validation report).
ARTIFACT_MAX_CHECKS = 10


def artifact_key(source_id: str) -> str:
    """A Prefect artifact key for a source: lowercase letters, digits and dashes only.

    Ids that lose characters in the mapping (upper case, ``_``, ``.``, Chinese) get a short hash
    of the original, so two sources never share a key.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", source_id.lower()).strip("-")[:60] or "source"
    if slug != source_id:
        slug = f"{slug}-{hashlib.sha1(source_id.encode('utf-8')).hexdigest()[:8]}"
    return f"xxgk-{slug}"


def report_link(path: Path, data_dir: Path | str, base_url: str | None = None) -> str:
    """Where a report file is reachable: ``base_url`` + its path under the data dir, else a file:// URL.

    Inside the data directory the path is kept as written (``validation/`` is a symlink into the
    current snapshot, which a later publish replaces and prunes); only the data directory is resolved.
    """
    data = Path(data_dir).resolve()
    try:
        path = data / Path(os.path.abspath(path)).relative_to(os.path.abspath(data_dir))
    except ValueError:
        path = Path(path).resolve()
    if base_url:
        rel = path.relative_to(data)
        return base_url.rstrip("/") + "/" + "/".join(quote(part) for part in rel.parts)
    return path.as_uri()


def _cell(value: Any) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(value if value is not None else "").split()).replace("|", "\\|")


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _source_reports(data_dir: Path, wanted: set[str] | None) -> dict[str, list[tuple[Path, dict[str, Any]]]]:
    """Validation reports on disk by source id: ``{source_id: [(json path, report), ...]}`` by year."""
    by_source: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    vdir = data_dir / "validation"
    if wanted is not None:
        from xxgk.warehouse.validation import source_dir_name

        paths = sorted(p for s in wanted for p in (vdir / source_dir_name(s)).glob("*.json"))
    else:
        paths = sorted(vdir.glob("*/*.json"))
    for path in paths:
        report = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(report, dict) or "documents" not in report or "source_id" not in report:
            continue
        by_source.setdefault(report["source_id"], []).append((path, report))
    for reports in by_source.values():
        reports.sort(key=lambda item: item[1].get("year", 0))
    return by_source


def _field(item: Any, name: str, default: Any = None) -> Any:
    """An attribute of a record or a key of a dict (harvest outcomes come as either)."""
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _harvest_lines(harvest: Any) -> list[str]:
    """The harvest part of a source's artifact: status, reason, reports listed, first problems.

    Nothing that differs from night to night without news (requests, 304s, fetched): an unchanged
    source keeps its artifact (``publish_artifacts(changed_reports=...)``).
    """
    status, reason = _field(harvest, "status", ""), _field(harvest, "reason", "")
    counts = [
        f"{_field(harvest, name)} {label}"
        for name, label in (("reports", "listed"),)
        if _field(harvest, name) is not None
    ]
    line = f"**Harvest**: {_cell(status)}" + (f" — {_cell(reason)}" if reason else "")
    lines = ["", line + (f" ({', '.join(counts)})" if counts else "")]
    problems = list(_field(harvest, "problems", None) or [])
    if problems:
        lines.append("")
        lines += [
            f"- {_cell(_field(p, 'kind'))} {_cell(_field(p, 'url'))}: {_cell(_field(p, 'detail'))}"
            for p in problems[:ARTIFACT_MAX_CHECKS]
        ]
        if len(problems) > ARTIFACT_MAX_CHECKS:
            lines.append(f"- … and {len(problems) - ARTIFACT_MAX_CHECKS} more (see archive/harvest.json)")
    return lines


def source_markdown(
    source_id: str,
    reports: list[tuple[Path, dict[str, Any]]],
    data_dir: Path | str,
    base_url: str | None = None,
    harvest: Any = None,
) -> str:
    """The markdown of one source's artifact: its harvest (if any), a row per year, failed checks."""
    from xxgk.warehouse.validation.wording import check_comparison

    docs = [d for _, r in reports for d in r["documents"]]
    publisher = next((d.get("publisher") for d in docs if d.get("publisher")), "") or _field(harvest, "publisher", "")
    failed = sum(int(r.get("failed_checks") or 0) for _, r in reports)
    warnings = sum(int(d.get("counts", {}).get("failed_warnings") or 0) for d in docs)
    statuses = sorted({str(r.get("status", "")) for _, r in reports})
    lines = [f"# {_cell(source_id)}" + (f" — {_cell(publisher)}" if publisher else "")]
    if harvest is not None:
        lines += _harvest_lines(harvest)
    if not reports:
        lines += ["", "No validation report: no document of this source has been extracted."]
        return "\n".join(lines) + "\n"
    lines += [
        "",
        f"**{len(reports)}** report(s), **{len(docs)}** document(s), status {', '.join(statuses) or '—'}, "
        f"**{failed}** failed check(s), {warnings} failed warning(s).",
        "",
        "| year | status | documents | facts | failed checks | not assessable | unmapped | report |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    checks: list[str] = []
    for path, report in reports:
        year_docs = report["documents"]
        counts = [d.get("counts", {}) for d in year_docs]
        year = path.stem
        html = path.with_suffix(".html")
        link = f"[{year}.html]({report_link(html, data_dir, base_url)})" if html.exists() else "—"
        lines.append(
            f"| {_cell(year)} | {_cell(report.get('status'))} | {len(year_docs)} "
            f"| {sum(c.get('facts', 0) for c in counts)} | {report.get('failed_checks', 0)} "
            f"| {sum(c.get('not_assessable', 0) for c in counts)} | {sum(c.get('unmapped', 0) for c in counts)} "
            f"| {link} |"
        )
        for doc in year_docs:
            if doc.get("reason"):
                notes.append(f"- {_cell(year)}: {_cell(doc.get('status'))} — {_cell(doc['reason'])}")
            for check in doc.get("failed_checks", []):
                checks.append(
                    f"- {_cell(year)} `{_cell(check.get('check_id'))}` {_cell(check.get('table'))} "
                    f"{_cell(check.get('row_key'))} / {_cell(check.get('column_key'))}: "
                    f"{_cell(check_comparison(check))} ({_cell(check.get('severity'))})"
                )
    if notes:
        lines += ["", "**Reasons**", "", *notes]
    if checks:
        more = len(checks) - ARTIFACT_MAX_CHECKS
        lines += ["", "**Failed checks and warnings**", "", *checks[:ARTIFACT_MAX_CHECKS]]
        if more > 0:
            lines.append(f"- … and {more} more (see the reports)")
    return "\n".join(lines) + "\n"


def _wanted_sources(reports: Any) -> set[str] | None:
    """Source ids named by ``reports`` (see ``publish_artifacts``); None means all on disk."""
    if reports is None:
        return None
    if isinstance(reports, (str, Path)) or hasattr(reports, "source_id") or isinstance(reports, Mapping):
        reports = [reports]
    elif hasattr(reports, "documents") and not isinstance(reports.documents, int):
        reports = reports.documents  # a batch outcome
    wanted: set[str] = set()
    for item in reports:
        if isinstance(item, Path) or (isinstance(item, str) and item.endswith((".json", ".html"))):
            json_path = Path(item).with_suffix(".json")
            report = json.loads(json_path.read_text(encoding="utf-8"))
            if "source_id" in report:
                wanted.add(str(report["source_id"]))
        elif isinstance(item, str):
            wanted.add(item)
        elif isinstance(item, Mapping) and "source_id" in item:
            wanted.add(str(item["source_id"]))
        elif getattr(item, "source_id", None):
            wanted.add(str(item.source_id))
        else:
            raise TypeError(f"publish_artifacts: cannot tell the source of {type(item).__name__} {item!r}")
    return wanted


def in_prefect_run() -> bool:
    """True inside a Prefect flow or task run (where artifacts attach to the run)."""
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


#: Digests of the artifacts last created per source, in the data directory (hidden; not in the published
#: snapshots, which a publish replaces whole). Read from ``validation/`` when only an older version wrote it.
ARTIFACT_STATE = ".prefect-artifacts.json"
INDEX_ARTIFACT_KEY = "xxgk-validation-index"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def harvest_record(harvest: Any) -> dict[str, Any] | None:
    """What of a source's harvest outcome its artifact shows, as plain JSON (kept between runs).

    A run that does not harvest a source (a backfill replaying the archive) keeps showing the
    source's last harvest, so it is kept in the artifact state and compared to decide on a new one.
    """
    if harvest is None:
        return None
    problems = _field(harvest, "problems", None) or []
    return {
        "publisher": str(_field(harvest, "publisher", "") or ""),
        "status": str(_field(harvest, "status", "") or ""),
        "reason": str(_field(harvest, "reason", "") or ""),
        "reports": _field(harvest, "reports"),
        "problems": [{k: str(_field(p, k, "") or "") for k in ("kind", "url", "detail")} for p in problems],
    }


@dataclass(slots=True)
class ArtifactState:
    """Per source, what the artifact last created on one API (``api``) showed: its markdown's digest and
    the harvest it showed (``harvest_record``)."""

    api: str = ""
    sources: dict[str, dict[str, str]] = field(default_factory=dict)

    @staticmethod
    def path(data_dir: Path | str) -> Path:
        return Path(data_dir) / ARTIFACT_STATE

    @classmethod
    def load(cls, data_dir: Path | str, api: str) -> ArtifactState:
        """The state for ``api``; empty when there is none, it is unreadable or it belongs to another API."""
        path = cls.path(data_dir)
        if not path.exists():
            path = Path(data_dir) / "validation" / ARTIFACT_STATE  # where versions before snapshots kept it
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(api)
        if not isinstance(data, dict) or data.get("api") != api or not isinstance(data.get("sources"), dict):
            return cls(api)
        return cls(api, {str(k): dict(v) for k, v in data["sources"].items() if isinstance(v, dict)})

    def save(self, data_dir: Path | str) -> None:
        from xxgk.storage.files import atomic_write_bytes

        payload = {"api": self.api, "sources": dict(sorted(self.sources.items()))}
        atomic_write_bytes(self.path(data_dir), json.dumps(payload, ensure_ascii=False, indent=0).encode("utf-8"))


def _index_artifact_exists() -> bool:
    """Whether the API still has this project's index artifact (a reset server database has none)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[INDEX_ARTIFACT_KEY])), limit=1
        )
    return bool(found)


def publish_artifacts(
    reports: Any,
    data_dir: Path | str,
    *,
    harvest: Iterable[Any] | None = None,
    base_url: str | None = None,
    index: bool = True,
    changed_reports: Iterable[str] | None = None,
) -> dict[str, UUID]:
    """One markdown artifact per source with its validation summary; returns ``{source_id: artifact id}``.

    ``reports`` says which sources: ``None`` for every report under ``data_dir/validation``; or
    an iterable of source ids, validation report paths (``.json``/``.html``, as
    ``write_validation_reports`` returns them), dicts or objects with a ``source_id`` (the run's
    ``DocumentOutcome`` records). ``harvest``: the run's per-source harvest outcomes (objects or
    dicts with ``source_id``, ``status``, ``reason`` and optionally ``publisher``, ``reports``,
    ``problems``); their sources get an artifact too, even with no report, which is how a source
    whose layout changed shows up.

    ``changed_reports``: given (the publish step's changed files, relative to the data dir), an
    artifact is created only for a source whose artifact would differ from the one last created
    on this API: its validation reports changed in this publish, its harvest part changed, or it
    has none yet (state in ``<data dir>/.prefect-artifacts.json``; void when the API's database no
    longer has the index artifact). A night with nothing new then makes no API call per source:
    one call each cost ~16 ms, 20 s for 1,000 sources. ``None``: every wanted source.

    Each artifact covers all years of its source on disk, is keyed ``xxgk-<source>`` (the UI's
    Artifacts page keeps its history across runs, so the latest is always the current state) and
    links each year's ``validation/<source>/<year>.html``: a file:// URL, or ``base_url`` (default
    ``$XXGK_REPORTS_URL``) + the path under the data dir when the reports are served over HTTP.
    With ``index``, a link artifact ``xxgk-validation-index`` points at ``validation/index.html``.

    Outside a Prefect flow or task run there is nothing to attach to (and talking to the API would
    start a temporary server), so nothing is created and ``{}`` is returned.
    """
    if not in_prefect_run():
        _log.debug("publish_artifacts called outside a Prefect run: no artifacts")
        return {}
    from prefect.artifacts import create_link_artifact, create_markdown_artifact
    from prefect.settings import PREFECT_API_URL

    data = Path(data_dir)
    base = base_url if base_url is not None else os.environ.get(REPORTS_URL_ENV) or None
    harvested = {str(_field(h, "source_id")): h for h in harvest or [] if _field(h, "source_id")}
    wanted = _wanted_sources(reports)
    on_disk = _source_reports(data, None) if wanted is None else None  # every report: read once
    candidates = set(on_disk if on_disk is not None else wanted or ()) | set(harvested)
    state: ArtifactState | None = None
    if changed_reports is not None:
        state = ArtifactState.load(data, str(PREFECT_API_URL.value() or ""))
        if state.sources and not _index_artifact_exists():
            state = ArtifactState(state.api)
        changed = _sources_of_changed_reports(data, changed_reports, candidates)
        candidates = {
            s
            for s in candidates
            if s not in state.sources
            or s in changed
            or (s in harvested and state.sources[s].get("harvest") != harvest_record(harvested[s]))
        }
    by_source = on_disk if on_disk is not None else _source_reports(data, candidates)
    created: dict[str, UUID] = {}
    for source_id in sorted(candidates):
        source_reports = by_source.get(source_id, [])
        known = state.sources.get(source_id, {}) if state is not None else {}
        # not harvested by this run (a backfill): the artifact keeps showing the last harvest
        harvest_shown = harvest_record(harvested[source_id]) if source_id in harvested else _stored_harvest(known)
        markdown = source_markdown(source_id, source_reports, data, base, harvest_shown)
        entry = {"markdown": _digest(markdown), "harvest": harvest_shown}
        if state is not None:
            state.sources[source_id] = entry
            if known.get("markdown") == entry["markdown"]:
                continue
        failed = sum(int(r.get("failed_checks") or 0) for _, r in source_reports)
        described = f"{source_id}: {len(source_reports)} report(s), {failed} failed check(s)"
        if harvest_shown is not None:
            described += f"; harvest {harvest_shown['status']}"
        created[source_id] = create_markdown_artifact(
            markdown=markdown, key=artifact_key(source_id), description=described
        )
    index_html = data / "validation" / "index.html"
    if index and created and index_html.exists():
        create_link_artifact(
            link=report_link(index_html, data, base),
            link_text="validation index",
            key=INDEX_ARTIFACT_KEY,
            description=f"all validation reports under {data.resolve()}",
        )
    if state is not None and candidates:
        state.save(data)
    return created


def _stored_harvest(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    harvest = entry.get("harvest")
    return harvest if isinstance(harvest, dict) else None


def _sources_of_changed_reports(data_dir: Path, changed: Iterable[str], sources: set[str]) -> set[str]:
    """The sources (of ``sources``) whose ``validation/<dir>/<year>.json`` is among the changed files."""
    from xxgk.warehouse.validation import source_dir_name

    dirs = {parts[1] for c in changed if len(parts := c.split("/")) == 3 and parts[0] == "validation"}
    return {s for s in sources if source_dir_name(s) in dirs}
