"""ZIP packages opened with limits: zipped report attachments, and the parts of DOCX/XLSX files.

A hostile archive must not exhaust memory or disk: before anything is decompressed the central
directory is checked (number of entries, declared total size, compression ratio of large
members), and every member is read with a cap, so a member that inflates past its declared size
is refused too. Past a limit the document gets ``failed`` with a reason naming the limit.

``extract_zip`` is the reader of format ``zip`` (a report zipped by the portal): it reads the
first member in a report format (members whose name says 年度报告/年报 first) with the reader
of that format; every grid's locator names the member, so each fact traces back into the archive.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from xxgk.extractors.base import ExtractionError, RawDocument
from xxgk.schemas.lexicon import ANNUAL_REPORT, ANNUAL_REPORT_SHORT
from xxgk.schemas.records import STATUS_FAILED

FORMAT = "zip"


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """What an archive may hold before it is refused."""

    max_entries: int = 2000
    max_total_bytes: int = 512 * 1024 * 1024  # declared uncompressed size of all members
    max_member_bytes: int = 256 * 1024 * 1024
    max_ratio: float = 200.0  # uncompressed / compressed, for members of at least ratio_floor bytes
    ratio_floor: int = 1024 * 1024


DEFAULT_LIMITS = ZipLimits()

#: Member formats a zipped report may come in, best first (a .txt readme is tried last).
_READABLE_RANK = {
    "docx": 0,
    "pdf": 0,
    "doc": 0,
    "wps": 0,
    "rtf": 0,
    "odt": 0,
    "wordml": 0,
    "xlsx": 1,
    "xls": 1,
    "et": 1,
    "ods": 1,
    "html": 2,
    "mhtml": 2,
    "markdown": 3,
    "text": 3,
}
_REPORT_WORDS = (ANNUAL_REPORT, ANNUAL_REPORT_SHORT)


def open_zip(data: bytes, what: str, limits: ZipLimits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """A ZipFile over ``data`` whose directory passed the limits; ExtractionError otherwise."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError) as err:
        raise ExtractionError(STATUS_FAILED, f"{what}: not a readable ZIP package ({err})") from err
    try:
        check_limits(zf, what, limits)
    except ExtractionError:
        zf.close()
        raise
    return zf


def check_limits(zf: zipfile.ZipFile, what: str, limits: ZipLimits = DEFAULT_LIMITS) -> None:
    """Refuse an archive whose directory promises too many entries, bytes or too high a ratio."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise ExtractionError(STATUS_FAILED, f"{what}: {len(infos)} entries, more than the limit of {limits.max_entries}")
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_bytes:
        raise ExtractionError(
            STATUS_FAILED,
            f"{what}: {total} bytes uncompressed, more than the limit of {limits.max_total_bytes}",
        )
    for info in infos:
        if info.file_size > limits.max_member_bytes:
            raise ExtractionError(
                STATUS_FAILED,
                f"{what}: member {info.filename!r} is {info.file_size} bytes uncompressed, "
                f"more than the limit of {limits.max_member_bytes}",
            )
        if info.file_size >= limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise ExtractionError(
                STATUS_FAILED,
                f"{what}: member {info.filename!r} inflates {ratio:.0f}x "
                f"(limit {limits.max_ratio:.0f}x): a zip bomb is not opened",
            )


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo | str, what: str) -> bytes:
    """The bytes of one member, refusing one that inflates past its declared size."""
    if isinstance(info, str):
        info = zf.getinfo(info)
    try:
        with zf.open(info) as member:
            data = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, NotImplementedError, EOFError) as err:
        raise ExtractionError(STATUS_FAILED, f"{what}: member {info.filename!r} cannot be read ({err})") from err
    if len(data) > info.file_size:
        raise ExtractionError(STATUS_FAILED, f"{what}: member {info.filename!r} is larger than its directory says")
    return data


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it: zips made on Chinese Windows store GBK names
    without the UTF-8 flag, which ``zipfile`` decodes as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _candidates(zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    out: list[tuple[zipfile.ZipInfo, str]] = []
    for info in zf.infolist():
        name = member_name(info)
        base = name.rsplit("/", 1)[-1]
        if info.is_dir() or not base or name.startswith("__MACOSX/") or base.startswith((".", "~$")):
            continue
        if info.file_size == 0:
            continue
        out.append((info, name))
    return out


def extract_zip(
    data: bytes,
    detect: Callable[[bytes, str], str],
    read: Callable[[bytes, str], RawDocument],
    limits: ZipLimits = DEFAULT_LIMITS,
) -> RawDocument:
    """The report inside a zipped attachment, read by the reader of its own format.

    ``detect``/``read`` are ``extractors.detect_format``/``read_document`` (passed in, so this
    module does not import the package that dispatches to it). Nested archives are not opened.
    """
    what = "zip archive"
    with open_zip(data, what, limits) as zf:
        members = _candidates(zf)
        found: list[tuple[int, int, zipfile.ZipInfo, str, str]] = []
        skipped: list[str] = []
        for order, (info, name) in enumerate(members):
            # detection needs the whole member for OLE2/ZIP (their directories sit anywhere)
            head = read_member(zf, info, what)
            fmt = detect(head, name)
            rank = _READABLE_RANK.get(fmt)
            if rank is None:
                skipped.append(f"{name} ({fmt})")
                continue
            named = 0 if any(w in name for w in _REPORT_WORDS) else 1
            found.append((named * 10 + rank, order, info, name, fmt))
        if not found:
            listing = ", ".join(skipped[:8]) or "no files"
            raise ExtractionError(STATUS_FAILED, f"zip archive holds no document in a report format ({listing})")
        _, _, info, name, fmt = min(found, key=lambda f: (f[0], f[1]))
        member = read_member(zf, info, what)
    try:
        raw = read(member, name)
    except ExtractionError as err:
        raise ExtractionError(err.status, f"zip member {name!r} ({fmt}): {err.reason}") from err
    for grid in raw.grids:
        grid.locator = f"zip:{name} {grid.locator}"
        grid.meta["zip_member"] = name
    others = len(members) - 1
    raw.warnings.insert(0, f"read zip member {name!r} ({raw.format})" + (f"; {others} other member(s) not read" if others else ""))
    raw.format = FORMAT
    return raw


__all__ = ["DEFAULT_LIMITS", "ZipLimits", "check_limits", "extract_zip", "member_name", "open_zip", "read_member"]
