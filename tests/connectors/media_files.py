"""Real media files for connector tests: images drawn with Pillow, a small MP4-shaped file."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image, ImageDraw

from connectors.base import MediaFile

FORMATS = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg"), "gif": ("GIF", "image/gif")}


def image_bytes(kind: str = "png", size: tuple[int, int] = (64, 48), color: str = "teal") -> bytes:
    pil_format, _ = FORMATS[kind]
    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).rectangle((8, 8, size[0] - 8, size[1] - 8), outline="white", width=3)
    buffer = io.BytesIO()
    image.save(buffer, pil_format)
    return buffer.getvalue()


def make_image(
    directory: Path,
    name: str = "poster.png",
    *,
    kind: str = "png",
    size: tuple[int, int] = (64, 48),
    color: str = "teal",
    media_id: str | None = None,
) -> MediaFile:
    data = image_bytes(kind, size, color)
    path = directory / name
    path.write_bytes(data)
    return MediaFile(
        id=media_id or f"med-{path.stem}",
        filename=name,
        content_type=FORMATS[kind][1],
        size=len(data),
        path=path,
        width=size[0],
        height=size[1],
    )


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(payload_size: int = 4096) -> bytes:
    """An `ftyp` box (isom, mp41), a `free` box and an `mdat` box of filler: what a
    platform sniffs to call a file MP4. It is not a playable video."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    return ftyp + _box(b"free", b"") + _box(b"mdat", bytes(range(256)) * (payload_size // 256))


def make_video(directory: Path, name: str = "clip.mp4", media_id: str | None = None) -> MediaFile:
    data = mp4_bytes()
    path = directory / name
    path.write_bytes(data)
    return MediaFile(
        id=media_id or f"med-{path.stem}",
        filename=name,
        content_type="video/mp4",
        size=len(data),
        path=path,
    )
