"""The media library: streamed uploads, sniffed types, dedupe, limits, the public file route."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.clock import FrozenClock
from app.config import Settings
from app.main import create_app
from app.media.storage import MULTIPART_OVERHEAD
from app.runtime import Runtime
from app.users.models import Role
from tests.conftest import make_token
from tests.helpers import API, LATER, locs, objective, row_counts, webhook_channel

# -- sample files --------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    mode = "P" if fmt == "GIF" else "RGB"
    Image.new(mode, size, color=1 if mode == "P" else (200, 30, 90)).save(buffer, fmt)
    return buffer.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG", (30, 20))
GIF = image_bytes("GIF", (10, 12))
# An ISO base media file: a 24-byte ftyp box (major brand mp42), then an mdat box.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x10mdat" + b"\x01" * 8
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00\x00\x00\x10mdat" + b"\x02" * 8
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 16
# EBML header with DocType "webm".
WEBM = bytes.fromhex("1a45dfa39f4286810142f7810142f2810442f381084282847765626d") + b"\x00" * 16
MATROSKA = bytes.fromhex("1a45dfa3a3 4286810142f7810142f2810442f38108 428288") + b"matroska"
PDF = b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


def upload(
    client: TestClient,
    headers: dict[str, str],
    data: bytes,
    filename: str = "poster.png",
    content_type: str = "application/octet-stream",
) -> Any:
    return client.post(
        f"{API}/media", files={"file": (filename, data, content_type)}, headers=headers
    )


def stored_files(settings: Settings) -> list[Path]:
    root = settings.media_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def temp_files(settings: Settings) -> list[Path]:
    tmp = settings.media_dir / "tmp"
    return list(tmp.iterdir()) if tmp.exists() else []


# -- uploading -----------------------------------------------------------------------


def test_upload_stores_the_file_under_its_sha256(
    client: TestClient, editor: dict[str, str], settings: Settings
) -> None:
    response = upload(client, editor, PNG, "Poster for the open day.png", "image/png")

    assert response.status_code == 201, response.text
    media = response.json()
    digest = hashlib.sha256(PNG).hexdigest()
    assert media["sha256"] == digest
    assert media["size"] == len(PNG)
    assert media["content_type"] == "image/png"
    assert (media["width"], media["height"]) == (64, 48)
    assert media["filename"] == "Poster-for-the-open-day.png"
    assert media["url"] == f"http://cadence.test/media/{media['id']}/{media['filename']}"
    assert response.headers["location"] == f"{API}/media/{media['id']}"
    assert stored_files(settings) == [
        settings.media_dir / digest[:2] / digest[2:4] / f"{digest}.png"
    ]
    assert stored_files(settings)[0].read_bytes() == PNG
    assert temp_files(settings) == []

    fetched = client.get(f"{API}/media/{media['id']}", headers=editor)
    assert fetched.status_code == 200
    assert fetched.json() == media


@pytest.mark.parametrize(
    ("data", "content_type", "extension", "dimensions"),
    [
        (JPEG, "image/jpeg", ".jpg", (30, 20)),
        (GIF, "image/gif", ".gif", (10, 12)),
        (image_bytes("WEBP"), "image/webp", ".webp", (64, 48)),
        (MP4, "video/mp4", ".mp4", (None, None)),
        (MOV, "video/quicktime", ".mov", (None, None)),
        (WEBM, "video/webm", ".webm", (None, None)),
        (PDF, "application/pdf", ".pdf", (None, None)),
    ],
    ids=["jpeg", "gif", "webp", "mp4", "quicktime", "webm", "pdf"],
)
def test_the_type_is_sniffed_from_the_bytes_not_the_name_or_header(
    client: TestClient,
    editor: dict[str, str],
    data: bytes,
    content_type: str,
    extension: str,
    dimensions: tuple[int | None, int | None],
) -> None:
    # The client lies twice: a .png name and a text/html part type.
    response = upload(client, editor, data, "innocent.png", "text/html")

    assert response.status_code == 201, response.text
    media = response.json()
    assert media["content_type"] == content_type
    assert media["filename"] == f"innocent{extension}"
    assert (media["width"], media["height"]) == dimensions


def test_file_names_are_made_safe(client: TestClient, editor: dict[str, str]) -> None:
    cases = {
        "../../etc/passwd.png": "passwd.png",
        "C:\\Users\\me\\Café menu (final).jpeg": "Cafe-menu-final.png",
        "\u202egnp.exe.png": "gnp.exe.png",
        "  (  ).png": "upload.png",
        "": "upload.png",
        "a" * 300 + ".png": "a" * 96 + ".png",
    }
    for index, (name, expected) in enumerate(cases.items()):
        data = image_bytes("PNG", (5 + index, 5))  # distinct bytes, so no dedupe
        response = upload(client, editor, data, name)
        assert response.status_code == 201, (name, response.text)
        assert response.json()["filename"] == expected, name


def test_the_same_bytes_are_stored_once(
    client: TestClient, editor: dict[str, str], admin: dict[str, str], settings: Settings
) -> None:
    first = upload(client, editor, JPEG, "one.jpg")
    again = upload(client, admin, JPEG, "two.jpg")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert len(stored_files(settings)) == 1
    assert client.get(f"{API}/media", headers=editor).json()["total"] == 1


def test_a_missing_file_is_put_back_by_uploading_the_same_bytes(
    client: TestClient, editor: dict[str, str], settings: Settings
) -> None:
    media = upload(client, editor, PNG).json()
    stored_files(settings)[0].unlink()
    assert client.get(f"/media/{media['id']}/{media['filename']}").status_code == 404

    assert upload(client, editor, PNG).status_code == 200

    assert client.get(f"/media/{media['id']}/{media['filename']}").content == PNG


@pytest.mark.parametrize(
    "data",
    [b"just some text, not a picture\n", HEIC, MATROSKA, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40],
    ids=["text", "heic", "matroska", "broken-png"],
)
def test_unknown_or_broken_types_are_415_naming_file(
    client: TestClient, editor: dict[str, str], runtime: Runtime, settings: Settings, data: bytes
) -> None:
    before = row_counts(runtime)

    response = upload(client, editor, data, "photo.png", "image/png")

    assert response.status_code == 415, response.text
    assert locs(response) == ["body.file"]
    assert row_counts(runtime) == before
    assert stored_files(settings) == []


def test_bad_requests_name_the_field(
    client: TestClient, editor: dict[str, str], settings: Settings
) -> None:
    empty = upload(client, editor, b"")
    assert empty.status_code == 422
    assert locs(empty) == ["body.file"]

    other_field = client.post(
        f"{API}/media", files={"picture": ("a.png", PNG, "image/png")}, headers=editor
    )
    assert other_field.status_code == 422
    assert locs(other_field) == ["body.file"]

    text_field = client.post(
        f"{API}/media", data={"file": "not a file"}, files={"x": ("x", b"x")}, headers=editor
    )
    assert text_field.status_code == 415  # taken as the file's bytes, which are text
    assert locs(text_field) == ["body.file"]

    json_body = client.post(f"{API}/media", json={"file": "aGVsbG8="}, headers=editor)
    assert json_body.status_code == 422
    assert locs(json_body) == ["body"]

    assert stored_files(settings) == []


# -- size limits -----------------------------------------------------------------------

SMALL_LIMIT = 4096


@pytest.fixture
def small(settings: Settings, clock: FrozenClock) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client whose CADENCE_MAX_UPLOAD_BYTES is SMALL_LIMIT."""
    runtime = Runtime.build(
        settings.model_copy(update={"max_upload_bytes": SMALL_LIMIT}), clock=clock
    )
    headers = {"Authorization": f"Bearer {make_token(runtime, Role.editor)}"}
    with TestClient(create_app(runtime)) as client:
        yield client, headers
    runtime.close()


