"""The websocket: auth frame first, hello, replay from the client's cursor, then live events.

A session never lets one client's trouble reach another: bad frames get an ErrorFrame, a
client whose bounded send queue fills is closed with 4004, and every task is owned here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import zlib
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import ExtensionName

from operator_app import __version__
from operator_app.protocol import PROTOCOL_VERSION, compatible
from operator_app.protocol import events as ev
from operator_app.protocol.errors import (
    WS_CLOSE_BAD_FRAME,
    WS_CLOSE_INCOMPATIBLE,
    WS_CLOSE_UNAUTHORIZED,
    ErrorCode,
)

from . import hub
from .access import Caller
from .errors import ApiError
from .hub import Connection
from .schema import utcnow
from .service import QUEUES_CHANGED, Backend

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 10.0
REPLAY_PAGE = 500
CLOSE_TIMEOUT = 2.0
HEARTBEAT_SECONDS = 15.0


SEND_NOW = "operator.send_now"  # the ASGI scope extension SendNowProtocol offers

# permessage-deflate as uvicorn offers it (12-bit windows, memLevel 5), but each message
# compressed on its own (server_no_context_takeover): a live event's frame is then the same
# bytes for every connection, compressed once instead of once per recipient
DEFLATE_WINDOW_BITS = 12
DEFLATE_MEM_LEVEL = 5
DEFLATE_SETTINGS = {"memLevel": DEFLATE_MEM_LEVEL}
# A shared frame under this many bytes goes out uncompressed (RSV1 clear: permessage-deflate
# leaves it to the sender, message by message), as the `ws` library's default threshold: a
# short message's live event (~0.8 KiB) then costs no compression here and no fresh
# decompressor in each of its ~10 desks, 0.07-0.11 ms of its median delivery (docs/
# performance.md, figure 7)
COMPRESS_FROM_BYTES = 1024


def deflate_factory() -> ServerPerMessageDeflateFactory:
    return ServerPerMessageDeflateFactory(
        server_no_context_takeover=True,
        server_max_window_bits=DEFLATE_WINDOW_BITS,
        client_max_window_bits=DEFLATE_WINDOW_BITS,
        compress_settings=dict(DEFLATE_SETTINGS),
    )


class SharedFrames:
    """The wire bytes of the last text frame, plain and compressed, each built on first
    use: the hub offers an event's frame to its connections one after another, and every
    connection that took the shared parameters writes the same bytes. ``deflated``: the
    connection took the compression; a text under COMPRESS_FROM_BYTES goes plain anyway."""

    def __init__(self) -> None:
        self.compressions = 0  # for tests and diagnostics
        self._text: str | None = None
        self._data = b""
        self._plain = b""
        self._deflated = b""

    def wire(self, text: str, deflated: bool) -> bytes:
        if text is not self._text:
            self._text, self._data, self._plain, self._deflated = text, text.encode(), b"", b""
        if deflated and len(self._data) >= COMPRESS_FROM_BYTES:
            if not self._deflated:
                self._deflated = _deflated_frame(self._data)
                self.compressions += 1
            return self._deflated
        if not self._plain:
            self._plain = _text_frame(self._data)
        return self._plain


def _deflated_frame(data: bytes) -> bytes:
    """What PerMessageDeflate.encode makes of a whole message without context takeover."""
    encoder = zlib.compressobj(wbits=-DEFLATE_WINDOW_BITS, memLevel=DEFLATE_MEM_LEVEL)
    body = encoder.compress(data) + encoder.flush(zlib.Z_SYNC_FLUSH)
    # without the flush's 00 00 ff ff
    return Frame(Opcode.TEXT, body[:-4]).serialize(mask=False, extensions=[_COMPRESSED])


def _text_frame(data: bytes) -> bytes:
    return Frame(Opcode.TEXT, data).serialize(mask=False)  # a server's frames are unmasked


class _Compressed(Extension):
    """Sets RSV1 on a payload compressed already, as PerMessageDeflate.encode does after
    compressing: websockets' Frame.serialize sets it only through an extension."""

    name = ExtensionName("permessage-deflate")

    def encode(self, frame: Frame) -> Frame:
        return Frame(frame.opcode, frame.data, frame.fin, rsv1=True)


