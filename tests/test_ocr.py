"""Scanned reports read by offline OCR: golden synthetic scans, a rasterised real report, limits,
no network, lazy imports.

OCR costs seconds per page, so each document here is generated and read once per module; the
degradation levels and report sets beyond these few live in the benchmark (``xxgk.bench.ocr``).
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

import pytest

from tests.corpus import corpus_path
from xxgk.bench.corpus import cell_difference, expected_rows
from xxgk.bench.ocr import cell_outcomes
from xxgk.extractors import detect_format, extract_document
from xxgk.extractors.base import ExtractionError
from xxgk.extractors.ocr import OcrSettings, read_scanned_pdf, read_table_images
from xxgk.extractors.ocr.bundle import TableImagePage, is_pack, pack, unpack
from xxgk.extractors.ocr.engine import Reading
from xxgk.extractors.ocr.images import image_kind
from xxgk.extractors.ocr.reading import CellReading, misfit, settle
from xxgk.schemas.records import STATUS_NEEDS_OCR, STATUS_OK, DocumentResult
from xxgk.schemas.values import AMBIGUOUS
from xxgk.synth.generate import generate_report
from xxgk.synth.scan import (
    degrade,
    encode,
    images_to_pdf,
    partly_scanned_pdf,
    rasterise,
    scanned_report_images,
    scanned_report_pdf,
    table_image_page,
    with_dpi,
)

ROOT = Path(__file__).resolve().parents[1]


@cache
def scanned(version: str, level: str, seed: int) -> tuple[list[dict[str, object]], DocumentResult]:
    report = generate_report(seed, versions=version, defects=())
    pdf = scanned_report_pdf(report, level, seed=seed)
    return report.expected_facts(), extract_document(pdf, "scan.pdf")


# -- golden synthetic scans: every printed cell exact or ambiguous, never wrong ----------------------


@pytest.mark.parametrize(("version", "level", "seed"), [("v2019", "medium", 1), ("v2021", "heavy", 0)])
def test_scanned_report_cells_are_exact_or_ambiguous_never_wrong(version: str, level: str, seed: int) -> None:
    expected, result = scanned(version, level, seed)
    assert result.status == STATUS_OK, result.reason
    assert result.format == "pdf-ocr"
    assert result.template_versions and set(result.template_versions.values()) == {version}
    cells = cell_outcomes(expected, result)
    assert cells["wrong"] == []
    assert len(cells["exact"]) >= 0.97 * len(expected), cells["ambiguous"]
    for line in cells["ambiguous"]:
        assert "readings" in line or "read" in line  # the candidates are named in the note


def test_ocr_facts_carry_page_box_and_confidence() -> None:
    _expected, result = scanned("v2019", "medium", 1)
    facts = [f for f in result.facts if f.value_status != "derived"]
    assert facts and all(f.box_unit == "pt" and f.bbox is not None and f.page in (1, 2, 3) for f in facts)
    assert all(f.confidence is not None and 0.5 <= f.confidence <= 1.0 for f in facts if f.raw_text)
    for f in facts:  # boxes inside the A4 page, in points from its top-left corner
        x0, top, x1, bottom = f.bbox  # type: ignore[misc]
        assert 0 <= x0 < x1 <= 595 and 0 <= top < bottom <= 842


def test_wrapped_label_lines_are_read_one_by_one() -> None:
    """Regression: a label wrapped over three lines was read as one garbled line (the crop of a
    line took in the glyphs of the next), so its row of (六) 其他处理 went missing."""
    expected, result = scanned("v2021", "heavy", 0)
    keys = {(f.table, f.row_key) for f in result.facts}
    assert ("requests", "other.no_correction") in keys and ("requests", "other.fee_unpaid") in keys
    assert any(r["table"] == "requests" and r["row_key"] == "other.no_correction" for r in expected)


# -- a real report, rasterised at 200 dpi with skew and noise --------------------------------------------


def test_rasterised_corpus_report_is_exact() -> None:
    path = corpus_path("hongze_2024.pdf")
    level = with_dpi("medium", 200)
    rng = random.Random(7)
    pages = [encode(degrade(p, level, rng), "jpeg", level.jpeg_quality, 200) for p in rasterise(path.read_bytes(), 200)]
    result = extract_document(images_to_pdf(pages), "hongze_2024_scan.pdf")
    assert result.status == STATUS_OK and result.format == "pdf-ocr", result.reason
    rows = expected_rows("hongze_2024")
    got = {(f.table, f.row_key, f.column_key): f for f in result.facts}
    diffs = [(cell_difference(r, f), f) for r in rows if (f := got.get((r["table"], r["row_key"], r["column_key"]))) or True]
    wrong = [d for d, f in diffs if d is not None and (f is None or f.value_status != AMBIGUOUS)]
    exact = sum(1 for d, _ in diffs if d is None)
    assert wrong == [] and exact >= 0.99 * len(rows), [d for d, _ in diffs if d]


# -- other forms: pictures in a text PDF, a report page with table images ------------------------------


def test_page_scanned_into_a_text_pdf_is_read_by_ocr() -> None:
    report = generate_report(4, versions="v2019", defects=())
    result = extract_document(partly_scanned_pdf(report, "light", scanned=(3,)), "mixed.pdf")
    assert result.status == STATUS_OK and result.format == "pdf+ocr", result.reason
    cells = cell_outcomes(report.expected_facts(), result)
    assert cells["wrong"] == [] and len(cells["exact"]) >= 0.97 * len(report.expected_facts())
    assert any("p.3: page without a text layer read by OCR" in w for w in result.warnings)


def test_picture_regions_come_from_the_readers_page_pass_without_opening_the_file_again() -> None:
    """The reader's pass over the pages sees the same pictures as a pass of its own (one PDFium pass, not two)."""
    from xxgk.extractors.ocr.pdf_regions import image_regions
    from xxgk.extractors.pdf import extract_pdf

    report = generate_report(4, versions="v2019", defects=())
    data = partly_scanned_pdf(report, "light", scanned=(3,))
    raw = extract_pdf(data)
    assert raw.pictures is not None and [p.page for p in raw.pictures] == [1, 2, 3]
    regions = image_regions(data, raw.pictures)
    assert regions == image_regions(data)
    assert [(r.page, r.whole_page) for r in regions] == [(3, True)]


