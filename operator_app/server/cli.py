"""``operator-server``: init, add-operator, add-queue, set-channel, set-password,
disable-operator, enable-operator, seed-demo, serve, simulate."""

from __future__ import annotations

import argparse
import gc
import getpass
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from secrets import token_urlsafe
from typing import Any

import httpx
from sqlalchemy import delete, insert, select

from operator_app.protocol import routes
from operator_app.protocol.limits import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from operator_app.protocol.models import Channel, OperatorCreate, Role

from . import db, demo, hub, security
from . import schema as s
from .embedded import EmbeddedServer, prepare_channels
from .errors import ApiError
from .heap import SurvivorFreezer
from .schema import new_id
from .service import Backend
from .simulator import TrafficGenerator


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
    except (ValueError, LookupError, ApiError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="operator-server", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="create the schema and the channel secrets")
    init.add_argument("--db", required=True, help="database URL, e.g. sqlite:///server.db")
    init.set_defaults(run=cmd_init)

    op = sub.add_parser("add-operator", help="create an operator, supervisor or admin")
    op.add_argument("--db", required=True)
    op.add_argument("--login", required=True)
    op.add_argument("--name", required=True)
    op.add_argument("--role", choices=[r.value for r in Role], default=Role.OPERATOR.value)
    op.add_argument("--password", help="prompted for when omitted")
    op.add_argument("--capacity", type=int, default=5)
    op.add_argument("--queues", default="", help="comma-separated queue ids it works in")
    op.add_argument("--supervises", default="", help="comma-separated queue ids it supervises")
    op.set_defaults(run=cmd_add_operator)

    pw = sub.add_parser("set-password", help="set an operator's password; revokes their sessions")
    pw.add_argument("--db", required=True)
    pw.add_argument("--login", required=True)
    pw.add_argument("--password", help="prompted for (twice) when omitted")
    pw.set_defaults(run=cmd_set_password)

    off = sub.add_parser(
        "disable-operator", help="turn sign-in off: revokes sessions, requeues active dialogs"
    )
    off.add_argument("--db", required=True)
    off.add_argument("--login", required=True)
    off.set_defaults(run=cmd_switch_sign_in, enabled=False)

    on = sub.add_parser("enable-operator", help="turn sign-in back on")
    on.add_argument("--db", required=True)
    on.add_argument("--login", required=True)
    on.set_defaults(run=cmd_switch_sign_in, enabled=True)

    queue = sub.add_parser("add-queue", help="create a queue")
    queue.add_argument("--db", required=True)
    queue.add_argument("--name", required=True)
    queue.add_argument("--sla", type=int, default=60, help="target first response, seconds")
    queue.add_argument("--channels", default="", help="comma-separated channels")
    queue.set_defaults(run=cmd_add_queue)

    chan = sub.add_parser("set-channel", help="set a channel's inbound secret and default queue")
    chan.add_argument("--db", required=True)
    chan.add_argument("--channel", required=True, choices=[c.value for c in Channel])
    chan.add_argument("--secret", help="default: a new random secret, printed")
    chan.add_argument("--queue", type=int, help="default queue id for new dialogs")
    chan.set_defaults(run=cmd_set_channel)

    seed = sub.add_parser("seed-demo", help="fill an empty database with the demo data")
    seed.add_argument("--db", required=True)
    seed.set_defaults(run=cmd_seed_demo)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--db", help="database URL; default: a temporary SQLite file")
    serve.add_argument("--demo", action="store_true", help="demo data and simulated customers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--certfile")
    serve.add_argument("--keyfile")
    serve.add_argument("--simulate-rate", type=float, default=0.0)
    serve.add_argument("--retention", type=int, default=100_000, help="events kept for resume")
    serve.set_defaults(run=cmd_serve)

    sim = sub.add_parser("simulate", help="drive customer traffic through the inbound API")
    sim.add_argument("--url", required=True)
    sim.add_argument("--rate", type=float, required=True, help="messages per second")
    sim.add_argument("--duration", type=float, help="seconds; default: until interrupted")
    sim.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="CHANNEL=SECRET",
        help="channel secret; default: the demo secrets (demo-<channel>-secret)",
    )
    sim.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    sim.set_defaults(run=cmd_simulate)
    return parser


def _ids(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"not a list of ids: {text!r}") from None


def cmd_init(args: argparse.Namespace) -> int:
    engine = db.create(args.db)
    db.init_schema(engine)
    secrets = prepare_channels(engine, demo=False)
    for channel, secret in secrets.items():
        print(f"channel {channel} secret: {secret}")
    print("schema ready")
    engine.dispose()
    return 0


def cmd_add_operator(args: argparse.Namespace) -> int:
    password = _new_password(args.password)  # the app's rule for a new password, too
    account = OperatorCreate.model_construct(  # the other fields' rules are the backend's
        login=args.login,
        name=args.name,
        role=Role(args.role),
        password="",
        capacity=args.capacity,
        queue_ids=_ids(args.queues),
        supervised_queue_ids=_ids(args.supervises),
    )
    with _console_backend(args.db) as backend:
        created = backend.add_operator(account, security.hash_password(password))
    print(f"operator {args.login} created with id {created.id}")
    return 0


# A console write must not prune the event log by a retention of its own: the serving
# process prunes by its --retention.
_NEVER_PRUNE = sys.maxsize


@contextmanager
def _console_backend(url: str) -> Iterator[Backend]:
    """The server's own actions, run from the console: no loop, so nothing is published live
    (the events are stored; clients get them when they next replay)."""
    engine = db.create(url)
    db.init_schema(engine)
    backend = Backend(engine, event_retention=_NEVER_PRUNE)
    try:
        yield backend
    finally:
        backend.shutdown()
        engine.dispose()


