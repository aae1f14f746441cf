"""One LibreOffice call per extraction batch for the documents that need it (DOC, WPS, RTF, ODT).

Starting ``soffice`` costs about a second; every further document of the same call a fraction
of that (docs/benchmarks.md). Before a batch is extracted one document at a time, the documents
it will parse that LibreOffice must convert are converted together
(``extractors.converter.preconvert``), and each reader then finds its conversion done. Only
documents that will be parsed count: those already staged by this extractor version are left
out. For a report of several documents every unstaged candidate counts, although the chain may
stop before it (the page held the tables): that costs a fraction of a second in the shared call,
against a second per document otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from xxgk.extractors.converter import preconvert
from xxgk.extractors.sniff import OLE2_MAGIC
from xxgk.flows.inputs import DocumentJob

_log = logging.getLogger("xxgk")

#: How the files LibreOffice converts begin (OLE2 for DOC/WPS, RTF, ZIP for ODT, XML for Word 2003).
_CONVERTED_OPENINGS = (OLE2_MAGIC, b"{\\rtf", b"PK\x03\x04", b"<?xml", b"\xef\xbb\xbf<?xml")


def _candidates(jobs: Iterable[DocumentJob]) -> Iterator[DocumentJob]:
    for job in jobs:
        yield job
        yield from job.alternatives


def _may_need_conversion(location: str) -> bytes | None:
    """The file's bytes when its opening is one LibreOffice may have to convert, else None."""
    try:
        with Path(location).open("rb") as handle:
            opening = handle.read(8)
            if not opening.startswith(_CONVERTED_OPENINGS):
                return None
            return opening + handle.read()
    except OSError:
        return None  # the extraction reports the unreadable file with its reason


def preconvert_batch(jobs: Sequence[DocumentJob], will_parse: Callable[[DocumentJob], bool]) -> int:
    """Convert, in one LibreOffice call, the batch's documents that ``will_parse`` and need it.

    Returns how many were converted (0 without LibreOffice: each such document then gets its
    ``needs_converter`` status when it is read).
    """
    documents = [
        data
        for cand in _candidates(jobs)
        if cand.location and will_parse(cand) and (data := _may_need_conversion(cand.location)) is not None
    ]
    if not documents:
        return 0
    converted = preconvert(documents)
    if converted:
        _log.info("converted %d document(s) with LibreOffice in one call", converted)
    return converted


__all__ = ["preconvert_batch"]
