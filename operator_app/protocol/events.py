"""Websocket frames and the live events they carry.

One websocket per client at ``routes.WS``. The client speaks first with ``AuthFrame`` (token,
protocol version and the last cursor it applied). The server answers ``HelloFrame``, then
replays every missed event the caller may see as ``EventFrame``s in cursor order, then sends
``ReplayDoneFrame`` and goes on with live events. If it no longer holds that far back it sends
``ResyncRequiredFrame`` instead of the replay: the client re-fetches its dialogs.

Durable events (in ``Event``) carry a cursor and are replayed. Typing is ephemeral: it has no
cursor and is never replayed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from .errors import ErrorCode
from .models import Contact, Dialog, Message, Operator, Queue, Template, WireModel

# ---- durable events -------------------------------------------------------------------------


class MessageCreated(WireModel):
    kind: Literal["message.created"] = "message.created"
    message: Message
    dialog: Dialog  # the dialog after this message: preview, waiting_since, counters


class MessageUpdated(WireModel):
    """A message already sent was edited or deleted (``message.deleted``): same id, new text
    and attachments. A client that does not hold that message stores it as if created."""

    kind: Literal["message.updated"] = "message.updated"
    message: Message
    dialog: Dialog


class DialogUpdated(WireModel):
    """Any change of a dialog: assignment, transfer, state, tags, rating.

    Sent to everyone who could see the dialog before or after the change, so a client whose
    dialog was transferred away learns it here (``assignee_id`` is no longer theirs).
    """

    kind: Literal["dialog.updated"] = "dialog.updated"
    dialog: Dialog


class OperatorUpdated(WireModel):
    kind: Literal["operator.updated"] = "operator.updated"
    operator: Operator


class QueueUpdated(WireModel):
    kind: Literal["queue.updated"] = "queue.updated"
    queue: Queue


class TemplateChanged(WireModel):
    kind: Literal["template.changed"] = "template.changed"
    template: Template


class TemplateDeleted(WireModel):
    kind: Literal["template.deleted"] = "template.deleted"
    template_id: int


class ContactUpdated(WireModel):
    kind: Literal["contact.updated"] = "contact.updated"
    contact: Contact


Event = Annotated[
    MessageCreated
    | MessageUpdated
    | DialogUpdated
    | OperatorUpdated
    | QueueUpdated
    | TemplateChanged
    | TemplateDeleted
    | ContactUpdated,
    Field(discriminator="kind"),
]


# ---- ephemeral events -----------------------------------------------------------------------


class Typing(WireModel):
    kind: Literal["typing"] = "typing"
    dialog_id: int
    who: Literal["client", "operator"]
    operator_id: int | None = None
    on: bool = True


# ---- server -> client frames ----------------------------------------------------------------


class HelloFrame(WireModel):
    type: Literal["hello"] = "hello"
    protocol_version: int
    server_version: str
    operator_id: int
    head_cursor: int  # the newest cursor the server has issued
    heartbeat_seconds: float = 15.0


class EventFrame(WireModel):
    type: Literal["event"] = "event"
    cursor: int
    event: Event


class EphemeralFrame(WireModel):
    type: Literal["ephemeral"] = "ephemeral"
    event: Typing


class ReplayDoneFrame(WireModel):
    type: Literal["replay_done"] = "replay_done"
    cursor: int  # the client is now caught up to here


class ResyncRequiredFrame(WireModel):
    type: Literal["resync_required"] = "resync_required"
    head_cursor: int  # continue from here after re-fetching
    reason: str = "cursor older than the server's retention"


class PongFrame(WireModel):
    type: Literal["pong"] = "pong"
    nonce: str = ""


class ErrorFrame(WireModel):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str


ServerFrame = Annotated[
    HelloFrame
    | EventFrame
    | EphemeralFrame
    | ReplayDoneFrame
    | ResyncRequiredFrame
    | PongFrame
    | ErrorFrame,
    Field(discriminator="type"),
]


# ---- client -> server frames ----------------------------------------------------------------


class AuthFrame(WireModel):
    type: Literal["auth"] = "auth"
    token: str
    protocol_version: int
    since_cursor: int | None = None  # None: no replay, start live from the head


class PingFrame(WireModel):
    type: Literal["ping"] = "ping"
    nonce: str = ""


class TypingFrame(WireModel):
    type: Literal["typing"] = "typing"
    dialog_id: int
    on: bool = True


ClientFrame = Annotated[AuthFrame | PingFrame | TypingFrame, Field(discriminator="type")]


# Built at their first frame, not at import (the app paints from the cache before it connects).
_DEFERRED = ConfigDict(defer_build=True)
SERVER_FRAME: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame, config=_DEFERRED)
CLIENT_FRAME: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame, config=_DEFERRED)
EVENT: TypeAdapter[Event] = TypeAdapter(Event, config=_DEFERRED)


def encode_frame(frame: WireModel) -> str:
    return frame.model_dump_json()


def decode_server_frame(raw: str | bytes) -> ServerFrame:
    """Parse and validate one server frame; raises ``pydantic.ValidationError`` on bad input."""
    return SERVER_FRAME.validate_json(raw)


def decode_client_frame(raw: str | bytes) -> ClientFrame:
    return CLIENT_FRAME.validate_json(raw)
