"""X's v2 media upload, for channels with an OAuth 2 user token (scope `media.write`):
tweepy 4.17 has no v2 upload, and X's v1.1 upload takes no OAuth 2 token.

- images: `POST /2/media/upload`, multipart `media` and `media_category=tweet_image`;
- GIFs and videos: `POST /2/media/upload/initialize` (JSON `media_type`, `total_bytes`,
  `media_category`), `POST /2/media/upload/{id}/append` (multipart `media`,
  `segment_index`) per 4 MiB segment, `POST /2/media/upload/{id}/finalize`, then
  `GET /2/media/upload?command=STATUS&media_id={id}` while `processing_info` says
  pending or in progress.

Every answer is `{"data": {"id", "media_key", ..., "processing_info"?}}`. Nothing is
public before the post exists, so any failure here is at worst `Transient`; a 401
is `AuthExpired` (the caller renews the token once and uploads again).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING, Any

from connectors.base import Ambiguous, MediaFile, Permanent, Transient
from connectors.http import USER_AGENT, body_excerpt, check_common_status, json_body, send

if TYPE_CHECKING:
    from connectors.x import XConnector

UPLOAD_HOST = "https://api.x.com"
UPLOAD_PATH = "/2/media/upload"
CATEGORY = {"image": "tweet_image", "gif": "tweet_gif", "video": "tweet_video"}


class V2Upload:
    def __init__(self, connector: XConnector) -> None:
        self.connector = connector
        config = connector.config
        self.base = (config.upload_base or config.api_base or UPLOAD_HOST).rstrip("/")

    def _headers(self) -> dict[str, str]:
        token = self.connector.credentials.access_token or ""
        return {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        c = self.connector
        try:
            response = await send(
                c.http,
                method,
                self.base + UPLOAD_PATH + path,
                headers=self._headers(),
                secrets=c.secrets(),
                **kwargs,
            )
        except Ambiguous as exc:
            raise Transient(
                f"{exc.message}, while uploading media; nothing was published"
            ) from None
        check_common_status(response, platform="X's media upload", now=c.now(), secrets=c.secrets())
        answer = json_body(response)
        data = answer.get("data") if isinstance(answer, dict) else None
        if not response.is_success or not isinstance(data, dict):
            words = body_excerpt(response, secrets=c.secrets())
            raise Permanent(
                f"X's media upload answered HTTP {response.status_code}: {words}", code="media"
            )
        return data

    async def upload(self, media: tuple[MediaFile, ...]) -> list[str]:
        ids = []
        for item in media:
            if item.kind == "image":
                data = await self._call(
                    "POST",
                    "",
                    data={"media_category": CATEGORY["image"]},
                    files={"media": (item.filename, _read(item), item.content_type)},
                )
            else:
                data = await self._chunked(item)
            ids.append(_media_id(data, item))
        return ids

    async def _chunked(self, item: MediaFile) -> dict[str, Any]:
        content = _read(item)
        chunk = self.connector.chunk_bytes
        data = await self._call(
            "POST",
            "/initialize",
            json={
                "media_type": item.content_type,
                "total_bytes": len(content),
                "media_category": CATEGORY.get(item.kind, "tweet_video"),
            },
        )
        media_id = _media_id(data, item)
        for index in range(max(1, math.ceil(len(content) / chunk))):
            await self._call(
                "POST",
                f"/{media_id}/append",
                data={"segment_index": str(index)},
                files={"media": (item.filename, content[index * chunk : (index + 1) * chunk])},
            )
        data = await self._call("POST", f"/{media_id}/finalize")
        await self._processed(item, media_id, data.get("processing_info"))
        return {**data, "id": media_id}

    async def _processed(self, item: MediaFile, media_id: str, info: Any) -> None:
        deadline = time.monotonic() + self.connector.processing_limit
        while isinstance(info, dict) and info.get("state") in ("pending", "in_progress"):
            wait = info.get("check_after_secs")
            delay = (
                float(wait) if isinstance(wait, int | float) and not isinstance(wait, bool) else 1
            )
            delay = min(max(delay, 0.1), 60.0)
            if time.monotonic() + delay > deadline:
                raise Transient(f"X was still processing {item.filename}; nothing was published")
            await asyncio.sleep(delay)
            data = await self._call("GET", "", params={"command": "STATUS", "media_id": media_id})
            info = data.get("processing_info")
        if isinstance(info, dict) and info.get("state") == "failed":
            raise Permanent(f"X could not process {item.filename}", code="media_processing")


def _read(item: MediaFile) -> bytes:
    try:
        return item.path.read_bytes()
    except OSError:
        raise Permanent(
            f"{item.filename}: the media file cannot be read", code="media_missing"
        ) from None


def _media_id(data: dict[str, Any], item: MediaFile) -> str:
    value = data.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise Transient(f"X did not return a media id for {item.filename}")
    return value.strip()
