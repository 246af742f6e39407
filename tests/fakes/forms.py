"""Reading request bodies the way a platform does: form-encoded and multipart/form-data.

`read_form(recorded)` gives the text fields (query string first, then the body) and the
uploaded files of a recorded request; a malformed multipart body raises `FormError`,
which a fake answers as the platform answers a broken request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import parse_qsl

from tests.fakes.sinks import RecordedRequest


class FormError(ValueError):
    """The body is not what its Content-Type says."""


@dataclass(frozen=True)
class Upload:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Form:
    fields: list[tuple[str, str]] = field(default_factory=list)  # query, then body
    files: list[Upload] = field(default_factory=list)
    body_fields: list[tuple[str, str]] = field(default_factory=list)  # the body's only
    multipart: bool = False

    def get(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def file(self, name: str) -> Upload | None:
        for upload in self.files:
            if upload.name == name:
                return upload
        return None

    def as_dict(self) -> dict[str, str]:
        return dict(self.fields)


def _header_params(name: str, value: str) -> Message:
    message = Message()
    message[name] = value
    return message


def parse_multipart(body: bytes, content_type: str) -> tuple[list[tuple[str, str]], list[Upload]]:
    """Split a multipart/form-data body (RFC 7578) into text fields and files."""
    boundary = _header_params("content-type", content_type).get_param(
        "boundary", header="content-type"
    )
    if not isinstance(boundary, str) or not boundary:
        raise FormError("multipart body without a boundary")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    sections = (b"\r\n" + body).split(delimiter)
    if len(sections) < 3 or sections[0] != b"" or not sections[-1].startswith(b"--"):
        raise FormError("multipart body is not delimited by its boundary")
    fields: list[tuple[str, str]] = []
    files: list[Upload] = []
    for section in sections[1:-1]:
        if not section.startswith(b"\r\n"):
            raise FormError("multipart boundary not followed by a line break")
        head, sep, content = section[2:].partition(b"\r\n\r\n")
        if not sep:
            raise FormError("multipart part without a blank line after its headers")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8").split("\r\n"):
            key, colon, value = line.partition(":")
            if not colon:
                raise FormError(f"bad multipart header line {line!r}")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        parsed = _header_params("content-disposition", disposition)
        if not disposition.lower().startswith("form-data"):
            raise FormError("multipart part is not form-data")
        name = parsed.get_param("name", header="content-disposition")
        filename = parsed.get_param("filename", header="content-disposition")
        if not isinstance(name, str):
            raise FormError("multipart part without a name")
        if isinstance(filename, str):
            files.append(Upload(name, filename, headers.get("content-type"), content))
        else:
            fields.append((name, content.decode("utf-8")))
    return fields, files


def read_form(recorded: RecordedRequest) -> Form:
    """Query parameters, then the body's fields (form-encoded or multipart) and files."""
    form = Form(fields=parse_qsl(recorded.query, keep_blank_values=True))
    content_type = recorded.header("content-type") or ""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        form.body_fields, form.files = parse_multipart(recorded.body, content_type)
        form.multipart = True
    elif kind == "application/x-www-form-urlencoded":
        try:
            text = recorded.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormError("form body is not UTF-8") from exc
        form.body_fields = parse_qsl(text, keep_blank_values=True)
    elif recorded.body:
        raise FormError(f"unexpected body of type {content_type or 'none'}")
    form.fields += form.body_fields
    return form


def image_kind(data: bytes) -> str | None:
    """The image format the bytes start with, as platforms sniff it."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def is_mp4(data: bytes) -> bool:
    """An ISO base media file (MP4, MOV) starts with an `ftyp` box."""
    return len(data) >= 12 and data[4:8] == b"ftyp"
