"""Attachments: multipart upload, sending with a message, download rights, size limit."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from operator_app.protocol import routes
from operator_app.protocol.limits import MAX_UPLOAD_BYTES
from tests.integration.server.server_helpers import Api

Login = Callable[..., Api]


def test_upload_send_and_download(login: Login) -> None:
    anna, olga, elena = login("anna"), login("olga"), login("elena")
    pdf = b"%PDF-1.4 invoice " + bytes(range(256))
    uploaded = anna.ok(
        "POST",
        routes.ATTACHMENTS,
        files={"file": ("../../etc/счёт 42.pdf", pdf, "application/pdf")},
    )
    assert uploaded["name"] == "счёт 42.pdf" and uploaded["size"] == len(pdf)
    assert uploaded["mime"] == "application/pdf"
    assert uploaded["url"] == routes.ATTACHMENT.format(attachment_id=uploaded["id"])
    olga.refused("GET", uploaded["url"], 403, "forbidden")  # not sent anywhere yet
    dialog = next(d for d in anna.dialogs("mine") if d["queue_id"] == 2)
    sent = anna.send(dialog["id"], "Счёт во вложении", attachment_ids=[uploaded["id"]])
    assert sent["message"]["attachments"] == [uploaded]
    download = olga.request("GET", uploaded["url"])  # olga may see the dialog now
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    elena.refused("GET", uploaded["url"], 403, "forbidden")  # a support dialog: not hers
    anna.refused("GET", routes.ATTACHMENT.format(attachment_id=99999), 404, "not_found")
    # someone else's upload cannot be smuggled into a message
    foreign = olga.ok("POST", routes.ATTACHMENTS, files={"file": ("a.txt", b"hi", "text/plain")})
    anna.refused(
        "POST",
        routes.MESSAGES.format(dialog_id=dialog["id"]),
        422,
        "validation_error",
        json={"client_msg_id": str(uuid.uuid4()), "text": "x", "attachment_ids": [foreign["id"]]},
    )


def test_upload_refusals(login: Login) -> None:
    anna = login("anna")
    anna.refused("POST", routes.ATTACHMENTS, 422, "validation_error")
    anna.refused(
        "POST",
        routes.ATTACHMENTS,
        422,
        "validation_error",
        files={"file": ("empty.txt", b"", "text/plain")},
    )
    big = b"0" * (MAX_UPLOAD_BYTES + 1)
    anna.refused(
        "POST",
        routes.ATTACHMENTS,
        413,
        "payload_too_large",
        files={"file": ("big.bin", big, "application/octet-stream")},
    )
    anna.token = ""
    anna.refused(
        "POST",
        routes.ATTACHMENTS,
        401,
        "unauthorized",
        files={"file": ("a.txt", b"hi", "text/plain")},
    )