def _operator_id(backend: Backend, login: str) -> int:
    with backend.read() as conn:
        found = conn.execute(select(s.operators.c.id).where(s.operators.c.login == login)).first()
    if found is None:
        raise LookupError(f"no operator with login {login!r}")
    return int(found.id)


def _new_password(given: str | None) -> str:
    """The given one, else asked twice; either way as long as the protocol wants."""
    password = given
    if password is None:
        password = getpass.getpass("new password: ")
        if getpass.getpass("again: ") != password:
            raise ValueError("the two passwords differ")
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise ValueError(
            f"a password needs {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
        )
    return password


def cmd_set_password(args: argparse.Namespace) -> int:
    password = _new_password(args.password)
    with _console_backend(args.db) as backend:
        backend.replace_password(_operator_id(backend, args.login), password)
    print(f"password of {args.login} set; their sessions are revoked")
    return 0


def cmd_switch_sign_in(args: argparse.Namespace) -> int:
    with _console_backend(args.db) as backend:
        backend.switch_sign_in(_operator_id(backend, args.login), args.enabled)
    if args.enabled:
        print(f"operator {args.login} enabled")
    else:
        print(f"operator {args.login} disabled; their sessions are revoked")
    return 0


def cmd_add_queue(args: argparse.Namespace) -> int:
    channels = [Channel(c.strip()) for c in args.channels.split(",") if c.strip()]
    engine = db.create(args.db)
    db.init_schema(engine)
    with engine.begin() as conn:
        queue_id = new_id(
            conn.execute(
                insert(s.queues).values(name=args.name, sla_seconds=args.sla, created_at=s.utcnow())
            )
        )
        for channel in channels:
            conn.execute(insert(s.queue_channels).values(queue_id=queue_id, channel=channel))
    engine.dispose()
    print(f"queue {args.name} created with id {queue_id}")
    return 0


def cmd_set_channel(args: argparse.Namespace) -> int:
    secret = args.secret or token_urlsafe(24)
    engine = db.create(args.db)
    db.init_schema(engine)
    with engine.begin() as conn:
        if (
            args.queue is not None
            and not conn.execute(select(s.queues.c.id).where(s.queues.c.id == args.queue)).first()
        ):
            raise LookupError(f"unknown queue id {args.queue}")
        conn.execute(delete(s.channels).where(s.channels.c.channel == args.channel))
        conn.execute(
            insert(s.channels).values(
                channel=args.channel,
                secret_hash=security.digest(secret),
                default_queue_id=args.queue,
            )
        )
    engine.dispose()
    print(f"channel {args.channel} secret: {secret}")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    engine = db.create(args.db)
    db.init_schema(engine)
    if not db.is_empty(engine):
        engine.dispose()
        raise ValueError("seed-demo needs an empty database")
    demo.seed(engine)
    prepare_channels(engine, demo=True)
    engine.dispose()
    print("demo data seeded; channel secrets are demo-<channel>-secret")
    return 0


# The event loop (HTTP, websockets) and the group writer share one GIL. With Python's 5 ms
# switch interval a loop woken by the network waits up to 5 ms for a writer in mid-batch,
# and the other way round: p99 delivery at 500 customer messages/s fell from 240-300 ms to
# 160-210 ms at 0.5 ms, for the same CPU (figure 7). Only in this process: the desktop app's
# embedded demo server leaves its GUI process alone.
SERVER_SWITCH_INTERVAL = 0.0005


def cmd_serve(args: argparse.Namespace) -> int:
    sys.setswitchinterval(SERVER_SWITCH_INTERVAL)
    server = EmbeddedServer(
        host=args.host,
        port=args.port,
        database_url=args.db,
        demo=args.demo,
        simulate_rate=args.simulate_rate,
        event_retention=args.retention,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    if not args.demo:
        for channel, secret in server.channel_secrets.items():
            print(f"channel {channel} secret: {secret}")
    # the start-up heap (modules, the app, compiled statements) is never garbage: frozen, and
    # so are the survivors of each later full pass, thawed every ten minutes (heap.py)
    gc.collect()
    gc.freeze()
    SurvivorFreezer().install()
    print(f"listening on {server.url}", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
        if hub.HOP_TRACE is not None:
            hub.HOP_TRACE.close()
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    if args.rate <= 0:
        raise ValueError("--rate must be positive")
    secrets = {c: security.demo_channel_secret(c) for c in Channel}
    for item in args.secret:
        channel, _, secret = item.partition("=")
        secrets[Channel(channel)] = secret
    traffic = TrafficGenerator(seed=int(time.time()))
    sent = failed = 0
    with httpx.Client(base_url=args.url, timeout=10, verify=not args.insecure) as client:
        # the clock starts with the client ready: on a busy machine setting it up (its TLS
        # context) took longer than a short --duration, and nothing was sent at all
        deadline = time.monotonic() + args.duration if args.duration else float("inf")
        while time.monotonic() < deadline:
            channel, message = traffic.next_message()
            response = _post(client, channel, message.model_dump(), secrets[channel])
            if response is not None and response.status_code == 200:
                sent += 1
            else:
                failed += 1
                detail = response.text[:200] if response is not None else "no connection"
                print(f"refused ({channel}): {detail}", file=sys.stderr)
            time.sleep(
                min(traffic.rnd.expovariate(args.rate), max(0.0, deadline - time.monotonic()))
            )
    print(f"sent {sent} customer messages, {failed} refused")
    return 0 if failed == 0 else 1


def _post(
    client: httpx.Client, channel: Channel, body: dict[str, Any], secret: str
) -> httpx.Response | None:
    try:
        return client.post(
            routes.INBOUND.format(channel=channel),
            json=body,
            headers={"X-Channel-Secret": secret},
        )
    except httpx.HTTPError:
        return None
