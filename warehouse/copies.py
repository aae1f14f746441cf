"""One report per publisher and year: which of a report's copies counts (``reports.is_primary``).

The same report often arrives as several documents: the report page, its PDF attachment, a text
export, a re-upload. Counted together they double every sum, so the documents of one source and
year are grouped as copies of one report and exactly one of them is ``is_primary``; the others
stay in the warehouse (their facts too) with ``primary_document_sha256`` pointing at it.

The rule is ``schemas.choice``'s, the one that chooses a report's document among a page and its
attachments (``copy_rank``): best status, then most printed cells read (``n_facts``), then the kind
of file (the page holding the tables, structured files, PDFs, text exports, pictures), then the
lowest ``document_sha256`` (so the choice never depends on the order documents arrive in).
Documents that are ``not_a_report`` are never primary and belong to no group.

Documents of unknown year (``year=-1``) are each their own report. ``n_copies`` counts the
documents of the group, the primary included.
"""

from __future__ import annotations

import pyarrow as pa

from xxgk.schemas.choice import copy_rank
from xxgk.schemas.records import STATUS_NOT_A_REPORT
from xxgk.warehouse.documents import UNKNOWN_YEAR

COPY_COLUMNS = ("is_primary", "primary_document_sha256", "n_copies")


def choose_primaries(rows: list[dict], year: int) -> list[tuple[bool, str | None, int]]:
    """(is_primary, primary_document_sha256, n_copies) per row of one year's reports.

    ``rows`` carry source_id, document_sha256, status, n_facts and format.
    """
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if r["status"] == STATUS_NOT_A_REPORT:
            continue
        key = r["source_id"] if year != UNKNOWN_YEAR else f"{r['source_id']}\x1f{r['document_sha256']}"
        groups.setdefault(key, []).append(i)
    out: list[tuple[bool, str | None, int]] = [(False, None, 0)] * len(rows)
    for members in groups.values():
        best = min(
            members,
            key=lambda i: copy_rank(
                rows[i]["status"], rows[i]["n_facts"], rows[i]["format"], rows[i]["document_sha256"]
            ),
        )
        sha = rows[best]["document_sha256"]
        for i in members:
            out[i] = (i == best, sha, len(members))
    return out


def mark_copies(reports: pa.Table, year: int) -> pa.Table:
    """``reports`` (one year partition, any schema with the columns above) with the copy columns set."""
    rows = reports.select(["source_id", "document_sha256", "status", "n_facts", "format"]).to_pylist()
    marks = choose_primaries(rows, year)
    values = {
        "is_primary": pa.array([m[0] for m in marks], pa.bool_()),
        "primary_document_sha256": pa.array([m[1] for m in marks], pa.string()),
        "n_copies": pa.array([m[2] for m in marks], pa.int32()),
    }
    for name, array in values.items():
        idx = reports.schema.get_field_index(name)
        typ = reports.schema.field(idx).type
        if pa.types.is_dictionary(typ):
            array = array.dictionary_encode().cast(typ)
        reports = reports.set_column(idx, reports.schema.field(idx), array.cast(typ) if array.type != typ else array)
    return reports
