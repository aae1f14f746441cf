"""Staging, Parquet warehouse and validation reports (plain functions; no Prefect here).

Public API (signatures are stable; the flows call these from tasks):

``warehouse.documents``
    ``DocumentInfo(document_sha256, source_id, publisher, year, format, source_url, fetched_at, path,
    region_code=None, level=None, http_status=None, etag=None, last_modified=None)``
    ``UNKNOWN_YEAR`` (= -1: partition of documents whose year nobody knows)
``warehouse.staging``
    ``stage_result(staging_dir, info, result, extractor_version) -> Path``  (atomic, one file per
    document keyed by sha256 + extractor version + source id)
    ``load_staged(path) -> StagedDocument``  (a NamedTuple ``(info, result, extractor_version)``)
    ``is_staged(staging_dir, document_sha256, extractor_version, source_id=None) -> bool``
    ``staged_path(staging_dir, document_sha256, extractor_version, source_id) -> Path``
    ``iter_staged(staging_dir, extractor_version=None) -> Iterator[Path]``
``warehouse.publish`` (import the function from the module: ``from warehouse.publish import publish``)
    ``publish(data_dir, items, *, years=None, replace=False) -> PublishSummary`` where items are staged
    paths or ``StagedDocument`` / ``(info, result, extractor_version)`` tuples; writes
    ``data_dir/warehouse/{facts,reports,checks,unmapped}/year=YYYY/part-0.parquet``; also recomputes the
    cross-year checks (``checks`` rows of scope ``cross_year``) of every source/year it touches and of
    the year after (``summary.cross_year_checks``/``cross_year_failed``/``cross_year_years``).
``warehouse.cross_year``
    ``cross_year_rows(year, sources, current_reports, current_facts, previous_reports, previous_facts)``
    (the ``checks`` rows of scope cross_year), ``pick_documents``, ``CONTINUITY_ROWS``.
``warehouse.parquet``
    ``read_table(data_dir, name, *, years=None) -> pyarrow.Table``; ``partitioning()``;
    ``TABLE_NAMES``
``warehouse.validation_report``
    ``write_validation_reports(data_dir, items) -> list[Path]`` (``validation/<source_id>/<year>.json``
    and ``.html``, with a Warnings section: failed narrative and cross-year checks, the latter read from
    the warehouse, so call it after ``publish``; refreshes the other years of the same sources whose
    cross-year checks changed; then rebuilds ``validation/index.html`` from disk);
    ``write_index(data_dir) -> Path``
``warehouse.schema`` / ``warehouse.dictionary``
    Column definitions of the four tables; ``render_data_dictionary() -> str`` (docs/data-dictionary.md).

The publish benchmark (CPU and peak RSS of one full publish) is ``python -m bench.publish``.
"""

import importlib
from typing import Any

#: Names this package offers, and the module each comes from. Imported on first use (PEP 562): the
#: nightly run that publishes nothing only needs ``warehouse.staging``, and
#: the Parquet modules pull in pyarrow.dataset and pandas (~1.4 s). ``publish`` is reached as
#: ``warehouse.publish.publish``: the name is also the submodule's.
_EXPORTS = {
    "UNKNOWN_YEAR": "xxgk.warehouse.documents",
    "DocumentInfo": "xxgk.warehouse.documents",
    "PublishSummary": "xxgk.warehouse.publish",
    "StagedDocument": "xxgk.warehouse.staging",
    "is_staged": "xxgk.warehouse.staging",
    "iter_staged": "xxgk.warehouse.staging",
    "load_staged": "xxgk.warehouse.staging",
    "stage_result": "xxgk.warehouse.staging",
    "staged_path": "xxgk.warehouse.staging",
    "write_index": "xxgk.warehouse.validation",
    "write_validation_reports": "xxgk.warehouse.validation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'warehouse' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
