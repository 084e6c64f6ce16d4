"""The one schema module: every table of the backend, SQLAlchemy Core, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    CursorResult,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored naive in UTC (SQLite has no time zones), always read back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite in some paths hands back text
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT just created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


metadata = MetaData()

operators = Table(
    "operators",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    # every event's audience reads the admins (a scan of all operators: 38 us of a customer
    # message's ~360 in the writer at 1,000 operators)
    Column("role", String(16), nullable=False, index=True),
    Column("password_hash", String(255), nullable=False),
    Column("status", String(16), nullable=False, default="offline"),
    Column("capacity", Integer, nullable=False, default=5),
    Column("enabled", Boolean, nullable=False, default=True),
    # routing ties go to the operator idle longest: the oldest last assignment
    Column("last_assigned_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

queues = Table(
    "queues",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("sla_seconds", Integer, nullable=False, default=60),
    Column("created_at", UTCDateTime, nullable=False),
)

queue_channels = Table(
    "queue_channels",
    metadata,
    Column("queue_id", ForeignKey("queues.id"), primary_key=True),
    Column("channel", String(16), primary_key=True),
)

queue_members = Table(
    "queue_members",
    metadata,
    Column("queue_id", ForeignKey("queues.id"), primary_key=True),
    Column("operator_id", ForeignKey("operators.id"), primary_key=True),
)

queue_supervisors = Table(
    "queue_supervisors",
    metadata,
    Column("queue_id", ForeignKey("queues.id"), primary_key=True),
    Column("operator_id", ForeignKey("operators.id"), primary_key=True),
)

channels = Table(
    "channels",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("secret_hash", String(64), nullable=False),  # sha256 hex of the inbound secret
    Column("default_queue_id", ForeignKey("queues.id"), nullable=True),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False),
    Column("tags", JSON, nullable=False, default=list),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

contact_identities = Table(
    "contact_identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("contact_id", ForeignKey("contacts.id"), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(256), nullable=False),
    UniqueConstraint("channel", "address"),
)

dialogs = Table(
    "dialogs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(256), nullable=False),  # the customer's identity on that channel
    Column("contact_id", ForeignKey("contacts.id"), nullable=False, index=True),
    Column("queue_id", ForeignKey("queues.id"), nullable=False, index=True),
    Column("assignee_id", ForeignKey("operators.id"), nullable=True, index=True),
    Column("state", String(16), nullable=False, index=True),
    Column("tags", JSON, nullable=False, default=list),
    Column("subject", String(200), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("queued_at", UTCDateTime, nullable=True),  # FIFO order of the waiting line
    Column("waiting_since", UTCDateTime, nullable=True),
    Column("assigned_at", UTCDateTime, nullable=True),
    Column("first_response_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("resolution", Text, nullable=False, default=""),
    Column("rating", Integer, nullable=True),
    Column("last_message_id", Integer, nullable=True),
    Column("message_count", Integer, nullable=False, default=0),
)

dialog_participants = Table(
    "dialog_participants",
    metadata,
    Column("dialog_id", ForeignKey("dialogs.id"), primary_key=True),
    Column("operator_id", ForeignKey("operators.id"), primary_key=True, index=True),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dialog_id", ForeignKey("dialogs.id"), nullable=False),
    Column("author", String(16), nullable=False),
    Column("author_id", ForeignKey("operators.id"), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("attachment_ids", JSON, nullable=False, default=list),
    Column("client_msg_id", String(64), nullable=True),
    Column("event_cursor", BigInteger, nullable=True),  # the message.created cursor, for retries
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_messages_dialog_id_id", "dialog_id", "id"),
)
# An operator's send is idempotent by its client id. Partial: customer messages (half of all,
# written at every customer's pace) carry none and stay out of it (db.init_schema moves older
# databases' full constraint to this index).
_HAS_CLIENT_ID = messages.c.client_msg_id.is_not(None)
Index(
    "uq_messages_client_msg",
    messages.c.author_id,
    messages.c.client_msg_id,
    unique=True,
    sqlite_where=_HAS_CLIENT_ID,
    postgresql_where=_HAS_CLIENT_ID,
)

# Keyed by its own key alone on SQLite (a rowid table would keep the key as a second b-tree:
# a page more in every customer message's commit).
inbound_seen = Table(
    "inbound_seen",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("dialog_id", Integer, nullable=False),
    Column("message_id", Integer, nullable=False),
    sqlite_with_rowid=False,
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("mime", String(127), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("uploader_id", ForeignKey("operators.id"), nullable=True),
    Column("dialog_id", ForeignKey("dialogs.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

templates = Table(
    "templates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(16), nullable=False),
    Column("queue_id", ForeignKey("queues.id"), nullable=True),
    Column("owner_id", ForeignKey("operators.id"), nullable=True, index=True),
    Column("shortcut", String(32), nullable=False),
    Column("title", String(120), nullable=False),
    Column("category", String(60), nullable=False, default=""),
    Column("body", Text, nullable=False),
    Column("pinned", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# One row: the monotonic event sequence. Updating it row-locks until commit, so on PostgreSQL
# concurrent writers commit their events in cursor order.
event_sequence = Table(
    "event_sequence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("head", BigInteger, nullable=False),
    Column("pruned_through", BigInteger, nullable=False),  # events <= this are gone
)

# INTEGER on SQLite makes the cursor the rowid itself; a BIGINT key is a second b-tree there.
events = Table(
    "events",
    metadata,
    Column(
        "cursor",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # the Event JSON, replayed verbatim
    Column("for_everyone", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Who may see an event that is not for everyone, keyed by cursor first: a message's ~10 rows
# share one page (keyed by operator first they dirtied ~10 scattered pages of a ~16-page
# commit: figure 7 of docs/performance.md). A replay walks the events after the client's
# cursor anyway and probes this key for each (service.replay).
event_audience = Table(
    "event_audience",
    metadata,
    Column("cursor", BigInteger, autoincrement=False),
    Column("operator_id", Integer),
    PrimaryKeyConstraint("cursor", "operator_id", name="event_audience_by_cursor"),
    sqlite_with_rowid=False,
)

# The cursor of the last change of each operator's queues (service.set_queues). A desk that
# resumes from an older cursor missed what that change made visible or hid, which no event
# carries: it is sent resync_required instead of a replay (ws.py). A new table, so
# ``create_all`` adds it to an existing database.
queue_changes = Table(
    "queue_changes",
    metadata,
    Column("operator_id", ForeignKey("operators.id"), primary_key=True, autoincrement=False),
    Column("cursor", BigInteger, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("operator_id", Integer, nullable=True),
    Column("action", String(40), nullable=False),
    Column("object_type", String(20), nullable=False),
    Column("object_id", Integer, nullable=True),
    Column("details", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False, index=True),
)
