"""Generic discovery: find annual-report links on listing pages, pagination, and attachments.

Works on any site whose listing is ordinary HTML: a link is a report when its title (anchor text
or ``title`` attribute, whichever is longer, as listings truncate titles) names a report
(``lexicon.REPORT_LINK_TITLE``) with a year and is not a companion item (``REPORT_LINK_EXCLUDED``).
CMS families with their own pagination or attachment conventions subclass ``GenericAdapter``
in ``harvest.adapters``; everything here is a plain function of (html text, page URL, source).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from xxgk.extractors.decoding import Decoded, decode_bytes
from xxgk.schemas import lexicon as lx

if TYPE_CHECKING:
    from xxgk.harvest.registry import Source

REPORT_TITLE = lx.REPORT_LINK_TITLE
EXCLUDE_TITLE = lx.REPORT_LINK_EXCLUDED
#: Files a report page attaches that xxgk reads or names: documents, spreadsheets, archives.
DOC_EXTENSIONS = (
    ".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et", ".ofd", ".txt", ".md", ".rtf",
    ".odt", ".ods", ".zip", ".mht", ".mhtml",
)  # fmt: skip
#: Scans attached as pictures: discovered and archived like any attachment (OCR reads them).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff")
ATTACHMENT_EXTENSIONS = DOC_EXTENSIONS + IMAGE_EXTENSIONS
#: A download handler that names its file only in Content-Disposition (``download.jsp?id=12``,
#: ``/module/download/downfile.jsp?filename=...``): fetched as an attachment, its headers decide.
_DOWNLOAD_HANDLER = re.compile(r"download|downfile|getfile|attachment|fujian", re.I)
NEXT_TEXTS = lx.NEXT_PAGE_TEXTS
_PAGER_HINT = re.compile(r"pag|fenye|fy|pager|turn", re.I)
REPORT_TABLE_WORDS = lx.REPORT_PAGE_WORDS


@dataclass(slots=True)
class Link:
    """A link found on a page, with its (longest) title and the report year read from it."""

    url: str
    title: str
    year: int | None = None

    @property
    def is_document(self) -> bool:
        """True when the URL names a file (PDF, DOC, an image...) rather than a web page."""
        return file_name_of(self.url) is not None


@dataclass(slots=True)
class ListingParse:
    """What one listing page yields; ``layout_problem`` is set when the page is not as expected."""

    report_links: list[Link]
    next_pages: list[str]
    layout_problem: str | None = None
    links_seen: int = 0


@dataclass(slots=True)
class ReportPageParse:
    """What a report page yields: its title, year, attachments and whether it holds report tables."""

    title: str
    year: int | None
    attachments: list[Link] = field(default_factory=list)
    has_tables: bool = False
    table_count: int = 0


def decode_page(data: bytes, http_charset: str | None = None, override: str | None = None) -> Decoded:
    """A fetched page as text for link discovery, by the extractors' one charset policy.

    ``override`` is the registry's ``encoding`` (a site known to mislabel its pages),
    ``http_charset`` the Content-Type's charset. Lenient: a page with many undecodable bytes is
    still searched for links (they are ASCII), with the losses in ``Decoded.notes``; the raw
    archive keeps the bytes unedited either way.
    """
    return decode_bytes(data, declared=http_charset, override=override, what="page", lenient=True)


def _is_file_name(name: str) -> bool:
    return name.lower().endswith(ATTACHMENT_EXTENSIONS)


def file_name_of(url: str) -> str | None:
    """The file a URL names: its last path segment, or a query value (``?filename=a.pdf``), with a file extension."""
    parts = urlsplit(url)
    last = unquote(parts.path.rsplit("/", 1)[-1])
    if _is_file_name(last):
        return last
    for _key, value in parse_qsl(parts.query):
        name = value.replace("\\", "/").rsplit("/", 1)[-1]
        if _is_file_name(name):
            return name
    return None


def is_download_handler(url: str) -> bool:
    """True for a download script's URL (its file is named by the response's headers only)."""
    parts = urlsplit(url)
    return bool(parts.query) and bool(_DOWNLOAD_HANDLER.search(parts.path.rsplit("/", 1)[-1]))


def find_year(text: str) -> int | None:
    """The report year in a title: the first 19xx/20xx followed by 年/年度, else the first 19xx/20xx."""
    text = text or ""
    first: int | None = None
    for m in lx.LINK_YEAR.finditer(text):
        y = int(m.group(1))
        if not 1990 <= y <= 2100:
            continue
        if m.group(2):
            return y
        first = first if first is not None else y
    if first is not None:
        return first
    m2 = lx.CN_YEAR.search(text)
    if m2:
        digits = "".join(lx.CN_YEAR_DIGITS.get(ch, "") for ch in m2.group(1))
        if len(digits) == 4:
            return int(digits)
    return None


def clean_text(text: str) -> str:
    return re.sub(r"\s+", "", text or "").replace("\xa0", "")


def anchor_title(a: Tag) -> str:
    """The longer of an anchor's text and its title attribute (listings truncate with '...')."""
    text = clean_text(a.get_text(" "))
    attr = clean_text(str(a.get("title") or ""))
    return attr if len(attr) > len(text.rstrip(".…")) else text


def is_report_title(title: str, source: Source | None = None) -> bool:
    """Whether a link title names an annual OGI report (with a year), per the source's patterns."""
    pattern = re.compile(source.report_title_pattern) if source and source.report_title_pattern else REPORT_TITLE
    exclude = re.compile(source.exclude_title_pattern) if source and source.exclude_title_pattern else EXCLUDE_TITLE
    return bool(pattern.search(title)) and not exclude.search(title) and find_year(title) is not None


