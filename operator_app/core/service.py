"""DeskService: the one facade the UI uses. Reads come from the cache, synchronously and
bounded; actions go to the server; changes are pushed to subscribers on the loop thread.

Lifecycle: ``await start()`` (never raises for network trouble), then reads and actions, then
``await close()``. See docs/client-core.md for the whole contract.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from operator_app.net.api import OWN_SERVER_GAPS
from operator_app.net.errors import ApiError, NetError
from operator_app.net.state import Backoff, ConnectionState, Phase, ws_url_for
from operator_app.protocol.enums import ErrorCode, MessageKind, OperatorStatus
from operator_app.protocol.limits import MAX_COMMENT_CHARS, MAX_MESSAGE_CHARS

from . import heap
from . import templates as template_rendering
from .cache import Cache
from .changes import (
    CACHE_DAMAGED,
    SESSION_ENDED,
    Assigned,
    Change,
    ConnectionChanged,
    DialogsChanged,
    DirectoryChanged,
    HistoryReset,
    MessagesChanged,
    Notice,
    TypingChanged,
)
from .clock import local_midnight, utcnow
from .credentials import CredentialStore
from .errors import ActionError, OfflineError, build, guarded
from .profiles import ServerProfile
from .rows import (
    EVERY_DIALOG,
    DeliveryState,
    DialogFilter,
    DialogRow,
    MessageRow,
    OperatorInfo,
    RenderedTemplate,
    SearchHit,
    Section,
)
from .tasks import TaskSet

if TYPE_CHECKING:
    # Annotations only. websockets loads in start(), after the window has painted from the
    # cache; pydantic and the wire models (~70 ms) at the first use of the sync engine, the
    # outbox or an action: the first paint reads plain rows (rows.py).
    from operator_app.net.api import ApiClient
    from operator_app.net.realtime import RealtimeConnection
    from operator_app.protocol.models import ContactCard, Operator, Queue, Template, TemplateIn

    from .outbox import Outbox
    from .sync import SyncEngine

log = logging.getLogger(__name__)
MAX_NOTICES = 20
# The full integrity check of a large cache reads the whole file (~1.3 s of a core at
# 400 MB): it waits until the first tabs the operator opens after the start are painted.
DEEP_CHECK_DELAY_SECONDS = 30.0

__all__ = [
    "ActionError",
    "Assigned",
    "Change",
    "ConnectionChanged",
    "DeliveryState",
    "DeskService",
    "DialogFilter",
    "DialogRow",
    "DialogsChanged",
    "DirectoryChanged",
    "HistoryReset",
    "MessageRow",
    "MessagesChanged",
    "Notice",
    "OfflineError",
    "RenderedTemplate",
    "SearchHit",
    "Section",
    "TypingChanged",
    "utcnow",
]


class DeskService:
    def __init__(
        self,
        *,
        profile: ServerProfile,
        cache: Cache,
        api: ApiClient,
        realtime_factory: Callable[..., RealtimeConnection] | None = None,
        clock: Callable[[], datetime] = utcnow,
        credentials: CredentialStore | None = None,
        retention_days: int | None = None,
        retention_max_messages: int | None = None,
        outbox_backoff: Backoff | None = None,
        heartbeat_seconds: float = 15.0,
    ) -> None:
        self.profile = profile
        self.cache = cache
        self.api = api
        self.credentials = credentials or CredentialStore(profile.base_url)
        self.connection = ConnectionState(Phase.OFFLINE, reason="not started")
        self._realtime_factory = realtime_factory
        self._clock = clock
        self.retention = (retention_days, retention_max_messages)
        self._heartbeat = heartbeat_seconds
        self._listeners: list[Callable[[Change], None]] = []
        self.notices: list[Notice] = []  # the latest ones, replayed to new subscribers
        self._tasks = TaskSet()
        self._realtime: RealtimeConnection | None = None
        self._started = False
        # The app sets it (never tests, see heap.freeze_long_lived): at the first ONLINE, the
        # window and its start-up objects are frozen out of the cycle collector's passes.
        self.settle_heap_online = False
        self.deep_check_delay = DEEP_CHECK_DELAY_SECONDS
        self._outbox_backoff = outbox_backoff

    @cached_property
    def sync(self) -> SyncEngine:
        """Built at its first use (``start()``, a tab's history): its module imports the wire
        events and models, which the first paint from the cache does not need."""
        from .sync import SyncEngine

        return SyncEngine(self.cache, self.api, self._emit_all, clock=self._clock)

    @cached_property
    def outbox(self) -> Outbox:
        """Built at its first use (``start()``, a send), like ``sync``."""
        from .outbox import Outbox

        return Outbox(
            self.cache,
            self.api,
            on_sent=self.sync.apply_message,
            on_failed=self._message_failed,
            backoff=self._outbox_backoff,
        )

    # ---- lifecycle ------------------------------------------------------------------------

    @property
    def me(self) -> OperatorInfo | None:
        return self.cache.me_info()

    def unsupported(self) -> dict[str, str]:
        """Features this backend lacks, each with the reason to show (English: the UI
        translates it)."""
        capabilities = getattr(self.api, "capabilities", None)
        if capabilities is None:
            return dict(OWN_SERVER_GAPS)
        reasons: dict[str, str] = capabilities.reasons
        return {name: why for name, why in reasons.items() if not getattr(capabilities, name)}

    @property
    def needs_login(self) -> bool:
        """No token: the UI asks for the password and calls ``login``."""
        return not self.api.token

    def announce_start(self) -> None:
        """Say "connecting" before ``start()``. The app builds and paints its window from the
        cache first and starts the network right after: the window must not show "offline"
        meanwhile (docs/client-core.md, start sequence)."""
        if not self._started and self.connection.phase is Phase.OFFLINE:
            self._on_connection_state(ConnectionState(Phase.CONNECTING))

    async def start(self) -> None:
        """Connect and sync in the background (reads already work from the cache).

        Imports the network stack (websockets here, httpx at the first request) and reads the
        token from the keyring; the app calls it after its window's first paint."""
        if self._started:
            return
        self._started = True
        for text in self.cache.notices:
            self._emit(Notice("warning", text))
        if not self.api.token and self.profile.login:
            # The keyring's first read finds its backend (D-Bus, Keychain): ~0.4 s off the GUI.
            login = self.profile.login
            self.api.token = await asyncio.to_thread(self.credentials.get_token, login)
            if not self._started:
                return  # closed while the keyring was read
        if not self.credentials.available:
            self._emit(Notice("warning", self.credentials.unavailable_reason()))
        if self._realtime_factory is None:
            from operator_app.net.realtime import RealtimeConnection

            self._realtime_factory = RealtimeConnection
        self._realtime = self._realtime_factory(
            ws_url_for(self.api.base_url),
            token=lambda: self.api.token,
            since_cursor=lambda: self.cache.cursor,
            on_frame=self.sync.on_frame,
            on_frames=self.sync.on_frames,
            on_state=self._on_connection_state,
            ssl=self.api.ssl_context,
            heartbeat_seconds=self._heartbeat,
        )
        self._tasks.spawn(self._realtime.run(), "realtime")
        self._tasks.spawn(self.outbox.run(), "outbox")
        if self.cache.deep_check_due:
            self._tasks.spawn(self._deep_check(), "cache-check")
        self._tasks.spawn(self._prune(), "retention")

    async def _deep_check(self) -> None:
        """The full integrity check of a large cache, off the loop thread, once the first
        minute's work (the first tabs the operator opens) is done: it reads the whole file."""
        await asyncio.sleep(self.deep_check_delay)
        problem = await asyncio.to_thread(self.cache.deep_check)
        if problem is not None:
            log.warning("the cache is damaged: %s", problem)
            self._emit(Notice("warning", CACHE_DAMAGED))

    async def close(self) -> None:
        """Stop background work and the socket; the cache stays consistent (and open)."""
        if self._realtime is not None:
            await self._realtime.stop()
        if "sync" in self.__dict__:  # never built: nothing to close (and nothing to import)
            await self.sync.close()
        await self._tasks.cancel_all()
        self._started = False
        await self.api.aclose()

    async def login(self, password: str) -> Operator:
        """Log in with the profile's login; the token goes to the keyring when there is one."""
        answer = await guarded(self.api.login(self.profile.login, password))
        if not self.credentials.set_token(self.profile.login, answer.token):
            self._emit(Notice("warning", self.credentials.unavailable_reason()))
        if self.cache.set_me(answer.operator):
            self._emit(DirectoryChanged("me"))
        self.retry_connection_now()
        return answer.operator

    async def logout(self) -> None:
        """Server logout (best effort when offline); the token leaves the keyring and memory."""
        try:
            await self.api.logout()
        except NetError as exc:
            log.info("logout: the server was not told (%s); the token is dropped anyway", exc)
        self._forget_token()
        if self._realtime is not None:
            self._realtime.retry_now()  # reconnects without a token: OFFLINE, "not logged in"

    def wipe_cache(self) -> None:
        """Delete the local cache file. Call it after ``close()``: the service is done then."""
        if self._started:
            raise RuntimeError("close the service before wiping its cache")
        path = self.cache.path
        self.cache.close()
        for suffix in ("", "-wal", "-shm", ".lock"):  # .lock: cache.lock_path
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    # ---- notifications --------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Listen to changes. Notices given before (e.g. "cache rebuilt" at start) are
        replayed to the new listener at once, so a window that subscribes late sees them."""
        self._listeners.append(listener)
        for notice in list(self.notices):
            listener(notice)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, change: Change) -> None:
        if isinstance(change, Notice):
            if change in self.notices:
                return  # said once is enough (e.g. "no keyring" at login and at start)
            self.notices = [*self.notices[-(MAX_NOTICES - 1) :], change]
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                log.exception("a change listener failed on %s", type(change).__name__)

    def _emit_all(self, changes: Sequence[Change]) -> None:
        for change in changes:
            self._emit(change)

    def _on_connection_state(self, state: ConnectionState) -> None:
        self.connection = state
        if state.phase is Phase.ONLINE:
            self.outbox.wake()
            if self.settle_heap_online:
                heap.freeze_long_lived()
        refused = isinstance(state.error, ApiError) and state.error.code == ErrorCode.UNAUTHORIZED
        if state.phase is Phase.OFFLINE and refused and self.api.token:
            self._forget_token()  # revoked or expired: needs_login turns True
            self._emit(Notice("warning", SESSION_ENDED))
        self._emit(ConnectionChanged(state))

    def _forget_token(self) -> None:
        self.credentials.delete_token(self.profile.login)
        self.api.token = None

    def _message_failed(self, row: MessageRow) -> None:
        self._emit(MessagesChanged(row.dialog_id, (), (row,)))

    # ---- reads ----------------------------------------------------------------------------

    def dialogs(
        self, section: Section, narrowed: DialogFilter = EVERY_DIALOG, *, limit: int = 500
    ) -> list[DialogRow]:
        midnight = local_midnight(self._clock())
        return self.cache.list_dialogs(
            section, self.me, midnight=midnight, narrowed=narrowed, limit=limit
        )

    def dialog_ids(
        self, section: Section, narrowed: DialogFilter = EVERY_DIALOG, *, limit: int = 500
    ) -> list[int]:
        """The ids of ``dialogs(...)``, in order, without reading a row (cheap to poll)."""
        midnight = local_midnight(self._clock())
        return self.cache.list_dialog_ids(
            section, self.me, midnight=midnight, narrowed=narrowed, limit=limit
        )

    def next_awaiting_reply(self, current: int | None = None) -> int | None:
        """The dialog of mine whose client has waited longest for an answer; from one of
        them, the next in that order (round again after the last), so pressing on walks
        through every waiting client. None when nobody waits."""
        waiting = self.cache.awaiting_reply_ids(self.me)
        if not waiting:
            return None
        if current in waiting:
            return waiting[(waiting.index(current) + 1) % len(waiting)]
        return waiting[0]

    def dialog_rows(self, ids: Sequence[int]) -> dict[int, DialogRow]:
        """The rows of these dialogs by id (at most 2,000); unknown ids are left out."""
        return self.cache.dialog_rows(ids)

    def dialog(self, dialog_id: int) -> DialogRow | None:
        return self.cache.dialog_row(dialog_id)

    def messages(
        self, dialog_id: int, *, before_key: str | None = None, limit: int = 200
    ) -> list[MessageRow]:
        return self.cache.messages(dialog_id, before_key=before_key, limit=limit)

    def has_older(self, dialog_id: int) -> bool:
        return self.sync.has_older(dialog_id)

    def search(self, query: str, *, limit: int = 100) -> list[SearchHit]:
        return self.cache.search(query, limit=limit)

    def templates(self) -> list[Template]:
        return self.cache.templates()

    def operators(self) -> list[Operator]:
        return self.cache.operators()

    def queues(self) -> list[Queue]:
        return self.cache.queues()

    def draft(self, dialog_id: int) -> str:
        return self.cache.draft(dialog_id)

    def save_draft(self, dialog_id: int, text: str) -> None:
        """Store the draft; the dialog list shows it, so any change of its text is announced."""
        if text == self.cache.draft(dialog_id):
            return
        self.cache.save_draft(dialog_id, text, self._clock())
        self._emit(DialogsChanged(frozenset({dialog_id})))

    def mark_read(self, dialog_id: int) -> None:
        if self.cache.mark_read(dialog_id):
            self._emit(DialogsChanged(frozenset({dialog_id})))

    def render_template(
        self, template: Template, dialog_id: int, extra: Mapping[str, str] = {}
    ) -> RenderedTemplate:
        values: dict[str, str] = {"dialog_id": str(dialog_id)}
        me = self.me
        if me is not None:
            values["operator_name"] = me.name
        dialog = self.cache.get_dialog(dialog_id)
        if dialog is not None:
            values["client_name"] = dialog.contact_name
            queue = self.cache.queue(dialog.queue_id)
            if queue is not None:
                values["queue_name"] = queue.name
        return template_rendering.render(template, {**values, **extra})

    # ---- actions --------------------------------------------------------------------------

    def send(
        self,
        dialog_id: int,
        text: str,
        kind: MessageKind = MessageKind.MESSAGE,
        attachment_paths: Sequence[Path] = (),
    ) -> MessageRow:
        """Write the pending row (local echo) and wake the outbox; returns at once."""
        limit = MAX_COMMENT_CHARS if kind == MessageKind.COMMENT else MAX_MESSAGE_CHARS
        if not text.strip() and not attachment_paths:
            raise ActionError(ErrorCode.BAD_REQUEST, "The message is empty.")
        if len(text) > limit:
            raise ActionError(
                ErrorCode.PAYLOAD_TOO_LARGE, f"The text is {len(text)} characters; at most {limit}."
            )
        if len(attachment_paths) > 10:
            raise ActionError(ErrorCode.PAYLOAD_TOO_LARGE, "At most 10 attachments per message.")
        import uuid  # with the platform module it imports, ~2 ms the first paint does without

        me = self.me
        row = self.cache.add_pending(
            client_msg_id=uuid.uuid4().hex,
            dialog_id=dialog_id,
            kind=kind,
            text=text,
            attachment_paths=[str(Path(p).resolve()) for p in attachment_paths],
            author_id=None if me is None else me.id,
            author_name="" if me is None else me.name,
            created_at=self._clock(),
        )
        self._emit(MessagesChanged(dialog_id, (row,), ()))
        self.outbox.wake()
        return row

    def retry(self, message_key: str) -> None:
        """failed -> pending again, and try at once."""
        row = self.cache.requeue(message_key)
        if row is None:
            raise ActionError(ErrorCode.NOT_FOUND, "There is no failed message to retry.")
        self._emit(MessagesChanged(row.dialog_id, (), (row,)))
        self.outbox.wake()

    async def load_older(self, dialog_id: int) -> int:
        return await guarded(self.sync.load_older(dialog_id))

    async def open_dialog(self, dialog_id: int) -> None:
        """Make sure the newest page is cached (fetched only if missing) and mark it read."""
        self.mark_read(dialog_id)
        try:
            await self.sync.ensure_newest_page(dialog_id)
        except NetError as exc:
            log.info("open_dialog %d: history not refreshed (%s)", dialog_id, exc)
        self.mark_read(dialog_id)

    async def take(self, dialog_id: int) -> None:
        with self.sync.acting_on(dialog_id):
            self.sync.apply_dialog(await guarded(self.api.take(dialog_id)))

    async def transfer(
        self,
        dialog_id: int,
        *,
        to_operator_id: int | None = None,
        to_queue_id: int | None = None,
        comment: str = "",
    ) -> None:
        from operator_app.protocol.models import TransferRequest

        body = build(
            TransferRequest,
            to_operator_id=to_operator_id,
            to_queue_id=to_queue_id,
            comment=comment,
        )
        self.sync.apply_dialog(await guarded(self.api.transfer(dialog_id, body)))

    async def close_dialog(
        self, dialog_id: int, *, resolution: str = "", tags: Sequence[str] = ()
    ) -> None:
        from operator_app.protocol.models import CloseRequest

        body = build(CloseRequest, resolution=resolution, tags=list(tags))
        self.sync.apply_dialog(await guarded(self.api.close_dialog(dialog_id, body)))

    async def reopen(self, dialog_id: int) -> None:
        """Reopen a closed dialog (Chatwoot: status open; our server refuses, see unsupported)."""
        with self.sync.acting_on(dialog_id):
            self.sync.apply_dialog(await guarded(self.api.reopen(dialog_id)))

    async def set_status(self, status: OperatorStatus) -> None:
        mark = self.sync.stamps.clock
        self.sync.apply_operator(await guarded(self.api.set_my_status(status)), mark)

    async def change_password(self, current: str, new: str) -> None:
        """The operator's own password. This session stays signed in; the server signs out
        the others (another computer where this login was remembered)."""
        from operator_app.protocol.models import PasswordChange

        body = build(PasswordChange, current_password=current, new_password=new)
        await guarded(self.api.change_password(body))

    async def set_typing(self, dialog_id: int, on: bool) -> None:
        """Best effort: typing is ephemeral, so failures are dropped silently."""
        if self._realtime is not None and await self._realtime.send_typing(dialog_id, on):
            return
        try:
            await self.api.typing(dialog_id, on)
        except NetError as exc:
            log.debug("typing not sent: %s", exc)

    async def contact_card(self, contact_id: int) -> ContactCard | None:
        """The cached card, refreshed from the server when it answers."""
        try:
            card = await self.api.contact(contact_id)
        except NetError as exc:
            log.info("contact %d: using the cached card (%s)", contact_id, exc)
            return self.cache.contact_card(contact_id)
        self.cache.put_contact_card(card, self._clock())
        return card

    async def save_template(self, body: TemplateIn, template_id: int | None = None) -> Template:
        mark = self.sync.stamps.clock
        if template_id is None:
            saved = await guarded(self.api.create_template(body))
        else:
            saved = await guarded(self.api.update_template(template_id, body))
        fresh = self.sync.stamps.current(mark, "templates", saved.id)  # no event overtook it
        if fresh and self.cache.upsert_template(saved):
            self._emit(DirectoryChanged("templates"))
        return saved

    async def delete_template(self, template_id: int) -> None:
        await guarded(self.api.delete_template(template_id))
        if self.cache.delete_template(template_id):  # a deletion is final: no event undoes it
            self._emit(DirectoryChanged("templates"))

    def retry_connection_now(self) -> None:
        if self._realtime is not None:
            self._realtime.retry_now()
        self.outbox.wake()

    # ---- housekeeping ---------------------------------------------------------------------

    async def _prune(self) -> None:
        """Retention in small batches, yielding between them: the UI never waits on it."""
        days, max_messages = self.retention
        older_than = None if days is None else self._clock() - timedelta(days=days)
        dropped = 0
        while batch := self.cache.prune(older_than=older_than, max_messages=max_messages):
            dropped += batch
            await asyncio.sleep(0)
        if dropped:
            log.info("retention: dropped %d closed dialogs from the cache", dropped)
