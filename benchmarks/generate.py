"""Build a realistic client cache and the matching server database from one seeded plan.

Mixed Russian and English text over every channel; one large dialog (``big_dialog``) for the
"open a long dialog" measurement. Writes go straight through SQL in big transactions: the
generator is not what we measure. Output: ``<out>/cache.sqlite`` and ``<out>/server.db``
(or a PostgreSQL URL given with ``server_url``).
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from operator_app.core.cache import Cache
from operator_app.protocol.models import (
    Author,
    Channel,
    Dialog,
    DialogState,
    MessageKind,
    MessagePreview,
    Operator,
    OperatorStatus,
    Queue,
    Role,
)
from operator_app.server import db, security
from operator_app.server import schema as s

BENCH_LOGIN = "bench"
BENCH_PASSWORD = "bench-password"
SEED = 20261123
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHANNELS = [c for c in Channel if c is not Channel.EXTERNAL]

RU_WORDS = [
    "здравствуйте",
    "заказ",
    "доставка",
    "оплата",
    "карта",
    "возврат",
    "товар",
    "курьер",
    "адрес",
    "номер",
    "спасибо",
    "пожалуйста",
    "подскажите",
    "когда",
    "сегодня",
    "завтра",
    "вчера",
    "проблема",
    "ошибка",
    "приложение",
    "счёт",
    "тариф",
    "договор",
    "скидка",
    "акция",
    "менеджер",
    "оператор",
    "ожидание",
    "телефон",
    "почта",
    "ёлка",
    "пароль",
    "вход",
    "личный",
    "кабинет",
    "приложение",
    "обновление",
    "списание",
    "деньги",
    "вернуть",
    "отменить",
]
EN_WORDS = [
    "hello",
    "order",
    "delivery",
    "payment",
    "card",
    "refund",
    "item",
    "courier",
    "address",
    "number",
    "thanks",
    "please",
    "could",
    "you",
    "tell",
    "when",
    "today",
    "tomorrow",
    "yesterday",
    "problem",
    "error",
    "app",
    "invoice",
    "plan",
    "contract",
    "discount",
    "offer",
    "manager",
    "agent",
    "waiting",
    "phone",
    "email",
    "password",
    "login",
    "account",
    "update",
    "charge",
    "money",
    "return",
    "cancel",
    "tracking",
    "status",
    "parcel",
    "warehouse",
]
NAMES = [
    "Анна",
    "Иван",
    "Мария",
    "Ольга",
    "Пётр",
    "Сергей",
    "Елена",
    "Дмитрий",
    "Alice",
    "Bob",
    "Carol",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
]


@dataclass(frozen=True)
class Size:
    name: str
    dialogs: int
    messages: int
    big_dialog: int  # messages in the one long dialog
    staff: int  # operators + supervisors on the server
    queues: int
    supervisors_per_queue: int


SIZES = {
    "smoke": Size("smoke", 300, 20_000, 2_000, 40, 4, 3),
    "full": Size("full", 10_000, 1_000_000, 10_000, 1_000, 10, 9),
}


@dataclass(frozen=True)
class Plan:
    """Who is who: staff ids start at 1; the bench user is operator 1 and sees every queue."""

    size: Size

    def supervisors(self, queue_id: int) -> list[int]:
        first = 2 + (queue_id - 1) * self.size.supervisors_per_queue
        return list(range(first, first + self.size.supervisors_per_queue))

    @property
    def first_operator(self) -> int:
        return 2 + self.size.queues * self.size.supervisors_per_queue

    def role(self, staff_id: int) -> Role:
        if 1 < staff_id < self.first_operator:
            return Role.SUPERVISOR
        return Role.OPERATOR

    def queue_of_staff(self, staff_id: int) -> int:
        return 1 + staff_id % self.size.queues

    def assignee(self, dialog_id: int) -> int:
        """A third of the dialogs are the bench user's, the rest spread over the operators."""
        if dialog_id % 3 == 0:
            return 1
        span = self.size.staff - self.first_operator + 1
        return self.first_operator + dialog_id % max(1, span)

    def queue_of_dialog(self, dialog_id: int) -> int:
        return 1 + dialog_id % self.size.queues


def sentence(rnd: random.Random) -> str:
    words = RU_WORDS if rnd.random() < 0.6 else EN_WORDS
    count = rnd.randint(3, 18)
    # Zipf-like: a few words are very common, the tail is rare (like real chats).
    picked = [words[min(len(words) - 1, int(rnd.paretovariate(1.2)) - 1)] for _ in range(count)]
    if rnd.random() < 0.3:
        picked.append(f"#{rnd.randint(10000, 99999)}")
    return " ".join(picked).capitalize() + rnd.choice(".?!")


