"""The ``keys`` table: every canonical cell with its printed Chinese labels, English name and identities.

Generated from the one model (``schemas.model``: keys, labels per format version, units, derived
rows) and the identities of ``schemas.checks``/``schemas.soft_checks``; nothing here restates a
printed label. ``tests/test_keys.py`` compares it with ``spec/keys.yaml``. Published as
``warehouse/keys/part-0.parquet`` by every publish, listed in the data dictionary, and returned by
``xxgk.open(d).keys()``.

``in_v2019``/``in_v2021`` say how a cell appears in reports of that format: ``printed``,
``derived`` (computed from printed cells: ``other`` of table 三 in v2021, where （六） is split into
three printed rows) or null (the format has no such cell). The analyst API keeps the derived
``other`` of v2021 reports beside the printed one of v2019 reports so the key means the same
thing in every year.
"""

from __future__ import annotations

from functools import cache

import pyarrow as pa

from xxgk.schemas import lexicon as lx
from xxgk.schemas.checks import requests_outcome_rows
from xxgk.schemas.model import (
    APPLICANT_COLUMNS,
    PROACTIVE,
    PROACTIVE_CELLS,
    PROACTIVE_SPEC,
    REQUESTS,
    REQUESTS_SPEC,
    REVIEW_LITIGATION,
    REVIEW_SPEC,
    SPECS,
    V2019,
    V2021,
    VERSIONS,
)
from xxgk.warehouse.schema import KEYS, arrow_schema

PRINTED = "printed"
DERIVED = "derived"

#: English names of the row keys (the Chinese labels are the model's).
ROW_NAMES_EN: dict[str, dict[str, str]] = {
    PROACTIVE: {
        "rules": "Rules (regulations of the body)",
        "normative_docs": "Normative documents",
        "admin_licensing": "Administrative licensing",
        "other_admin_services": "Other external administrative services",
        "admin_penalty": "Administrative penalties",
        "admin_coercion": "Administrative coercion",
        "admin_fees": "Administrative fees",
        "gov_procurement": "Centralised government procurement",
    },
    REQUESTS: {
        "new_requests": "New requests received this year",
        "carried_over": "Requests carried over from last year",
        "granted": "Granted (disclosed)",
        "partially_granted": "Partially granted",
        "denied": "Denied (subtotal)",
        "denied.state_secret": "Denied: state secret",
        "denied.law_prohibited": "Denied: prohibited by other laws and administrative regulations",
        "denied.security_stability": "Denied: endangers the 'three securities and one stability'",
        "denied.third_party_rights": "Denied: protects lawful rights of third parties",
        "denied.internal_affairs": "Denied: internal affairs information",
        "denied.process_info": "Denied: process information",
        "denied.enforcement_file": "Denied: administrative enforcement files",
        "denied.admin_query": "Denied: administrative query matters",
        "unable": "Unable to provide (subtotal)",
        "unable.not_held": "Unable: information not held by this body",
        "unable.needs_creation": "Unable: would need to be created",
        "unable.unclear_after_correction": "Unable: still unclear after correction",
        "not_processed": "Not processed (subtotal)",
        "not_processed.petition_complaint": "Not processed: petitions, reports and complaints",
        "not_processed.duplicate": "Not processed: duplicate requests",
        "not_processed.publication": "Not processed: requests for publications",
        "not_processed.excessive_repeated": "Not processed: large numbers of repeated requests without good reason",
        "not_processed.confirm_or_reissue": "Not processed: asks the body to confirm or reissue information",
        "other": "Otherwise handled",
        "other.no_correction": "Otherwise handled: not corrected in time by the requester",
        "other.fee_unpaid": "Otherwise handled: fee not paid in time",
        "other.other": "Otherwise handled: other",
        "total_processed": "Total handled",
        "carried_forward": "Carried forward to next year",
    },
    REVIEW_LITIGATION: {
        "admin_review": "Administrative review",
        "litigation_direct": "Litigation without prior review",
        "litigation_after_review": "Litigation after review",
        "litigation_total": "Litigation (subtotal)",
    },
}