def test_report_page_with_table_images_is_read_as_html_ocr(tmp_path: Path) -> None:
    """Harvested against a local portal: the page's <img> are fetched, archived and packed."""
    from xxgk.demo import PortalSpec, serve_portal
    from xxgk.harvest.archive import RawArchive
    from xxgk.harvest.fetch import FetchConfig, Fetcher
    from xxgk.harvest.harvester import extract_report, harvest_source
    from xxgk.harvest.registry import source_from_dict

    report = generate_report(5, versions="v2021", defects=())
    page, images = table_image_page(report, "light", image_names="/r/img/table-{n}.jpg")
    listing = f'<html><body><ul><li><a href="/r/2024.html">{report.title}</a></li></ul></body></html>'
    static = {"/r/index.html": ("text/html; charset=utf-8", listing.encode()), "/r/2024.html": ("text/html; charset=utf-8", page)}
    static.update({name: ("image/jpeg", data) for name, data in images})
    with serve_portal(PortalSpec(static=static)) as (_, base), Fetcher(FetchConfig.for_tests()) as fetcher:
        src = source_from_dict({"source_id": "img", "publisher": report.publisher, "listing_urls": ["{portal}/r/index.html"]})
        archive = RawArchive(tmp_path)
        harvest = harvest_source(src.resolve_portal(base), archive, fetcher)
    (rep,) = harvest.reports
    packs = [d for d in rep.attachments if d.url.endswith("#table-images")]
    assert len(packs) == 1 and rep.has_tables is False
    assert len(unpack(archive.get(packs[0].sha256)).images) == len(images)
    extracted = extract_report(rep, archive)
    assert extracted is not None and extracted.document.sha256 == packs[0].sha256
    result = extracted.result
    assert result.status == STATUS_OK and result.format == "html-ocr", result.reason
    assert result.year == report.year and result.publisher == report.publisher
    cells = cell_outcomes(report.expected_facts(), result)
    assert cells["wrong"] == [] and len(cells["exact"]) >= 0.97 * len(report.expected_facts())
    assert {f.box_unit for f in result.facts if f.bbox is not None} == {"px"}