def message_counts(size: Size) -> list[int]:
    """Messages per dialog (dialog 1 is the big one); they sum to ``size.messages``."""
    rest = size.messages - size.big_dialog
    others = size.dialogs - 1
    base, extra = divmod(rest, others)
    return [size.big_dialog] + [base + (1 if i < extra else 0) for i in range(others)]


@dataclass
class DialogPlan:
    id: int
    channel: Channel
    queue_id: int
    assignee_id: int
    state: DialogState
    name: str
    created: datetime
    count: int


def dialog_plans(plan: Plan, rnd: random.Random) -> list[DialogPlan]:
    plans = []
    for index, count in enumerate(message_counts(plan.size), start=1):
        state = DialogState.ACTIVE if index % 7 in (0, 1) else DialogState.CLOSED
        created = NOW - timedelta(days=30) + timedelta(seconds=index * 97)
        plans.append(
            DialogPlan(
                id=index,
                channel=CHANNELS[index % len(CHANNELS)],
                queue_id=plan.queue_of_dialog(index),
                assignee_id=plan.assignee(index),
                state=state,
                name=f"{rnd.choice(NAMES)} {index}",
                created=created,
                count=count,
            )
        )
    return plans


def messages_of(
    dialog: DialogPlan, first_id: int, rnd: random.Random
) -> list[tuple[int, Author, str, datetime]]:
    rows = []
    for n in range(dialog.count):
        author = Author.CLIENT if n % 2 == 0 else Author.OPERATOR
        rows.append(
            (first_id + n, author, sentence(rnd), dialog.created + timedelta(seconds=30 * n))
        )
    return rows


def build(size_name: str, out: Path, server_url: str | None = None) -> dict[str, int]:
    """Write both databases; returns facts the benchmarks need (ids, counts)."""
    size = SIZES[size_name]
    plan = Plan(size)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("cache.sqlite*"):
        stale.unlink()
    server_db = out / "server.db"
    if server_url is None:
        server_db.unlink(missing_ok=True)
    engine = db.create(server_url or db.sqlite_url(str(server_db)))
    s.metadata.drop_all(engine)  # a PostgreSQL database from an earlier run starts over
    db.init_schema(engine)
    cache = Cache.open(out / "cache.sqlite", verify=False)
    rnd = random.Random(SEED)
    dialogs = dialog_plans(plan, rnd)
    _write_people(engine, cache, plan)
    next_id = 1
    with engine.begin() as server, cache.transaction():
        for dialog in dialogs:
            rows = messages_of(dialog, next_id, rnd)
            next_id += len(rows)
            _write_dialog(server, cache, plan, dialog, rows)
    cache.set_cursor(0)
    if engine.dialect.name == "postgresql":
        _advance_sequences(engine)
    facts = {"big_dialog": 1, "dialogs": len(dialogs), "messages": next_id - 1}
    cache.set_meta("bench_facts", json.dumps(facts))
    cache.close()
    engine.dispose()
    return facts


def _advance_sequences(engine: Any) -> None:
    """Rows went in with explicit ids: move each serial past them, or the server's own
    inserts would collide with id 1."""
    with engine.begin() as conn:
        for table in s.metadata.sorted_tables:
            if "id" not in table.c or not table.c.id.primary_key:
                continue
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                )
            )