_COMPRESSED = _Compressed()


_shared = threading.local()  # per server loop: the embedded servers of tests share a process


def shared_frames() -> SharedFrames:
    found: SharedFrames | None = getattr(_shared, "frames", None)
    if found is None:
        found = _shared.frames = SharedFrames()
    return found


class SendNowProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol (websockets-sansio) that also offers the session a
    synchronous send through the ASGI scope's extensions.

    A live event goes to ~10 connections. Through ASGI each frame waited a loop step for its
    connection's send task, then went through Starlette's and uvicorn's send coroutines: ten
    frames cost the loop 194 us against 152 us through websockets' ``broadcast``; written
    here, 157 us (docs/performance.md, seventh round). ``send_now`` writes the frame as
    uvicorn's own send does, and only when that send would not wait: handshake done, no close
    sent, the transport not paused (uvicorn's flow control since 0.52.1). A connection that
    took the shared compression parameters (``deflate_factory``), or none, writes the
    frame's bytes from ``SharedFrames``: built once per event, not once per connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.ws_per_message_deflate:  # uvicorn's own offer, without takeover
            self.conn = ServerProtocol(
                extensions=[deflate_factory()],
                max_size=self.config.ws_max_size,
                logger=logging.getLogger("uvicorn.error"),
            )
        self.shared = False  # writes SharedFrames' bytes: decided by the handshake

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if not self.close_sent:  # accepted by websockets: the app sees this scope
            self.shared = shares_frames(self.conn)  # the extensions are negotiated now
            extensions = self.scope.setdefault("extensions", {})
            if extensions is not None:
                extensions[SEND_NOW] = {"send": self.send_now}

    def send_now(self, text: str) -> bool:
        """Write a text frame now; False (nothing written) where it would have to wait."""
        conn = self.conn
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.initial_response is not None
            or not self.writable.is_set()
            or self.transport.is_closing()
            or conn.state is not State.OPEN
        ):
            return False
        if self.shared:
            self.transport.write(shared_frames().wire(text, deflated=bool(conn.extensions)))
            return True
        try:
            conn.send_text(text.encode())
        except InvalidState:
            return False
        self.transport.write(b"".join(conn.data_to_send()))
        return True


def shares_frames(conn: ServerProtocol) -> bool:
    """No extension, or exactly the shared deflate parameters (a client may ask for a
    smaller window: its frames are then compressed for it alone)."""
    if not conn.extensions:
        return True
    if len(conn.extensions) != 1 or not isinstance(conn.extensions[0], PerMessageDeflate):
        return False
    deflate = conn.extensions[0]
    return bool(
        deflate.local_no_context_takeover
        and deflate.local_max_window_bits == DEFLATE_WINDOW_BITS
        and deflate.compress_settings == DEFLATE_SETTINGS
    )


def send_now_of(sock: WebSocket) -> Callable[[str], bool] | None:
    """The server's synchronous send for this socket, when it offers one."""
    offered = (sock.scope.get("extensions") or {}).get(SEND_NOW) or {}
    send = offered.get("send")
    return send if callable(send) else None


async def serve(backend: Backend, scope: Scope, receive: Receive, send: Send) -> None:
    """A staff websocket, straight from the server: not through FastAPI's router and
    middleware, whose coroutines, closures and exit stacks lived as long as the connection
    (about half of its objects, which every full pass of the collector walks)."""
    sock = WebSocket(scope, receive, send)
    await sock.accept()
    await Session(backend, sock).run()


def error_frame(code: ErrorCode, message: str) -> str:
    return ev.ErrorFrame(code=code, message=message).model_dump_json()


