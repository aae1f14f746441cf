"""Synthetic scans: the generator's PDFs printed, scanned and degraded, with known values.

A report is rendered by ``synth.pdf.render_pdf`` with a real CJK font embedded (PDFium draws no
glyph for the non-embedded STSong-Light when the machine has no CJK font), rasterised at the
scanner's resolution and degraded the way office scanners and phone photos degrade a page:
a few tenths of a degree to 1.5° of skew, blur, sensor noise and specks, uneven light, JPEG at
quality 40-60. The pages come back as an image-only PDF (``scanned_report_pdf``) or as
standalone image files (``scanned_report_images``); ``SyntheticReport.expected_facts()`` stays
the exact expectation. The font comes from the ``weblate-fonts`` dev dependency (Kurinto Sans
SC, OFL); nothing is downloaded.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xxgk.synth.generate import PrintedDocument
from xxgk.synth.pdf import PAGE_H, PAGE_W, render_pdf
from xxgk.synth.report import SyntheticReport

IMAGE_FORMATS = ("jpeg", "png", "tiff", "bmp", "webp", "gif")


@dataclass(frozen=True)
class Degradation:
    """How a page is scanned: resolution, skew (degrees, sign drawn per page), blur (Gaussian sigma in
    pixels), noise (Gaussian sigma in grey levels), specks (dark dots per megapixel), uneven light
    (share of brightness lost towards one corner), JPEG quality (None: lossless)."""

    name: str
    dpi: int = 200
    skew: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    specks: float = 0.0
    light: float = 0.0
    jpeg_quality: int | None = None

    def __post_init__(self) -> None:
        if not 72 <= self.dpi <= 600:
            raise ValueError(f"dpi must be in 72..600, got {self.dpi}")
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {self.jpeg_quality}")
        if min(self.skew, self.blur, self.noise, self.specks, self.light) < 0 or self.light >= 1:
            raise ValueError("skew, blur, noise, specks must be >= 0 and light in [0, 1)")


#: Degradation levels of the tests and the benchmark, mildest first (all within the issue's bounds:
#: skew up to ±1.5°, JPEG quality 40-60, 150-200 dpi).
LEVELS: dict[str, Degradation] = {
    d.name: d
    for d in (
        Degradation("clean", dpi=200),
        Degradation("light", dpi=200, skew=0.5, blur=0.5, noise=4, specks=2, light=0.10, jpeg_quality=60),
        Degradation("medium", dpi=180, skew=1.0, blur=0.8, noise=8, specks=5, light=0.20, jpeg_quality=50),
        Degradation("heavy", dpi=150, skew=1.5, blur=1.0, noise=12, specks=10, light=0.30, jpeg_quality=40),
    )
}


def cjk_font_file() -> str:
    """A TrueType font with the simplified Chinese glyphs, from the ``weblate-fonts`` dev dependency."""
    try:
        import weblate_fonts
    except ImportError as exc:  # pragma: no cover - a dev dependency of the project
        raise RuntimeError("synthetic scans need the weblate-fonts package (a dev dependency)") from exc
    path = Path(weblate_fonts.__file__).parent / "static" / "weblate_fonts" / "kurinto" / "ttf" / "KurintoSansSC-Rg.ttf"
    if not path.exists():  # pragma: no cover
        raise RuntimeError(f"CJK font not found in weblate-fonts: {path}")
    return str(path)


def printable_pdf(report: SyntheticReport | PrintedDocument, **options: Any) -> bytes:
    """The report as ``render_pdf`` lays it out, with glyphs a rasteriser can draw."""
    return render_pdf(report, font_file=cjk_font_file(), **options)


def rasterise(pdf: bytes, dpi: int, pages: int | None = None) -> list[Any]:
    """Grey pages (numpy uint8 arrays) of a PDF at ``dpi``."""
    import numpy as np
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    out = []
    try:
        count = len(doc) if pages is None else min(pages, len(doc))
        for i in range(count):
            page = doc[i]
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            array = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
            out.append(array.reshape(array.shape[0], array.shape[1], -1)[:, :, 0])
            bitmap.close()
            page.close()
    finally:
        doc.close()
    return out


def degrade(page: Any, level: Degradation, rng: random.Random) -> Any:
    """One grey page as the scanner returns it (before compression)."""
    import cv2
    import numpy as np

    img = page.astype(np.float32)
    h, w = img.shape
    if level.skew:
        angle = rng.uniform(0.5, 1.0) * level.skew * rng.choice((-1, 1))
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        img = cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255.0)
    if level.blur:
        img = cv2.GaussianBlur(img, (0, 0), level.blur)
    if level.light:
        cx, cy = rng.choice(((0, 0), (w, 0), (0, h), (w, h)))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / np.hypot(w, h)
        img = img * (1.0 - level.light * (1.0 - dist))
    seed = rng.randrange(2**32)
    noise_rng = np.random.default_rng(seed)
    if level.noise:
        img = img + noise_rng.normal(0.0, level.noise, img.shape).astype(np.float32)
    if level.specks:
        n = int(level.specks * h * w / 1e6)
        ys = noise_rng.integers(0, h, n)
        xs = noise_rng.integers(0, w, n)
        for y, x in zip(ys, xs, strict=True):
            cv2.circle(img, (int(x), int(y)), int(noise_rng.integers(1, 3)), float(noise_rng.integers(40, 140)), -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def encode(image: Any, fmt: str = "jpeg", quality: int | None = None, dpi: int | None = None) -> bytes:
    """Image file bytes (JPEG at ``quality``, or a lossless format)."""
    from PIL import Image

    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"format must be one of {IMAGE_FORMATS}")
    pil = Image.fromarray(image)
    buf = io.BytesIO()
    kwargs: dict[str, Any] = {}
    if dpi:
        kwargs["dpi"] = (dpi, dpi)
    if fmt == "jpeg":
        pil.save(buf, format="JPEG", quality=quality or 90, **kwargs)
    elif fmt == "webp":
        pil.save(buf, format="WEBP", lossless=quality is None, quality=quality or 90)
    elif fmt == "tiff":
        pil.save(buf, format="TIFF", compression="tiff_lzw", **kwargs)
    else:
        pil.save(buf, format=fmt.upper(), **({} if fmt == "gif" else kwargs))
    return buf.getvalue()


def scanned_pages(
    report: SyntheticReport | PrintedDocument,
    level: Degradation | str = "light",
    *,
    seed: int = 0,
    pages: int | None = None,
    fmt: str = "jpeg",
    **render_options: Any,
) -> list[bytes]:
    """The report's pages as scanned image files (JPEG at the level's quality unless ``fmt`` says otherwise)."""
    level = LEVELS[level] if isinstance(level, str) else level
    rng = random.Random(seed)
    out = []
    for page in rasterise(printable_pdf(report, **render_options), level.dpi, pages):
        image = degrade(page, level, rng)
        quality = level.jpeg_quality if fmt in ("jpeg", "webp") else None
        out.append(encode(image, fmt, quality, level.dpi))
    return out


def images_to_pdf(images: list[bytes]) -> bytes:
    """An image-only PDF: one A4 page per image file, no text layer (as a scanner writes it)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    cv = canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1)
    for data in images:
        cv.drawImage(ImageReader(io.BytesIO(data)), 0, 0, width=PAGE_W, height=PAGE_H)
        cv.showPage()
    cv.save()
    return buf.getvalue()


