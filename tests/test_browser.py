"""The validation pages in a real browser: the system's headless Chromium, driven by Selenium.

Chromium and its driver come from the Debian packages ``chromium`` and ``chromium-driver``, which
``.ci/run`` installs where apt is available; elsewhere these tests are skipped with the reason.
CJK fonts for the screenshots (``fonts-noto-cjk``) are unpacked by ``.ci/run`` under ``build/fonts``
and handed to Chromium alone through ``FONTCONFIG_FILE``: installed system-wide they change how
PDFium reads the synthetic PDFs' non-embedded CJK font (8 PDF tests then fail). Nothing is downloaded: Selenium is pointed at
the installed executables. Pages are opened from ``file://`` as a reader opens them. Screenshots
go to ``build/test-artifacts/browser/`` (or ``$XXGK_TEST_ARTIFACTS/browser/``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_validation_dashboard import _pdf_with_a_number
from tests.test_warehouse import VERSION, make_info, make_result
from xxgk.warehouse import write_validation_reports

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
FONTS = REPO / "build" / "fonts"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
DRIVER = shutil.which("chromedriver")


def artifacts_dir() -> Path:
    root = Path(os.environ.get("XXGK_TEST_ARTIFACTS") or REPO / "build" / "test-artifacts")
    out = root / "browser"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _font_env(tmp: Path) -> dict[str, str]:
    """The environment of Chromium: the system's fonts plus those unpacked under build/fonts."""
    env = dict(os.environ)
    if FONTS.is_dir():
        conf = tmp / "fonts.conf"
        conf.write_text(
            '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
            '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
            f"<dir>{FONTS}</dir>\n<cachedir>{tmp / 'fontcache'}</cachedir>\n</fontconfig>\n",
            encoding="utf-8",
        )
        env["FONTCONFIG_FILE"] = str(conf)
    return env


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if CHROMIUM is None or DRIVER is None:
        pytest.skip(
            "headless Chromium not installed (Debian packages chromium, chromium-driver, fonts-noto-cjk; "
            ".ci/run installs them where apt-get is available)"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=DRIVER, env=_font_env(tmp_path_factory.mktemp("chromium")))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A validation folder: a report with a failed check (PDF with a page crop), consistent ones, harvest problems."""
    data = tmp_path_factory.mktemp("browser") / "data"
    pdf = data / "docs" / "report.pdf"
    pdf.parent.mkdir(parents=True)
    box = _pdf_with_a_number(pdf)
    bad = make_result()
    bad.format = "pdf"
    for fact in bad.facts:
        if (fact.row_key, fact.column_key) == ("carried_over", "total"):
            fact.bbox, fact.box_unit, fact.page = box, "pt", 1
    bad_info = make_info("hongze-like", 2023)
    bad_info.path, bad_info.format = "docs/report.pdf", "pdf"
    good = lambda y: make_result(year=y, carried_over=["1", "0", "0", "0", "0", "0", "1"])  # noqa: E731
    items = [
        (bad_info, bad, VERSION),
        *[(make_info(f"county-{i}", y, key=str(y)), good(y), VERSION) for i in range(3) for y in (2022, 2023)],
    ]
    archive = data / "archive"
    archive.mkdir()
    (archive / "harvest.json").write_text(
        json.dumps(
            {
                "sources": [
                    {
                        "source_id": "redesigned",
                        "publisher": "某县人民政府",
                        "status": "layout_changed",
                        "reason": "listing layout changed",
                        "problems": [{"kind": "layout_changed", "url": "http://gov.example/list.html", "detail": "-"}],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    write_validation_reports(data, items, harvest_file=archive / "harvest.json")
    return data


def _errors(driver: object) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]


def _visible_sources(driver: object) -> list[str]:
    return driver.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.querySelectorAll('#reports tbody tr'))"
        ".filter(r => !r.hidden).map(r => r.cells[0].textContent + ' ' + r.cells[1].textContent);"
    )


def test_index_sorts_filters_and_shows_history_and_harvest(browser: object, published: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get((published / "validation" / "index.html").as_uri())  # type: ignore[attr-defined]
    assert _errors(driver) == []
    rows = _visible_sources(driver)
    assert len(rows) == 8 and rows[0].startswith("county-0")  # 7 source/years + a source without document
    assert driver.find_element(By.CSS_SELECTOR, "svg.chart")  # type: ignore[attr-defined]
    assert (
        "layout_changed"
        in driver.find_element(By.ID, "harvest").find_element(By.XPATH, "following-sibling::table").text
    )  # type: ignore[attr-defined]
    history = driver.find_element(By.ID, "history-table")  # type: ignore[attr-defined]
    assert history.is_displayed() and "7" in history.text  # history.js loaded from file://
    driver.save_screenshot(str(artifacts_dir() / "index.png"))  # type: ignore[attr-defined]

    header = driver.find_element(By.XPATH, "//table[@id='reports']//th[text()='failed checks']")  # type: ignore[attr-defined]
    header.click()
    header.click()  # descending: the failing report first
    assert header.get_attribute("aria-sort") == "descending"
    assert _visible_sources(driver)[0] == "hongze-like 2023"

    Select(driver.find_element(By.ID, "f-consistency")).select_by_visible_text("inconsistent")  # type: ignore[attr-defined]
    assert _visible_sources(driver) == ["hongze-like 2023"]
    assert driver.find_element(By.ID, "shown").text == "1 of 8 rows"  # type: ignore[attr-defined]
    Select(driver.find_element(By.ID, "f-consistency")).select_by_visible_text("all")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "f-text").send_keys("county-1")  # type: ignore[attr-defined]
    assert _visible_sources(driver) == ["county-1 2022", "county-1 2023"]
    driver.find_element(By.ID, "f-text").clear()  # type: ignore[attr-defined]
    driver.find_element(By.ID, "f-problems").click()  # type: ignore[attr-defined]
    assert sorted(_visible_sources(driver)) == ["hongze-like 2023", "redesigned —"]
    driver.save_screenshot(str(artifacts_dir() / "index-filtered.png"))  # type: ignore[attr-defined]
    assert _errors(driver) == []


def test_a_failed_check_leads_to_its_highlighted_cells(browser: object, published: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get((published / "validation" / "index.html").as_uri())  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "tr[data-consistency=inconsistent] a[href$='2023.html']").click()  # type: ignore[attr-defined]
    assert driver.current_url.endswith("/hongze-like/2023.html")  # type: ignore[attr-defined]
    assert _errors(driver) == []
    crop = driver.find_element(By.CSS_SELECTOR, "img.crop")  # type: ignore[attr-defined]
    assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", crop) > 100  # type: ignore[attr-defined]

    driver.find_element(By.CSS_SELECTOR, "a.goto").click()  # type: ignore[attr-defined]
    highlighted = driver.find_elements(By.CSS_SELECTOR, "td.hl")  # type: ignore[attr-defined]
    assert len(highlighted) == 7  # the printed total and its six parts
    assert {c.get_attribute("data-checks") for c in highlighted} == {"d0-c0"}
    in_view = driver.execute_script(  # type: ignore[attr-defined]
        "var r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;",
        highlighted[0],
    )
    assert in_view, "the page did not scroll to the check's cells"
    driver.save_screenshot(str(artifacts_dir() / "source-highlighted.png"))  # type: ignore[attr-defined]
    assert _errors(driver) == []
