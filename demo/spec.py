"""What the fake portal serves, as data: sites, their reports, listing entries, faults by path.

A ``PortalSpec`` is built once (``demo.sites.demo_spec``, ``demo.sample.add_sample_set``,
``demo.scale.scale_spec``) and served by ``demo.server.serve_portal``; the pages themselves are
rendered from it on demand (``demo.pages``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

OTHER_HOST = "127.0.0.2"
#: The demo portal's port for ``xxgk run`` and ``python -m xxgk.demo``: fixed, so that the
#: URLs (and with them the archive's validators and the published provenance) are the same from
#: one run to the next.
DEMO_PORT = 8765


@dataclass
class Fault:
    """What the portal does instead of answering normally, for the first ``times`` requests.

    ``action``: "500", "503", "429" (with ``retry_after``), "slow" (sleep ``seconds`` then
    answer), "reset" (close the connection with RST), "404", "redirect" (302 to ``target``;
    a target starting with ``other:`` goes to the second host). ``times`` None = every request.
    """

    action: str
    times: int | None = 1
    retry_after: float | None = None
    seconds: float = 0.0
    target: str | None = None


@dataclass
class PortalReport:
    """One report of a site.

    ``form``: html (tables in the page), pdf (the page links a PDF only), html+pdf (tables and a
    PDF), text (the page links a text export: ``text_form`` cells, layout or markdown, see
    ``synth.text``), docx (the page links a Word file only), xlsx (a spreadsheet only), doc+pdf
    (a notice without tables linking a Word 97 ``.doc`` and a PDF of the same report; the
    ``.doc`` is made by LibreOffice, so where it is missing the page links the PDF alone).
    """

    year: int
    seed: int
    form: str = "html"
    encoding: str = "utf-8"
    revision: int = 0
    word_markup: bool = False
    text_form: str = "cells"

    @property
    def has_attachment(self) -> bool:
        return self.form in ATTACHMENT_FORMS


#: Report forms whose page links an attachment.
ATTACHMENT_FORMS = ("pdf", "html+pdf", "text", "docx", "xlsx", "doc+pdf")
#: Report forms whose page is a notice without tables (the report is in the attachments).
NOTICE_FORMS = ("pdf", "text", "docx", "xlsx", "doc+pdf")


@dataclass
class ExtraLink:
    """A listing entry that is not a served report (a 404, a redirect, a robots-disallowed path)."""

    title: str
    path: str


@dataclass
class PortalSite:
    """A publisher's section: ``layout`` generic, trs or changed (a redesign with no anchors)."""

    slug: str
    publisher: str
    layout: str = "generic"
    page_size: int = 4
    encoding: str = "utf-8"
    reports: list[PortalReport] = field(default_factory=list)
    extra_links: list[ExtraLink] = field(default_factory=list)
    #: Where the site is served when it has a host of its own (``(address, port)``, port 0 = any);
    #: None: on the portal's main host. See ``Portal.site_url``.
    address: tuple[str, int] | None = None
    level: str = "other"

    @property
    def listing_dir(self) -> str:
        return {"trs": f"/{self.slug}/zwgk/zfxxgknb/", "changed": f"/{self.slug}/xxgk/ndbg/"}.get(
            self.layout, f"/{self.slug}/nb/"
        )

    @property
    def listing_path(self) -> str:
        return self.listing_dir + ("index.htm" if self.layout == "trs" else "index.html")


@dataclass
class PortalSpec:
    """The whole fake site: sites, faults by path, robots.txt disallows, extra static files by path."""

    sites: list[PortalSite] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    robots_disallow: list[str] = field(default_factory=list)
    static: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def site(self, slug: str) -> PortalSite:
        return next(s for s in self.sites if s.slug == slug)