def test_a_file_at_the_limit_is_accepted(
    small: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, headers = small
    data = PNG + b"\x00" * (SMALL_LIMIT - len(PNG))  # trailing bytes after IEND

    response = upload(client, headers, data)

    assert response.status_code == 201, response.text
    assert response.json()["size"] == SMALL_LIMIT


def test_a_file_over_the_limit_is_413_naming_file_and_leaves_nothing(
    small: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, headers = small
    data = PNG + b"\x00" * (SMALL_LIMIT + 1 - len(PNG))

    response = upload(client, headers, data)

    assert response.status_code == 413, response.text
    assert locs(response) == ["body.file"]
    assert str(SMALL_LIMIT) in response.json()["detail"][0]["msg"]
    assert stored_files(settings) == []
    assert client.get(f"{API}/media", headers=headers).json()["total"] == 0


def test_a_body_over_the_limit_is_413_and_leaves_nothing(
    small: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, headers = small

    declared = upload(client, headers, b"\x00" * (SMALL_LIMIT + MULTIPART_OVERHEAD + 1))
    assert declared.status_code == 413
    assert locs(declared) == ["body"]

    # Streamed without a Content-Length: a big ignored field before the file runs the
    # body past the limit after the temporary file was created.
    boundary = "cadence-boundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="notes"\r\n\r\n').encode()
    tail = (
        (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + PNG
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(MULTIPART_OVERHEAD // 1024 + SMALL_LIMIT // 1024 + 2):
            yield b"n" * 1024
        yield tail

    streamed = client.post(
        f"{API}/media",
        content=chunks(),
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert streamed.status_code == 413
    assert stored_files(settings) == []


def test_streamed_upload_without_content_length(
    client: TestClient, editor: dict[str, str], settings: Settings
) -> None:
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.gif"\r\nContent-Type: image/gif\r\n\r\n'
        ).encode()
        + GIF
        + f"\r\n--{boundary}--\r\n".encode()
    )

    response = client.post(
        f"{API}/media",
        content=(body[i : i + 7] for i in range(0, len(body), 7)),
        headers={**editor, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["sha256"] == hashlib.sha256(GIF).hexdigest()


# -- roles -------------------------------------------------------------------------------


def test_viewers_cannot_upload_or_delete_but_can_read(
    client: TestClient, editor: dict[str, str], viewer: dict[str, str], settings: Settings
) -> None:
    refused = upload(client, viewer, PNG)
    assert refused.status_code == 403
    assert "contributor" in refused.json()["detail"]  # the lowest role that uploads
    assert upload(client, {}, PNG).status_code == 401
    assert upload(client, {"Authorization": "Bearer nope"}, PNG).status_code == 401
    assert stored_files(settings) == []

    media = upload(client, editor, PNG).json()
    assert client.get(f"{API}/media", headers=viewer).json()["total"] == 1
    assert client.get(f"{API}/media/{media['id']}", headers=viewer).status_code == 200
    assert client.delete(f"{API}/media/{media['id']}", headers=viewer).status_code == 403


def test_list_is_paged(client: TestClient, editor: dict[str, str]) -> None:
    for width in range(1, 6):
        assert upload(client, editor, image_bytes("PNG", (width, 1))).status_code == 201

    page = client.get(f"{API}/media", params={"limit": 2, "offset": 1}, headers=editor).json()

    assert page["total"] == 5
    assert len(page["items"]) == 2
    bad = client.get(f"{API}/media", params={"limit": 0}, headers=editor)
    assert bad.status_code == 422
    assert locs(bad) == ["query.limit"]


# -- deleting ------------------------------------------------------------------------------


def test_delete_removes_the_row_and_the_file(
    client: TestClient, editor: dict[str, str], settings: Settings
) -> None:
    media = upload(client, editor, PNG).json()

    response = client.delete(f"{API}/media/{media['id']}", headers=editor)

    assert response.status_code == 204
    assert client.get(f"{API}/media/{media['id']}", headers=editor).status_code == 404
    assert stored_files(settings) == []
    assert client.delete(f"{API}/media/{media['id']}", headers=editor).status_code == 404


def test_media_used_by_a_post_cannot_be_deleted(
    client: TestClient, admin: dict[str, str], settings: Settings
) -> None:
    media = upload(client, admin, PNG).json()
    goal = objective(client, admin)
    hook = webhook_channel(client, admin)
    post = client.post(
        f"{API}/posts",
        json={
            "text": "Open day",
            "media_ids": [media["id"]],
            "objective_ids": [goal["id"]],
            "channel_ids": [hook["id"]],
            "scheduled_at": LATER,
        },
        headers=admin,
    )
    assert post.status_code == 201, post.text

    response = client.delete(f"{API}/media/{media['id']}", headers=admin)

    assert response.status_code == 409
    assert "post" in response.json()["detail"]
    assert len(stored_files(settings)) == 1
    assert client.get(f"{API}/media/{media['id']}", headers=admin).status_code == 200


# -- the public file route -------------------------------------------------------------------


def test_the_file_is_served_without_auth(client: TestClient, editor: dict[str, str]) -> None:
    media = upload(client, editor, JPEG, "menu.png").json()
    path = f"/media/{media['id']}/{media['filename']}"

    response = client.get(path)

    assert response.status_code == 200
    assert response.content == JPEG
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"].startswith("inline")
    assert 'filename="menu.jpg"' in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox"
    head = client.head(path)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(JPEG))


def test_a_pdf_is_served_as_an_attachment_in_a_sandbox(
    client: TestClient, editor: dict[str, str]
) -> None:
    media = upload(client, editor, PDF, "agenda.pdf").json()
    response = client.get(f"/media/{media['id']}/{media['filename']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment")
    assert 'filename="agenda.pdf"' in response.headers["content-disposition"]
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/media/{id}/other-name.jpg",
        "/media/0123456789abcdef0123456789abcdef/{name}",
        "/media/not-an-id/{name}",
        "/media/%00/{name}",
    ],
)
def test_anything_else_under_media_is_404(
    client: TestClient, editor: dict[str, str], path: str
) -> None:
    media = upload(client, editor, JPEG).json()

    response = client.get(path.format(id=media["id"], name=media["filename"]))

    assert response.status_code == 404


# -- platform limits when a post is scheduled --------------------------------------------------


def yammer_channel(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    body = {
        "name": "Staff news",
        "platform": "yammer",
        "config": {"group_id": "987654"},
        "credentials": {"access_token": "yammer-token"},
    }
    response = client.post(f"{API}/channels", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (WEBM, "video/webm is not accepted by Yammer"),
        (PNG + b"\x00" * (4 * 1024 * 1024), "Yammer takes at most 4 MB"),
    ],
    ids=["wrong-type", "too-large"],
)
def test_a_post_whose_media_a_channel_refuses_is_422_naming_the_channel(
    client: TestClient, admin: dict[str, str], runtime: Runtime, data: bytes, problem: str
) -> None:
    media = upload(client, admin, data).json()
    goal = objective(client, admin)
    hook = webhook_channel(client, admin)
    yammer = yammer_channel(client, admin)
    before = row_counts(runtime)

    response = client.post(
        f"{API}/posts",
        json={
            "text": "Open day",
            "media_ids": [media["id"]],
            "objective_ids": [goal["id"]],
            "channel_ids": [hook["id"], yammer["id"]],
            "scheduled_at": LATER,
        },
        headers=admin,
    )

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [p["channel_id"] for p in detail] == [yammer["id"]]
    assert detail[0]["loc"] == ["body", "media_ids"]
    assert "Staff news" in detail[0]["msg"]
    assert problem in detail[0]["msg"]
    assert row_counts(runtime) == before
