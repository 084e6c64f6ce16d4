"""Attachment upload and download; a file is readable by its uploader and by whoever may see
the dialog it was sent in."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from sqlalchemy import insert, select

from operator_app.protocol import models as m
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.limits import MAX_UPLOAD_BYTES

from . import schema as s
from . import views
from .access import Caller, visible_dialog
from .errors import ApiError, forbidden, invalid, not_found
from .schema import new_id
from .service import Backend

_MIME = re.compile(r"^[\w.+-]+/[\w.+-]+$")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def clean_name(name: str) -> str:
    """A display name without path parts or control characters; never empty."""
    base = re.split(r"[/\\]", name)[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .")[:255]
    return cleaned or "file"


def store(
    backend: Backend, caller: Caller, name: str, mime: str | None, data: bytes
) -> m.Attachment:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE, "the file is too large", limit=MAX_UPLOAD_BYTES)
    if not data:
        raise invalid("the file is empty", field="file")
    mime = (mime or "").split(";")[0].strip().lower() or "application/octet-stream"
    if not _MIME.match(mime):
        raise invalid("bad content type", field="file")
    with backend.write() as tx:
        attachment_id = new_id(
            tx.conn.execute(
                insert(s.attachments).values(
                    name=clean_name(name),
                    mime=mime,
                    size=len(data),
                    data=data,
                    uploader_id=caller.id,
                    created_at=tx.now,
                )
            )
        )
        tx.audit(caller.id, "upload", "attachment", attachment_id, size=len(data))
        return views.attachments(tx.conn, [attachment_id])[0]


def load(backend: Backend, caller: Caller, attachment_id: int) -> tuple[Any, dict[str, str]]:
    """The bytes and the response headers, if the caller may read the file."""
    with backend.read() as conn:
        row = conn.execute(select(s.attachments).where(s.attachments.c.id == attachment_id)).first()
        if row is None:
            raise not_found("attachment")
        if row.uploader_id != caller.id:
            if row.dialog_id is None:
                raise forbidden("this attachment")
            visible_dialog(conn, caller, row.dialog_id)
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.name)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Type": row.mime,
    }
    return row.data, headers