def absolute(base: str, href: str | None) -> str | None:
    """Resolve ``href`` against ``base``; None for javascript:, mailto:, anchors and non-http targets."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    url = urldefrag(urljoin(base, href))[0]
    return url if urlsplit(url).scheme in ("http", "https") else None


def soup_of(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


class GenericAdapter:
    """Discovery for sites with plain HTML listings; CMS families override the hooks they need."""

    name = "generic"

    # -- listing ---------------------------------------------------------------------------
    def parse_listing(self, html: str, url: str, source: Source | None = None) -> ListingParse:
        soup = soup_of(html)
        problem = self.layout_problem(soup, html, source)
        links = self.listing_links(soup, html, url, source)
        return ListingParse(
            report_links=links,
            next_pages=self.next_pages(soup, html, url),
            layout_problem=problem,
            links_seen=len(soup.find_all("a")),
        )

    def layout_problem(self, soup: BeautifulSoup, html: str, source: Source | None) -> str | None:
        """Why this listing page is not laid out as the registry expects, or None."""
        if source is not None and source.layout_selector and soup.select_one(source.layout_selector) is None:
            return f"listing layout changed: selector {source.layout_selector!r} matches nothing"
        return None

    def candidate_anchors(self, soup: BeautifulSoup, html: str, url: str) -> list[tuple[str, str]]:
        """(absolute url, title) of every anchor on the page; adapters add links hidden in scripts."""
        out: list[tuple[str, str]] = []
        for a in soup.find_all("a"):
            target = absolute(url, a.get("href"))
            if target:
                out.append((target, anchor_title(a)))
        return out

    def listing_links(self, soup: BeautifulSoup, html: str, url: str, source: Source | None) -> list[Link]:
        url_pattern = re.compile(source.report_url_pattern) if source and source.report_url_pattern else None
        seen: dict[str, Link] = {}
        for target, title in self.candidate_anchors(soup, html, url):
            if not is_report_title(title, source):
                continue
            if url_pattern is not None and not url_pattern.search(target):
                continue
            if target not in seen:
                seen[target] = Link(target, title, find_year(title))
        return list(seen.values())

    def next_pages(self, soup: BeautifulSoup, html: str, url: str) -> list[str]:
        """Further listing pages: '下一页'-style links and numbered links inside a pager element."""
        out: list[str] = []
        for a in soup.find_all("a"):
            text = clean_text(a.get_text(" ")).lower()
            title = clean_text(str(a.get("title") or "")).lower()
            target = absolute(url, a.get("href"))
            if not target or target == url:
                continue
            is_next = text in NEXT_TEXTS or title in (*lx.NEXT_PAGE_TEXTS[:1], "next")
            if is_next or (text.isdigit() and self._in_pager(a)):
                out.append(target)
        return list(dict.fromkeys(out))

    @staticmethod
    def _in_pager(a: Tag) -> bool:
        for parent in a.parents:
            if not isinstance(parent, Tag) or parent.name in ("body", "html"):
                return False
            hint = " ".join([*(parent.get("class") or []), str(parent.get("id") or "")])
            if _PAGER_HINT.search(hint):
                return True
        return False

    # -- report page -----------------------------------------------------------------------
    def parse_report_page(self, html: str, url: str, source: Source | None = None) -> ReportPageParse:
        soup = soup_of(html)
        title = self.page_title(soup)
        content = self.content_root(soup)
        tables = [t for t in content.find_all("table") if self._is_report_table(t)]
        return ReportPageParse(
            title=title,
            year=find_year(title),
            attachments=self.attachments(soup, html, url),
            has_tables=bool(tables),
            table_count=len(tables),
        )

    def page_title(self, soup: BeautifulSoup) -> str:
        for sel in ('meta[name="ArticleTitle"]', 'meta[property="og:title"]'):
            m = soup.select_one(sel)
            if m and m.get("content"):
                return clean_text(str(m["content"]))
        h1 = soup.find("h1")
        if h1 and clean_text(h1.get_text()):
            return clean_text(h1.get_text())
        return clean_text(soup.title.get_text()) if soup.title else ""

    def content_root(self, soup: BeautifulSoup) -> Tag:
        """The element holding the article (the whole document by default)."""
        return soup

    @staticmethod
    def _is_report_table(table: Tag) -> bool:
        if table.find("table") is not None:  # a layout table around the real ones
            return False
        text = clean_text(table.get_text())
        return any(w in text for w in REPORT_TABLE_WORDS) and any(ch.isdigit() for ch in text)

    def attachments(self, soup: BeautifulSoup, html: str, url: str) -> list[Link]:
        """Files linked from the page: anchors, iframes/embeds of PDFs.

        A link is a file when its URL names one (``file_name_of``), when its anchor text names one
        (``附件：2023年报.docx`` over ``download.jsp?id=12``), or when it goes to a download
        handler with a query; the response's Content-Disposition/Content-Type then say what it is.
        """
        out: dict[str, Link] = {}
        for tag, attr in (("a", "href"), ("iframe", "src"), ("embed", "src"), ("object", "data")):
            for el in soup.find_all(tag):
                target = absolute(url, el.get(attr))
                if not target:
                    continue
                title = anchor_title(el) if tag == "a" else ""
                named = tag == "a" and _is_file_name(title)
                if Link(target, "").is_document or named or (tag == "a" and is_download_handler(target)):
                    out.setdefault(target, Link(target, title, find_year(title)))
        return list(out.values())