class Session:
    def __init__(self, backend: Backend, sock: WebSocket) -> None:
        self.backend = backend
        self.sock = sock
        self.conn: Connection | None = None
        self.caller: Caller | None = None
        self._pump: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._main: asyncio.Task[Any] | None = None
        self._aborting = False
        self._expiry: asyncio.TimerHandle | None = None

    async def run(self) -> None:
        self._main = asyncio.current_task()
        try:
            auth = await self._authenticate()
            if auth is None:
                return
            await self._serve(auth)
        except asyncio.CancelledError:
            if not self._aborting:
                raise
            if self._main is not None:
                self._main.uncancel()
        except WebSocketDisconnect:
            pass
        finally:
            await self._cleanup()

    async def _refuse(self, code: ErrorCode, message: str, close_code: int) -> None:
        with contextlib.suppress(Exception):
            await self.sock.send_text(error_frame(code, message))
            await self.sock.close(close_code, message[:120])

    async def _authenticate(self) -> ev.AuthFrame | None:
        try:
            async with asyncio.timeout(AUTH_TIMEOUT):
                message = await self.sock.receive()
        except TimeoutError:
            await self._refuse(
                ErrorCode.UNAUTHORIZED, "no auth frame in time", WS_CLOSE_UNAUTHORIZED
            )
            return None
        if message["type"] == "websocket.disconnect":
            return None
        try:
            frame = ev.decode_client_frame(_payload(message))
        except (ValidationError, ValueError):
            await self._refuse(ErrorCode.BAD_REQUEST, "undecodable frame", WS_CLOSE_BAD_FRAME)
            return None
        if not isinstance(frame, ev.AuthFrame):
            await self._refuse(
                ErrorCode.BAD_REQUEST, "the first frame must be auth", WS_CLOSE_BAD_FRAME
            )
            return None
        if not compatible(frame.protocol_version):
            await self._refuse(
                ErrorCode.INCOMPATIBLE_PROTOCOL,
                f"protocol version {frame.protocol_version} is not supported; "
                f"this server speaks {PROTOCOL_VERSION}",
                WS_CLOSE_INCOMPATIBLE,
            )
            return None
        try:
            self.caller = await asyncio.to_thread(self.backend.authenticate, frame.token)
        except ApiError as exc:
            await self._refuse(exc.code, exc.message, WS_CLOSE_UNAUTHORIZED)
            return None
        return frame

    async def _serve(self, auth: ev.AuthFrame) -> None:
        assert self.caller is not None
        conn = self.backend.hub.connect(self.caller.id, self.caller.token_hash)
        conn.on_close = self._killed
        conn.send_now = send_now_of(self.sock)
        self.conn = conn
        if self.caller.expires_at is not None:  # the session ends with its token
            left = (self.caller.expires_at - utcnow()).total_seconds()
            self._expiry = asyncio.get_running_loop().call_later(
                max(0.0, left), conn.kill, WS_CLOSE_UNAUTHORIZED
            )
        # read after connect: a queue change committed later reaches conn live instead
        head, pruned, rescoped = await asyncio.to_thread(
            self.backend.replay_bounds, conn.operator_id
        )
        await conn.outbox.put(
            ev.HelloFrame(
                protocol_version=PROTOCOL_VERSION,
                server_version=__version__,
                operator_id=self.caller.id,
                head_cursor=head,
                heartbeat_seconds=HEARTBEAT_SECONDS,
            ).model_dump_json()
        )
        self._pump = asyncio.create_task(self._pump_frames(conn), name="ws-pump")
        await self._replay(
            conn, auth.since_cursor, head, resync_reason(auth.since_cursor, head, pruned, rescoped)
        )
        while conn.close_code is None:
            message = await self.sock.receive()
            if message["type"] == "websocket.disconnect":
                return
            await self._handle(conn, message)

    async def _replay(
        self, conn: Connection, since: int | None, head: int, resync: str | None
    ) -> None:
        if since is None:
            await conn.outbox.put(ev.ReplayDoneFrame(cursor=head).model_dump_json())
            conn.go_live(head)
            return
        if resync is not None:
            await conn.outbox.put(
                ev.ResyncRequiredFrame(head_cursor=head, reason=resync).model_dump_json()
            )
            conn.go_live(head)
            return
        assert self.caller is not None
        after = since
        while True:
            page = await asyncio.to_thread(self.backend.replay, self.caller.id, after, REPLAY_PAGE)
            for cursor, frame in page:
                await conn.outbox.put(frame)
                after = cursor
            if len(page) < REPLAY_PAGE:
                break
        # held live events stay held until go_live, so they follow replay_done in order
        await conn.outbox.put(ev.ReplayDoneFrame(cursor=max(after, head)).model_dump_json())
        conn.go_live(after)

    async def _handle(self, conn: Connection, message: Any) -> None:
        try:
            frame = ev.decode_client_frame(_payload(message))
        except (ValidationError, ValueError):
            conn.offer(None, error_frame(ErrorCode.BAD_REQUEST, "undecodable frame"))
            return
        if isinstance(frame, ev.PingFrame):
            conn.offer(None, ev.PongFrame(nonce=frame.nonce).model_dump_json())
        elif isinstance(frame, ev.TypingFrame):
            assert self.caller is not None
            if conn.rescoped:  # the dialogs this session may type in changed
                conn.rescoped = False
                self.caller = await asyncio.to_thread(self.backend.reload_caller, self.caller)
            try:
                await asyncio.to_thread(
                    self.backend.operator_typing, self.caller, frame.dialog_id, frame.on
                )
            except ApiError as exc:
                conn.offer(None, error_frame(exc.code, exc.message))
            except Exception:  # a bug must not end this session, let alone others
                log.exception("typing frame failed")
                conn.offer(None, error_frame(ErrorCode.INTERNAL, "internal server error"))
        else:
            conn.offer(None, error_frame(ErrorCode.BAD_REQUEST, "already authenticated"))

    async def _pump_frames(self, conn: Connection) -> None:
        try:
            while True:
                frame = await conn.outbox.get()
                conn.sending = True  # later frames queue behind this one
                await self.sock.send_text(frame)
                conn.sending = False
                if hub.HOP_TRACE is not None:
                    hub.HOP_TRACE.sent(frame)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the client went away; the receive side ends the session
        except Exception:
            log.exception("websocket send failed")

    def _killed(self, code: int) -> None:
        """The hub closes us (revoked, too slow, shutdown): stop sending, close with the code."""
        if self._pump is not None:
            self._pump.cancel()
        if self._closer is None:
            self._closer = asyncio.create_task(self._close(code), name="ws-close")

    async def _close(self, code: int) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.sock.close(code)
        except Exception:
            pass  # already gone, or the client does not read: abort below
        else:
            return
        if self._main is not None and not self._main.done():
            self._aborting = True
            self._main.cancel()

    async def _cleanup(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        if self.conn is not None:
            self.backend.hub.disconnect(self.conn)
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(BaseException):
                await self._pump
        if self._closer is not None and asyncio.current_task() is not self._closer:
            with contextlib.suppress(BaseException):
                await self._closer


def resync_reason(since: int | None, head: int, pruned: int, rescoped: int) -> str | None:
    """Why a desk resuming from ``since`` re-reads everything instead of a replay; None:
    it replays. ``rescoped``: the cursor of the last change of its operator's queues, which
    made dialogs visible or hid them without an event for each."""
    if since is None:
        return None  # a first start: it reads everything anyway
    if since < pruned:
        return "cursor older than the server's retention"
    if since > head:
        return "cursor ahead of this server's history"
    if since < rescoped:
        return QUEUES_CHANGED
    return None


def _payload(message: Any) -> str | bytes:
    if message.get("text") is not None:
        return str(message["text"])
    if message.get("bytes") is not None:
        return bytes(message["bytes"])
    raise ValueError("empty frame")
