"""Bytes of a text report → text: byte-order marks, strict UTF-8, the declared charset, GB18030."""

from __future__ import annotations

from xxgk.extractors.base import ExtractionError
from xxgk.schemas.records import STATUS_FAILED

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_GB_FAMILY = {"gb2312", "gbk", "x-gbk", "cp936", "euc-cn", "gb-2312-80", "hz-gb-2312", "gb18030"}


def decode_text(data: bytes, encoding: str | None = None) -> tuple[str, str, list[str]]:
    """(text, encoding used, warnings): BOM first, then strict UTF-8, the declared encoding, GB18030.

    Strict UTF-8 comes before a declared charset because declared charsets are often wrong
    (a page served as GBK but saved as UTF-8), while GBK text is almost never valid UTF-8.
    Newlines are normalised to ``\\n``.
    """
    warnings: list[str] = []
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return _newlines(data[len(bom) :].decode(enc)), enc, warnings
            except UnicodeDecodeError as err:
                raise ExtractionError(STATUS_FAILED, f"text has a {enc} byte-order mark but does not decode") from err
    if b"\x00" in data[:4096]:
        raise ExtractionError(STATUS_FAILED, "binary data (NUL bytes), not a text report")
    if encoding and encoding.lower().replace("_", "-") in _GB_FAMILY:
        encoding = "gb18030"  # the superset: "gb2312" texts routinely hold GBK-only characters
    tried: list[str] = []
    for enc in ("utf-8", encoding, "gb18030"):
        if not enc or enc.lower().replace("_", "-") in tried:
            continue
        tried.append(enc.lower().replace("_", "-"))
        try:
            text = data.decode(enc)
        except LookupError:
            warnings.append(f"unknown declared encoding {enc!r} ignored")
            continue
        except UnicodeDecodeError:
            continue
        if encoding and enc not in {encoding, "utf-8"}:
            warnings.append(f"declared encoding {encoding!r} does not decode the text; read as {enc}")
        return _newlines(text), enc, warnings
    raise ExtractionError(STATUS_FAILED, f"text decodes as none of {', '.join(tried)}")


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
