"""Settings of the PDF reader: limits against hostile files, and the table finder's tolerances."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Who reads characters and paths of the table pages (both feed pdfplumber's table finder).
BACKENDS = ("pdfium", "pdfplumber")


@dataclass(frozen=True)
class PdfSettings:
    """Limits and table-finder settings of the PDF extractor (validated; pdfplumber's TableSettings is the model).

    Limits: ``max_bytes`` of the file, ``max_pages``, ``max_page_chars`` (characters on one page),
    ``max_inflated_bytes`` (all Flate streams inflated: decompression bombs),
    ``max_page_content_bytes`` (one page's content streams decoded: PDFium needs ~14× that to load
    the page) fail the document;
    ``max_page_objects`` (drawing objects on one table page) skips that page with a warning.
    Tolerances are in PDF points: ``snap``/``join``/``intersection``/``edge_min_length`` as in
    pdfplumber; ``thin_rect`` is the thickness under which a filled rectangle counts as a ruling
    line (Word draws rules that way); ``text_x/y_tolerance`` group characters into words and
    lines. ``min_marker_hits`` is how many distinct table labels a page's text needs to be read as
    a table page (a page right after a table page needs one, or a first line of numbers).
    ``word_fallback`` reads pages without rules from word positions, splitting words into cells
    at gaps wider than ``word_gap_em`` character heights. ``all_pages`` runs the table finder on
    every page. ``backend`` chooses who reads characters and paths of the table pages: ``pdfium``
    (PDFium's C API, fast) or ``pdfplumber`` (pdfminer, ~20× slower, the reference reader); both
    feed pdfplumber's table finder. ``pause_gc`` pauses the cyclic GC during a document (pdfminer
    allocates heavily). ``extra_markers`` adds label cores that mark table pages.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_pages: int = 300
    max_page_chars: int = 200_000
    max_inflated_bytes: int = 256 * 1024 * 1024
    max_page_content_bytes: int = 16 * 1024 * 1024
    max_page_objects: int = 100_000
    snap_tolerance: float = 3.0
    join_tolerance: float = 3.0
    intersection_tolerance: float = 3.0
    edge_min_length: float = 3.0
    thin_rect: float = 2.0
    text_x_tolerance: float = 3.0
    text_y_tolerance: float = 3.0
    min_marker_hits: int = 2
    word_fallback: bool = True
    word_gap_em: float = 0.6
    all_pages: bool = False
    pause_gc: bool = True
    backend: str = "pdfium"
    extra_markers: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in (
            "max_bytes",
            "max_pages",
            "max_page_chars",
            "max_inflated_bytes",
            "max_page_content_bytes",
            "max_page_objects",
            "min_marker_hits",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"PdfSettings.{name} must be a positive integer, got {value!r}")
        for name in (
            "snap_tolerance",
            "join_tolerance",
            "intersection_tolerance",
            "edge_min_length",
            "thin_rect",
            "text_x_tolerance",
            "text_y_tolerance",
            "word_gap_em",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"PdfSettings.{name} must be a non-negative number, got {value!r}")
        if self.word_gap_em == 0:
            raise ValueError("PdfSettings.word_gap_em must be > 0")
        if self.backend not in BACKENDS:
            raise ValueError(f"PdfSettings.backend must be one of {BACKENDS}, got {self.backend!r}")
        if not all(isinstance(m, str) and m for m in self.extra_markers):
            raise ValueError("PdfSettings.extra_markers must be non-empty strings")


DEFAULT_SETTINGS = PdfSettings()
