"""One GUI measurement in a fresh process (run by benchmarks/run.py, Qt offscreen).

Modes (argv[1]):
  bare   a bare PySide6 window with a list view; prints the first paint time.
  app    the app's signed-in start ("Remember me") on a copied cache (offline): cold start to
         the painted dialog list, opening the long dialog in a new tab to its first paint, RSS
         with 20 tabs.
  live   signs in to a running server, keeps a tab open and answers commands on stdin:
         ``latency`` (event-to-screen figures so far), ``burst <head>`` (reconnect and catch
         up to that cursor), ``quit``. Every answer is one JSON line on stdout.

"Process start" is BENCH_T0 (wall clock) that the parent took just before spawning us.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QListView, QMainWindow, QWidget

T0 = float(os.environ.get("BENCH_T0", time.time()))
MARK = "⏱"


def say(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class PaintWatch(QObject):
    """Calls ``on_paint`` at each Paint event of a viewport while ``ready()`` holds."""

    def __init__(self, widget: QWidget, on_paint: Any, ready: Any = lambda: True) -> None:
        super().__init__(widget)
        self.on_paint = on_paint
        self.ready = ready
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.ready():
            self.on_paint()
        return False


def first_paint(widget: QWidget, ready: Any = lambda: True, timeout: float = 30.0) -> float:
    """Spin the Qt loop until the widget paints with ``ready()``; returns the wall time.

    Only for code that runs outside an asyncio loop (the bare window)."""
    seen: list[float] = []

    def note() -> None:
        if not seen:
            seen.append(time.time())

    watch = PaintWatch(widget, note, ready)
    deadline = time.monotonic() + timeout
    while not seen and time.monotonic() < deadline:
        QApplication.processEvents()
    watch.deleteLater()
    if not seen:
        raise TimeoutError("no paint")
    return seen[0]


async def painted(widget: QWidget, ready: Any = lambda: True, timeout: float = 30.0) -> float:
    """The wall time of the widget's next Paint with ``ready()``, awaited on the qasync loop."""
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def settle() -> None:
        if not done.done():
            done.set_result(time.time())

    watch = PaintWatch(widget, settle, ready)
    try:
        async with asyncio.timeout(timeout):
            return await done
    finally:
        watch.deleteLater()


def run_bare() -> None:
    from PySide6.QtCore import QStringListModel

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    view = QListView(window)
    view.setModel(QStringListModel([f"row {n}" for n in range(50)], view))
    window.setCentralWidget(view)
    window.resize(1280, 800)
    window.show()
    painted = first_paint(view.viewport())
    say({"first_paint_s": painted - T0, "cpu_s": time.process_time(), "rss_mb": rss_mb()})
    app.quit()


def run_app(cache_file: str, big_dialog: int, tabs: int) -> None:
    import qasync

    from operator_app.core.heap import LoopCollector

    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    LoopCollector(loop).start()  # as app.main does
    result = loop.run_until_complete(_app_figures(Path(cache_file), big_dialog, tabs))
    say(result)
    os._exit(0)  # the figures are out; skip the teardown of 20 tabs and a large cache


async def _app_figures(cache_file: Path, big_dialog: int, tabs: int) -> dict[str, Any]:
    """The app's own signed-in start (operator_app.app.run with a remembered profile): the
    settings, language and theme, the remembered profile's cache, the main window shown; the
    network (and the keyring's token) after its first paint."""
    from operator_app.app import build_main_window, open_remembered, prepare_ui, show_then_start
    from operator_app.core.cache import cache_path_for
    from operator_app.core.profiles import ServerProfile
    from operator_app.core.settings import Settings

    imported = time.time()
    url = "http://127.0.0.1:9"  # nothing listens: the app starts offline, from the cache
    profile = ServerProfile(name="bench", base_url=url, login="bench")
    # What "Remember me" leaves in the settings file (read from disk by run(): ~1 ms).
    settings = Settings(profiles=[profile], last_profile="bench", remembered_profile="bench")
    cache_dir = cache_file.parent / "app-cache"
    cache_dir.mkdir(exist_ok=True)
    for stale in cache_dir.iterdir():  # run.py clears it before the clock; a -wal left here
        stale.unlink()  # would replay into the fresh copy
    cache_file.replace(cache_path_for(url, "bench", cache_dir))  # where the app looks: a rename
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    prepare_ui(app, settings)
    service = open_remembered(settings, cache_dir=cache_dir)
    assert service is not None
    window = build_main_window(service)
    model = window.dialog_view.model()
    seen: dict[str, Any] = {}  # at the first paint with rows: what was loaded, what it said

    def ready() -> bool:
        if model.rowCount() > 0 and not seen:
            seen["net"] = [
                name for name in ("httpx", "websockets", "keyring") if name in sys.modules
            ]
            seen["phase"] = service.connection.phase.value
        return model.rowCount() > 0

    first: list[float] = []  # watched from before show(): the first paint may happen inside it
    cpu: list[float] = []  # the process's CPU time then: steadier than the wall on a busy host

    def on_first_paint() -> None:
        if not first:
            first.append(time.time())
            cpu.append(time.process_time())

    PaintWatch(window.dialog_view.viewport(), on_first_paint, ready)
    await show_then_start(window, service)
    while not first:
        await asyncio.sleep(0.001)
    shown = first[0]
    figures: dict[str, Any] = {
        "cold_start_s": shown - T0,
        "cold_start_cpu_s": cpu[0],
        "imports_s": imported - T0,
        "rss_start_mb": rss_mb(),
        # the structure the figure relies on: no network library before the first paint
        "net_imported_at_paint": seen.get("net"),
        "connection_at_paint": seen.get("phase"),
    }
    await asyncio.sleep(0.2)

    started = time.time()
    tab = window.open_dialog(big_dialog)
    shown = await painted(tab.timeline.viewport(), lambda: tab.model.rowCount() > 0)
    figures["open_tab_s"] = shown - started
    figures["open_tab_rows"] = tab.model.rowCount()

    others = [d for d in service.cache.open_dialog_ids() if d != big_dialog][: tabs - 1]
    for dialog_id in others:
        window.open_dialog(dialog_id)
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)
    figures["tabs"] = len(window.tabs_by_dialog)
    figures["rss_tabs_mb"] = rss_mb()
    return figures


