"""A report page whose tables are images, kept as one document: the page and its table images.

Some publishers paste the statistical tables into the report page as ``<img>`` elements. The
harvester fetches those images (same allowed hosts and limits as every body, each archived as
fetched) and packs the page and the images, byte for byte, into one document: an uncompressed
ZIP whose first member is a manifest naming every member's URL and sha256. The pack is
deterministic (fixed member times), so the same page and images give the same sha256, and the
staged result is reused until one of them changes. Extraction reads the page's text as HTML and
its images by OCR (``extractors.read_document``, format ``html-ocr``).

Nothing here imports the OCR stack: packing and unpacking are plain ``zipfile`` work.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

from xxgk.extractors.base import ExtractionError
from xxgk.schemas.records import STATUS_FAILED, STATUS_NEEDS_OCR

#: Name of the manifest, the first member of a pack (format detection looks for it).
MANIFEST = "xxgk-table-images.json"
KIND = "xxgk-table-images/1"
#: Limits of a pack read back: images per page and bytes in all (zip bombs are refused unread).
MAX_IMAGES = 12
MAX_TOTAL_BYTES = 64 * 1024 * 1024
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class TableImagePage:
    """A report page and its table images, as fetched."""

    page_url: str
    page: bytes
    charset: str | None
    images: tuple[tuple[str, bytes], ...]  # (url, bytes) in the page's order


def is_pack(data: bytes) -> bool:
    """True for a pack written by ``pack`` (a ZIP whose first member is the manifest)."""
    return data.startswith(b"PK\x03\x04") and MANIFEST.encode() in data[30 : 30 + len(MANIFEST) + 8]


def pack(page: TableImagePage) -> bytes:
    """The page and its images as one deterministic, uncompressed ZIP."""
    members = [("page.html", page.page)] + [(f"image-{i:02d}", data) for i, (_, data) in enumerate(page.images, 1)]
    urls = [page.page_url] + [url for url, _ in page.images]
    manifest = {
        "kind": KIND,
        "page_url": page.page_url,
        "charset": page.charset,
        "members": [
            {"name": name, "url": url, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for (name, data), url in zip(members, urls, strict=True)
        ],
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo(MANIFEST, _EPOCH), json.dumps(manifest, ensure_ascii=False, sort_keys=True))
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, _EPOCH), data)
    return buf.getvalue()


def unpack(data: bytes) -> TableImagePage:
    """The page and images of a pack; a damaged or oversized pack is an ``ExtractionError``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            manifest = json.loads(zf.read(MANIFEST))
            members = manifest["members"]
            if manifest.get("kind") != KIND or not members or members[0]["name"] != "page.html":
                raise ExtractionError(STATUS_FAILED, f"table-image pack: unknown manifest {manifest.get('kind')!r}")
            if len(members) - 1 > MAX_IMAGES:
                raise ExtractionError(
                    STATUS_NEEDS_OCR, f"table-image pack: {len(members) - 1} images > limit {MAX_IMAGES}"
                )
            total = sum(zf.getinfo(m["name"]).file_size for m in members)
            if total > MAX_TOTAL_BYTES:
                raise ExtractionError(
                    STATUS_NEEDS_OCR, f"table-image pack: {total} bytes > limit {MAX_TOTAL_BYTES}"
                )
            bodies = [zf.read(m["name"]) for m in members]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ExtractionError(STATUS_FAILED, f"table-image pack unreadable: {exc}") from exc
    for m, body in zip(members, bodies, strict=True):
        if hashlib.sha256(body).hexdigest() != m["sha256"]:
            raise ExtractionError(STATUS_FAILED, f"table-image pack: {m['name']} does not match its sha256")
    images = tuple((m["url"], body) for m, body in zip(members[1:], bodies[1:], strict=True))
    return TableImagePage(manifest["page_url"], bodies[0], manifest.get("charset"), images)


__all__ = ["KIND", "MANIFEST", "MAX_IMAGES", "TableImagePage", "is_pack", "pack", "unpack"]