#: English names of the column keys.
COLUMN_NAMES_EN: dict[str, dict[str, str]] = {
    PROACTIVE: {
        "new_made": "Newly made this year",
        "new_published": "Newly published this year",
        "published_total": "Total published",
        "items_prev_year": "Items last year",
        "items_change": "Change in items this year",
        "decisions": "Decisions made",
        "procurement_projects": "Procurement projects",
        "procurement_amount": "Procurement amount",
        "issued": "Issued this year",
        "repealed": "Repealed this year",
        "in_force": "In force",
        "fee_amount": "Fees collected",
    },
    REQUESTS: {
        "natural_person": "Natural persons",
        "legal_commercial": "Commercial enterprises",
        "legal_research": "Research institutions",
        "legal_public_interest": "Public-interest organisations",
        "legal_law_firm": "Legal service institutions",
        "legal_other": "Other legal persons and organisations",
        "legal_subtotal": "Legal persons and organisations (subtotal)",
        "total": "Total",
    },
    REVIEW_LITIGATION: {
        "upheld": "Upheld",
        "corrected": "Corrected",
        "other": "Other outcome",
        "pending": "Pending",
        "total": "Total",
    },
}

#: Column keys never printed (computed by ``schemas.checks.derive_subtotals``).
_DERIVED_COLUMNS = {REQUESTS: ("legal_subtotal",)}
#: Row keys never printed in table 四 (computed) and the rows they add up.
_REVIEW_DERIVED_ROWS = {"litigation_total": ("litigation_direct", "litigation_after_review")}


def _cell(table: str, row: str, col: str, labels: dict[str, tuple[str, str] | None], states: dict[str, str | None]):
    """One keys row (without identities); ``labels[v]`` = (row label, column label) printed in version v."""
    newest = next((labels[v] for v in reversed(VERSIONS) if labels.get(v)), None)
    row_en, col_en = ROW_NAMES_EN[table][row], COLUMN_NAMES_EN[table][col]
    return {
        "table": table,
        "row_key": row,
        "column_key": col,
        "label_zh": " / ".join(newest) if newest else None,
        **{f"label_zh_{v}": " / ".join(labels[v]) if labels.get(v) else None for v in VERSIONS},  # type: ignore[arg-type]
        "row_label_zh": newest[0] if newest else None,
        "column_label_zh": newest[1] if newest else None,
        "name_en": f"{row_en} - {col_en}",
        "row_name_en": row_en,
        "column_name_en": col_en,
        "unit": SPECS[table].column(col).unit if col in SPECS[table].column_keys else SPECS[table].columns[0].unit,
        **{f"in_{v}": states.get(v) for v in VERSIONS},
        "derived": all(s != PRINTED for s in states.values()),
    }


def _proactive() -> list[dict]:
    out = []
    for row in PROACTIVE_SPEC.rows:
        cols = [
            c
            for c in PROACTIVE_SPEC.columns
            if any(c.key in PROACTIVE_CELLS[v].get(row.block or "", ()) for v in VERSIONS)
        ]
        for col in cols:
            labels, states = {}, {}
            for v in VERSIONS:
                printed = v in row.labels and col.key in PROACTIVE_CELLS[v].get(row.block or "", ())
                labels[v] = (row.labels[v], col.labels[v]) if printed else None
                states[v] = PRINTED if printed else None
            rec = _cell(PROACTIVE, row.key, col.key, labels, states)
            rec["parent_key"] = row.block
            out.append(rec)
    return out


