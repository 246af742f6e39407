"""What a stored file really is, judged from its bytes alone.

The name and the Content-Type a client sends are never trusted: a file is an image
when Pillow can read it as one of the image formats below, and a video or a PDF when
its first bytes carry that container's signature. Everything else is refused.

Signatures checked (first bytes of the file):
- PNG `89 50 4E 47 0D 0A 1A 0A`, JPEG `FF D8 FF`, GIF `GIF87a`/`GIF89a`,
  WebP `RIFF....WEBP`: then opened with Pillow for the format and the pixel size.
- MP4 / QuickTime: an ISO base media `ftyp` box at offset 4; its major brand tells
  QuickTime (`qt  `) from MP4 (the brands below). HEIF/AVIF images and M4A audio use
  the same box with other brands and are refused.
- WebM: an EBML header `1A 45 DF A3` whose DocType is `webm` (Matroska is refused).
- PDF: `%PDF-`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

HEAD_BYTES = 64

# Pillow format name -> (content type, file extension).
IMAGE_FORMATS = {
    "PNG": ("image/png", ".png"),
    "JPEG": ("image/jpeg", ".jpg"),
    "GIF": ("image/gif", ".gif"),
    "WEBP": ("image/webp", ".webp"),
}
MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"dash",
        b"mmp4",
        b"MSNV",
    }
)
QUICKTIME_BRAND = b"qt  "
EXTENSIONS = {
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "application/pdf": ".pdf",
    **dict(IMAGE_FORMATS.values()),
}
ACCEPTED = "JPEG, PNG, GIF or WebP images, MP4, QuickTime or WebM videos, and PDF documents"


class UnsupportedMedia(ValueError):
    """The bytes are not one of the accepted types (or not a valid file of that type)."""


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None


def _image_signature(head: bytes) -> bool:
    return (
        head.startswith(b"\x89PNG\r\n\x1a\n")
        or head.startswith(b"\xff\xd8\xff")
        or head[:6] in (b"GIF87a", b"GIF89a")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    )


def _container(head: bytes) -> str | None:
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == QUICKTIME_BRAND:
            return "video/quicktime"
        if brand in MP4_BRANDS:
            return "video/mp4"
        return None
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # The DocType element (ID 0x4282) holds "webm" or "matroska" within the header.
        doctype = head.find(b"\x42\x82")
        if doctype >= 0 and b"webm" in head[doctype : doctype + 8]:
            return "video/webm"
        return None
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _image(path: Path) -> Sniffed:
    try:
        with warnings.catch_warnings():
            # A huge pixel count is refused below rather than warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                kind = IMAGE_FORMATS.get(image.format or "")
                width, height = image.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise UnsupportedMedia("the image has too many pixels") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMedia("the file looks like an image but cannot be read as one") from exc
    if kind is None:
        raise UnsupportedMedia(f"this kind of file is not accepted; send {ACCEPTED}")
    return Sniffed(kind[0], kind[1], width, height)


def sniff(path: Path) -> Sniffed:
    """The type of the file at `path`, or UnsupportedMedia."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        raise UnsupportedMedia("the file is empty")
    if _image_signature(head):
        return _image(path)
    content_type = _container(head)
    if content_type is None:
        raise UnsupportedMedia(f"this kind of file is not accepted; send {ACCEPTED}")
    return Sniffed(content_type, EXTENSIONS[content_type])