# ---- live: event-to-screen latency and the reconnect burst ----------------------------------


class StallSampler:
    """With BENCH_STALLS=1: a thread that samples the GUI thread's stack while the 1 ms tick
    is late by more than ``threshold``, and writes each stall's samples to stderr. It costs
    some GIL time, so the burst figures of such a run are not the ones to report."""

    def __init__(self, last_tick: list[float], threshold: float = 0.03) -> None:
        import traceback

        self._format = traceback.format_stack
        self.last_tick = last_tick
        self.threshold = threshold
        self.main = threading.main_thread().ident
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        seen: dict[str, int] = {}
        while not self.stop.wait(0.005):
            late = time.perf_counter() - self.last_tick[0]
            frame = sys._current_frames().get(self.main or 0)
            if late < self.threshold or frame is None:
                continue
            stack = "".join(self._format(frame)[-14:])
            seen[stack] = seen.get(stack, 0) + 1
        for stack, count in sorted(seen.items(), key=lambda item: -item[1])[:25]:
            print(f"--- stall sample x{count}\n{stack}", file=sys.stderr, flush=True)


class LiveProbe:
    def __init__(self, window: Any, tab: Any) -> None:
        self.window = window
        self.tab = tab
        self.service = window.service
        self.pending: list[dict[str, Any]] = []  # hop times of rows inserted, not painted
        self.latencies: list[float] = []
        self.client_latencies: list[float] = []  # the client's part: frame received -> painted
        # message id -> (when its frame was read, its cursor)
        self.received: dict[int, tuple[float, int]] = {}
        # per timed row, Unix times of its hops: posted (the load generator's clock, in the
        # text), created (the server's created_at), cursor, received, inserted, painted
        self.hops: list[dict[str, Any]] = []
        tab.model.rowsInserted.connect(self._inserted)
        PaintWatch(tab.timeline.viewport(), self._painted)
        self._stamp_arrivals(self.service._realtime)
        # what else ran meanwhile: (what, start, seconds), Unix times, to set against the tail
        self.episodes: list[tuple[str, float, float]] = []
        self._note_episodes()

    def watch_loop(self) -> QTimer:
        """A 1 ms Qt timer for the load phase (BENCH_LIVE_LAGS=1): each gap over 8 ms becomes
        an episode: "busy" when the GUI thread spent most of it on the CPU, "runqueue" when it
        was ready but another process or thread had the core (the kernel's schedstat), else
        "blocked" (asleep: the GIL, a lock)."""
        schedstat = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")

        def run_delay() -> float:
            return int(schedstat.read_text().split()[1]) / 1e9

        last = [time.time(), time.thread_time(), run_delay()]

        def tick() -> None:
            now, cpu, queued = time.time(), time.thread_time(), run_delay()
            gap = now - last[0]
            if gap > 0.008:
                if (cpu - last[1]) / gap > 0.5:
                    kind = "busy"
                elif (queued - last[2]) / gap > 0.5:
                    kind = "runqueue"
                else:
                    kind = "blocked"
                self.episodes.append((kind, last[0], gap))
            last[:] = [now, cpu, queued]

        timer = QTimer(interval=1)
        timer.timeout.connect(tick)
        timer.start()
        return timer

    def _note_episodes(self) -> None:
        """Note the cache's background work (its deep check, the sync engine's checkpoints)
        and the cycle collector's passes over 2 ms, with when they ran."""
        import gc

        cache = self.service.cache
        for name in ("deep_check", "checkpoint"):
            self._wrap_timed(cache, name)
        started: list[float] = []

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                started[:] = [time.time()]
            elif started and (spent := time.time() - started[0]) > 0.002:
                self.episodes.append((f"gc{info['generation']}", started[0], spent))

        gc.callbacks.append(on_gc)

    def _wrap_timed(self, owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.time()
            try:
                return original(*args, **kwargs)
            finally:
                self.episodes.append((name, began, time.time() - began))

        setattr(owner, name, timed)

    def _stamp_arrivals(self, realtime: Any) -> None:
        """Wrap the connection's frame callbacks (a probe may reach into them) to note when
        each marked message's frame was read off the socket."""
        on_frame, on_frames = realtime._on_frame, realtime._on_frames

        def note(frames: Any) -> None:
            now = time.time()
            for frame in frames:
                message = getattr(getattr(frame, "event", None), "message", None)
                if message is not None and MARK in message.text:
                    self.received[message.id] = (now, frame.cursor)

        async def one(frame: Any) -> None:
            note([frame])
            await on_frame(frame)

        async def run(frames: Any) -> None:
            note(frames)
            await on_frames(frames)

        realtime._on_frame = one
        if on_frames is not None:
            realtime._on_frames = run

    def _inserted(self, _parent: Any, first: int, last: int) -> None:
        now = time.time()
        for row in range(first, last + 1):
            message = self.tab.model.message_at(row)
            if MARK in message.text:  # created_at: when the server accepted the post
                received, cursor = self.received.pop(message.server_id or 0, (None, None))
                posted = message.text.rsplit(MARK, 1)[1].split()[0]
                self.pending.append(
                    {
                        "posted": float(posted),
                        "created": message.created_at.timestamp(),
                        "cursor": cursor,
                        "received": received,
                        "inserted": now,
                    }
                )

    def _painted(self) -> None:
        now = time.time()
        for sample in self.pending:
            sample["painted"] = now
            self.latencies.append(now - sample["created"])
            if sample["received"] is not None:
                self.client_latencies.append(now - sample["received"])
        self.hops += self.pending
        self.pending.clear()

    async def burst(self, head: int) -> dict[str, Any]:
        gaps: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        timer = QTimer(interval=1)
        timer.timeout.connect(tick)
        timer.start()
        sampler = StallSampler(last) if os.environ.get("BENCH_STALLS") else None
        profile = None
        if os.environ.get("BENCH_CPROFILE"):
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        started = time.perf_counter()
        before = self.service.cache.cursor or 0
        first_applied = None  # the reconnect itself: until the first batch of the replay lands
        self.service.retry_connection_now()
        while (cursor := self.service.cache.cursor or 0) < head:
            await asyncio.sleep(0.005)
            if first_applied is None and cursor != before:
                first_applied = time.perf_counter() - started
            if time.perf_counter() - started > 120:
                break
        applied = time.perf_counter() - started
        if profile is not None:
            profile.disable()
            profile.dump_stats(os.environ["BENCH_CPROFILE"])
        await asyncio.sleep(0.1)
        timer.stop()
        if sampler is not None:
            sampler.stop.set()
            sampler.thread.join()
        return {
            "burst_applied_s": applied,
            "burst_max_stall_s": max(gaps, default=0.0),
            "burst_first_applied_s": first_applied,
            "cursor": self.service.cache.cursor,
        }


def run_live(url: str, cache_file: str, work_dir: str, dialog_id: int, password: str) -> None:
    import qasync

    from operator_app.core.heap import LoopCollector

    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    LoopCollector(loop).start()  # as app.main does
    loop.run_until_complete(_live(url, Path(cache_file), Path(work_dir), dialog_id, password))
    os._exit(0)


async def _live(url: str, cache_file: Path, work: Path, dialog_id: int, password: str) -> None:
    import shutil

    from operator_app.app import sign_in
    from operator_app.core.cache import cache_path_for
    from operator_app.ui.main_window import MainWindow

    target = cache_path_for(url, "bench", work)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache_file, target)
    service = await sign_in(url, "bench", password, demo=False, cache_dir=work)
    service.settle_heap_online = True  # as app.run does (never set in tests)
    window = MainWindow(service)
    window.show()
    tab = window.open_dialog(dialog_id)
    probe = LiveProbe(window, tab)
    commands: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line.strip())

    threading.Thread(target=read_stdin, daemon=True).start()
    while service.connection.phase.value != "online":
        await asyncio.sleep(0.05)
    live_profile = None
    if os.environ.get("BENCH_CPROFILE_LIVE"):  # the load phase, until the latency command
        import cProfile

        live_profile = cProfile.Profile()
        live_profile.enable()
    watch = probe.watch_loop() if os.environ.get("BENCH_LIVE_LAGS") else None
    say({"ready": True})
    while True:
        command = await commands.get()
        if live_profile is not None:
            live_profile.disable()
            live_profile.dump_stats(os.environ["BENCH_CPROFILE_LIVE"])
            live_profile = None
        if watch is not None:
            watch.stop()
            watch = None
        if command == "latency":
            say(
                {
                    "latencies": probe.latencies,
                    "client_latencies": probe.client_latencies,
                    "hops": probe.hops,
                    "episodes": probe.episodes,
                }
            )
        elif command.startswith("burst"):
            say(await probe.burst(int(command.split()[1])))
        else:
            say({"bye": True})
            return


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "bare":
        run_bare()
    elif mode == "app":
        run_app(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        run_live(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