def _write_people(engine: object, cache: Cache, plan: Plan) -> None:
    size = plan.size
    password_hash = security.hash_password(BENCH_PASSWORD)
    queues = [
        Queue(
            id=q,
            name=f"Queue {q}",
            channels=CHANNELS,
            member_ids=[],
            supervisor_ids=plan.supervisors(q),
        )
        for q in range(1, size.queues + 1)
    ]
    staff = []
    for staff_id in range(1, size.staff + 1):
        role = plan.role(staff_id)
        staff.append(
            Operator(
                id=staff_id,
                login=BENCH_LOGIN if staff_id == 1 else f"staff{staff_id}",
                name=f"Staff {staff_id}",
                role=role,
                status=OperatorStatus.ONLINE,
                capacity=1_000_000,
                queue_ids=list(range(1, size.queues + 1))
                if staff_id == 1
                else [plan.queue_of_staff(staff_id)],
                supervised_queue_ids=[q.id for q in queues if staff_id in q.supervisor_ids],
            )
        )
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            insert(s.queues),
            [{"id": q.id, "name": q.name, "sla_seconds": 60, "created_at": NOW} for q in queues],
        )
        conn.execute(
            insert(s.queue_channels),
            [{"queue_id": q.id, "channel": c.value} for q in queues for c in CHANNELS],
        )
        conn.execute(
            insert(s.operators),
            [
                {
                    "id": o.id,
                    "login": o.login,
                    "name": o.name,
                    "role": o.role.value,
                    "password_hash": password_hash,
                    "status": o.status.value,
                    "capacity": o.capacity,
                    "enabled": True,
                    "created_at": NOW,
                }
                for o in staff
            ],
        )
        conn.execute(
            insert(s.queue_members),
            [{"queue_id": q, "operator_id": o.id} for o in staff for q in o.queue_ids],
        )
        conn.execute(
            insert(s.queue_supervisors),
            [{"queue_id": q.id, "operator_id": sid} for q in queues for sid in q.supervisor_ids],
        )
        conn.execute(
            insert(s.channels),
            [
                {
                    "channel": c.value,
                    "secret_hash": security.digest(security.demo_channel_secret(c)),
                    "default_queue_id": 1,
                }
                for c in Channel
            ],
        )
    cache.set_me(staff[0])
    cache.replace_queues(queues)
    cache.replace_operators(staff[: min(len(staff), 200)])


def _write_dialog(
    server: object,
    cache: Cache,
    plan: Plan,
    dialog: DialogPlan,
    rows: list[tuple[int, Author, str, datetime]],
) -> None:
    last_id, last_author, last_text, last_at = rows[-1]
    closed = dialog.state is DialogState.CLOSED
    conn = server
    conn.execute(  # type: ignore[attr-defined]
        insert(s.contacts).values(
            id=dialog.id, name=dialog.name, tags=[], created_at=dialog.created
        )
    )
    address = f"{dialog.channel.value}-{dialog.id}"
    conn.execute(  # type: ignore[attr-defined]
        insert(s.contact_identities).values(
            contact_id=dialog.id, channel=dialog.channel.value, address=address
        )
    )
    conn.execute(  # type: ignore[attr-defined]
        insert(s.dialogs).values(
            id=dialog.id,
            channel=dialog.channel.value,
            address=address,
            contact_id=dialog.id,
            queue_id=dialog.queue_id,
            assignee_id=dialog.assignee_id,
            state=dialog.state.value,
            tags=[],
            subject="",
            created_at=dialog.created,
            updated_at=last_at,
            assigned_at=dialog.created,
            first_response_at=dialog.created,
            closed_at=last_at if closed else None,
            last_message_id=last_id,
            message_count=len(rows),
        )
    )
    conn.execute(  # type: ignore[attr-defined]
        insert(s.messages),
        [
            {
                "id": mid,
                "dialog_id": dialog.id,
                "author": author.value,
                "author_id": None if author is Author.CLIENT else dialog.assignee_id,
                "kind": MessageKind.MESSAGE.value,
                "text": body,
                "attachment_ids": [],
                "created_at": at,
            }
            for mid, author, body, at in rows
        ],
    )
    cache.upsert_dialog(
        Dialog(
            id=dialog.id,
            channel=dialog.channel,
            contact_id=dialog.id,
            contact_name=dialog.name,
            queue_id=dialog.queue_id,
            assignee_id=dialog.assignee_id,
            state=dialog.state,
            created_at=dialog.created,
            updated_at=last_at,
            first_response_at=dialog.created,
            closed_at=last_at if closed else None,
            last_message=MessagePreview(
                author=last_author,
                kind=MessageKind.MESSAGE,
                text=last_text[:80],
                created_at=last_at,
            ),
            last_message_id=last_id,
            message_count=len(rows),
        )
    )
    cache.conn.executemany(
        "INSERT INTO messages(id, key, server_id, dialog_id, author, author_id, author_name, "
        "kind, text, attachments, created_at, state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'message', ?, '[]', ?, 'sent')",
        [
            (
                mid,
                f"s{mid}",
                mid,
                dialog.id,
                author.value,
                None if author is Author.CLIENT else dialog.assignee_id,
                dialog.name if author is Author.CLIENT else f"Staff {dialog.assignee_id}",
                body,
                at.isoformat(),
            )
            for mid, author, body, at in rows
        ],
    )
    cache.set_history_window(dialog.id, rows[0][0], True)


if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "smoke"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("benchmarks/data") / name
    print(build(name, target))
