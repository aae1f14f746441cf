"""WordprocessingML vocabulary for the DOCX reader: tag names, toggles, styles, text boxes.

Kept apart from ``extractors.docx`` (the walk over the body) so each stays readable. Names are
built for the namespace the document uses: transitional OOXML, or the strict variant.
"""

from __future__ import annotations

import re

import lxml.etree

from xxgk.extractors.base import ExtractionError
from xxgk.schemas.records import STATUS_FAILED

W_TRANSITIONAL = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
R_ID = (
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id",
)
_OFF = frozenset({"0", "false", "off", "none"})
_INVISIBLE = str.maketrans("", "", "\u00ad\u200b\u200c\u200d\u2060\ufeff")
_SPACES = re.compile(r"[ \r\f\v\u00a0\u3000\u2002\u2003\u2009]+")
_TAB_SPACES = re.compile(r" ?\t ?")


def parse_xml(data: bytes, what: str) -> lxml.etree._Element:
    """An XML part, parsed without entities, network access or nesting past 256 levels."""
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True, remove_pis=True
    )
    try:
        return lxml.etree.fromstring(data, parser=parser)
    except lxml.etree.XMLSyntaxError as err:
        raise ExtractionError(STATUS_FAILED, f"{what} is not well-formed XML ({err})") from err


def clean_line(text: str) -> str:
    """One line as shown: invisible characters (soft hyphens, zero-width spaces) dropped, spaces collapsed."""
    return _TAB_SPACES.sub("\t", _SPACES.sub(" ", text.translate(_INVISIBLE))).strip()


class Names:
    """Qualified tag names in the document's WordprocessingML namespace (transitional or strict)."""

    def __init__(self, ns: str) -> None:
        w = f"{{{ns}}}"
        self.w = w
        self.body, self.p, self.r, self.t, self.tbl, self.tr, self.tc = (
            w + n for n in ("body", "p", "r", "t", "tbl", "tr", "tc")
        )
        self.sdt, self.sdt_content, self.custom_xml, self.smart_tag = (
            w + n for n in ("sdt", "sdtContent", "customXml", "smartTag")
        )
        self.ins, self.dele, self.move_to, self.move_from = (w + n for n in ("ins", "del", "moveTo", "moveFrom"))
        self.hyperlink, self.fld_simple, self.fld_char, self.dir, self.bdo = (
            w + n for n in ("hyperlink", "fldSimple", "fldChar", "dir", "bdo")
        )
        self.rpr, self.ppr, self.trpr, self.tcpr = (w + n for n in ("rPr", "pPr", "trPr", "tcPr"))
        self.vanish, self.rstyle, self.pstyle = (w + n for n in ("vanish", "rStyle", "pStyle"))
        self.tab, self.ptab, self.br, self.cr = (w + n for n in ("tab", "ptab", "br", "cr"))
        self.no_break_hyphen, self.sym = w + "noBreakHyphen", w + "sym"
        self.txbx_content, self.alt_chunk = w + "txbxContent", w + "altChunk"
        self.grid_span, self.vmerge, self.hmerge, self.grid_before = (
            w + n for n in ("gridSpan", "vMerge", "hMerge", "gridBefore")
        )
        self.cell_del, self.val, self.type, self.char, self.font = (
            w + n for n in ("cellDel", "val", "fldCharType", "char", "font")
        )
        self.style, self.style_id, self.based_on = w + "style", w + "styleId", w + "basedOn"
        self.inline_containers = frozenset(
            {self.hyperlink, self.smart_tag, self.custom_xml, self.ins, self.move_to, self.fld_simple, self.dir, self.bdo}
        )
        self.block_containers = frozenset({self.custom_xml, self.ins, self.move_to, self.smart_tag})


def is_on(el: lxml.etree._Element | None, names: Names) -> bool | None:
    """A Word toggle property: None when absent, else whether it is switched on."""
    if el is None:
        return None
    return (el.get(names.val) or "true").lower() not in _OFF


def hidden_styles(styles_xml: bytes | None, names: Names) -> frozenset[str]:
    """Ids of paragraph and character styles whose text is hidden (``w:vanish``, inherited via basedOn)."""
    if not styles_xml:
        return frozenset()
    root = parse_xml(styles_xml, "DOCX styles part")
    own: dict[str, bool | None] = {}
    parent: dict[str, str] = {}
    for style in root.iter(names.style):
        sid = style.get(names.style_id)
        if not sid:
            continue
        rpr = style.find(names.rpr)
        own[sid] = is_on(rpr.find(names.vanish), names) if rpr is not None else None
        based = style.find(names.based_on)
        if based is not None and based.get(names.val):
            parent[sid] = based.get(names.val)  # type: ignore[assignment]
    hidden: set[str] = set()
    for sid in own:
        seen: set[str] = set()
        cur: str | None = sid
        while cur is not None and cur not in seen:
            seen.add(cur)
            if own.get(cur) is not None:
                if own[cur]:
                    hidden.add(sid)
                break
            cur = parent.get(cur)
    return frozenset(hidden)


def val(el: lxml.etree._Element | None, names: Names) -> str | None:
    return el.get(names.val) if el is not None else None


def bounded_int(value: str | None, default: int, limit: int) -> int:
    try:
        n = int(value) if value is not None else default
    except ValueError:
        return default
    return max(default if default > 0 else 0, min(n, limit))


def symbol(code: str | None) -> str:
    """A ``w:sym`` character; symbol-font code points (U+F000-F0FF) have no Unicode meaning."""
    try:
        point = int(code or "", 16)
    except ValueError:
        return ""
    return "" if point >= 0xF000 or point < 0x20 else chr(point)


def chosen_branch(alternate: lxml.etree._Element) -> lxml.etree._Element | None:
    """The one branch of ``mc:AlternateContent`` to read: its first Choice, else the Fallback.
    Reading both would print every text box twice (DrawingML and its VML copy)."""
    choice = alternate.find(MC + "Choice")
    return choice if choice is not None else alternate.find(MC + "Fallback")


def text_boxes(el: lxml.etree._Element, names: Names) -> list[lxml.etree._Element]:
    """The outermost ``w:txbxContent`` elements under a drawing, one branch of each AlternateContent."""
    out: list[lxml.etree._Element] = []
    for child in el:
        if child.tag == names.txbx_content:
            out.append(child)
        elif child.tag == MC + "AlternateContent":
            branch = chosen_branch(child)
            if branch is not None:
                out.extend(text_boxes(branch, names))
        elif isinstance(child.tag, str):
            out.extend(text_boxes(child, names))
    return out
