"""The portal's URLs and bytes: where each report and attachment lives, and how it is rendered.

Report pages carry the synthetic report's tables (``synth.html``) or a notice linking the
attachment; attachments are PDFs (``synth.pdf``) or text exports (``synth.text``). Bytes are
stable for the same report and revision; ``cache_key`` names them for the disk cache of large
portals, ``render_fingerprint`` makes that key change whenever a renderer changes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
import os
import tempfile
from pathlib import Path

from xxgk.demo.spec import NOTICE_FORMS, PortalReport, PortalSite
from xxgk.synth.report import SyntheticReport


def _doc_id(site: PortalSite, rep: PortalReport) -> int:
    return 1000 + rep.seed


def report_path(site: PortalSite, rep: PortalReport) -> str:
    pub = rep.year + 1
    if site.layout == "trs":
        return f"{site.listing_dir}{pub}03/t{pub}0310_{_doc_id(site, rep)}.htm"
    return f"{site.listing_dir}{rep.year}/t{pub}0315_{_doc_id(site, rep)}.html"


def attachment_paths(site: PortalSite, rep: PortalReport) -> list[str]:
    """Where a report's attachments are served, in the order its page links them."""
    pub = rep.year + 1
    base = report_path(site, rep).rsplit("/", 1)[0]
    stem = f"{base}/P0{pub}0310{_doc_id(site, rep)}"
    if rep.form == "text":
        ext = "md" if rep.text_form == "markdown" else "txt"
        return [f"{base}/W0{pub}0310{_doc_id(site, rep)}.{ext}"]
    if rep.form in ("docx", "xlsx"):
        return [f"{base}/W0{pub}0310{_doc_id(site, rep)}.{rep.form}"]
    if rep.form == "doc+pdf":
        doc = [f"{base}/W0{pub}0310{_doc_id(site, rep)}.doc"] if _can_make_doc() else []
        return [*doc, f"{stem}.pdf"]
    return [f"{stem}.pdf"]


@functools.cache
def _can_make_doc() -> bool:
    """Whether this process can make ``.doc`` files (LibreOffice), asked once: a portal's pages stay as first served."""
    from xxgk.synth.office import available

    return available()


def attachment_path(site: PortalSite, rep: PortalReport) -> str:
    """Where a report's (first) attachment is served."""
    return attachment_paths(site, rep)[0]


def portal_report(site: PortalSite, rep: PortalReport) -> SyntheticReport:
    """The synthetic report behind a portal page (a new revision draws new values)."""
    from xxgk.synth.generate import generate_report

    return generate_report(rep.seed + 7919 * rep.revision, year=rep.year, publisher=site.publisher, defects=())


def _render_tables_html(report: SyntheticReport, *, word_markup: bool = False) -> str:
    """The report as HTML body content (headings, narrative, tables) from ``synth.html``."""
    from xxgk.synth.html import render_html

    page = render_html(report, encoding="utf-8", chrome=False, word_markup=word_markup).decode("utf-8")
    lower = page.lower()
    start, end = lower.find("<body"), lower.rfind("</body>")
    if start != -1 and end != -1:
        page = page[page.index(">", start) + 1 : end]
    return page


def _render_pdf(report: SyntheticReport) -> bytes:
    """The report as a PDF attachment, from ``synth.pdf``."""
    from xxgk.synth.pdf import render_pdf

    return render_pdf(report)


def _render_text(report: SyntheticReport, form: str) -> bytes:
    """The report as a text export (UTF-8), from ``synth.text``."""
    from xxgk.synth.text import render_text

    return render_text(report, form)


_ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def attachment_type(path: str) -> str:
    return _ATTACHMENT_TYPES.get(path.rsplit(".", 1)[-1], "application/octet-stream")


_FINGERPRINT: str | None = None


