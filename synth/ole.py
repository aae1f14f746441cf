"""Write small OLE2 compound files (the container of DOC, XLS, WPS and ET files) for test documents.

``olefile`` reads compound files but cannot create them, and the test documents need some that
no library writes: a Word 97 or Excel 97 binary marked as written by WPS Office (the
``SummaryInformation`` property set naming it), a password-protected OOXML package's
``EncryptedPackage``, a Works document's ``CONTENTS``, a PowerPoint stream. This writer makes a
version-3 compound file (512-byte sectors) holding root-level streams only. Streams shorter than
the 4096-byte mini-stream cutoff are padded to it with zeros, so no mini stream is needed: every
reader of these formats locates its data by offsets inside the stream, and trailing zeros are
ignored.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Mapping

import olefile

SECTOR = 512
_CUTOFF = 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_FMTID_SUMMARY = uuid.UUID("F29F85E0-4FF9-1068-AB91-08002B27B3D9").bytes_le
_PID_CODEPAGE, _PID_APPNAME = 1, 0x12
_VT_I2, _VT_LPSTR = 2, 0x1E


def _sectors(n_bytes: int) -> int:
    return -(-n_bytes // SECTOR)


def _dir_entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le")
    if len(encoded) > 64:
        raise ValueError(f"stream name too long: {name!r}")
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded) if name else 0, kind, 1)
        + struct.pack("<III", _NOSTREAM, right, child)
        + b"\0" * 16
        + struct.pack("<I", 0)
        + b"\0" * 16
        + struct.pack("<IQ", start, size)
    )


def compound_file(streams: Mapping[str, bytes]) -> bytes:
    """A compound file whose root storage holds ``streams`` (name -> bytes)."""
    # siblings chained in the order readers search them: by name length, then upper-cased name
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    padded = {n: streams[n].ljust(_CUTOFF, b"\0") for n in names}
    dir_sectors = _sectors(128 * (len(names) + 1))
    data_sectors = sum(_sectors(len(b)) for b in padded.values())
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < fat_sectors + dir_sectors + data_sectors:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("compound file too large for this writer (no DIFAT)")
    fat = [_FATSECT] * fat_sectors
    dir_start = len(fat)
    fat += [dir_start + i + 1 for i in range(dir_sectors - 1)] + [_END]
    starts: dict[str, int] = {}
    for n in names:
        count = _sectors(len(padded[n]))
        starts[n] = len(fat)
        fat += [starts[n] + i + 1 for i in range(count - 1)] + [_END]
    fat += [_FREE] * (fat_sectors * (SECTOR // 4) - len(fat))

    entries = [_dir_entry("Root Entry", 5, _NOSTREAM, 1 if names else _NOSTREAM, _END, 0)]
    for i, n in enumerate(names):
        right = i + 2 if i + 1 < len(names) else _NOSTREAM
        entries.append(_dir_entry(n, 2, right, _NOSTREAM, starts[n], len(padded[n])))
    directory = b"".join(entries)
    while len(directory) < dir_sectors * SECTOR:
        directory += _dir_entry("", 0, _NOSTREAM, _NOSTREAM, 0, 0)

    difat = list(range(fat_sectors)) + [_FREE] * (109 - fat_sectors)
    header = (
        olefile.MAGIC
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIII", 0, fat_sectors, dir_start, 0)
        + struct.pack("<IIIII", _CUTOFF, _END, 0, _END, 0)
        + struct.pack("<109I", *difat)
    )
    data = b"".join(padded[n].ljust(_sectors(len(padded[n])) * SECTOR, b"\0") for n in names)
    body = struct.pack(f"<{len(fat)}I", *fat) + directory + data
    return header + body


def summary_information(app_name: str) -> bytes:
    """A ``SummaryInformation`` property set naming the program that wrote the file."""
    app = app_name.encode("ascii") + b"\0"
    app_prop = struct.pack("<II", _VT_LPSTR, len(app)) + app.ljust(-(-len(app) // 4) * 4, b"\0")
    codepage_prop = struct.pack("<HHH", _VT_I2, 0, 1252) + b"\0\0"
    offsets = 8 + 2 * 8
    section_body = (
        struct.pack("<II", _PID_CODEPAGE, offsets)
        + struct.pack("<II", _PID_APPNAME, offsets + len(codepage_prop))
        + codepage_prop
        + app_prop
    )
    section = struct.pack("<II", 8 + len(section_body), 2) + section_body
    header = struct.pack("<HHI", 0xFFFE, 0, 0x00020006) + b"\0" * 16 + struct.pack("<I", 1)
    return header + _FMTID_SUMMARY + struct.pack("<I", 48) + section


def rewrite(ole_bytes: bytes, extra: Mapping[str, bytes]) -> bytes:
    """The root-level streams of a compound file, with ``extra`` streams added or replaced."""
    with olefile.OleFileIO(ole_bytes) as ole:
        streams = {"/".join(p): ole.openstream(p).read() for p in ole.listdir(streams=True, storages=False) if len(p) == 1}
    streams.update(extra)
    return compound_file(streams)


def as_written_by_wps(ole_bytes: bytes) -> bytes:
    """A DOC or XLS binary as WPS Office saves it: the same streams, its summary naming WPS Office."""
    return rewrite(ole_bytes, {"\x05SummaryInformation": summary_information("WPS Office")})


__all__ = ["as_written_by_wps", "compound_file", "rewrite", "summary_information"]
