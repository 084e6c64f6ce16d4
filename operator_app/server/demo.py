"""Deterministic demo data: queues, operators, contacts, 30 dialogs with histories, templates.

Seeded random: the same structure every time; times are relative to now so "today" works.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, update

from operator_app.protocol.models import Channel, DialogState, OperatorStatus, Role

from . import schema as s
from . import security
from .demo_scripts import EN_SCRIPTS, RU_SCRIPTS, Script
from .schema import new_id

DEMO_SEED = 20261123
DEMO_PASSWORD = "demo"

QUEUES = [  # name, sla, channels
    ("Продажи", 60, [Channel.WHATSAPP, Channel.TELEGRAM, Channel.WEBCHAT]),
    (
        "Поддержка",
        120,
        [Channel.TELEGRAM, Channel.VIBER, Channel.VK, Channel.WEBCHAT, Channel.EMAIL],
    ),
    ("Биллинг", 300, [Channel.EMAIL, Channel.WHATSAPP, Channel.EXTERNAL]),
]
SALES, SUPPORT, BILLING = 1, 2, 3
DEFAULT_QUEUE = {
    Channel.WHATSAPP: SALES,
    Channel.TELEGRAM: SUPPORT,
    Channel.VIBER: SUPPORT,
    Channel.VK: SUPPORT,
    Channel.WEBCHAT: SALES,
    Channel.EMAIL: BILLING,
    Channel.EXTERNAL: BILLING,
}

# login, name, role, status, member of, supervises
OPERATORS = [
    ("anna", "Анна Смирнова", Role.OPERATOR, OperatorStatus.ONLINE, [SALES, SUPPORT], []),
    ("boris", "Борис Иванов", Role.OPERATOR, OperatorStatus.ONLINE, [SUPPORT, BILLING], []),
    ("elena", "Елена Кузнецова", Role.OPERATOR, OperatorStatus.AWAY, [SALES], []),
    ("dmitry", "Dmitry Volkov", Role.OPERATOR, OperatorStatus.OFFLINE, [BILLING, SUPPORT], []),
    (
        "olga",
        "Ольга Петрова",
        Role.SUPERVISOR,
        OperatorStatus.ONLINE,
        [],
        [SALES, SUPPORT, BILLING],
    ),
    ("admin", "Администратор", Role.ADMIN, OperatorStatus.OFFLINE, [], []),
]
ANNA, BORIS, ELENA, DMITRY, OLGA, ADMIN = 1, 2, 3, 4, 5, 6

# name, language, identities (channel, address)
CONTACTS: list[tuple[str, str, list[tuple[Channel, str]]]] = [
    ("Иван Петров", "ru", [(Channel.WHATSAPP, "+79161234501"), (Channel.TELEGRAM, "@ivan_petrov")]),
    ("Мария Соколова", "ru", [(Channel.TELEGRAM, "@msokolova")]),
    ("Алексей Морозов", "ru", [(Channel.VIBER, "+79035550102")]),
    ("Ольга Новикова", "ru", [(Channel.VK, "id48213377"), (Channel.EMAIL, "o.novikova@mail.ru")]),
    ("Сергей Лебедев", "ru", [(Channel.WEBCHAT, "web-7f3a91")]),
    ("Наталья Козлова", "ru", [(Channel.EMAIL, "n.kozlova@yandex.ru")]),
    (
        "John Smith",
        "en",
        [(Channel.WHATSAPP, "+447700900123"), (Channel.EMAIL, "john.smith@example.com")],
    ),
    ("Emily Clark", "en", [(Channel.TELEGRAM, "@emilyc")]),
    ("Дмитрий Орлов", "ru", [(Channel.WHATSAPP, "+79262223344")]),
    ("Татьяна Волкова", "ru", [(Channel.VK, "id1029384")]),
    ("Андрей Фёдоров", "ru", [(Channel.TELEGRAM, "@afedorov")]),
    ("Екатерина Зайцева", "ru", [(Channel.WEBCHAT, "web-c1d2e3")]),
    ("Michael Brown", "en", [(Channel.WEBCHAT, "web-aa11bb")]),
    ("Павел Семёнов", "ru", [(Channel.VIBER, "+79857778899")]),
    ("Юлия Павлова", "ru", [(Channel.WHATSAPP, "+79031112233")]),
    ("ООО «Вектор»", "ru", [(Channel.EMAIL, "buh@vector-llc.ru")]),
    ("Sarah Johnson", "en", [(Channel.EMAIL, "sarah.j@example.org")]),
    ("Виктор Егоров", "ru", [(Channel.TELEGRAM, "@vegorov")]),
    ("Анастасия Белова", "ru", [(Channel.VK, "id77345612")]),
    ("Кирилл Макаров", "ru", [(Channel.WHATSAPP, "+79167654321")]),
    ("Светлана Никитина", "ru", [(Channel.VIBER, "+79096665544")]),
    ("David Wilson", "en", [(Channel.EXTERNAL, "crm-10042")]),
]


@dataclass(frozen=True)
class Plan:
    contact: int  # index in CONTACTS
    identity: int  # index in the contact's identities
    queue: int
    state: DialogState
    assignee: int | None
    topic: str
    age: timedelta  # how long ago the dialog started
    lines: int  # how many lines of the script (extended with small talk up to 25)
    rating: int | None = None
    tags: tuple[str, ...] = ()


H, D, M = timedelta(hours=1), timedelta(days=1), timedelta(minutes=1)
A, W, C = DialogState.ACTIVE, DialogState.WAITING, DialogState.CLOSED

PLANS = [
    # earlier closed dialogs: the omnichannel history
    Plan(0, 0, SALES, C, ANNA, "delivery", 9 * D, 8, 5, ("доставка",)),
    Plan(3, 1, BILLING, C, BORIS, "invoice", 12 * D, 6, 4, ("счёт",)),
    Plan(6, 1, BILLING, C, DMITRY, "invoice", 6 * D, 4, 5, ("invoice",)),
    Plan(1, 0, SUPPORT, C, BORIS, "password", 20 * D, 8, 3, ("пароль",)),
    Plan(8, 0, SALES, C, ELENA, "refund", 4 * D, 7, 2, ("возврат",)),
    Plan(15, 0, BILLING, C, BORIS, "invoice", 3 * D, 6, 5, ("юрлицо", "счёт")),
    Plan(10, 0, SUPPORT, C, ANNA, "blocked", 2 * D, 5, None, ("безопасность",)),
    Plan(21, 0, BILLING, C, DMITRY, "refund", 15 * D, 4, 4, ()),
    Plan(13, 0, SUPPORT, C, BORIS, "payment", 5 * D, 6, 5, ("оплата",)),
    Plan(19, 0, SALES, C, ANNA, "address", 8 * D, 4, 5, ()),
    # closed today
    Plan(4, 0, SALES, C, ANNA, "tariff", 5 * H, 8, 5, ("тариф",)),
    Plan(11, 0, SALES, C, ANNA, "address", 4 * H, 4, 4, ("доставка",)),
    Plan(17, 0, SUPPORT, C, ANNA, "password", 3 * H, 8, None, ("пароль",)),
    Plan(9, 0, SUPPORT, C, BORIS, "blocked", 3 * H, 5, 5, ()),
    Plan(5, 0, BILLING, C, BORIS, "payment", 2 * H, 6, 3, ("оплата",)),
    Plan(14, 0, SALES, C, ELENA, "delivery", 2 * H, 8, 4, ()),
    # active now: anna 4 (load 4/5), boris 3, elena 1
    Plan(0, 1, SUPPORT, A, ANNA, "password", 40 * M, 5, tags=("VIP",)),
    Plan(7, 0, SUPPORT, A, ANNA, "password", 25 * M, 3),
    Plan(12, 0, SALES, A, ANNA, "delivery", 15 * M, 25, tags=("доставка",)),
    Plan(18, 0, SUPPORT, A, ANNA, "payment", 8 * M, 3),
    Plan(2, 0, SUPPORT, A, BORIS, "blocked", 30 * M, 4),
    Plan(3, 0, SUPPORT, A, BORIS, "tariff", 20 * M, 6),
    Plan(16, 0, BILLING, A, BORIS, "invoice", 10 * M, 3),
    Plan(20, 0, SALES, A, ELENA, "refund", 50 * M, 5),
    # waiting in the queues
    Plan(6, 0, SALES, W, None, "delivery", 6 * M, 3),
    Plan(19, 0, SALES, W, None, "refund", 4 * M, 4),
    Plan(1, 0, SUPPORT, W, None, "payment", 3 * M, 3),
    Plan(10, 0, SUPPORT, W, None, "password", 2 * M, 3),
    Plan(8, 0, SALES, W, None, "tariff", 90 * timedelta(seconds=1), 3),
    Plan(13, 0, BILLING, W, None, "invoice", 1 * M, 3),
]

SMALL_TALK_RU = [
    ("c", "И ещё вопрос: можно ли оплатить при получении?"),
    ("o", "Да, курьер принимает карты и наличные."),
    ("c", "А если меня не будет дома?"),
    ("o", "Курьер позвонит заранее, можно оставить заказ у консьержа."),
]
NUDGES_RU = [
    ("c", "Подскажите, пожалуйста, это срочно."),
    ("c", "Есть кто-нибудь?"),
    ("c", "Алло, вы меня слышите?"),
]
NUDGES_EN = [("c", "Could you help me, please?"), ("c", "Hello? Anyone there?"), ("c", "Hi?")]
SMALL_TALK_EN = [
    ("c", "One more thing: can I pay on delivery?"),
    ("o", "Yes, the courier accepts cards and cash."),
]

SHARED_TEMPLATES: list[tuple[int | None, str, str, str, str]] = [
    # queue, shortcut, title, category, body
    (
        None,
        "hello",
        "Приветствие",
        "Приветствие",
        "Здравствуйте, {client_name}! Меня зовут {operator_name}, чем могу помочь?",
    ),
    (None, "bye", "Прощание", "Завершение", "Спасибо за обращение, {client_name}! Хорошего дня."),
    (
        None,
        "wait",
        "Просьба подождать",
        "Общее",
        "Пожалуйста, подождите пару минут, я уточняю информацию.",
    ),
    (
        None,
        "hello-en",
        "Greeting (EN)",
        "Greeting",
        "Hello {client_name}, this is {operator_name}. How can I help?",
    ),
    (
        SALES,
        "delivery",
        "Сроки доставки",
        "Доставка",
        "Доставка по Москве занимает 1-2 дня, по России — 3-7 дней.",
    ),
    (
        SALES,
        "promo",
        "Промокод",
        "Акции",
        "Ваш промокод на скидку 10%: {promo_code}. Действует до конца месяца.",
    ),
    (
        SALES,
        "status",
        "Статус заказа",
        "Доставка",
        "Заказ по обращению №{dialog_id} передан в службу доставки.",
    ),
    (
        SALES,
        "return",
        "Условия возврата",
        "Возврат",
        "Вернуть товар можно в течение 14 дней, сохранив чек и упаковку.",
    ),
    (
        SUPPORT,
        "reset",
        "Сброс пароля",
        "Доступ",
        "Отправили ссылку для сброса пароля на {email}. Она действует 30 минут.",
    ),
    (
        SUPPORT,
        "2fa",
        "Двухфакторная защита",
        "Доступ",
        "Рекомендуем включить двухфакторную защиту в настройках профиля.",
    ),
    (
        SUPPORT,
        "tariff",
        "Смена тарифа",
        "Тарифы",
        "Тариф «{tariff}» начнёт действовать с 00:00 завтрашнего дня.",
    ),
    (
        SUPPORT,
        "escalate",
        "Передача специалисту",
        "Общее",
        "Передаю ваш вопрос профильному специалисту, он ответит в течение часа.",
    ),
    (
        BILLING,
        "invoice",
        "Счёт отправлен",
        "Документы",
        "Счёт по обращению №{dialog_id} отправлен на вашу почту.",
    ),
    (
        BILLING,
        "refund",
        "Срок возврата денег",
        "Возврат",
        "Деньги вернутся на карту в течение 5 рабочих дней.",
    ),
    (
        BILLING,
        "sbp",
        "Оплата по СБП",
        "Оплата",
        "Если карта не проходит, оплатите по СБП: ссылка придёт в SMS.",
    ),
]
ANNA_TEMPLATES = [
    ("thanks", "Спасибо за ожидание", "Моё", "Спасибо за ожидание, {client_name}!", True),
    ("check", "Проверяю", "Моё", "Минуту, проверяю информацию по вашему заказу.", True),
    ("sorry", "Извинения", "Моё", "Приносим извинения за доставленные неудобства.", True),
    ("callback", "Перезвоним", "Моё", "Наш специалист перезвонит вам сегодня до 18:00.", False),
]


def seed(engine: Engine, *, now: datetime | None = None) -> None:
    """Fill an empty, initialised database with the demo world."""
    now = now or s.utcnow()
    rnd = random.Random(DEMO_SEED)
    with engine.begin() as conn:
        _seed_people(conn, now)
        contact_ids = _seed_contacts(conn, now)
        for plan in PLANS:
            _seed_dialog(conn, rnd, plan, contact_ids[plan.contact], now)
        _seed_templates(conn, now)


def _seed_people(conn: Connection, now: datetime) -> None:
    for index, (name, sla, channels) in enumerate(QUEUES, start=1):
        created = new_id(
            conn.execute(insert(s.queues).values(name=name, sla_seconds=sla, created_at=now))
        )
        assert created == index, "seed-demo needs an empty database"
        conn.execute(
            insert(s.queue_channels), [{"queue_id": index, "channel": ch} for ch in channels]
        )
    demo_hash = security.hash_password(DEMO_PASSWORD)
    for index, (login, name, role, status, member, supervised) in enumerate(OPERATORS, start=1):
        password_hash = security.hash_password("admin") if login == "admin" else demo_hash
        created = new_id(
            conn.execute(
                insert(s.operators).values(
                    login=login,
                    name=name,
                    role=role,
                    password_hash=password_hash,
                    status=status,
                    capacity=5,
                    enabled=True,
                    last_assigned_at=now - timedelta(minutes=30 + index),
                    created_at=now - 90 * D,
                )
            )
        )
        assert created == index, "seed-demo needs an empty database"
        for queue_id in member:
            conn.execute(insert(s.queue_members).values(queue_id=queue_id, operator_id=index))
        for queue_id in supervised:
            conn.execute(insert(s.queue_supervisors).values(queue_id=queue_id, operator_id=index))
    for channel, queue_id in DEFAULT_QUEUE.items():
        conn.execute(
            insert(s.channels).values(
                channel=channel,
                secret_hash=security.digest(security.demo_channel_secret(channel)),
                default_queue_id=queue_id,
            )
        )


def _seed_contacts(conn: Connection, now: datetime) -> list[int]:
    ids = []
    for index, (name, _lang, identities) in enumerate(CONTACTS, start=1):
        created = new_id(
            conn.execute(
                insert(s.contacts).values(
                    name=name, tags=[], note="", created_at=now - (60 - index) * D
                )
            )
        )
        assert created == index, "seed-demo needs an empty database"
        conn.execute(
            insert(s.contact_identities),
            [{"contact_id": index, "channel": ch, "address": addr} for ch, addr in identities],
        )
        ids.append(index)
    return ids


def _script(rnd: random.Random, plan: Plan) -> Script:
    lang = CONTACTS[plan.contact][1]
    scripts = EN_SCRIPTS if lang == "en" else RU_SCRIPTS
    base = scripts.get(plan.topic) or scripts[rnd.choice(sorted(scripts))]
    # A long dialog goes on with small talk, then with the customer's next questions on other
    # topics (a dialog can last days), so that no line repeats.
    lines = list(base) + (SMALL_TALK_EN if lang == "en" else SMALL_TALK_RU)
    for topic in sorted(scripts):
        if len(lines) >= plan.lines + 8:
            break
        if scripts[topic] is not base:
            lines.extend(scripts[topic])
    if plan.state == DialogState.WAITING:  # nobody has answered yet: only the customer wrote
        nudges = NUDGES_EN if lang == "en" else NUDGES_RU
        lines = [base[0], *nudges]
    return lines[: plan.lines]


def _seed_dialog(
    conn: Connection, rnd: random.Random, plan: Plan, contact_id: int, now: datetime
) -> None:
    name, _lang, identities = CONTACTS[plan.contact]
    channel, address = identities[plan.identity]
    operator_name = OPERATORS[plan.assignee - 1][1] if plan.assignee else ""
    fill = {
        "order": str(rnd.randint(100000, 999999)),
        "client": name.split()[0],
        "operator": operator_name.split()[0] if operator_name else "",
        "operator_full": operator_name,
        "email": address if "@" in address and "." in address else "client@example.com",
    }
    lines = _script(rnd, plan)
    if plan.state == DialogState.CLOSED:
        lines.append(("s", "Диалог закрыт: {operator_full}"))
    if plan.tags and "VIP" in plan.tags:
        lines.insert(1, ("s", "Передан из очереди «Продажи» в «Поддержка»"))
    age = _age(plan, now)
    created = now - age
    step = min(age / (len(lines) + 2), 3 * M)
    dialog_id = new_id(
        conn.execute(
            insert(s.dialogs).values(
                channel=channel,
                address=address,
                contact_id=contact_id,
                queue_id=plan.queue,
                assignee_id=plan.assignee,
                state=plan.state,
                tags=list(plan.tags),
                subject=lines[0][1].format(**fill)[:80],
                created_at=created,
                updated_at=created,
                queued_at=created if plan.state == DialogState.WAITING else None,
                resolution="",
                message_count=0,
            )
        )
    )
    stamp = created
    first_response = None
    waiting_since: datetime | None = None
    last_id = None
    for author, text in lines:
        stamp += step * rnd.uniform(0.5, 1.0)
        row = _message_values(author, text.format(**fill), plan, dialog_id, stamp)
        last_id = new_id(conn.execute(insert(s.messages).values(**row)))
        if author == "o":
            first_response = first_response or stamp
            waiting_since = None
        elif author == "c" and waiting_since is None:
            waiting_since = stamp
    values: dict[str, Any] = {
        "updated_at": stamp,
        "last_message_id": last_id,
        "message_count": len(lines),
        "first_response_at": first_response,
        "assigned_at": created + step if plan.assignee else None,
        "waiting_since": waiting_since if plan.state != DialogState.CLOSED else None,
    }
    if plan.state == DialogState.CLOSED:
        values.update(closed_at=stamp + step, resolution="Вопрос решён", rating=plan.rating)
        values["updated_at"] = stamp + step
    conn.execute(update(s.dialogs).where(s.dialogs.c.id == dialog_id).values(**values))


def _age(plan: Plan, now: datetime) -> timedelta:
    """The plan's age, but a dialog closed "today" stays in today (the server's day starts
    at midnight UTC): seeded just after midnight, it started and closed since then."""
    if plan.state != DialogState.CLOSED or plan.age >= D:
        return plan.age
    since_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
    return min(plan.age, since_midnight * 0.9)


def _message_values(
    author: str, text: str, plan: Plan, dialog_id: int, stamp: datetime
) -> dict[str, Any]:
    kinds = {
        "c": ("client", None, "message"),
        "o": ("operator", plan.assignee, "message"),
        "n": ("operator", plan.assignee or OLGA, "comment"),
        "s": ("system", None, "message"),
    }
    who, author_id, kind = kinds[author]
    return {
        "dialog_id": dialog_id,
        "author": who,
        "author_id": author_id,
        "kind": kind,
        "text": text,
        "attachment_ids": [],
        "created_at": stamp,
    }


def _seed_templates(conn: Connection, now: datetime) -> None:
    for queue_id, shortcut, title, category, body in SHARED_TEMPLATES:
        conn.execute(
            insert(s.templates).values(
                scope="shared",
                queue_id=queue_id,
                shortcut=shortcut,
                title=title,
                category=category,
                body=body,
                pinned=False,
                updated_at=now,
            )
        )
    for shortcut, title, category, body, pinned in ANNA_TEMPLATES:
        conn.execute(
            insert(s.templates).values(
                scope="personal",
                owner_id=ANNA,
                shortcut=shortcut,
                title=title,
                category=category,
                body=body,
                pinned=pinned,
                updated_at=now,
            )
        )