def render_fingerprint() -> str:
    """A hash of the code that renders pages (``synth``, ``schemas``, ``demo``): part of every cache key.

    A change to a renderer changes the key, so a disk cache never serves bytes an older renderer made.
    """
    global _FINGERPRINT
    if _FINGERPRINT is None:
        root = Path(__file__).resolve().parents[1]
        digest = hashlib.sha256()
        code = [*(root / "synth").glob("*.py"), *(root / "schemas").glob("*.py"), *Path(__file__).parent.glob("*.py")]
        for path in sorted(code):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        _FINGERPRINT = digest.hexdigest()[:16]
    return _FINGERPRINT


def chrome(title: str, body: str, charset: str, *, trs: bool = False, head_extra: str = "") -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    art = f'<meta name="ArticleTitle" content="{html.escape(title)}">' if trs else ""
    nav = (
        '<div class="header"><a href="/">首页</a> <a href="/city/nb/index.html">政府信息公开</a>'
        ' <a href="/news/1.html">关于印发2023年政务公开工作要点的通知</a></div>'
    )
    return (
        f"<!DOCTYPE html><html><head>{meta}{art}<title>{html.escape(title)}</title>{head_extra}</head>"
        f"<body>{nav}{body}<div class='footer'>主办单位：示例人民政府 备案号：示ICP备00000000号</div></body></html>"
    )


CHARSET_LABEL = {"gb18030": "gb2312", "utf-8": "utf-8"}


def portal_title(site: PortalSite, rep: PortalReport) -> str:
    return f"{site.publisher}{rep.year}年政府信息公开工作年度报告"


def render_report_page(site: PortalSite, rep: PortalReport) -> bytes:
    """The bytes of a report page: the tables in the page, or a notice linking the attachment."""
    title = portal_title(site, rep)
    att_names = [p.rsplit("/", 1)[-1] for p in attachment_paths(site, rep)] if rep.has_attachment else []
    trs = site.layout == "trs"
    if rep.form in NOTICE_FORMS:
        content = f"<p>{html.escape(title)}全文详见附件。</p>"
    else:
        content = _render_tables_html(portal_report(site, rep), word_markup=rep.word_markup)
    head_extra = ""
    if rep.form in ("pdf", "html+pdf") and trs:  # TRS lists PDFs in a script array filled in by JavaScript
        head_extra = f'<script>var apps1 = [{{url:"./{att_names[0]}",name:"{html.escape(title)}.pdf"}}];</script>'
    else:
        for att_name in att_names:
            ext = att_name.rsplit(".", 1)[-1]
            content += f'<p>附件：<a href="{att_name}">{html.escape(title)}.{ext}</a></p>'
    wrapper = "TRS_Editor" if trs else "article-content"
    body = f'<h1>{html.escape(title)}</h1><div class="{wrapper}">{content}</div>'
    charset = CHARSET_LABEL.get(rep.encoding, rep.encoding)
    page = chrome(f"{title}_{site.publisher}", body, charset, trs=trs, head_extra=head_extra)
    return page.encode(rep.encoding, errors="strict")


def render_attachment(site: PortalSite, rep: PortalReport, path: str | None = None) -> bytes:
    """The bytes of a report's attachment at ``path`` (default its first): PDF, text export, DOCX, XLSX or DOC."""
    report = portal_report(site, rep)
    ext = (path or attachment_path(site, rep)).rsplit(".", 1)[-1]
    if rep.form == "text":
        return _render_text(report, rep.text_form)
    if ext == "docx":
        from xxgk.synth.docx import render_docx

        return render_docx(report)
    if ext == "xlsx":
        from xxgk.synth.xlsx import render_xlsx

        return render_xlsx(report)
    if ext == "doc":
        from xxgk.synth.office import render_office

        return render_office([report], "doc")[0]
    return _render_pdf(report)


def cache_key(kind: str, site: PortalSite, rep: PortalReport, ext: str = "") -> str:
    """The disk-cache key of a rendered page or attachment: a hash of everything it is rendered from."""
    parts = [
        kind,
        site.slug,
        site.publisher,
        site.layout,
        rep.year,
        rep.seed,
        rep.form,
        rep.encoding,
        rep.revision,
        rep.word_markup,
        rep.text_form,
        render_fingerprint(),
        *([ext] if ext else []),
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename: a concurrent reader sees all of the file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
