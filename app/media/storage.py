"""Media files on disk: receive an upload as a stream, store it under its sha256.

Layout under CADENCE_MEDIA_DIR:

    tmp/upload-XXXX            an upload being received (removed on any failure)
    ab/cd/abcdef....png        a stored file: its sha256, split for shorter directories

An upload is parsed straight from the request stream (multipart/form-data) into a
temporary file, hashing and counting as it goes; at most about one megabyte of it is
held in memory at a time. File writes run in a worker thread, off the event loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

FLUSH_BYTES = 1024 * 1024
# What the multipart framing may add to a file of the largest size: the body limit for
# uploads is CADENCE_MAX_UPLOAD_BYTES plus this, so that the file itself, not the
# body, is what an oversize upload is refused for (413 naming `file`).
MULTIPART_OVERHEAD = 64 * 1024
MAX_FILENAME = 100
TMP = "tmp"


class UploadError(Exception):
    """A refused upload: `status` and a message naming the field."""

    def __init__(self, status: int, message: str, *, loc: tuple[str, ...] = ("body", "file")):
        super().__init__(message)
        self.status = status
        self.message = message
        self.loc = loc


@dataclass
class Received:
    temp_path: Path
    size: int
    sha256: str
    client_filename: str


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def tmp_dir(self) -> Path:
        return self.root / TMP

    @staticmethod
    def storage_path(sha256: str, extension: str) -> str:
        """Where the file with this digest lives, relative to the root."""
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}{extension}"

    def path(self, storage_path: str) -> Path:
        return self.root / storage_path

    def new_temp(self) -> tuple[IO[bytes], Path]:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the receiver
            dir=self.tmp_dir, prefix="upload-", delete=False
        )
        return handle, Path(handle.name)

    def keep(self, temp_path: Path, storage_path: str) -> None:
        """Move a received file to its place (atomic: same file system)."""
        target = self.path(storage_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp_path, target)

    def exists(self, storage_path: str) -> bool:
        return self.path(storage_path).is_file()

    def remove(self, storage_path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(storage_path).unlink()


def discard(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def display_filename(name: str, extension: str) -> str:
    """The client's file name made safe to show and to put in a URL path.

    The directory part is dropped, letters are folded to ASCII, anything but letters,
    digits, dots, dashes and underscores becomes a dash, and the extension is the one
    of the type sniffed from the bytes (a PNG sent as "photo.jpg" is "photo.png").
    """
    base = re.split(r"[/\\]", name)[-1]
    folded = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem = folded.rsplit(".", 1)[0] if "." in folded.lstrip(".") else folded
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem)
    stem = re.sub(r"-{2,}", "-", stem).strip(".-_")
    stem = stem[: MAX_FILENAME - len(extension)] or "upload"
    return stem + extension


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str | None = None
    filename: str | None = None


class _FileField:
    """Parser callbacks that keep the one file field and ignore the others."""

    def __init__(self, field_name: str, limit: int) -> None:
        self.field_name = field_name
        self.limit = limit
        self.part = _Part()
        self._header_name = b""
        self._header_value = b""
        self.receiving = False
        self.found = False
        self.done = False
        self.size = 0
        self.client_filename = ""
        self.pending: list[bytes] = []
        self.pending_bytes = 0

    def on_part_begin(self) -> None:
        self.part = _Part()

    # The parser bounds the size and number of each part's headers.
    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        filename = options.get(b"filename")
        self.part.name = name.decode("utf-8", "replace") if name is not None else None
        self.part.filename = filename.decode("utf-8", "replace") if filename is not None else None
        if self.part.name == self.field_name and not self.found:
            # A part without a filename is taken too: the bytes decide what it is.
            self.found = self.receiving = True
            self.client_filename = self.part.filename or ""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.receiving:
            return  # other fields are ignored (the body limit bounds them)
        self.size += end - start
        if self.size > self.limit:
            raise UploadError(413, f"the file is larger than {self.limit} bytes")
        self.pending.append(data[start:end])
        self.pending_bytes += end - start

    def on_part_end(self) -> None:
        if self.receiving:
            self.receiving = False
            self.done = True

    def take(self) -> list[bytes]:
        chunks, self.pending, self.pending_bytes = self.pending, [], 0
        return chunks


def _boundary(content_type: str | None) -> bytes:
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise UploadError(
            422, "send the file as multipart/form-data in a field named 'file'", loc=("body",)
        )
    return params[b"boundary"]


async def receive_upload(
    stream: AsyncIterator[bytes],
    content_type: str | None,
    *,
    store: MediaStore,
    limit: int,
    field_name: str = "file",
) -> Received:
    """Stream the multipart body's `field_name` file into a temporary file.

    Raises UploadError (413 past `limit` bytes, 422 when the field is missing or the
    body is not multipart). The temporary file is removed on every failure, including
    one raised by `stream` itself (the body limit, a client that went away).
    """
    boundary = _boundary(content_type)
    field = _FileField(field_name, limit)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": field.on_part_begin,
            "on_part_data": field.on_part_data,
            "on_part_end": field.on_part_end,
            "on_header_field": field.on_header_field,
            "on_header_value": field.on_header_value,
            "on_header_end": field.on_header_end,
            "on_headers_finished": field.on_headers_finished,
        },
    )
    handle, temp_path = await run_in_threadpool(store.new_temp)
    digest = hashlib.sha256()

    def write(chunks: list[bytes]) -> None:
        for chunk in chunks:
            digest.update(chunk)
            handle.write(chunk)

    try:
        async for chunk in stream:
            try:
                parser.write(chunk)
            except FormParserError:
                raise UploadError(400, "the multipart body is malformed", loc=("body",)) from None
            if field.pending_bytes >= FLUSH_BYTES or (field.done and field.pending):
                await run_in_threadpool(write, field.take())
            if field.done:
                break  # the rest of the body is of no interest
        else:
            try:
                parser.finalize()
            except FormParserError:
                raise UploadError(400, "the multipart body is malformed", loc=("body",)) from None
        if not field.found:
            raise UploadError(422, "field required: send the file in a field named 'file'")
        if not field.done:
            raise UploadError(400, "the multipart body ended inside the file", loc=("body",))
        await run_in_threadpool(write, field.take())
        await run_in_threadpool(handle.close)
    except BaseException:
        handle.close()
        await run_in_threadpool(discard, temp_path)
        raise
    return Received(temp_path, field.size, digest.hexdigest(), field.client_filename)