def _requests() -> list[dict]:
    out = []
    derived_labels = REQUESTS_SPEC.derived_rows
    printed_rows = {r.key: r for r in REQUESTS_SPEC.rows}
    order: list[str] = []
    for r in REQUESTS_SPEC.rows:
        if r.parent and r.parent not in order:
            order.append(r.parent)
        if r.key not in order:
            order.append(r.key)
    columns = [*REQUESTS_SPEC.column_keys[:-1], *_DERIVED_COLUMNS[REQUESTS], REQUESTS_SPEC.column_keys[-1]]
    for row in order:
        spec = printed_rows.get(row)
        for col in columns:
            labels, states = {}, {}
            for v in VERSIONS:
                col_label = (
                    REQUESTS_SPEC.column(col).labels[v]
                    if col in REQUESTS_SPEC.column_keys
                    else lx.DERIVED_GROUP_LABELS[col]
                )
                if spec is not None and v in spec.labels:
                    row_label = spec.labels[v]
                    state = PRINTED if col in REQUESTS_SPEC.column_keys else DERIVED
                elif row in derived_labels and (row != "other" or v == V2021):
                    row_label, state = derived_labels[row], DERIVED
                else:
                    labels[v], states[v] = None, None
                    continue
                labels[v] = (row_label, col_label)
                states[v] = state
            rec = _cell(REQUESTS, row, col, labels, states)
            rec["parent_key"] = spec.parent if spec is not None else None
            out.append(rec)
    return out


def _review() -> list[dict]:
    out = []
    rows = [*REVIEW_SPEC.row_keys[:1], *_REVIEW_DERIVED_ROWS, *REVIEW_SPEC.row_keys[1:]]
    for row in rows:
        for col in REVIEW_SPEC.columns:
            if row in _REVIEW_DERIVED_ROWS:
                labels = {v: (lx.DERIVED_GROUP_LABELS[row], col.labels[v]) for v in VERSIONS}
                states = {v: DERIVED for v in VERSIONS}
            else:
                labels = {v: (REVIEW_SPEC.row(row).labels[v], col.labels[v]) for v in VERSIONS}
                states = {v: PRINTED for v in VERSIONS}
            rec = _cell(REVIEW_LITIGATION, row, col.key, labels, states)
            rec["parent_key"] = (
                "litigation_total" if row.startswith("litigation_") and row != "litigation_total" else None
            )
            out.append(rec)
    return out


def _identities(table: str, row: str, col: str) -> tuple[list[str], list[str]]:
    """The hard identities and soft checks a cell takes part in (``schemas.checks``, ``schemas.soft_checks``)."""
    hard: list[str] = []
    soft: list[str] = []
    if table == REQUESTS:
        if row in ("new_requests", "carried_over", "total_processed", "carried_forward") and col != "legal_subtotal":
            hard.append("requests.balance")
        outcome_rows = set(requests_outcome_rows(V2019)) | set(requests_outcome_rows(V2021))
        if (row == "total_processed" or row in outcome_rows) and col != "legal_subtotal":
            hard.append("requests.outcomes")
        if col in (*APPLICANT_COLUMNS, "total") and row in {r.key for r in REQUESTS_SPEC.rows}:
            hard.append("requests.row_total")
        if row in ("carried_over", "carried_forward") and col != "legal_subtotal":
            soft.append("requests.carry_continuity")
    elif table == REVIEW_LITIGATION and row in REVIEW_SPEC.row_keys:
        hard.append("review_litigation.row_total")
    elif table == PROACTIVE and row in ("rules", "normative_docs") and col in ("issued", "repealed", "in_force"):
        soft.append("proactive.in_force_continuity")
    hard.append("counts.non_negative")
    return hard, soft


@cache
def key_rows() -> tuple[dict, ...]:
    """Every canonical cell of the three tables, in print order, as records of ``warehouse.schema.KEYS``."""
    rows = [*_proactive(), *_requests(), *_review()]
    out = []
    for i, rec in enumerate(rows):
        hard, soft = _identities(rec["table"], rec["row_key"], rec["column_key"])
        rec["identities"] = ", ".join(hard)
        rec["soft_checks"] = ", ".join(soft) or None
        rec["key_index"] = i
        out.append({c.name: rec.get(c.name) for c in KEYS.columns})
    return tuple(out)


def keys_table() -> pa.Table:
    """The keys as an Arrow table with the published schema (field descriptions from ``warehouse.schema.KEYS``)."""
    return pa.Table.from_pylist(list(key_rows()), schema=arrow_schema(KEYS.name))


__all__ = ["COLUMN_NAMES_EN", "DERIVED", "PRINTED", "ROW_NAMES_EN", "key_rows", "keys_table"]
