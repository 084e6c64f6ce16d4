"""``make bench`` / ``make bench-smoke``: every measurement, printed as one table.

  python benchmarks/run.py --size smoke|full [--only 1,5,...] [--data DIR] [--json FILE]

Each figure is measured in this run, next to its floor where there is one. A measurement that
breaks prints its error in the table and the run exits 1 once the table is out; a missed
target never fails the run (smoke mode keeps this code from rotting, it does not judge
timings). PostgreSQL (figure 8) uses BENCH_PG_URL or OPERATOR_TEST_PG_URL; its tables are
dropped and rebuilt, so point it at a throwaway database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import generate, servers
from benchmarks.generate import SIZES, Plan

HERE = Path(__file__).resolve().parent
PY = sys.executable


@dataclass
class Row:
    number: int
    name: str
    figure: str
    floor: str = ""
    target: str = ""
    met: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Bench:
    size: str
    data: Path
    work: Path
    env: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def plan(self) -> Plan:
        return Plan(SIZES[self.size])

    def active_dialogs(self, assignee: int | None = None) -> list[tuple[int, str]]:
        rnd = random.Random(0)
        return [
            (d.id, d.channel.value)
            for d in generate.dialog_plans(self.plan, rnd)
            if d.state == "active" and (assignee is None or d.assignee_id == assignee)
        ]


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def gui_env(work: Path) -> dict[str, str]:
    home = work / "home"
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        PYTHONPATH=str(HERE.parent),
        # An installed app (or the bundle) runs from bytecode; this checkout's environment
        # says not to write any, which would compile ~70 modules at every start.
        PYTHONPYCACHEPREFIX=str(work / "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def probe(bench: Bench, *args: str, timeout: float = 300) -> dict[str, Any]:
    env = dict(bench.env, BENCH_T0=repr(time.time()))
    done = subprocess.run(
        [PY, str(HERE / "gui_probe.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            return result
    raise RuntimeError(f"probe {args[0]} failed: {done.stderr.strip()[-600:]}")


# ---- 1, 2, 6: cold start, opening the long dialog, memory with 20 tabs ----------------------


def bench_gui(bench: Bench) -> None:
    runs = 5 if bench.size == "full" else 2
    bare: list[float] = []
    bare_rss: list[float] = []
    app: list[dict[str, Any]] = []
    for run in range(runs + 1):  # run 0 warms the bytecode and the page cache: not counted
        floor_figures = probe(bench, "bare")
        floor = floor_figures["first_paint_s"]
        cache = bench.work / "cold.sqlite"
        for stale in bench.work.glob("cold.sqlite*"):
            stale.unlink()
        shutil.copyfile(bench.data / "cache.sqlite", cache)
        figures = probe(bench, "app", str(cache), "1", "20")
        if run:
            bare.append(floor)
            bare_rss.append(floor_figures["rss_mb"])
            app.append(figures)
    bench.raw["gui"] = {"bare": bare, "app": app}
    floor = statistics.median(bare)
    cold = statistics.median(a["cold_start_s"] for a in app)
    ratio = cold / floor
    bench.rows.append(
        Row(
            1,
            "cold start to painted dialog list",
            f"{cold * 1000:.0f} ms ({ratio:.2f}x)",
            f"bare window {floor * 1000:.0f} ms",
            "<=2x and <=1000 ms",
            verdict(ratio <= 2 and cold <= 1.0),
            [
                f"median of {runs} fresh processes; imports done at "
                f"{statistics.median(a['imports_s'] for a in app) * 1000:.0f} ms"
            ],
        )
    )
    opened = statistics.median(a["open_tab_s"] for a in app)
    rows = app[0]["open_tab_rows"]
    bench.rows.append(
        Row(
            2,
            f"open {generate.SIZES[bench.size].big_dialog}-message dialog, first paint",
            f"{opened * 1000:.0f} ms",
            "",
            "<=100 ms",
            verdict(opened <= 0.1),
            [f"{rows} rows in the first page"],
        )
    )
    rss = statistics.median(a["rss_tabs_mb"] for a in app)
    bench.rows.append(
        Row(
            6,
            f"resident memory, cache + {app[0]['tabs']} tabs",
            f"{rss:.0f} MB",
            f"bare window {statistics.median(bare_rss):.0f} MB",
            "<=300 MB",
            verdict(rss <= 300),
        )
    )


# ---- 5: local full-text search ---------------------------------------------------------------

QUERIES = [
    "заказ",
    "доставка",
    "спасибо",
    "order",
    "refund",
    "please",
    "возврат товар",
    "courier address",
    "ёлка",
    "paym",
    "прил",
    "warehouse parcel",
    "#12345",
    "кабинет пароль",
    "tracking",
    "нетакогослова",
]


def bench_search(bench: Bench) -> None:
    from operator_app.core.cache import Cache

    cache = Cache.open(bench.data / "cache.sqlite", verify=False)
    timings: list[float] = []
    hits = 0
    try:
        for _round in range(5):
            for query in QUERIES:
                started = time.perf_counter()
                found = cache.search(query, limit=100)
                timings.append(time.perf_counter() - started)
                hits += len(found)
    finally:
        cache.close()
    messages = generate.SIZES[bench.size].messages
    p95 = pct(timings, 0.95)
    bench.raw["search"] = timings
    bench.rows.append(
        Row(
            5,
            f"search over {messages:,} cached messages",
            f"p95 {p95 * 1000:.1f} ms",
            "",
            "p95 <=50 ms",
            verdict(p95 <= 0.05),
            [
                f"p50 {pct(timings, 0.5) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms, "
                f"{len(QUERIES)} queries x5, newest first, 100 hits each"
            ],
        )
    )


# ---- 3, 4: event-to-screen under load, the reconnect burst -----------------------------------


def bench_live(bench: Bench) -> None:
    url = servers.copy_sqlite(bench.data / "server.db", bench.work / "live-server.db")
    mine = bench.active_dialogs(assignee=1)
    full = bench.size == "full"
    seconds, burst = (10.0, 5000) if full else (3.0, 500)
    with servers.server_process(url) as server:
        port = int(server.url.rsplit(":", 1)[1])
        proxy = servers.Proxy(port)
        proxy_url = f"http://127.0.0.1:{proxy.start()}"
        live = subprocess.Popen(
            [
                PY,
                str(HERE / "gui_probe.py"),
                "live",
                proxy_url,
                str(bench.data / "cache.sqlite"),
                str(bench.work / "live-client"),
                str(mine[0][0]),
                generate.BENCH_PASSWORD,
            ],
            env=bench.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(bench.data / "live-probe.log").open("w"),
            text=True,
        )
        try:
            answer = _reply(live)
            assert answer.get("ready"), answer
            load = asyncio.run(
                servers.drive_inbound(
                    server.url, mine, rate=200, seconds=seconds, tag="lat", marked_every=10
                )
            )
            time.sleep(1.0)
            answer = _ask(live, "latency")
            latencies, client_side = answer["latencies"], answer.get("client_latencies", [])
            proxy.cut()
            time.sleep(0.5)
            asyncio.run(
                servers.drive_inbound(
                    server.url, mine, rate=2000, seconds=burst / 2000, tag="burst"
                )
            )
            head = servers.head_cursor(url)
            proxy.resume()
            caught = _ask(live, f"burst {head}")
            _ask(live, "quit")
        finally:
            live.kill()
            proxy.stop()
    bench.raw["live"] = {
        "load": load,
        "latencies": latencies,
        "client_latencies": client_side,
        "burst": caught,
    }
    p99 = pct(latencies, 0.99) if latencies else float("nan")
    bench.rows.append(
        Row(
            3,
            "event-to-screen under 200 events/s",
            f"p99 {p99 * 1000:.0f} ms",
            "",
            "p99 <=50 ms",
            verdict(bool(latencies) and p99 <= 0.05),
            [
                f"{len(latencies)} timed rows, p50 {pct(latencies, 0.5) * 1000:.0f} ms; "
                f"load {load['rate']:.0f}/s achieved; from the server's created_at of the "
                "message to the Paint of the timeline row",
                f"client side (frame read off the socket to the Paint): p50 "
                f"{pct(client_side, 0.5) * 1000:.0f} ms, p99 {pct(client_side, 0.99) * 1000:.0f} ms"
                if client_side
                else "client side: not measured",
            ],
        )
    )
    stall, applied = caught["burst_max_stall_s"], caught["burst_applied_s"]
    bench.rows.append(
        Row(
            4,
            f"burst of {burst:,} events at reconnect",
            f"all in {applied * 1000:.0f} ms, stall {stall * 1000:.0f} ms",
            "",
            "<=2000 ms, stall <=50 ms",
            verdict(applied <= 2 and stall <= 0.05),
            [
                f"cursor {caught['cursor']} of {head}; the first batch of the replay applied "
                f"{(caught.get('burst_first_applied_s') or 0) * 1000:.0f} ms after the reconnect"
            ],
        )
    )


def _reply(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("{"):
            answer: dict[str, Any] = json.loads(line)
            return answer
    raise RuntimeError(f"{process.args[1]} ended without an answer (see its log)")


def _ask(process: subprocess.Popen[str], command: str) -> dict[str, Any]:
    assert process.stdin is not None
    process.stdin.write(command + "\n")
    process.stdin.flush()
    return _reply(process)


# ---- 7: server fan-out against a bare websockets broadcast -----------------------------------


def bench_fanout(bench: Bench) -> None:
    size = generate.SIZES[bench.size]
    full = bench.size == "full"
    rate, seconds = (500.0, 10.0) if full else (50.0, 3.0)
    url = servers.copy_sqlite(bench.data / "server.db", bench.work / "fanout-server.db")
    servers.grant_tokens(url, size.staff)
    active = bench.active_dialogs()
    with servers.server_process(url) as server:
        ws_url = server.url.replace("http", "ws") + "/api/v1/ws"
        clients = _spawn(bench, "clients", ws_url, str(size.staff))
        try:
            _reply(clients)
            cpu, started = server.cpu_seconds(), time.perf_counter()
            load = asyncio.run(
                servers.drive_inbound(server.url, active, rate=rate, seconds=seconds, tag="fan")
            )
            time.sleep(1.0)
            cpu_share = (server.cpu_seconds() - cpu) / (time.perf_counter() - started)
            rss = server.rss_mb()
            app = _ask(clients, "report")["latency"]
        finally:
            clients.kill()
    floor_server = _spawn(bench, "floor", str(size.staff), str(rate), str(seconds), bench.size)
    try:
        port = _reply(floor_server)["port"]
        clients = _spawn(bench, "clients", f"ws://127.0.0.1:{port}", str(size.staff), "floor")
        try:
            _reply(clients)
            sent = _ask(floor_server, "go")
            time.sleep(1.0)
            floor = _ask(clients, "report")["latency"]
        finally:
            clients.kill()
    finally:
        floor_server.kill()
    bench.raw["fanout"] = {"app": app, "floor": floor, "load": load, "floor_sent": sent}
    ratio = app.get("p99", float("nan")) / floor.get("p99", float("nan"))
    bench.rows.append(
        Row(
            7,
            f"fan-out: {size.staff} staff, {rate:.0f} msg/s",
            f"p99 {app.get('p99', float('nan')) * 1000:.1f} ms ({ratio:.2f}x)",
            f"broadcast p99 {floor.get('p99', float('nan')) * 1000:.1f} ms",
            "<=2x",
            verdict(ratio <= 2),
            [
                f"{app.get('count', 0)} deliveries (floor {floor.get('count', 0)}), "
                f"load {load['rate']:.0f}/s achieved, {load['failed']} failed; server CPU "
                f"{cpu_share * 100:.0f}% of a core, RSS {rss:.0f} MB"
            ],
        )
    )


def _spawn(bench: Bench, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PY, str(HERE / "fanout.py"), *args],
        env=bench.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


# ---- 8: idempotent sends per second ----------------------------------------------------------


def bench_sends(bench: Bench) -> None:
    url = servers.copy_sqlite(bench.data / "server.db", bench.work / "sends-server.db")
    _sends_row(bench, "SQLite", url)
    pg_url = os.environ.get("OPERATOR_TEST_PG_URL") or os.environ.get("BENCH_PG_URL")
    if not pg_url:
        bench.rows.append(
            Row(8, "idempotent sends, PostgreSQL", "not run", notes=["no PostgreSQL URL set"])
        )
        return
    if _dialog_count(pg_url) != generate.SIZES[bench.size].dialogs:  # else built by a past run
        generate.build(bench.size, bench.work / "pg", server_url=pg_url)
    _sends_row(bench, "PostgreSQL", pg_url)


def _dialog_count(url: str) -> int:
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.exc import SQLAlchemyError

    from operator_app.server import schema

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(schema.dialogs)).scalar() or 0)
    except SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def _sends_row(bench: Bench, label: str, url: str) -> None:
    servers.grant_tokens(url, 1)
    count = 2000 if bench.size == "full" else 200
    mine = bench.active_dialogs(assignee=1)
    with servers.server_process(url) as server:
        result = asyncio.run(_send_all(server.url, mine, count))
    bench.raw[f"sends-{label}"] = result
    bench.rows.append(
        Row(
            8,
            f"idempotent sends, {label}",
            f"{result['per_second']:.0f} sends/s",
            "",
            "(reported)",
            "",
            [
                f"{count} sends + {count} retries, 16 in flight; retries answered with the "
                f"same id: {result['same']}/{count}; p99 {result['p99'] * 1000:.0f} ms"
            ],
        )
    )


async def _send_all(url: str, dialogs: list[tuple[int, str]], count: int) -> dict[str, Any]:
    import httpx

    from operator_app.protocol import routes

    headers = {"Authorization": f"Bearer {servers.token_of(1)}"}
    sem = asyncio.Semaphore(16)
    timings: list[float] = []
    same = 0

    async def send(client: httpx.AsyncClient, n: int) -> int:
        dialog_id = dialogs[n % len(dialogs)][0]
        body = {"client_msg_id": f"bench-{n:08d}-{time.time_ns()}", "text": f"reply {n}"}
        async with sem:
            ids = []
            for _attempt in range(2):  # the retry must not create a second message
                started = time.perf_counter()
                response = await client.post(routes.MESSAGES.format(dialog_id=dialog_id), json=body)
                timings.append(time.perf_counter() - started)
                response.raise_for_status()
                ids.append(response.json()["message"]["id"])
        return int(ids[0] == ids[1])

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        started = time.perf_counter()
        results = await asyncio.gather(*(send(client, n) for n in range(count)))
        elapsed = time.perf_counter() - started
    same = sum(results)
    return {"per_second": count / elapsed, "same": same, "p99": pct(timings, 0.99)}


# ---- the table ------------------------------------------------------------------------------

BENCHES: dict[str, Callable[[Bench], None]] = {
    "gui": bench_gui,
    "search": bench_search,
    "live": bench_live,
    "fanout": bench_fanout,
    "sends": bench_sends,
}


def table(rows: list[Row]) -> str:
    head = ("#", "measurement", "figure", "floor (same run)", "target", "met")
    lines = [head] + [
        (str(r.number), r.name, r.figure, r.floor, r.target, r.met)
        for r in sorted(rows, key=lambda r: r.number)
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    notes = [
        f"{r.number}. {note}" for r in sorted(rows, key=lambda r: r.number) for note in r.notes
    ]
    return "\n".join([*out, "", *notes])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="smoke")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHES))
    parser.add_argument("--data", type=Path, help="generated data (default benchmarks/data/SIZE)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args()
    data = args.data or HERE / "data" / args.size
    if args.regenerate or not (data / "cache.sqlite").exists():
        started = time.perf_counter()
        print(f"generating {args.size} data in {data} ...", flush=True)
        generate.build(args.size, data)
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    work = Path(tempfile.mkdtemp(prefix="opdesk-bench-"))
    bench = Bench(args.size, data, work, gui_env(work))
    chosen = [name for name in BENCHES if not args.only or name in args.only.split(",")]
    try:
        for name in chosen:
            print(f"running {name} ...", flush=True)
            try:
                BENCHES[name](bench)
            except Exception as exc:  # one broken row must not hide the others
                traceback.print_exc()
                bench.rows.append(Row(0, name, f"failed: {type(exc).__name__}: {exc}"[:120]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"Operator desk benchmarks, size {args.size}")
    print(table(bench.rows))
    if args.json:
        args.json.write_text(json.dumps(bench.raw, indent=1, default=str))
    broken = [row.name for row in bench.rows if row.number == 0]
    if broken:  # a measurement that no longer runs has rotted: fail (timings never do)
        print(f"broken measurements: {', '.join(broken)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
