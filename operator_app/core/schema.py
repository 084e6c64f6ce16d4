"""The cache schema and its forward migrations, applied through ``PRAGMA user_version``.

Migration N (1-based) turns a version N-1 file into version N. Append, never edit: a file in
the field may sit at any earlier version.
"""

from __future__ import annotations

# Local (not yet acknowledged) messages get ids above every server id, so ``ORDER BY id``
# puts them last in a timeline and first in a newest-first search.
PENDING_BASE = 1 << 53

# Russian and English fold case in unicode61; "ё" is folded to "е" by hand in both the
# indexed text and the query because unicode61 keeps it apart.
_SEARCH_TEXT = (
    "replace(replace(replace(replace(text, char(2), ' '), char(3), ' '), 'ё', 'е'), 'Ё', 'Е')"
)

_V1 = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE operators (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE queues (id INTEGER PRIMARY KEY, sla_seconds INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE templates (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE contacts (id INTEGER PRIMARY KEY, card TEXT NOT NULL, fetched_ts REAL NOT NULL);
CREATE TABLE dialogs (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    assignee_id INTEGER,
    queue_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    filter_text TEXT NOT NULL,
    updated_ts REAL NOT NULL,
    activity_ts REAL NOT NULL,
    waiting_ts REAL,
    closed_ts REAL,
    data TEXT NOT NULL,
    unread INTEGER NOT NULL DEFAULT 0,
    counted_upto INTEGER NOT NULL DEFAULT 0,
    hist_from INTEGER,
    hist_complete INTEGER NOT NULL DEFAULT 0
);
-- Covering indexes: a section page sorts ids and keys only, never whole rows.
CREATE INDEX dialogs_by_assignee ON dialogs(assignee_id, state, activity_ts, closed_ts);
CREATE INDEX dialogs_by_queue ON dialogs(queue_id, state, waiting_ts, activity_ts);
CREATE INDEX dialogs_by_closed ON dialogs(state, closed_ts);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    server_id INTEGER UNIQUE,
    client_msg_id TEXT UNIQUE,
    dialog_id INTEGER NOT NULL,
    author TEXT NOT NULL,
    author_id INTEGER,
    author_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    attachments TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    search_text TEXT GENERATED ALWAYS AS ({_SEARCH_TEXT}) VIRTUAL
);
CREATE INDEX messages_by_dialog ON messages(dialog_id, id);
CREATE VIRTUAL TABLE messages_fts USING fts5(
    search_text, content='messages', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF id, text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    INSERT INTO messages_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_msg_id TEXT NOT NULL UNIQUE,
    dialog_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    attachment_paths TEXT NOT NULL DEFAULT '[]',
    attachment_ids TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_by_dialog ON outbox(dialog_id, seq);
CREATE TABLE drafts (dialog_id INTEGER PRIMARY KEY, text TEXT NOT NULL, updated_ts REAL NOT NULL);
"""

# A message edited or deleted after it was sent (Chatwoot): the timeline shows a placeholder.
_V2 = "ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;"

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)