def test_table_image_pack_is_deterministic_and_checked() -> None:
    page = TableImagePage("http://x/a.html", b"<html></html>", "utf-8", (("http://x/1.png", b"\x89PNG\r\n\x1a\nAB"),))
    data = pack(page)
    assert data == pack(page) and is_pack(data) and detect_format(data) == "table-images"
    assert unpack(data) == page
    with pytest.raises(ExtractionError, match=r"unreadable|sha256"):  # CRC or digest: never read as it is
        unpack(data.replace(b"\x1a\nAB", b"\x1a\nCD"))


# -- settling readings: agreement settles, anything else is ambiguous with the readings -----------------


def _cell(text: str, score: float) -> CellReading:
    return CellReading(cell=None, text=text, confidence=score)  # type: ignore[arg-type]


def test_a_circle_read_for_zero_settles_only_on_a_reading_of_the_digit() -> None:
    cr = _cell("。", 0.97)
    settle(cr, [Reading("。", 0.97), Reading("0", 0.99)], "low confidence")
    assert (cr.text, cr.hint) == ("0", None)
    cr = _cell("。", 0.97)
    settle(cr, [Reading("。", 0.97), Reading("o", 0.90), Reading("。", 0.6)], "low confidence")
    assert (cr.text, cr.hint) == ("", AMBIGUOUS)  # no reading printed the digit: never filled in


def test_disagreeing_readings_are_ambiguous_with_every_reading_in_note() -> None:
    cr = _cell("7", 0.80)
    settle(cr, [Reading("7", 0.80), Reading("1", 0.95), Reading("，", 0.90)], "low confidence")
    assert cr.hint == AMBIGUOUS and all(t in cr.note for t in ("'7'", "'1'", "'，'"))
    cr = _cell("Q", 1.0)
    settle(cr, [Reading("Q", 1.0), Reading("Q", 1.0)], "reads as neither a label nor a value")
    assert (cr.text, cr.hint) == ("", AMBIGUOUS) and "'Q'" in cr.note
    assert misfit("Q") and misfit("0.") and not misfit("0") and not misfit("增40") and not misfit("总计")


def test_identity_failures_need_unanimous_readings() -> None:
    cr = _cell("8", 0.99)
    settle(cr, [Reading("8", 0.99), Reading("8", 0.98), Reading("3", 0.90)], "identity fails", unanimous=True)
    assert cr.hint == AMBIGUOUS


# -- limits: a status and a reason, never an exception or a silent empty result ---------------------------


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (width, height), 255).save(buf, format="PNG")
    return buf.getvalue()


def test_pixel_limit_refuses_a_decompression_bomb_before_decoding() -> None:
    bomb = _png(9000, 9000)  # 81 Mpx in a few kB
    assert image_kind(bomb) == "png" and len(bomb) < 200_000
    result = extract_document(bomb, "bomb.png")
    assert result.status == STATUS_NEEDS_OCR and "pixel" in result.reason
    with pytest.raises(ExtractionError, match="OCR pixel limit"):
        read_table_images([_png(300, 300)], settings=OcrSettings(max_page_pixels=50_000))


