"""ChatwootRealtime: ActionCable at /cable, turned into our frames for the sync engine.

It reuses ``RealtimeConnection``'s run loop (states, backoff, stop, retry_now) and replaces one
session: GET the profile (pubsub_token), subscribe the RoomChannel, deliver a ``HelloFrame``,
catch up over REST, then turn ActionCable events into ``EventFrame``s whose cursors are minted
here, increasing past the cache's stored cursor. Chatwoot has no replay, so after every
(re)connect the catch-up re-fetches conversations updated since the newest one known and the
messages after the newest known id of every open or cached conversation. The subscription is
confirmed before the catch-up starts, so a live event is either in the catch-up or buffered
behind it: no gap. The sync engine is idempotent, so the overlap makes no duplicate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, WebSocketException

from operator_app.protocol import PROTOCOL_VERSION
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.events import (
    ContactUpdated,
    DialogUpdated,
    EphemeralFrame,
    Event,
    EventFrame,
    HelloFrame,
    MessageCreated,
    MessageUpdated,
    OperatorUpdated,
    ServerFrame,
    Typing,
)
from operator_app.protocol.models import Dialog, DialogScope, Message, Operator

from ..errors import ApiError, NetError
from ..realtime import Backoff, ConnectionState, Phase, RealtimeConnection, _Dropped, _Offline
from ..tls import describe_network_error
from . import mapping
from .api import ChatwootApi
from .mapping import Json, MappingError

log = logging.getLogger(__name__)

PRESENCE_SECONDS = 20.0  # Chatwoot's web app pings update_presence this often
CABLE_PING_SECONDS = 3.0  # ActionCable servers ping every 3 s
SILENCE_SECONDS = 4 * CABLE_PING_SECONDS  # no frame for this long: the peer is dead, reconnect
MESSAGE_EVENTS = frozenset({"message.created", "message.updated"})  # updated: edit, deletion
DIALOG_EVENTS = frozenset(
    {
        "conversation.created",
        "conversation.status_changed",
        "conversation.updated",
        "conversation.read",
        "conversation.contact_changed",
        "assignee.changed",
        "team.changed",
    }
)
CONTACT_EVENTS = frozenset({"contact.created", "contact.updated"})
TYPING_EVENTS = {"conversation.typing_on": True, "conversation.typing_off": False}
MAX_CATCH_UP_PAGES = 40  # 1,000 open conversations; known ones beyond are fetched one by one
MAX_RESOLVED_PAGES = 4  # 100 of my conversations resolved during one gap; older: next snapshot


@dataclass(frozen=True)
class CatchUpState:
    """What the cache knows: the newest dialog update and the newest message id per dialog."""

    updated_since: datetime | None = None
    last_message_ids: dict[int, int | None] = field(default_factory=dict)


def cable_url_for(base_url: str) -> str:
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"not an http(s) server address: {base_url!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/cable", "", ""))


class ChatwootRealtime(RealtimeConnection):
    """Same interface as ``RealtimeConnection``; ``ws_url`` is ignored (the cable URL is derived
    from the api's base URL). ``catch_up_state`` reads the cache (see ``CatchUpState``)."""

    def __init__(
        self,
        ws_url: str = "",
        *,
        api: ChatwootApi,
        token: Callable[[], str | None],
        since_cursor: Callable[[], int | None],
        on_frame: Callable[[ServerFrame], Awaitable[None]],
        on_state: Callable[[ConnectionState], None],
        catch_up_state: Callable[[], CatchUpState] = CatchUpState,
        presence_seconds: float = PRESENCE_SECONDS,
        silence_seconds: float = SILENCE_SECONDS,
        backoff: Backoff | None = None,
        **options: Any,
    ) -> None:
        options.pop("heartbeat_seconds", None)  # ActionCable sets its own pace
        super().__init__(
            cable_url_for(api.base_url),
            token=token,
            since_cursor=since_cursor,
            on_frame=on_frame,
            on_state=on_state,
            backoff=backoff,
            heartbeat_seconds=CABLE_PING_SECONDS,
            **options,
        )
        self.api = api
        self._catch_up_state = catch_up_state
        self._presence = presence_seconds
        self._silence = silence_seconds
        self._cursor = 0
        self._identifier = ""
        self._agents: dict[int, Operator] = {}  # for presence updates, fetched on the first
        self._last_ids: dict[int, int] = {}  # newest message id seen per dialog this process

    # ---- public ----------------------------------------------------------------------------

    async def send_typing(self, dialog_id: int, on: bool) -> bool:
        """ActionCable takes no typing from clients: this goes over REST."""
        if self.state.phase is not Phase.ONLINE:
            return False
        try:
            await self.api.typing(dialog_id, on)
        except NetError as exc:
            log.debug("chatwoot: typing not sent: %s", exc)
            return False
        return True

    # ---- one session -----------------------------------------------------------------------

    async def _connect_and_read(self) -> None:
        if not self._token():
            raise _Offline(ApiError(401, ErrorCode.UNAUTHORIZED, "not logged in"))
        profile = await self._profile()
        ws = await self._open()
        self._ws = ws
        try:
            await self._subscribe(ws, profile)
            stored = self._since_cursor()
            self._cursor = max(self._cursor, stored or 0)
            hello = HelloFrame(
                protocol_version=PROTOCOL_VERSION,
                server_version="chatwoot",
                operator_id=int(profile["id"]),
                head_cursor=self._cursor,
            )
            self._accept_hello(hello)
            await self._deliver(hello)
            if stored is not None:  # a first start takes a snapshot instead
                await self._catch_up()
            self._set_state(ConnectionState(Phase.ONLINE))
            await self._read_cable(ws)
        except ConnectionClosed as exc:
            raise _Dropped("the Chatwoot cable closed") from exc
        except (OSError, WebSocketException) as exc:
            raise _Dropped(describe_network_error(exc)) from exc
        except NetError as exc:
            raise _net_failure(exc) from exc
        finally:
            self._ws = None
            ws.transport.abort()

    async def _profile(self) -> Json:
        try:
            profile = await self.api.profile()
        except NetError as exc:
            raise _net_failure(exc) from exc
        if not isinstance(profile.get("id"), int) or not profile.get("pubsub_token"):
            raise _Dropped("the Chatwoot profile has no id or pubsub_token")
        return profile

    async def _subscribe(self, ws: ClientConnection, profile: Json) -> None:
        self._identifier = json.dumps(
            {
                "channel": "RoomChannel",
                "pubsub_token": profile["pubsub_token"],
                "account_id": self.api.account_id,
                "user_id": profile["id"],
            }
        )
        await ws.send(json.dumps({"command": "subscribe", "identifier": self._identifier}))
        async with asyncio.timeout(self._open_timeout):
            while True:
                kind = _control_type(await ws.recv())
                if kind == "confirm_subscription":
                    return
                if kind in ("reject_subscription", "disconnect"):
                    refusal = ApiError(401, ErrorCode.UNAUTHORIZED, "Chatwoot refused the cable")
                    raise _Offline(refusal)

    async def _read_cable(self, ws: ClientConnection) -> None:
        silence = self._silence
        next_presence = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= next_presence:
                await self._send_presence(ws)
                next_presence = now + self._presence
            try:
                async with asyncio.timeout(min(silence, max(0.0, next_presence - now))):
                    raw = await ws.recv()
            except TimeoutError:
                if time.monotonic() < next_presence:
                    raise _Dropped("no ping from the Chatwoot cable") from None
                continue
            await self._handle(raw)

    async def _send_presence(self, ws: ClientConnection) -> None:
        data = json.dumps({"action": "update_presence"})
        await ws.send(
            json.dumps({"command": "message", "identifier": self._identifier, "data": data})
        )

    # ---- events ----------------------------------------------------------------------------

    async def _handle(self, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            log.info("chatwoot: skipping a frame that is not JSON: %r", raw[:120])
            return
        if not isinstance(frame, dict):
            log.info("chatwoot: skipping a frame that is not an object: %r", raw[:120])
            return
        message = frame.get("message")
        if frame.get("type") == "disconnect":
            raise _Dropped(f"Chatwoot disconnected: {frame.get('reason', '')}")
        if not isinstance(message, dict) or "event" not in message:
            return  # welcome, ping, confirm: ActionCable plumbing
        try:
            await self._event(str(message["event"]), message.get("data"))
        except (MappingError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
            log.info("chatwoot: skipping a %s event that does not fit: %s", message["event"], exc)
        except ApiError as exc:
            if not exc.permanent:
                raise  # transient: reconnect, and the catch-up fetches what this one missed
            log.info("chatwoot: skipping a %s event: %s", message["event"], exc)

    async def _event(self, name: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        if name in MESSAGE_EVENTS:
            await self._message_event(data, edited=name == "message.updated")
        elif name in DIALOG_EVENTS:
            await self._emit(DialogUpdated(dialog=self.api._dialog(data)))
        elif name in CONTACT_EVENTS:
            await self._emit(ContactUpdated(contact=mapping.contact(data)))
        elif name in TYPING_EVENTS:
            await self._typing(data, TYPING_EVENTS[name])
        elif name == "presence.update":
            await self._presence_update(data)
        # notification.*, account.cache_invalidated, contact.merged/deleted: nothing to map yet

    async def _presence_update(self, data: Json) -> None:
        """``users: {id: online|busy|offline}`` -> OperatorUpdated for each agent that changed."""
        users = data.get("users")
        if not isinstance(users, dict):
            return
        if not self._agents:
            self._agents = {agent.id: agent for agent in await self.api.operators()}
        for key, availability in users.items():
            agent = self._agents.get(int(key))
            status = mapping.availability(availability)
            if agent is None or agent.status is status:
                continue
            agent = agent.model_copy(update={"status": status})
            self._agents[agent.id] = agent
            await self._emit(OperatorUpdated(operator=agent))

    async def _message_event(self, data: Json, *, edited: bool = False) -> None:
        message = mapping.message(data)
        dialog = await self.api.dialog(message.dialog_id)  # the event lacks the full dialog
        await self._emit_message(message, dialog, edited=edited)

    async def _emit_message(
        self, message: Message, dialog: Dialog, *, edited: bool = False
    ) -> None:
        self._note_seen(message)
        if edited:  # the cache replaces what it holds (MessageCreated leaves a known id alone)
            await self._emit(MessageUpdated(message=message, dialog=dialog))
        else:
            await self._emit(MessageCreated(message=message, dialog=dialog))

    async def _typing(self, data: Json, on: bool) -> None:
        conversation, user = data.get("conversation") or {}, data.get("user") or {}
        is_contact = user.get("type") == "contact"
        typing = Typing(
            dialog_id=int(conversation["id"]),
            who="client" if is_contact else "operator",
            operator_id=None if is_contact else user.get("id"),
            on=on,
        )
        await self._deliver(EphemeralFrame(event=typing))

    def _note_seen(self, message: Message) -> None:
        last = self._last_ids.get(message.dialog_id, 0)
        self._last_ids[message.dialog_id] = max(last, message.id)

    def _framed(self, event: Event) -> EventFrame:
        """The event under the next cursor this connection mints."""
        self._cursor += 1
        return EventFrame(cursor=self._cursor, event=event)

    async def _emit(self, event: Event) -> None:
        await self._deliver(self._framed(event))

    async def _emit_run(self, events: Sequence[Event]) -> None:
        """A catch-up's events together, as a replay's are: after a night offline a dialog's
        missed messages were applied one transaction and one screen update each."""
        if events:
            await self._deliver_events([self._framed(event) for event in events])

    # ---- catch-up after a (re)connect ------------------------------------------------------

    async def _catch_up(self) -> None:
        state = self._catch_up_state()
        since = state.updated_since
        listed = {dialog.id: dialog for dialog in await self._open_dialogs()}
        changed = [d for d in listed.values() if since is None or d.updated_at >= since]
        if since is not None:
            resolved = await self._resolved_since(since, skip=set(listed))
            listed.update((dialog.id, dialog) for dialog in resolved)
            changed += resolved
        known: dict[int, int | None] = dict(state.last_message_ids)
        for dialog_id, seen in self._last_ids.items():
            known[dialog_id] = max(seen, known.get(dialog_id) or 0)
        for dialog_id in sorted(set(known) - set(listed)):  # closed since, or moved out of view
            fetched = await self._dialog_or_none(dialog_id)
            if fetched is not None:
                listed[dialog_id] = fetched
                changed.append(fetched)
        await self._emit_run([DialogUpdated(dialog=dialog) for dialog in changed])
        for dialog_id in sorted(known):
            after, current = known[dialog_id], listed.get(dialog_id)
            if after is None or current is None:
                continue  # nothing cached (the history loads when opened), or gone
            if current.last_message_id is not None and current.last_message_id <= after:
                continue  # its newest message is one we hold
            await self._missed_messages(current, after)

    async def _open_dialogs(self) -> list[Dialog]:
        found: list[Dialog] = []
        cursor: str | None = None
        for _ in range(MAX_CATCH_UP_PAGES):
            page = await self.api.dialogs(DialogScope.ALL_VISIBLE, cursor=cursor)
            found += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
        return found

    async def _resolved_since(self, since: datetime, *, skip: set[int]) -> list[Dialog]:
        """My conversations resolved during the gap, cached or not, so "closed today" shows
        them: Chatwoot lists them newest activity first; stop at the first older one."""
        found: list[Dialog] = []
        cursor: str | None = None
        for _ in range(MAX_RESOLVED_PAGES):
            page = await self.api.dialogs(
                DialogScope.CLOSED_TODAY, cursor=cursor, updated_since=since
            )
            found += [dialog for dialog in page.items if dialog.id not in skip]
            cursor = page.next_cursor
            if cursor is None:
                break
        return found

    async def _dialog_or_none(self, dialog_id: int) -> Dialog | None:
        try:
            return await self.api.dialog(dialog_id)
        except ApiError as exc:
            if not exc.permanent:
                raise
            log.info("chatwoot: conversation %d is out of reach: %s", dialog_id, exc)
            return None

    async def _missed_messages(self, dialog: Dialog, after: int) -> None:
        while True:
            page = await self.api.messages(dialog.id, after_id=after)
            for message in page.items:
                self._note_seen(message)
            await self._emit_run([MessageCreated(message=m, dialog=dialog) for m in page.items])
            if not page.items or page.next_cursor is None:
                return
            after = page.items[-1].id


def _control_type(raw: str | bytes) -> str:
    try:
        frame = json.loads(raw)
    except ValueError:
        return ""
    return str(frame.get("type", "")) if isinstance(frame, dict) else ""


def _net_failure(exc: NetError) -> Exception:
    if isinstance(exc, ApiError) and exc.code is ErrorCode.UNAUTHORIZED:
        return _Offline(exc)
    return _Dropped(str(exc))
