"""DOC, WPS-style and RTF test documents: a synthetic DOCX converted by LibreOffice.

Portals publish Word 97 binaries (``.doc``), WPS Office files (``.wps``: the same binary, its
summary naming WPS Office) and RTF. No Python library writes those, so the DOCX that
``synth.docx`` renders is converted by LibreOffice (``extractors.converter``: private profile,
timeout, one soffice call per batch). Needs soffice; ``available()`` says whether it is there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xxgk.extractors.base import ExtractionError
from xxgk.extractors.converter import convert_many, find_soffice
from xxgk.synth.docx import render_docx
from xxgk.synth.generate import PrintedDocument
from xxgk.synth.ole import as_written_by_wps
from xxgk.synth.report import SyntheticReport

#: Formats this module renders, by the name detection gives them.
FORMATS = ("doc", "wps", "rtf")


def available() -> bool:
    """Whether LibreOffice (soffice) is there to make these documents."""
    return find_soffice() is not None


def render_office(
    reports: Sequence[SyntheticReport | PrintedDocument], fmt: str, **docx_options: Any
) -> list[bytes]:
    """Each report as a ``doc``, ``wps`` or ``rtf`` document, all converted in one soffice call."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {FORMATS}")
    items = [(render_docx(r, **docx_options), "docx") for r in reports]
    target = "rtf" if fmt == "rtf" else "doc"
    out: list[bytes] = []
    for result in convert_many(items, target=target):
        if isinstance(result, ExtractionError):
            raise RuntimeError(f"LibreOffice could not make a {fmt} test document: {result.reason}")
        out.append(as_written_by_wps(result) if fmt == "wps" else result)
    return out


__all__ = ["FORMATS", "available", "render_office"]