def scanned_report_pdf(
    report: SyntheticReport | PrintedDocument,
    level: Degradation | str = "light",
    *,
    seed: int = 0,
    pages: int | None = None,
    **render_options: Any,
) -> bytes:
    """The report printed, scanned at ``level`` and saved as an image-only PDF."""
    return images_to_pdf(scanned_pages(report, level, seed=seed, pages=pages, **render_options))


def scanned_report_images(
    report: SyntheticReport | PrintedDocument,
    level: Degradation | str = "light",
    *,
    seed: int = 0,
    fmt: str = "jpeg",
    **render_options: Any,
) -> list[bytes]:
    """The report printed and scanned at ``level``, one image file per page."""
    return scanned_pages(report, level, seed=seed, fmt=fmt, **render_options)


def table_image_page(
    report: SyntheticReport,
    level: Degradation | str = "light",
    *,
    seed: int = 0,
    image_names: str = "table-{n}.jpg",
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A report page whose tables are pictures: the HTML page (UTF-8) with every ``<table>``
    taken out and the printed pages, scanned at ``level``, as ``<img>`` elements of its body in
    their place; returns the page and the (relative URL, JPEG bytes) of each image."""
    import re

    from xxgk.synth.html import render_html

    page = render_html(report).decode("utf-8")
    images = [(image_names.format(n=i), data) for i, data in enumerate(scanned_pages(report, level, seed=seed), 1)]
    tags = "".join(f'<p><img src="{name}" width="1240" alt=""></p>' for name, _ in images)
    tables = list(re.finditer(r"<table\b.*?</table>", page, flags=re.S | re.I))
    if not tables:
        raise ValueError("the rendered page has no table to replace")
    page = page[: tables[0].start()] + tags + re.sub(r"<table\b.*?</table>", "", page[tables[0].start() :], flags=re.S | re.I)
    return page.encode("utf-8"), images


def partly_scanned_pdf(
    report: SyntheticReport, level: Degradation | str = "light", *, scanned: tuple[int, ...] = (3,), seed: int = 0
) -> bytes:
    """The report's text-layer PDF with the pages numbered in ``scanned`` replaced by their
    scans (image-only pages inside a text PDF, as when a signed page is scanned back in)."""
    import pypdfium2 as pdfium

    text = pdfium.PdfDocument(render_pdf(report))
    scan = pdfium.PdfDocument(scanned_report_pdf(report, level, seed=seed))
    out = pdfium.PdfDocument.new()
    try:
        for i in range(len(text)):
            out.import_pages(scan if i + 1 in scanned else text, [i])
        buf = io.BytesIO()
        out.save(buf)
        return buf.getvalue()
    finally:
        out.close()
        scan.close()
        text.close()


def with_dpi(level: Degradation | str, dpi: int) -> Degradation:
    """The same degradation at another resolution."""
    base = LEVELS[level] if isinstance(level, str) else level
    return replace(base, name=f"{base.name}@{dpi}", dpi=dpi)


__all__ = [
    "IMAGE_FORMATS",
    "LEVELS",
    "Degradation",
    "cjk_font_file",
    "degrade",
    "encode",
    "images_to_pdf",
    "partly_scanned_pdf",
    "printable_pdf",
    "rasterise",
    "scanned_pages",
    "scanned_report_images",
    "scanned_report_pdf",
    "table_image_page",
    "with_dpi",
]
