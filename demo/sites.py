"""The demo sites: two harvestable sites with every injected fault, and one whose listing was redesigned.

``demo-city`` (generic CMS, numbered pagination plus 下一页, UTF-8 and GB2312-labelled GBK pages,
a report that is only a PDF attachment) and ``demo-county`` (TRS, GBK listings, a PDF in a script
array) answer with 429 + Retry-After, 500 twice, 503, a connection reset, a slow answer, a 404, a
redirect to another host and a robots.txt-disallowed link; every transient fault is recovered by
the fetcher's retries, every permanent one is reported. ``demo-dept`` is a listing redesigned into a
JavaScript app with no anchors: the harvest must say ``layout_changed``, never an empty success.
``demo-office`` publishes its reports as Word, WPS-era ``.doc`` and spreadsheet attachments only.
Their registry entries are in ``data/sources.yaml`` (``{portal}`` URLs).
"""

from __future__ import annotations

from xxgk.demo.pages import report_path
from xxgk.demo.spec import ExtraLink, Fault, PortalReport, PortalSite, PortalSpec


def fault_sites(*, slow_seconds: float = 1.0, retry_after: float = 1.0) -> PortalSpec:
    """``city`` and ``county`` with their faults by path and the robots.txt disallow."""
    city = PortalSite(
        slug="city",
        publisher="示例市人民政府",
        layout="generic",
        page_size=4,
        reports=[
            PortalReport(2019, 101, "html", "gb18030"),
            PortalReport(2020, 102, "html", "utf-8"),
            PortalReport(2021, 103, "pdf", "utf-8"),
            PortalReport(2022, 104, "html", "gb18030", word_markup=True),
            PortalReport(2023, 105, "html", "utf-8"),
            PortalReport(2024, 106, "html+pdf", "utf-8"),
        ],
        extra_links=[
            ExtraLink("示例市2018年政府信息公开工作年度报告", "2018/t20190301_404.html"),
            ExtraLink("示例市2017年政府信息公开工作年度报告", "2017/t20180301_302.html"),
            ExtraLink("示例市2016年政府信息公开工作年度报告", "/city/private/2016/t20170301_1.html"),
        ],
    )
    county = PortalSite(
        slug="county",
        publisher="示例县人民政府",
        layout="trs",
        page_size=2,
        encoding="gb18030",
        reports=[
            PortalReport(2020, 201, "html", "gb18030"),
            PortalReport(2021, 202, "html", "gb18030"),
            PortalReport(2022, 203, "pdf", "utf-8"),
            PortalReport(2023, 204, "html", "utf-8"),
            PortalReport(2024, 205, "html", "gb18030"),
        ],
    )
    spec = PortalSpec(sites=[city, county], robots_disallow=["/city/private/"])
    spec.faults = {
        "/city/nb/index_1.html": [Fault("429", retry_after=retry_after)],
        report_path(city, city.reports[1]): [Fault("500", times=2)],
        "/city/nb/2018/t20190301_404.html": [Fault("404", times=None)],
        "/city/nb/2017/t20180301_302.html": [Fault("redirect", times=None, target="other:/city/nb/2017/moved.html")],
        report_path(county, county.reports[1]): [Fault("reset")],
        report_path(county, county.reports[3]): [Fault("slow", seconds=slow_seconds)],
        "/county/zwgk/zfxxgknb/index_1.htm": [Fault("503")],
    }
    return spec


def redesigned_site() -> PortalSite:
    """``dept``: a listing page redesigned into a JavaScript app (no report links left to find)."""
    return PortalSite(slug="dept", publisher="示例市教育局", layout="changed")


def office_site() -> PortalSite:
    """``office``: reports that are only attachments: a .doc and a PDF (2022), a .docx (2023), an .xlsx (2024).

    Each report page is a notice without tables, so the report is whichever attachment reads;
    for 2022 the Word file comes first, the PDF is the fallback (where LibreOffice is missing the
    .doc is not made, see ``PortalReport``).
    """
    return PortalSite(
        slug="office",
        publisher="示例市统计局",
        layout="generic",
        level="department",
        reports=[
            PortalReport(2022, 301, "doc+pdf", "utf-8"),
            PortalReport(2023, 302, "docx", "utf-8"),
            PortalReport(2024, 303, "xlsx", "utf-8"),
        ],
    )


def demo_spec(*, slow_seconds: float = 1.0, retry_after: float = 1.0) -> PortalSpec:
    """The demo portal: two harvestable sites with every fault, one whose reports are office attachments, and one whose layout changed."""
    spec = fault_sites(slow_seconds=slow_seconds, retry_after=retry_after)
    spec.sites.append(office_site())
    spec.sites.append(redesigned_site())
    return spec