def test_page_and_time_limits_give_needs_ocr_with_the_limit_named() -> None:
    report = generate_report(2, versions="v2021", defects=())
    pdf = scanned_report_pdf(report, "clean", pages=2)
    with pytest.raises(ExtractionError, match="page limit 1") as err:
        read_scanned_pdf(pdf, settings=OcrSettings(max_pages=1))
    assert err.value.status == STATUS_NEEDS_OCR
    with pytest.raises(ExtractionError, match="OCR time limit") as err:
        read_scanned_pdf(pdf, settings=OcrSettings(max_seconds=1e-6))
    assert err.value.status == STATUS_NEEDS_OCR


def test_ocr_settings_are_validated() -> None:
    for bad in ({"dpi": 40}, {"max_pages": 0}, {"max_seconds": 0}, {"low_confidence": 2.0}, {"max_page_pixels": True}):
        with pytest.raises(ValueError):
            OcrSettings(**bad)  # type: ignore[arg-type]


# -- the OCR stack: nothing downloaded, nothing imported unless needed ------------------------------------


def _child(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ocr_runs_with_sockets_blocked() -> None:
    """RapidOCR fetches any configured model that is missing: with every socket refused, the
    engine must still build from the wheel's models and read a scanned page."""
    out = _child(
        """
        import json, socket
        def refuse(*a, **k):
            raise OSError("network blocked by the test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from xxgk.synth.generate import generate_report
        from xxgk.synth.scan import scanned_report_images
        from xxgk.extractors import extract_document
        report = generate_report(3, versions="v2021", defects=())
        page = scanned_report_images(report, "light", fmt="png")[2]
        result = extract_document(page, "p3.png")
        print(json.dumps({"format": result.format, "facts": len(result.facts), "reason": result.reason}))
        """
    )
    assert out["format"] == "image-ocr" and int(out["facts"]) >= 15, out  # type: ignore[call-overload]


def test_text_pdf_and_html_never_import_the_ocr_stack() -> None:
    out = _child(
        """
        import json, sys
        from xxgk.synth.generate import generate_report
        from xxgk.synth.html import render_html
        from xxgk.synth.pdf import render_pdf
        from xxgk.extractors import extract_document
        report = generate_report(3, versions="v2021", defects=())
        formats = [extract_document(render_pdf(report), "r.pdf").format, extract_document(render_html(report), "r.html").format]
        heavy = sorted(m for m in ("rapidocr", "onnxruntime", "cv2") if m in sys.modules)
        print(json.dumps({"formats": formats, "heavy": heavy}))
        """
    )
    assert out == {"formats": ["pdf", "html"], "heavy": []}


def test_report_published_as_linked_scan_pictures_is_read_as_one_document(tmp_path: Path) -> None:
    """A page that only links its scanned pages (one JPEG per page): each picture alone holds a
    part of the tables, so the harvester also packs them with the page and that pack is the report."""
    from xxgk.demo import PortalSpec, serve_portal
    from xxgk.harvest.archive import RawArchive
    from xxgk.harvest.fetch import FetchConfig, Fetcher
    from xxgk.harvest.harvester import extract_report, harvest_source
    from xxgk.harvest.registry import source_from_dict

    report = generate_report(6, versions="v2021", defects=())
    scans = scanned_report_images(report, "light", seed=6)
    links = "".join(f'<p><a href="/r/scan-{n}.jpg">scan {n}</a></p>' for n in range(1, len(scans) + 1))
    page = f"<html><head><title>{report.title}</title></head><body><h1>{report.title}</h1>{links}</body></html>"
    listing = f'<html><body><ul><li><a href="/r/2024.html">{report.title}</a></li></ul></body></html>'
    static = {
        "/r/index.html": ("text/html; charset=utf-8", listing.encode()),
        "/r/2024.html": ("text/html; charset=utf-8", page.encode()),
    }
    static.update({f"/r/scan-{n}.jpg": ("image/jpeg", data) for n, data in enumerate(scans, 1)})
    with serve_portal(PortalSpec(static=static)) as (_, base), Fetcher(FetchConfig.for_tests()) as fetcher:
        src = source_from_dict(
            {"source_id": "scans", "publisher": report.publisher, "listing_urls": ["{portal}/r/index.html"]}
        )
        archive = RawArchive(tmp_path)
        harvest = harvest_source(src.resolve_portal(base), archive, fetcher)
    (rep,) = harvest.reports
    packs = [d for d in rep.attachments if d.url.endswith("#scanned-pages")]
    assert len(packs) == 1 and len(unpack(archive.get(packs[0].sha256)).images) == len(scans) >= 2
    assert rep.candidates()[0] is packs[0]  # before the pictures one by one and the page without tables
    extracted = extract_report(rep, archive)
    assert extracted is not None and extracted.document.sha256 == packs[0].sha256
    result = extracted.result
    assert result.status == STATUS_OK and result.format == "html-ocr", result.reason
    assert result.year == report.year
    cells = cell_outcomes(report.expected_facts(), result)
    assert cells["wrong"] == [] and len(cells["exact"]) >= 0.97 * len(report.expected_facts())


@pytest.mark.parametrize("missing", ["package", "model"])
def test_missing_ocr_engine_gives_needs_ocr_with_the_reason(missing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without rapidocr (or with a wheel that lacks a model) an image, a scanned PDF and a page of
    table images are needs_ocr, and the reason says why (never an exception, never empty and ok)."""
    from xxgk.extractors.ocr import engine

    monkeypatch.setattr(engine, "_ENGINES", {})
    if missing == "package":
        monkeypatch.setitem(sys.modules, "rapidocr", None)
        why = "OCR stack cannot be imported"
    else:
        monkeypatch.setattr(engine, "DET_MODEL", "no-such-model.onnx")
        why = "no-such-model.onnx"
    blank = _png(400, 300)
    result = extract_document(blank, "scan.png")
    assert result.status == STATUS_NEEDS_OCR and "OCR unavailable" in result.reason and why in result.reason
    import numpy as np

    page = encode(np.full((1200, 1700), 255, dtype=np.uint8), "png", dpi=200)
    result = extract_document(images_to_pdf([page]), "scan.pdf")
    assert result.status == STATUS_NEEDS_OCR and result.reason.count("OCR unavailable") == 1, result.reason
    assert why in result.reason and "text" in result.reason  # the text reader's reason is kept too
    ruled = np.full((1200, 1700), 255, dtype=np.uint8)  # an empty ruled table: the page needs recognition
    for y in range(200, 1001, 100):
        ruled[y : y + 3, 200:1500] = 0
    for x in range(200, 1501, 260):
        ruled[200:1003, x : x + 3] = 0
    table = encode(ruled, "png", dpi=200)
    pack_data = pack(TableImagePage("http://x/a.html", b"<html><body>x</body></html>", "utf-8", (("http://x/1.png", table),)))
    result = extract_document(pack_data, "page")
    assert result.status == STATUS_NEEDS_OCR and why in result.reason and "1 table image" in result.reason


def test_zip_of_scanned_page_pictures_is_read_as_one_document() -> None:
    """A zipped report that holds only its scanned pages (scan-1.jpg ... ): read by OCR together,
    in natural name order, instead of 'no document in a report format'."""
    import zipfile

    report = generate_report(7, versions="v2019", defects=())
    scans = scanned_report_images(report, "light", seed=7)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, data in reversed(list(enumerate(scans, 1))):  # stored out of order on purpose
            zf.writestr(f"scan-{n}.jpg", data)
    result = extract_document(buf.getvalue(), "report.zip")
    assert result.status == STATUS_OK and result.format == "zip", result.reason
    assert any("picture(s) by OCR" in w for w in result.warnings)
    assert all(loc.startswith("zip:scan-") for loc in result.grid_locators)
    cells = cell_outcomes(report.expected_facts(), result)
    assert cells["wrong"] == [] and len(cells["exact"]) >= 0.97 * len(report.expected_facts())
