from __future__ import annotations

from datetime import datetime

from app.schemas import Output


class MediaOut(Output):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    # The public address of the file (see app.media.views.serve_file).
    url: str
    created_by_id: str | None
    created_at: datetime
