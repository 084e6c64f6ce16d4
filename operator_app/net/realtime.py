"""The live-events websocket: auth, heartbeat, ordered delivery, reconnect with backoff, resume.

``RealtimeConnection.run()`` owns one socket at a time. Frames are decoded against the protocol
and handed to ``on_frame`` one by one, in arrival order, each awaited before the next is read.
Network trouble never escapes ``run()``: it shows in ``state`` (and ``on_state``) and the
connection tries again after a jittered exponential pause. Refusals that retrying cannot fix
(bad token, revoked, incompatible protocol, TLS) park it in OFFLINE until ``retry_now()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl as ssl_module
import time
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from operator_app import __version__
from operator_app.protocol import PROTOCOL_VERSION, compatible
from operator_app.protocol.errors import (
    WS_CLOSE_INCOMPATIBLE,
    WS_CLOSE_REVOKED,
    WS_CLOSE_TOO_LARGE,
    WS_CLOSE_TOO_SLOW,
    WS_CLOSE_UNAUTHORIZED,
    ErrorCode,
)
from operator_app.protocol.events import (
    AuthFrame,
    EventFrame,
    HelloFrame,
    PingFrame,
    PongFrame,
    ReplayDoneFrame,
    ResyncRequiredFrame,
    ServerFrame,
    TypingFrame,
    decode_server_frame,
    encode_frame,
)
from operator_app.protocol.limits import MAX_WS_FRAME_BYTES

from .errors import ApiError, IncompatibleServer, NetError, TlsFailure

# Re-exported: they lived here before state.py, and callers of the connection use them with it.
from .state import Backoff as Backoff
from .state import ConnectionState as ConnectionState
from .state import Phase as Phase
from .state import wait_or_wake
from .state import ws_url_for as ws_url_for
from .tls import describe_network_error, tls_failure_from

log = logging.getLogger(__name__)

# A refused connect means the server is down for everyone: retries then spread over at least
# this many seconds, so a restart is not met by the whole herd at once. Losing a live session
# spreads the first retry too (a quick restart refuses nobody); a lone blip waits 5 s on average.
HERD_SPREAD = 15.0
LOST_SPREAD = 10.0
MIN_SERVER_HEARTBEAT = 1.0  # a server asking for less is ignored: it would only burn CPU
YIELD_EVERY_SECONDS = 0.008  # let the GUI paint at least this often while frames pour in
RECEIVE_QUEUE_FRAMES = 256
MAX_RUN_FRAMES = 500  # events already buffered are handed to on_frames together, this many at most
# asyncio reads up to 256 KB per socket callback, and websockets parses and inflates all of it
# inside that callback: during a replay ~600 frames, 25-55 ms of the GUI thread in one piece.
# Smaller reads spread the same work over several loop iterations (see ``_bound_reads``).
READ_CHUNK_BYTES = 32 * 1024
_EXCERPT = 120


class _Offline(Exception):
    """Retrying cannot help: wait for retry_now()."""

    def __init__(self, error: NetError) -> None:
        super().__init__(error.message if isinstance(error, ApiError) else str(error))
        self.error = error


class _Dropped(Exception):
    """Transient trouble: reconnect after a backoff pause."""


class RealtimeConnection:
    """One live-events websocket, kept up until ``stop()``. See the module docstring.

    Pong frames are heartbeat plumbing and are not passed to ``on_frame``. If ``on_frame``
    raises, the error is logged and the connection is dropped and resumed from
    ``since_cursor()``, so the failed event is replayed instead of lost.
    With ``on_frames``, event frames that are already buffered behind the one just read (a
    replay) are read at once and handed over together, in order, so the receiver can apply
    them in batches; the same failure rule holds for the whole run.
    ``stop()`` ends the current run (or the next one, if called before it starts); ``run()``
    may be called again afterwards, for example after a new login.
    """

    def __init__(
        self,
        ws_url: str,
        *,
        token: Callable[[], str | None],
        since_cursor: Callable[[], int | None],
        on_frame: Callable[[ServerFrame], Awaitable[None]],
        on_state: Callable[[ConnectionState], None],
        on_frames: Callable[[Sequence[EventFrame]], Awaitable[None]] | None = None,
        ssl: ssl_module.SSLContext | None = None,
        backoff: Backoff | None = None,
        heartbeat_seconds: float = 15.0,
        require_tls: bool = False,
        open_timeout: float = 10.0,
        close_timeout: float = 2.0,
    ) -> None:
        scheme = urlsplit(ws_url).scheme
        if scheme not in ("ws", "wss"):
            raise ValueError(f"not a websocket URL: {ws_url!r}")
        if require_tls and scheme != "wss":
            raise TlsFailure(f"this profile requires TLS but the address is not wss: {ws_url}")
        if heartbeat_seconds <= 0:
            raise ValueError("heartbeat_seconds must be positive")
        self.ws_url = ws_url
        self.state = ConnectionState(Phase.OFFLINE, reason="not started")
        self._host = urlsplit(ws_url).netloc
        self._secure = scheme == "wss"
        self._token = token
        self._since_cursor = since_cursor
        self._on_frame = on_frame
        self._on_frames = on_frames
        self._on_state = on_state
        self._ssl = ssl
        self._backoff = backoff or Backoff()
        self._heartbeat = heartbeat_seconds
        self._open_timeout = open_timeout
        self._close_timeout = close_timeout
        self._ws: ClientConnection | None = None
        self._session: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._running = False
        self._replaying_after_failure = False

    # ---- public ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Keep the connection up until ``stop()``. Never raises for network trouble."""
        if self._running:
            raise RuntimeError("run() is already running")
        self._running = True
        try:
            while not self._stopping:
                await self._attempt()
        finally:
            self._running = False
            self._stopping = False  # this run is over; a later run() starts afresh
            self._set_state(ConnectionState(Phase.OFFLINE, reason="stopped"))

    def retry_now(self) -> None:
        """Skip the current backoff pause, or leave OFFLINE, and connect at once."""
        self._wake.set()

    async def send_typing(self, dialog_id: int, on: bool) -> bool:
        """Tell the server the operator is typing; False when not connected."""
        ws = self._ws
        if ws is None or self.state.phase is not Phase.ONLINE:
            return False
        try:
            await ws.send(encode_frame(TypingFrame(dialog_id=dialog_id, on=on)))
        except ConnectionClosed:
            return False
        return True

    async def stop(self) -> None:
        """Close the socket and end ``run()``. Idempotent, safe from inside ``on_frame``."""
        if self._stopping:
            return
        self._stopping = True
        self._wake.set()
        ws = self._ws
        if ws is not None:
            await ws.close()
        elif self._session is not None and not self._session.done():
            self._session.cancel()  # still connecting: do not wait for open_timeout

    # ---- the reconnect loop ----------------------------------------------------------------

    async def _attempt(self) -> None:
        """One connect-and-read session, then the pause the way it ended calls for."""
        carried = self.state.reason if self.state.phase is Phase.RECONNECTING else ""
        server_down = False
        self._set_state(ConnectionState(Phase.CONNECTING, reason=carried))
        self._session = asyncio.create_task(self._connect_and_read(), name="realtime-session")
        try:
            await self._session
            reason = "the server closed the connection"
        except _Offline as exc:
            if not self._stopping:
                log.info("realtime: offline until retried: %s", exc)
                await self._pause(Phase.OFFLINE, None, str(exc), exc.error)
            return
        except _Dropped as exc:
            reason = str(exc)
            server_down = isinstance(exc.__cause__, ConnectionRefusedError)
        except Exception:  # a bug in a callback (token, since_cursor): keep going, loudly
            log.exception("realtime: the session failed unexpectedly")
            reason = "internal error"
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # run() itself is being cancelled
            return  # stop() cancelled a connect in progress
        finally:
            self._session = None
        was_online = self.state.phase is Phase.ONLINE
        if not self._stopping:
            delay = self._backoff.next_delay()
            # Every client of a crashed or restarting server lands here at the same moment:
            # spread them, wider once the server is known to be down.
            spread = HERD_SPREAD if server_down else LOST_SPREAD if was_online else 0.0
            delay = max(delay, random.uniform(0.0, min(self._backoff.cap, spread)))
            log.info("realtime: connection lost (%s), retrying in %.1fs", reason, delay)
            await self._pause(Phase.RECONNECTING, delay, reason, None)

    async def _pause(
        self, phase: Phase, delay: float | None, reason: str, error: NetError | None
    ) -> None:
        """Show ``phase`` and wait ``delay`` seconds (forever if None) or until woken."""
        self._wake.clear()  # before the state callback, which may call retry_now() at once
        retry_at = None if delay is None else time.monotonic() + delay
        self._set_state(ConnectionState(phase, retry_at=retry_at, reason=reason, error=error))
        if self._stopping:
            return
        await wait_or_wake(self._wake, delay)

    def _set_state(self, state: ConnectionState) -> None:
        if state == self.state:
            return
        self.state = state
        try:
            self._on_state(state)
        except Exception:
            log.exception("realtime: the on_state callback failed")

    # ---- one session -----------------------------------------------------------------------

    async def _connect_and_read(self) -> None:
        token = self._token()
        if not token:
            raise _Offline(ApiError(401, ErrorCode.UNAUTHORIZED, "not logged in"))
        ws = await self._open()
        _bound_reads(ws)
        self._ws = ws
        try:
            auth = AuthFrame(
                token=token, protocol_version=PROTOCOL_VERSION, since_cursor=self._since_cursor()
            )
            await ws.send(encode_frame(auth))
            await self._read_frames(ws)
        except ConnectionClosed as exc:
            raise _closed_reason(exc) from exc
        except (OSError, WebSocketException) as exc:
            raise _Dropped(describe_network_error(exc)) from exc
        finally:
            self._ws = None
            ws.transport.abort()  # stop() already closed politely; anything else is a dead peer

    async def _open(self) -> ClientConnection:
        try:
            return await connect(
                self.ws_url,
                ssl=(self._ssl or True) if self._secure else None,
                max_size=MAX_WS_FRAME_BYTES,
                open_timeout=self._open_timeout,
                close_timeout=self._close_timeout,
                ping_interval=None,  # our PingFrame heartbeat does it, at the server's interval
                # a replay is read in runs of what is buffered: 16 frames (the default) would
                # cut it into tiny batches; at most 256 x 64 KB are held
                max_queue=RECEIVE_QUEUE_FRAMES,
                user_agent_header=f"operator-desk/{__version__}",
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                refusal = ApiError(status, ErrorCode.UNAUTHORIZED, "the server refused the socket")
                raise _Offline(refusal) from exc
            raise _Dropped(f"the server answered HTTP {status}") from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            tls = tls_failure_from(exc, self._host)
            if tls is not None:
                raise _Offline(tls) from exc
            raise _Dropped(describe_network_error(exc)) from exc

    async def _read_frames(self, ws: ClientConnection) -> None:
        """Read until the socket fails. Pings go out every interval; silence for two is death."""
        interval = self._heartbeat
        last_heard = time.monotonic()
        next_ping = last_heard + interval
        yielded = last_heard
        while True:
            now = time.monotonic()
            if now - yielded >= YIELD_EVERY_SECONDS:
                # recv() does not suspend while frames are buffered: after a reconnect a
                # replay of thousands would otherwise hold the loop (and the GUI) throughout.
                await asyncio.sleep(0)
                yielded = now = time.monotonic()
            if now - last_heard >= 2 * interval:
                raise _Dropped("no heartbeat from the server")
            if now >= next_ping:
                if self.state.phase is Phase.ONLINE:  # the server wants auth before pings
                    await ws.send(encode_frame(PingFrame(nonce=str(int(now * 1000)))))
                next_ping = now + interval
            wait = max(0.0, min(next_ping, last_heard + 2 * interval) - now)
            try:
                async with asyncio.timeout(wait):
                    raw = await ws.recv()
            except TimeoutError:
                continue
            frame = decode_or_skip(raw)
            if isinstance(frame, EventFrame) and self._on_frames is not None:
                frame = await self._deliver_run(ws, frame)  # a non-event frame that ended it
            if isinstance(frame, HelloFrame):
                interval = self._accept_hello(frame)
            if frame is not None and not isinstance(frame, PongFrame):
                await self._deliver(frame)
            if isinstance(frame, HelloFrame):
                self._set_state(ConnectionState(Phase.ONLINE))
            last_heard = time.monotonic()  # time spent in on_frame is not the server's silence

    def _accept_hello(self, hello: HelloFrame) -> float:
        if not compatible(hello.protocol_version):
            raise _Offline(
                IncompatibleServer(
                    f"the server {hello.server_version} speaks protocol {hello.protocol_version},"
                    f" this app {PROTOCOL_VERSION}",
                    server_version=hello.server_version,
                    protocol_version=hello.protocol_version,
                )
            )
        if not self._replaying_after_failure:
            self._backoff.reset()
        return min(self._heartbeat, max(hello.heartbeat_seconds, MIN_SERVER_HEARTBEAT))

    async def _deliver_run(self, ws: ClientConnection, first: EventFrame) -> ServerFrame | None:
        """Read the event frames already buffered behind ``first`` (for YIELD_EVERY_SECONDS at
        most) and hand them to ``on_frames`` together. Returns the non-event frame that ended
        the run, if one did; the caller delivers it next."""
        run: list[EventFrame] = [first]
        ended_by: ServerFrame | None = None
        started = time.monotonic()
        # A deadline already passed cancels recv() only when it would suspend (nothing is
        # buffered), and websockets' recv() loses nothing when cancelled. One deadline for the
        # whole run: each asyncio.timeout costs a timer of the Qt loop.
        with contextlib.suppress(TimeoutError, ConnectionClosed):  # closed: the next recv() says
            async with asyncio.timeout(0):
                while len(run) < MAX_RUN_FRAMES:
                    if time.monotonic() - started >= YIELD_EVERY_SECONDS:
                        break
                    frame = decode_or_skip(await ws.recv())
                    if isinstance(frame, EventFrame):
                        run.append(frame)
                    elif frame is not None:
                        ended_by = frame
                        break
        await self._deliver_events(run)
        return ended_by

    async def _deliver_events(self, run: Sequence[EventFrame]) -> None:
        """Event frames in order: together to ``on_frames`` (one transaction and one change
        set in the sync engine) where it is set, else one by one."""
        if self._on_frames is None:
            for frame in run:
                await self._deliver(frame)
            return
        try:
            await self._on_frames(run)
        except Exception as exc:
            log.exception("realtime: applying %d event frames failed; resuming", len(run))
            self._replaying_after_failure = True
            raise _Dropped("applying event frames failed") from exc

    async def _deliver(self, frame: ServerFrame) -> None:
        try:
            await self._on_frame(frame)
        except Exception as exc:
            log.exception("realtime: applying a %s frame failed; resuming to replay it", frame.type)
            # keep backing off until a replay gets through, so a poisoned event cannot spin us
            self._replaying_after_failure = True
            raise _Dropped(f"applying a {frame.type} frame failed") from exc
        if isinstance(frame, ReplayDoneFrame | ResyncRequiredFrame):
            self._replaying_after_failure = False  # caught up past the event that failed


def _bound_reads(ws: ClientConnection) -> None:
    """Cap how much one socket callback reads (READ_CHUNK_BYTES). Plain TCP only: asyncio's
    TLS layer joins whatever it has decrypted into one callback whatever this says."""
    transport = ws.transport
    if isinstance(getattr(transport, "max_size", None), int):  # asyncio's socket transport
        setattr(transport, "max_size", READ_CHUNK_BYTES)  # noqa: B010 (not in its stubs)


def decode_or_skip(raw: str | bytes) -> ServerFrame | None:
    """The frame, or None (logged) when it is not valid JSON or not a valid frame."""
    try:
        return decode_server_frame(raw)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"msg": str(exc), "loc": ()}
        where = ".".join(str(part) for part in first["loc"])
        log.warning(
            "realtime: skipping a malformed frame (%s%s): %r",
            f"{where}: " if where else "",
            first["msg"],
            raw[:_EXCERPT],
        )
        return None


_CLOSE_REASONS = {
    1000: "the server closed the connection",
    1001: "the server is going away",
    1011: "server error",
    1012: "the server is restarting",
    WS_CLOSE_TOO_SLOW: "the connection was too slow",
    WS_CLOSE_TOO_LARGE: "a frame was too large",
}


def _closed_reason(exc: ConnectionClosed) -> Exception:
    """``_Offline`` for refusals retrying cannot fix, ``_Dropped`` for everything else."""
    close = exc.rcvd
    if close is None:
        return _Dropped("connection lost")
    said = f": {close.reason}" if close.reason else ""
    if close.code == WS_CLOSE_UNAUTHORIZED:
        return _Offline(ApiError(401, ErrorCode.UNAUTHORIZED, f"unauthorized{said}"))
    if close.code == WS_CLOSE_REVOKED:
        return _Offline(ApiError(401, ErrorCode.UNAUTHORIZED, f"token revoked{said}"))
    if close.code == WS_CLOSE_INCOMPATIBLE:
        return _Offline(IncompatibleServer(f"incompatible server{said}"))
    reason = _CLOSE_REASONS.get(close.code, f"closed with code {close.code}")
    return _Dropped(reason + said)
