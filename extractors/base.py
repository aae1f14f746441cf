"""What every format extractor returns before label mapping.

An extractor turns bytes into grids (tables as printed, merged cells expanded) and the
document's plain text (for the title, year, narrative and legacy detection). It does not know
the canonical keys: ``schemas.mapping`` does that, the same way for every format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xxgk.schemas.grid import Grid


class ExtractionError(Exception):
    """A document that cannot be read; ``status`` is the report status it gets (failed, needs_ocr...)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class RawDocument:
    """Grids and text read from one document, with the format and any extractor warnings."""

    format: str
    grids: list[Grid]
    text: str
    title: str = ""
    warnings: list[str] = field(default_factory=list)
