"""The local cache: one SQLite file per server profile and operator, the UI's source of truth.

Every method runs on the caller's thread and is bounded (indexed, paged). Writes that belong
together go through ``transaction()``; the sync engine stores the applied cursor in the same
transaction as the event, so a crash never leaves them apart.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import platformdirs

from operator_app import APP_ID
from operator_app.protocol.enums import Author, DialogState, MessageKind

from .changes import CACHE_REBUILT
from .filelock import FileLock
from .rows import (
    EVERY_DIALOG,
    DeliveryState,
    DialogFilter,
    DialogInfo,
    DialogRow,
    MessageRow,
    OperatorInfo,
    SearchHit,
    Section,
)
from .schema import MIGRATIONS, PENDING_BASE, SCHEMA_VERSION
from .trusted import (
    dialog_info,
    dialog_info_from_json,
    dialog_model,
    operator_info_from_json,
    operator_model,
)

if TYPE_CHECKING:
    import sqlite_utils

    from operator_app.protocol.models import (
        Attachment,
        Contact,
        ContactCard,
        Dialog,
        Message,
        Operator,
        Queue,
        Template,
    )

log = logging.getLogger(__name__)

# Errors that mean the file itself is damaged (not merely locked or unreadable right now).
_CORRUPTION_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB
_MAX_SEARCH_TERMS = 8
_TERM = re.compile(r"\w+")
MAX_DIALOG_PAGE = 2000
MAX_PARSED_DIALOGS = 50_000
FULL_CHECK_BYTES = 64 * 1024 * 1024  # above this, the full check runs in the background
# A checkpoint in a commit (SQLite's default: once the WAL passes 1,000 pages) copies pages
# and syncs the file on the committing thread, the GUI's: 20-40 ms, every ~10 batches of a
# replay. The sync engine checkpoints from a worker thread instead (``checkpoint``); the
# commit does it only past this many pages, as a safety net.
AUTO_CHECKPOINT_PAGES = 25_000


class CacheError(Exception):
    """The cache cannot be used now (locked, unreadable directory, disk full...)."""


class CacheInUse(CacheError):
    """Another Operator desk has this cache open: the same operator on the same server."""


class CacheCorrupt(CacheError):
    """The file is damaged or written by a newer app: it must be moved aside and rebuilt."""


@dataclass(frozen=True, slots=True)
class DialogChange:
    """What an upsert did to one dialog row."""

    changed: bool
    previous: DialogInfo | None


@dataclass(frozen=True, slots=True)
class MessageChange:
    row: MessageRow | None  # None: nothing changed
    inserted: bool


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    client_msg_id: str
    dialog_id: int
    kind: MessageKind
    text: str
    attachment_paths: tuple[str, ...]
    attachment_ids: tuple[int, ...] | None  # None: not uploaded yet
    attempts: int


def default_cache_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_ID)) / "cache"


def cache_path_for(base_url: str, login: str, directory: Path | None = None) -> Path:
    """One file per server and operator; the name is readable, the hash keeps it unique."""
    digest = hashlib.sha256(f"{base_url}\n{login}".encode()).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{login}@{base_url.split('://')[-1]}")[:60]
    return (directory or default_cache_dir()) / f"{readable}-{digest}.sqlite3"


def lock_path(path: Path) -> Path:
    """The file whose lock an open cache holds (``Cache.open``)."""
    return path.with_name(path.name + ".lock")


def in_use(path: Path) -> bool:
    """Whether another app holds this cache open."""
    lock = FileLock(lock_path(path))
    if lock.acquire():
        lock.release()
        return False
    return True


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def fts_query(text: str) -> str:
    """Turn what the operator typed into a safe FTS5 query: every word, as a prefix, ANDed."""
    folded = text.casefold().replace("ё", "е")
    terms = _TERM.findall(folded)[:_MAX_SEARCH_TERMS]
    # A one-letter prefix would expand to half the vocabulary: match it as a whole word.
    return " ".join(f'"{term}"*' if len(term) > 1 else f'"{term}"' for term in terms)


class Cache:
    """The open cache file. Create with ``Cache.open``."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.path = path
        self.conn = connection
        self.notices: list[str] = []  # for the operator, e.g. "the cache was rebuilt"
        self.deep_check_due = False
        self._depth = 0
        self._parsed: dict[int, tuple[str, DialogInfo]] = {}  # id -> (json, parsed)
        self._me: tuple[str, OperatorInfo] | None = None  # (json, parsed)
        # close() waits for a background checkpoint: a reopen must not see a half-copied file
        self._checkpointing = threading.Lock()
        self._lock: FileLock | None = None  # held while open: one app per cache file

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils' view of the file. Imported on first use: it adds ~90 ms to start."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    # ---- opening --------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, verify: bool = True) -> Cache:
        """Open or create the file; a damaged one is moved aside and rebuilt (see ``notices``).

        A small file gets a full ``quick_check`` at once. A large one only gets the cheap
        checks (header, truncation, schema) here so the app opens in milliseconds; the
        service then runs ``deep_check`` in a worker thread (``deep_check_due``).
        """
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # First of all: a second app must not read, repair or move aside a file in use.
        lock = FileLock(lock_path(path))
        if not lock.acquire():
            raise CacheInUse(f"{path.name} is open in another Operator desk window")
        try:
            cache = cls._open_locked(path, verify)
        except BaseException:
            lock.release()
            raise
        cache._lock = lock
        return cache

    @classmethod
    def _open_locked(cls, path: Path, verify: bool) -> Cache:
        marker = _damage_marker(path)
        full = verify and (not path.exists() or path.stat().st_size <= FULL_CHECK_BYTES)
        try:
            if marker.exists():
                raise CacheCorrupt(marker.read_text(encoding="utf-8", errors="replace")[:200])
            cache = cls(
                _connect(path, check="full" if full else "fast" if verify else "none"), path
            )
        except CacheCorrupt as exc:
            moved = _move_aside(path)
            marker.unlink(missing_ok=True)
            log.warning("cache %s is damaged (%s), moved to %s", path, exc, moved)
            cache = cls(_connect(path, check="none"), path)
            cache.notices.append(CACHE_REBUILT)  # the old file's name is in the log
            return cache
        cache.deep_check_due = verify and not full
        return cache

    def deep_check(self) -> str | None:
        """A full ``quick_check`` on its own read-only connection (safe in a worker thread).

        Returns None when sound; otherwise the problem, after leaving a marker so the next
        open moves the file aside and rebuilds it.
        """
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            try:
                result = conn.execute("PRAGMA quick_check(1)").fetchone()
            finally:
                conn.close()
            problem = None if result is not None and result[0] == "ok" else str(result)
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                log.info("cache deep check could not run: %s", exc)
                return None
            problem = str(exc)
        if problem is not None:
            _damage_marker(self.path).write_text(problem, encoding="utf-8")
        return problem

    def checkpoint(self) -> None:
        """Copy the WAL into the file on a connection of its own (safe in a worker thread);
        PASSIVE: it never waits for, nor blocks, the app's reads and writes."""
        if str(self.path) == ":memory:":
            return
        with self._checkpointing:
            try:
                conn = sqlite3.connect(str(self.path), check_same_thread=False)
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                finally:
                    conn.close()
            except sqlite3.Error as exc:
                log.info("cache checkpoint skipped: %s", exc)

    @classmethod
    def in_memory(cls) -> Cache:
        return cls(_connect(Path(":memory:"), check="none"), Path(":memory:"))

    def close(self) -> None:
        with self._checkpointing:
            self.conn.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write; nested calls join the outer transaction."""
        if self._depth == 0:
            self.conn.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield
        except BaseException as exc:
            self._depth -= 1
            if self._depth == 0:
                with contextlib.suppress(sqlite3.Error):  # a failed write may have ended it
                    self.conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and _environmental(exc):
                    raise _write_error(self.path, exc) from exc
            raise
        self._depth -= 1
        if self._depth == 0:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise (_write_error(self.path, exc) if _environmental(exc) else exc) from exc

    def _one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    # ---- meta: cursor, me -----------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        value = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction():
            if value is None:
                self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self.conn.execute(
                    "INSERT INTO meta(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    @property
    def cursor(self) -> int | None:
        value = self.get_meta("cursor")
        return None if value is None else int(value)

    def set_cursor(self, cursor: int | None) -> None:
        self.set_meta("cursor", None if cursor is None else str(cursor))

    def advance_cursor(self, cursor: int) -> bool:
        """Store a newer cursor; False (and no change) when it is not newer."""
        current = self.cursor
        if current is not None and cursor <= current:
            return False
        self.set_cursor(cursor)
        return True

    def me(self) -> Operator | None:
        """The wire model (the service and the sync engine read ``me_info``: plain data)."""
        info = self.me_info()
        return None if info is None else operator_model(info)

    def me_info(self) -> OperatorInfo | None:
        raw = self.get_meta("me")
        if raw is None:
            return None
        if self._me is None or self._me[0] != raw:  # read per event: parse it once
            self._me = (raw, operator_info_from_json(raw))
        return self._me[1]

    def set_me(self, operator: Operator) -> bool:
        raw = operator.model_dump_json()
        if raw == self.get_meta("me"):
            return False
        self.set_meta("me", raw)
        return True

    # ---- directory: operators, queues, templates ------------------------------------------

    # The wire models load at the first read below (none is on the start path).

    def operators(self) -> list[Operator]:
        from operator_app.protocol.models import Operator

        rows = self.conn.execute("SELECT data FROM operators ORDER BY id")
        return [Operator.model_validate_json(data) for (data,) in rows]

    def queues(self) -> list[Queue]:
        from operator_app.protocol.models import Queue

        rows = self.conn.execute("SELECT data FROM queues ORDER BY id")
        return [Queue.model_validate_json(data) for (data,) in rows]

    def templates(self) -> list[Template]:
        from operator_app.protocol.models import Template

        rows = self.conn.execute("SELECT data FROM templates ORDER BY id")
        return [Template.model_validate_json(data) for (data,) in rows]

    def queue(self, queue_id: int) -> Queue | None:
        from operator_app.protocol.models import Queue

        data = self._one("SELECT data FROM queues WHERE id = ?", (queue_id,))
        return None if data is None else Queue.model_validate_json(data)

    def operator(self, operator_id: int) -> Operator | None:
        from operator_app.protocol.models import Operator

        data = self._one("SELECT data FROM operators WHERE id = ?", (operator_id,))
        return None if data is None else Operator.model_validate_json(data)

    def upsert_operator(self, operator: Operator) -> bool:
        return self._upsert_data("operators", operator.id, operator.model_dump_json())

    def upsert_queue(self, queue: Queue) -> bool:
        return self._upsert_data("queues", queue.id, queue.model_dump_json(), queue.sla_seconds)

    def upsert_template(self, template: Template) -> bool:
        return self._upsert_data("templates", template.id, template.model_dump_json())

    def delete_template(self, template_id: int) -> bool:
        with self.transaction():
            cur = self.conn.execute("DELETE FROM templates WHERE id = ?", (template_id,))
        return cur.rowcount > 0

    def replace_operators(
        self, operators: Iterable[Operator], keep: Set[int] = frozenset()
    ) -> bool:
        return self._replace("operators", [(o.id, o.model_dump_json()) for o in operators], keep)

    def replace_queues(self, queues: Iterable[Queue], keep: Set[int] = frozenset()) -> bool:
        rows = [(q.id, q.sla_seconds, q.model_dump_json()) for q in queues]
        return self._replace("queues", rows, keep)

    def replace_templates(
        self, templates: Iterable[Template], keep: Set[int] = frozenset()
    ) -> bool:
        return self._replace("templates", [(t.id, t.model_dump_json()) for t in templates], keep)

    def _upsert_data(self, table: str, row_id: int, data: str, sla: int | None = None) -> bool:
        if self._one(f"SELECT data FROM {table} WHERE id = ?", (row_id,)) == data:
            return False
        with self.transaction():
            if table == "queues":
                self.conn.execute(
                    "INSERT OR REPLACE INTO queues(id, sla_seconds, data) VALUES (?, ?, ?)",
                    (row_id, sla, data),
                )
            else:
                self.conn.execute(
                    f"INSERT OR REPLACE INTO {table}(id, data) VALUES (?, ?)", (row_id, data)
                )
        return True

    def _replace(self, table: str, rows: list[tuple[Any, ...]], keep: Set[int]) -> bool:
        """The table becomes ``rows``, except the ids in ``keep``: those stay as stored,
        present or absent (an event newer than the rows said so)."""
        columns = "id, sla_seconds, data" if table == "queues" else "id, data"
        before = self.conn.execute(f"SELECT {columns} FROM {table} ORDER BY id").fetchall()
        kept = [row for row in before if row[0] in keep]
        after = sorted(
            [row for row in rows if row[0] not in keep] + kept, key=lambda row: int(row[0])
        )
        if before == after:
            return False
        marks = ", ".join("?" * len(after[0])) if after else ""
        with self.transaction():
            self.conn.execute(f"DELETE FROM {table}")
            if after:
                self.conn.executemany(f"INSERT INTO {table}({columns}) VALUES ({marks})", after)
        return True

    # ---- dialogs --------------------------------------------------------------------------

    def upsert_dialog(self, dialog: Dialog) -> DialogChange:
        """Store a dialog unless the stored one is newer; returns what changed."""
        stored = self.conn.execute(
            "SELECT data, updated_ts FROM dialogs WHERE id = ?", (dialog.id,)
        ).fetchone()
        data = dialog.model_dump_json()
        previous = None if stored is None else self._parse_dialog(dialog.id, stored[0])
        if stored is not None and (stored[0] == data or dialog.updated_at.timestamp() < stored[1]):
            return DialogChange(False, previous)
        preview = dialog.last_message.text if dialog.last_message else ""
        values = {
            "id": dialog.id,
            "state": dialog.state.value,
            "assignee_id": dialog.assignee_id,
            "queue_id": dialog.queue_id,
            "channel": dialog.channel.value,
            "contact_name": dialog.contact_name,
            "filter_text": f"{dialog.contact_name}\n{dialog.subject}\n{preview}".casefold(),
            "updated_ts": dialog.updated_at.timestamp(),
            "activity_ts": (
                dialog.last_message.created_at if dialog.last_message else dialog.updated_at
            ).timestamp(),
            "waiting_ts": _ts(dialog.waiting_since),
            "closed_ts": _ts(dialog.closed_at),
            "data": data,
        }
        with self.transaction():
            if stored is None:
                client_last = (
                    dialog.last_message is not None and dialog.last_message.author == Author.CLIENT
                )
                values["unread"] = int(client_last and dialog.state != DialogState.CLOSED)
                values["counted_upto"] = dialog.last_message_id or 0
                names = ", ".join(values)
                marks = ", ".join(f":{name}" for name in values)
                self.conn.execute(f"INSERT INTO dialogs({names}) VALUES ({marks})", values)
            else:
                sets = ", ".join(f"{name} = :{name}" for name in values if name != "id")
                self.conn.execute(f"UPDATE dialogs SET {sets} WHERE id = :id", values)
            self._check_history_window(dialog)
        # the next event and the list read it parsed
        self._parsed[dialog.id] = (data, dialog_info(dialog))
        return DialogChange(True, previous)

    def _check_history_window(self, dialog: Dialog) -> None:
        """The cached window must reach the newest message; if it does not, a gap opened."""
        if dialog.last_message_id is None:
            return
        cached = self._one("SELECT 1 FROM messages WHERE server_id = ?", (dialog.last_message_id,))
        if cached is None:
            self.conn.execute(
                "UPDATE dialogs SET hist_from = NULL, hist_complete = 0 "
                "WHERE id = ? AND hist_from IS NOT NULL",
                (dialog.id,),
            )

    def forget_dialog(self, dialog_id: int) -> None:
        """Drop a dialog we may no longer see, unless unsent messages still wait in it."""
        if self._one("SELECT 1 FROM outbox WHERE dialog_id = ?", (dialog_id,)):
            return
        self._drop_dialogs([dialog_id])

    def clear_synced(self) -> None:
        """Forget everything learnt from the server; drafts and unsent messages stay."""
        with self.transaction():
            self.conn.execute("DELETE FROM messages WHERE server_id IS NOT NULL")
            for table in ("dialogs", "contacts", "operators", "queues", "templates"):
                self.conn.execute(f"DELETE FROM {table}")
            self.conn.execute("DELETE FROM meta WHERE key IN ('cursor', 'me', 'snapshot_owed')")
        self._parsed.clear()

    def get_dialog(self, dialog_id: int) -> Dialog | None:
        """The wire model (the list reads ``dialog_rows``: plain rows, no pydantic)."""
        info = self._dialog_info(dialog_id)
        return None if info is None else dialog_model(info)

    def _dialog_info(self, dialog_id: int) -> DialogInfo | None:
        data = self._one("SELECT data FROM dialogs WHERE id = ?", (dialog_id,))
        return None if data is None else self._parse_dialog(dialog_id, data)

    def dialog_row(self, dialog_id: int) -> DialogRow | None:
        return self.dialog_rows([dialog_id]).get(dialog_id)

    def open_dialog_ids(self) -> list[int]:
        rows = self.conn.execute("SELECT id FROM dialogs WHERE state != 'closed'")
        return [dialog_id for (dialog_id,) in rows]

    def latest_dialog_update(self) -> datetime | None:
        value = self._one("SELECT max(updated_ts) FROM dialogs")
        return None if value is None else datetime.fromtimestamp(value, UTC)

    def list_dialogs(
        self,
        section: Section,
        me: OperatorInfo | None,
        *,
        midnight: datetime,
        narrowed: DialogFilter = EVERY_DIALOG,
        limit: int = 500,
    ) -> list[DialogRow]:
        ids = self.list_dialog_ids(section, me, midnight=midnight, narrowed=narrowed, limit=limit)
        found = self.dialog_rows(ids)
        return [found[dialog_id] for dialog_id in ids if dialog_id in found]

    def list_dialog_ids(
        self,
        section: Section,
        me: OperatorInfo | None,
        *,
        midnight: datetime,
        narrowed: DialogFilter = EVERY_DIALOG,
        limit: int = 500,
    ) -> list[int]:
        """The ids of a section page, in its order: a covering index, no row is read."""
        if me is None:
            return []
        where, params, order = _section_filter(section, me, midnight)
        if narrowed.channel is not None:
            where += " AND d.channel = ?"
            params.append(narrowed.channel.value)
        if narrowed.tag:
            where += " AND EXISTS (SELECT 1 FROM json_each(d.data, '$.tags') WHERE value = ?)"
            params.append(narrowed.tag)
        if text := narrowed.text.strip():
            where += " AND instr(d.filter_text, ?) > 0"
            params.append(text.casefold())
        limit = max(0, min(limit, MAX_DIALOG_PAGE))
        rows = self.conn.execute(
            f"SELECT d.id FROM dialogs d WHERE {where} ORDER BY {order} LIMIT ?",
            [*params, limit],
        )
        return [dialog_id for (dialog_id,) in rows]

    def awaiting_reply_ids(self, me: OperatorInfo | None, *, limit: int = 100) -> list[int]:
        """My open dialogs whose client waits for an answer, the longest waiting first."""
        if me is None:
            return []
        rows = self.conn.execute(
            "SELECT id FROM dialogs WHERE assignee_id = ? AND state IN ('waiting', 'active')"
            " AND waiting_ts IS NOT NULL ORDER BY waiting_ts, id LIMIT ?",
            (me.id, limit),
        )
        return [dialog_id for (dialog_id,) in rows]

    def dialog_rows(self, ids: Sequence[int]) -> dict[int, DialogRow]:
        """The rows of these dialogs (at most MAX_DIALOG_PAGE), by id; missing ones left out."""
        ids = list(ids)[:MAX_DIALOG_PAGE]
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = self.conn.execute(
            f"""SELECT d.id, d.data, d.unread,
                   EXISTS (SELECT 1 FROM drafts r WHERE r.dialog_id = d.id AND r.text != ''),
                   coalesce(q.sla_seconds, 60)
                FROM dialogs d LEFT JOIN queues q ON q.id = d.queue_id
                WHERE d.id IN ({marks})""",
            ids,
        )
        return {
            dialog_id: DialogRow(self._parse_dialog(dialog_id, data), unread, bool(draft), sla)
            for dialog_id, data, unread, draft, sla in rows
        }

    def _parse_dialog(self, dialog_id: int, data: str) -> DialogInfo:
        """Parsing JSON dominates a list read; rows that did not change are parsed once."""
        memo = self._parsed.get(dialog_id)
        if memo is not None and memo[0] == data:
            return memo[1]
        if len(self._parsed) >= MAX_PARSED_DIALOGS:
            self._parsed.clear()
        dialog = dialog_info_from_json(data)  # our own JSON: no pydantic on the start path
        self._parsed[dialog_id] = (data, dialog)
        return dialog

    def count_missed(self, dialog: Dialog) -> bool:
        """A snapshot (after a resync: events were lost) shows a customer message newer than
        any counted: the customer wrote while none of it reached us. How many is unknown; at
        least one is unread. True if the count changed."""
        preview, newest = dialog.last_message, dialog.last_message_id
        if preview is None or newest is None or preview.author != Author.CLIENT:
            return False
        if dialog.state == DialogState.CLOSED:
            return False
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE dialogs SET unread = unread + 1, counted_upto = ? "
                "WHERE id = ? AND counted_upto < ?",
                (newest, dialog.id, newest),
            )
        return cursor.rowcount > 0

    def mark_read(self, dialog_id: int) -> bool:
        dialog = self._dialog_info(dialog_id)
        if dialog is None:
            return False
        # Server rows keep id == server_id below PENDING_BASE: max(id) is one index seek,
        # max(server_id) read every row of the dialog (9 ms at 10,000 messages, twice per open).
        newest = self._one(
            "SELECT max(id) FROM messages WHERE dialog_id = ? AND id < ?", (dialog_id, PENDING_BASE)
        )
        upto = max(dialog.last_message_id or 0, newest or 0)
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE dialogs SET unread = 0, counted_upto = max(counted_upto, ?) "
                "WHERE id = ? AND unread != 0",
                (upto, dialog_id),
            )
        return cur.rowcount > 0

    def history_window(self, dialog_id: int) -> tuple[int | None, bool]:
        """(smallest cached server id of the window ending at the newest message, complete)."""
        row = self.conn.execute(
            "SELECT hist_from, hist_complete FROM dialogs WHERE id = ?", (dialog_id,)
        ).fetchone()
        return (None, False) if row is None else (row[0], bool(row[1]))

    def set_history_window(self, dialog_id: int, low: int | None, complete: bool) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE dialogs SET hist_from = ?, hist_complete = ? WHERE id = ?",
                (low, int(complete), dialog_id),
            )

    def reset_history(self, dialog_ids: Iterable[int]) -> None:
        with self.transaction():
            self.conn.executemany(
                "UPDATE dialogs SET hist_from = NULL, hist_complete = 0 WHERE id = ?",
                [(dialog_id,) for dialog_id in dialog_ids],
            )

    # ---- messages -------------------------------------------------------------------------

    def apply_server_message(self, message: Message) -> MessageChange:
        """Store a message from the server; an acknowledgement turns the pending row sent."""
        if self._one("SELECT 1 FROM messages WHERE server_id = ?", (message.id,)) is not None:
            if message.client_msg_id is not None:  # a late ack of an echoed message
                with self.transaction():
                    self.conn.execute(
                        "DELETE FROM outbox WHERE client_msg_id = ?", (message.client_msg_id,)
                    )
            return MessageChange(None, False)
        values = _message_values(message)
        with self.transaction():
            local = None
            if message.client_msg_id is not None:
                local = self._one(
                    "SELECT id FROM messages WHERE client_msg_id = ?", (message.client_msg_id,)
                )
            if local is not None:
                sets = ", ".join(f"{name} = :{name}" for name in values if name != "key")
                self.conn.execute(
                    f"UPDATE messages SET {sets} WHERE id = :local", values | {"local": local}
                )
                self.conn.execute(
                    "DELETE FROM outbox WHERE client_msg_id = ?", (message.client_msg_id,)
                )
            else:
                names = ", ".join(values)
                marks = ", ".join(f":{name}" for name in values)
                self.conn.execute(f"INSERT INTO messages({names}) VALUES ({marks})", values)
                if message.author == Author.CLIENT:
                    self.conn.execute(
                        "UPDATE dialogs SET unread = unread + 1, counted_upto = ? "
                        "WHERE id = ? AND counted_upto < ?",
                        (message.id, message.dialog_id, message.id),
                    )
        if local is None:  # the row is what was just written: no need to read it back
            return MessageChange(_server_row(message, values["key"]), True)
        return MessageChange(self.message(values["key"]), False)

    def update_server_message(self, message: Message) -> MessageChange:
        """An edit or deletion of a sent message: new text, attachments and deleted flag (the
        FTS index follows the text through its update trigger). A message not held yet is
        stored as if just created; one already as given changes nothing."""
        values = _message_values(message)
        edited = {name: values[name] for name in ("text", "attachments", "deleted")}
        known = self.conn.execute(
            "SELECT key, text, attachments, deleted FROM messages WHERE server_id = ?",
            (message.id,),
        ).fetchone()
        if known is None:
            return self.apply_server_message(message)
        if tuple(known[1:]) == tuple(edited.values()):
            return MessageChange(None, False)
        with self.transaction():
            self.conn.execute(
                "UPDATE messages SET text = :text, attachments = :attachments, "
                "deleted = :deleted WHERE server_id = :server_id",
                edited | {"server_id": message.id},
            )
        return MessageChange(self.message(known[0]), False)

    def apply_history_page(self, dialog_id: int, messages: Sequence[Message]) -> int:
        """Store a page of history; returns how many rows were new."""
        added = 0
        with self.transaction():
            for message in messages:
                if message.dialog_id == dialog_id and self._insert_history(message):
                    added += 1
        return added

    def _insert_history(self, message: Message) -> bool:
        # History never touches unread counters nor the outbox: it is the past.
        if self._one("SELECT 1 FROM messages WHERE server_id = ?", (message.id,)) is not None:
            return False
        if message.client_msg_id is not None and self._one(
            "SELECT 1 FROM messages WHERE client_msg_id = ?", (message.client_msg_id,)
        ):
            self.apply_server_message(message)
            return False
        values = _message_values(message)
        names = ", ".join(values)
        marks = ", ".join(f":{name}" for name in values)
        self.conn.execute(f"INSERT INTO messages({names}) VALUES ({marks})", values)
        return True

    def message(self, key: str) -> MessageRow | None:
        row = self.conn.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE key = ?", (key,))
        found = row.fetchone()
        return None if found is None else _message_row(found)

    def messages(
        self, dialog_id: int, *, before_key: str | None = None, limit: int = 200
    ) -> list[MessageRow]:
        """A page of the timeline, oldest first; local (pending/failed) rows come last."""
        bound = PENDING_BASE * 4
        if before_key is not None:
            found = self._one(
                "SELECT id FROM messages WHERE key = ? AND dialog_id = ?", (before_key, dialog_id)
            )
            if found is None:
                return []
            bound = found
        rows = self.conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE dialog_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT ?",
            (dialog_id, bound, max(0, limit)),
        ).fetchall()
        return [_message_row(row) for row in reversed(rows)]

    def messages_with_server_ids(self, server_ids: Sequence[int]) -> list[MessageRow]:
        rows: list[MessageRow] = []
        for start in range(0, len(server_ids), 500):
            chunk = [int(i) for i in server_ids[start : start + 500]]
            marks = ", ".join("?" * len(chunk))
            found = self.conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE server_id IN ({marks}) ORDER BY id",
                chunk,
            )
            rows += [_message_row(row) for row in found]
        return rows

    def oldest_cached_server_id(self, dialog_id: int) -> int | None:
        value = self._one(
            "SELECT min(id) FROM messages WHERE dialog_id = ? AND server_id IS NOT NULL",
            (dialog_id,),
        )
        return None if value is None else int(value)

    # ---- outbox ---------------------------------------------------------------------------

    def add_pending(
        self,
        *,
        client_msg_id: str,
        dialog_id: int,
        kind: MessageKind,
        text: str,
        attachment_paths: Sequence[str],
        author_id: int | None,
        author_name: str,
        created_at: datetime,
    ) -> MessageRow:
        """The local echo and its outbox entry, in one transaction, before any network call."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO outbox(client_msg_id, dialog_id, kind, text, attachment_paths) "
                "VALUES (?, ?, ?, ?, ?)",
                (client_msg_id, dialog_id, kind.value, text, json.dumps(list(attachment_paths))),
            )
            seq = int(cur.lastrowid or 0)
            self.conn.execute(
                "INSERT INTO messages(id, key, client_msg_id, dialog_id, author, author_id, "
                "author_name, kind, text, attachments, created_at, state) "
                "VALUES (?, ?, ?, ?, 'operator', ?, ?, ?, ?, '[]', ?, 'pending')",
                (
                    PENDING_BASE + seq,
                    client_msg_id,
                    client_msg_id,
                    dialog_id,
                    author_id,
                    author_name,
                    kind.value,
                    text,
                    created_at.isoformat(),
                ),
            )
        row = self.message(client_msg_id)
        assert row is not None
        return row

    def outbox_heads(self) -> list[OutboxItem]:
        """The oldest sendable entry of every dialog: per-dialog order is the send order."""
        rows = self.conn.execute(
            "SELECT seq, client_msg_id, dialog_id, kind, text, attachment_paths, attachment_ids, "
            "attempts FROM outbox WHERE seq IN "
            "(SELECT min(seq) FROM outbox WHERE failed = 0 GROUP BY dialog_id) ORDER BY seq"
        )
        return [
            OutboxItem(
                seq=seq,
                client_msg_id=cmid,
                dialog_id=dialog_id,
                kind=MessageKind(kind),
                text=text,
                attachment_paths=tuple(json.loads(paths)),
                attachment_ids=None if ids is None else tuple(json.loads(ids)),
                attempts=attempts,
            )
            for seq, cmid, dialog_id, kind, text, paths, ids, attempts in rows
        ]

    def outbox_size(self) -> int:
        return int(self._one("SELECT count(*) FROM outbox WHERE failed = 0"))

    def note_attempt(self, client_msg_id: str) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1 WHERE client_msg_id = ?",
                (client_msg_id,),
            )

    def set_uploaded(self, client_msg_id: str, attachment_ids: Sequence[int]) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE outbox SET attachment_ids = ? WHERE client_msg_id = ?",
                (json.dumps(list(attachment_ids)), client_msg_id),
            )

    def mark_failed(self, client_msg_id: str, reason: str) -> MessageRow | None:
        with self.transaction():
            self.conn.execute(
                "UPDATE outbox SET failed = 1 WHERE client_msg_id = ?", (client_msg_id,)
            )
            self.conn.execute(
                "UPDATE messages SET state = 'failed', error = ? "
                "WHERE client_msg_id = ? AND state != 'sent'",
                (reason, client_msg_id),
            )
        return self.message(client_msg_id)

    def requeue(self, key: str) -> MessageRow | None:
        """failed -> pending; None when there is no such failed message."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE messages SET state = 'pending', error = '' "
                "WHERE key = ? AND state = 'failed'",
                (key,),
            )
            if cur.rowcount == 0:
                return None
            self.conn.execute("UPDATE outbox SET failed = 0 WHERE client_msg_id = ?", (key,))
        return self.message(key)

    # ---- drafts ---------------------------------------------------------------------------

    def draft(self, dialog_id: int) -> str:
        value = self._one("SELECT text FROM drafts WHERE dialog_id = ?", (dialog_id,))
        return "" if value is None else str(value)

    def save_draft(self, dialog_id: int, text: str, now: datetime) -> bool:
        """Returns True when whether the dialog has a draft changed."""
        had = bool(self.draft(dialog_id))
        with self.transaction():
            if text:
                self.conn.execute(
                    "INSERT INTO drafts(dialog_id, text, updated_ts) VALUES (?, ?, ?) "
                    "ON CONFLICT(dialog_id) DO UPDATE SET text = excluded.text, "
                    "updated_ts = excluded.updated_ts",
                    (dialog_id, text, now.timestamp()),
                )
            else:
                self.conn.execute("DELETE FROM drafts WHERE dialog_id = ?", (dialog_id,))
        return had != bool(text)

    # ---- contacts -------------------------------------------------------------------------

    def contact_card(self, contact_id: int) -> ContactCard | None:
        from operator_app.protocol.models import ContactCard

        card = self._one("SELECT card FROM contacts WHERE id = ?", (contact_id,))
        return None if card is None else ContactCard.model_validate_json(card)

    def put_contact_card(self, card: ContactCard, now: datetime) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO contacts(id, card, fetched_ts) VALUES (?, ?, ?)",
                (card.contact.id, card.model_dump_json(), now.timestamp()),
            )

    def update_contact(self, contact: Contact) -> bool:
        card = self.contact_card(contact.id)
        if card is None or card.contact == contact:
            return False
        card.contact = contact
        with self.transaction():
            self.conn.execute(
                "UPDATE contacts SET card = ? WHERE id = ?", (card.model_dump_json(), contact.id)
            )
        return True

    # ---- search ---------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 100) -> list[SearchHit]:
        """Full-text search over cached messages, newest first (rowid order, never rank)."""
        match = fts_query(query)
        if not match:
            return []
        rows = self.conn.execute(
            """SELECT m.dialog_id, coalesce(d.contact_name, ''), m.key, m.created_at,
                      snippet(messages_fts, 0, char(2), char(3), '…', 16)
               FROM messages_fts
               JOIN messages m ON m.id = messages_fts.rowid
               LEFT JOIN dialogs d ON d.id = m.dialog_id
               WHERE messages_fts MATCH ?
               ORDER BY messages_fts.rowid DESC LIMIT ?""",
            (match, max(0, limit)),
        )
        return [
            SearchHit(dialog_id, name, key, datetime.fromisoformat(created), snippet)
            for dialog_id, name, key, created, snippet in rows
        ]

    # ---- retention ------------------------------------------------------------------------

    def prune(
        self, *, older_than: datetime | None, max_messages: int | None, batch: int = 100
    ) -> int:
        """Drop up to ``batch`` of the oldest closed dialogs that break a limit (never one
        with unsent messages); returns how many. Call again until it returns 0."""
        if older_than is not None:
            closed = self._closed_dialogs("AND closed_ts < ?", [older_than.timestamp()], batch)
            if closed:
                return self._drop_dialogs([dialog_id for dialog_id, _ in closed])
        if max_messages is None:
            return 0
        excess = int(self._one("SELECT count(*) FROM messages")) - max_messages
        chosen: list[int] = []
        for dialog_id, size in self._closed_dialogs("", [], batch) if excess > 0 else []:
            chosen.append(dialog_id)
            excess -= size
            if excess <= 0:
                break
        return self._drop_dialogs(chosen) if chosen else 0

    def _closed_dialogs(self, extra: str, params: list[Any], limit: int) -> list[tuple[int, int]]:
        """(id, cached messages) of closed dialogs, oldest closed first."""
        rows = self.conn.execute(
            "SELECT id, (SELECT count(*) FROM messages m WHERE m.dialog_id = dialogs.id) "
            f"FROM dialogs WHERE state = 'closed' {extra} "
            "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dialog_id = dialogs.id) "
            "ORDER BY closed_ts LIMIT ?",
            [*params, limit],
        )
        return [(int(dialog_id), int(size)) for dialog_id, size in rows]

    def _drop_dialogs(self, ids: list[int]) -> int:
        with self.transaction():
            for dialog_id in ids:
                self.conn.execute("DELETE FROM messages WHERE dialog_id = ?", (dialog_id,))
                self.conn.execute("DELETE FROM drafts WHERE dialog_id = ?", (dialog_id,))
                self.conn.execute("DELETE FROM dialogs WHERE id = ?", (dialog_id,))
        return len(ids)


# ---- helpers ------------------------------------------------------------------------------

_MESSAGE_COLUMNS = (
    "key, server_id, dialog_id, author, author_id, author_name, kind, text, attachments, "
    "created_at, state, error, deleted"
)


def _message_values(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "key": message.client_msg_id or f"s{message.id}",
        "server_id": message.id,
        "client_msg_id": message.client_msg_id,
        "dialog_id": message.dialog_id,
        "author": message.author.value,
        "author_id": message.author_id,
        "author_name": message.author_name,
        "kind": message.kind.value,
        "text": message.text,
        "attachments": json.dumps([a.model_dump(mode="json") for a in message.attachments]),
        "created_at": message.created_at.isoformat(),
        "state": DeliveryState.SENT.value,
        "error": "",
        "deleted": int(message.deleted),
    }


def _server_row(message: Message, key: str) -> MessageRow:
    return MessageRow(
        key=key,
        server_id=message.id,
        dialog_id=message.dialog_id,
        author=message.author,
        author_id=message.author_id,
        author_name=message.author_name,
        kind=message.kind,
        text=message.text,
        attachments=tuple(message.attachments),
        created_at=message.created_at,
        state=DeliveryState.SENT,
        deleted=message.deleted,
    )


def _message_row(row: tuple[Any, ...]) -> MessageRow:
    key, server_id, dialog_id, author, author_id, name, kind, text, attachments, created = row[:10]
    return MessageRow(
        key=key,
        server_id=server_id,
        dialog_id=dialog_id,
        author=Author(author),
        author_id=author_id,
        author_name=name,
        kind=MessageKind(kind),
        text=text,
        attachments=_attachments(json.loads(attachments)),
        created_at=datetime.fromisoformat(created),
        state=DeliveryState(row[10]),
        error=row[11],
        deleted=bool(row[12]),
    )


def _attachments(items: list[Any]) -> tuple[Attachment, ...]:
    if not items:
        return ()  # most messages: the wire model is not needed
    from operator_app.protocol.models import Attachment

    return tuple(Attachment.model_validate(item) for item in items)


def _section_filter(
    section: Section, me: OperatorInfo, midnight: datetime
) -> tuple[str, list[Any], str]:
    def ids(values: Sequence[int]) -> str:
        return ", ".join(str(int(v)) for v in values) or "NULL"

    if section == Section.MINE:
        return (
            "d.assignee_id = ? AND d.state IN ('waiting', 'active')",
            [me.id],
            "d.activity_ts DESC",
        )
    if section == Section.WAITING:
        return (
            f"d.queue_id IN ({ids(me.queue_ids)}) AND d.state = 'waiting' "
            "AND d.assignee_id IS NULL",
            [],
            "d.waiting_ts ASC",
        )
    if section == Section.CLOSED_TODAY:
        return (
            "d.assignee_id = ? AND d.state = 'closed' AND d.closed_ts >= ?",
            [me.id, midnight.timestamp()],
            "d.closed_ts DESC",
        )
    return (
        f"d.queue_id IN ({ids(me.supervised_queue_ids)}) AND d.state != 'closed'",
        [],
        "d.activity_ts DESC",
    )


def _connect(path: Path, *, check: Literal["full", "fast", "none"]) -> sqlite3.Connection:
    if check != "none":
        _check_header(path)
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise CacheError(f"cannot open {path}: {exc}") from exc
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute(f"PRAGMA wal_autocheckpoint = {AUTO_CHECKPOINT_PAGES}")
        if check == "full":
            result = conn.execute("PRAGMA quick_check(1)").fetchone()
            if result is None or result[0] != "ok":
                raise CacheCorrupt(f"quick_check: {result[0] if result else 'no answer'}")
        _migrate(conn)
        if check != "none":
            conn.execute("SELECT count(*) FROM meta").fetchone()  # the schema pages read back
    except sqlite3.DatabaseError as exc:
        conn.close()
        if _is_corruption(exc):
            raise CacheCorrupt(str(exc)) from exc
        raise CacheError(f"cannot use {path}: {exc}") from exc
    except CacheCorrupt:
        conn.close()
        raise
    if str(path) != ":memory:":
        path.chmod(0o600)  # customer conversations: readable by this user only
    return conn


# SQLite's primary result codes for trouble in the environment rather than in our SQL.
_ENVIRONMENT_CAUSES = {
    5: "another program holds it locked",  # SQLITE_BUSY
    6: "another program holds it locked",  # SQLITE_LOCKED
    10: "the disk is full or failing",  # SQLITE_IOERR (EFBIG, EIO, ENOSPC on some paths)
    13: "the disk is full",  # SQLITE_FULL
}


def _environmental(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in _ENVIRONMENT_CAUSES


def _write_error(path: Path, exc: sqlite3.OperationalError) -> CacheError:
    """A failed write is the environment's doing (full disk, lock), not a bug: say which."""
    cause = _ENVIRONMENT_CAUSES[getattr(exc, "sqlite_errorcode", 0) & 0xFF]
    return CacheError(f"cannot write the cache {path.name}: {cause} ({exc}); not saved")


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in _CORRUPTION_CODES


def _check_header(path: Path) -> None:
    """Cheap checks of a file header: the magic and a size the header agrees with."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CacheError(f"cannot read {path}: {exc}") from exc
    if size == 0:
        return  # an empty file is a new database
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise CacheCorrupt("not an SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counter_valid = header[24:28] == header[92:96]
    if _wal_has_frames(path):
        return  # a checkpoint may be half way: the WAL still holds what the file lacks
    if counter_valid and pages and size < pages * page_size:
        raise CacheCorrupt(f"truncated: {size} bytes, the header says {pages * page_size}")


def _wal_has_frames(path: Path) -> bool:
    try:
        return path.with_name(path.name + "-wal").stat().st_size > 0
    except OSError:
        return False


def _damage_marker(path: Path) -> Path:
    return path.with_name(path.name + ".damaged")


def _migrate(conn: sqlite3.Connection) -> None:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise CacheCorrupt(f"schema version {version} is newer than this app ({SCHEMA_VERSION})")
    for target in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[target - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        log.info("cache migrated to schema version %d", target)


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements, keeping trigger bodies whole."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.replace(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    return target
