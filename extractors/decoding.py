"""Bytes → text: the one charset policy for every fetched or local document.

Chinese government pages and exports come in UTF-8 or the GB family, labelled wrongly about as
often as rightly: servers announce UTF-8 for GBK pages, CMS templates keep a stale ``gb2312``
``<meta>`` after converting a page to UTF-8, Word exports carry a second ``<meta>`` in the body,
and Western defaults (``ISO-8859-1``) are sent for pages that cannot be in them. The policy:

1. a byte-order mark wins over everything;
2. then the candidates in order, each used only if the bytes decode *strictly* under it:
   ``override`` (a per-source setting: the site is known to mislabel its pages), ``declared``
   (the HTTP charset), the document's own declaration (``<?xml encoding>`` or the first
   ``<meta>``, head first; only with ``sniff_meta``). A single-byte Western charset is never
   believed for bytes outside ASCII (a Chinese report cannot be in one), and a legacy charset
   yields to UTF-8 when the bytes are valid UTF-8 with non-ASCII content (GB text is practically
   never valid UTF-8, while mis-declared UTF-8 pages are common);
3. undeclared: ASCII, UTF-8, then GB18030 (the superset every GB-family label is read as: pages
   declared ``gb2312`` routinely hold GBK-only characters). Generic detectors are not used: they
   misread short GBK pages as Korean;
4. last resort: whichever of UTF-8 and GB18030 loses the fewest characters, the losses replaced
   with U+FFFD and said in ``notes``. More than ``MAX_REPLACED_SHARE`` of the non-ASCII
   characters replaced means the bytes are not text in any of these: ``ExtractionError``
   (unless ``lenient``, for callers that only look for links and keep the bytes anyway).

Plain functions, no I/O: the HTML extractor, link discovery and text exports all read bytes here
(``decode_bytes`` for markup, ``decode_plain_text`` for text exports: the same policy without
markup declarations, and NUL bytes refused as binary).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from bs4.dammit import EncodingDetector

from xxgk.extractors.base import ExtractionError

#: Every GB-family label decodes as gb18030, the superset.
GB_FAMILY = frozenset(
    {
        "gb2312",
        "gbk",
        "gb18030",
        "gb_2312",
        "gb_2312-80",
        "gb-2312-80",
        "x-gbk",
        "x-gb2312",
        "cp936",
        "ms936",
        "csgb2312",
        "chinese",
        "iso-ir-58",
        "euc-cn",
        "euccn",
        "936",
        "windows-936",
    }
)
#: Single-byte Western charsets: servers send them as a default; a Chinese report cannot be in one.
WESTERN = frozenset({"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15"})
#: (mark, codec that strips it, name reported)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)
#: Share of replaced characters (among non-ASCII ones) above which bytes are undecodable.
MAX_REPLACED_SHARE = 0.05
REPLACEMENT = "\ufffd"


@dataclass(slots=True)
class Decoded:
    """Text decoded from bytes: the encoding used, how many characters were replaced, and why.

    ``notes`` says every declaration that was ignored and every replacement, in words a report can
    show; ``replaced`` counts the U+FFFD the decoder inserted (0 for a strict decode).
    """

    text: str
    encoding: str
    replaced: int = 0
    notes: list[str] = field(default_factory=list)


def normalise_charset(name: str | bytes | None) -> str | None:
    """Python codec name for a declared charset, GB family mapped to gb18030; None if unknown.

    Accepts a bare label (``GB2312``) or a whole Content-Type value (``text/html; charset=gbk``).
    """
    if name is None:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    label = name.strip().strip("\"'").lower()
    if "charset=" in label:
        label = label.split("charset=", 1)[1].split(";")[0].strip().strip("\"'")
    if not label:
        return None
    if label in GB_FAMILY:
        return "gb18030"
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return None
    if codec in {"gbk", "gb2312", "gb18030"}:
        return "gb18030"
    if codec == "utf-8-sig":
        return "utf-8"
    return codec


def declared_in_markup(data: bytes) -> str | None:
    """The charset a page declares (``<?xml encoding>`` or the first ``<meta>``), normalised.

    Pages pasted together from a CMS template and a Word export carry two declarations, the
    second inside ``<body>``; the first one, in the head, is the one the browser used. A UTF-16/32
    declaration read from ASCII-compatible bytes can only be wrong: it is taken as UTF-8.
    """
    declared = EncodingDetector.find_declared_encoding(data, is_html=True, search_entire_document=True)
    enc = normalise_charset(declared)
    if enc is not None and enc.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return enc


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _replaced(text: str, encoding: str, notes: list[str], what: str, lenient: bool) -> Decoded:
    """A decode with replacement characters: within the tolerance it is noted, beyond it refused."""
    replaced = text.count(REPLACEMENT)
    non_ascii = sum(1 for ch in text if ord(ch) > 127) or 1
    if replaced / non_ascii > MAX_REPLACED_SHARE and not lenient:
        raise ExtractionError(
            "failed",
            f"undecodable {what}: {replaced} of {non_ascii} non-ASCII characters invalid even as {encoding}",
        )
    notes.append(f"{replaced} undecodable byte sequence(s) replaced with U+FFFD while decoding as {encoding}")
    return Decoded(text, encoding, replaced, notes)


def decode_bytes(
    data: bytes,
    *,
    declared: str | None = None,
    override: str | None = None,
    sniff_meta: bool = True,
    what: str = "document",
    lenient: bool = False,
) -> Decoded:
    """Decode ``data`` by the policy of this module (see its docstring).

    ``declared``: the HTTP charset (or a whole Content-Type value). ``override``: a per-source
    encoding known better than the document's own labels. ``sniff_meta``: read ``<meta>``/XML
    declarations (markup; off for plain text). ``what`` names the document in an error. Raises
    ``ExtractionError("failed", ...)`` for bytes that are mostly not text, unless ``lenient``.
    """
    notes: list[str] = []
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            text = _strict(data, codec)
            if text is None:
                return _replaced(data.decode(codec, errors="replace").lstrip("\ufeff"), name, notes, what, lenient)
            return Decoded(text.lstrip("\ufeff"), name, 0, notes)

    has_non_ascii = not data.isascii()
    utf8_text = _strict(data, "utf-8") if has_non_ascii else None
    candidates = (
        ("source setting", override),
        ("HTTP charset", declared),
        ("<meta> charset", None),
    )
    for origin, given in candidates:
        if origin == "<meta> charset":
            enc = declared_in_markup(data) if sniff_meta else None
        else:
            enc = normalise_charset(given)
            if enc is None:
                if given:
                    notes.append(f"{origin} {given!r} is not a known encoding; ignored")
                continue
        if enc is None:
            continue
        if enc in WESTERN and has_non_ascii:
            notes.append(f"{origin} {enc} ignored: a Chinese report cannot be in a single-byte Western charset")
            continue
        if enc != "utf-8" and utf8_text is not None:
            notes.append(f"{origin} says {enc} but the bytes are valid UTF-8; decoded as utf-8")
            return Decoded(utf8_text, "utf-8", 0, notes)
        text = _strict(data, enc)
        if text is not None:
            return Decoded(text, enc, 0, notes)
        notes.append(f"{origin} {enc} does not decode the bytes; trying the next source of the encoding")

    if not has_non_ascii:
        return Decoded(data.decode("ascii"), "ascii", 0, notes)
    if utf8_text is not None:
        return Decoded(utf8_text, "utf-8", 0, notes)
    text = _strict(data, "gb18030")
    if text is not None:
        return Decoded(text, "gb18030", 0, notes)
    best_text, best_enc = min(
        ((data.decode(enc, errors="replace"), enc) for enc in ("utf-8", "gb18030")),
        key=lambda pair: pair[0].count(REPLACEMENT),
    )
    return _replaced(best_text, best_enc, notes, what, lenient)


def has_byte_order_mark(data: bytes) -> bool:
    """True when ``data`` starts with a UTF-8/16/32 byte-order mark."""
    return any(data.startswith(bom) for bom, _, _ in _BOMS)


def decode_plain_text(data: bytes, *, declared: str | None = None, override: str | None = None) -> Decoded:
    """Decode a plain-text or Markdown export by the same policy and tolerance as a page.

    Text has no ``<meta>`` to read, so only a byte-order mark, ``override`` and ``declared`` are
    believed. NUL bytes without a UTF-16/32 byte-order mark mean the file is binary, not text:
    ``ExtractionError("failed", ...)`` rather than a decode full of replacement characters.
    """
    if b"\x00" in data[:4096] and not has_byte_order_mark(data):
        raise ExtractionError("failed", "binary data (NUL bytes), not a text report")
    return decode_bytes(data, declared=declared, override=override, sniff_meta=False, what="text")
