"""The write lock the event loop does not block on: a failed try asks for a call back."""

from __future__ import annotations

import threading

from operator_app.server.writer import WriteLock


def test_a_release_calls_back_whoever_found_the_lock_taken() -> None:
    lock = WriteLock()
    called: list[str] = []
    with lock:
        assert not lock.take_or_call_back(lambda: called.append("free"))
        assert called == []
    assert called == ["free"]
    assert lock.take_or_call_back(lambda: called.append("again"))  # free: taken at once
    lock.release()
    assert called == ["free"]  # a call back is asked for once, and only when refused


class ReleasedDuringTheTry:
    """A lock whose failed try lets another thread release it right then (the unlucky
    interleaving, made to happen every time)."""

    def __init__(self, write_lock: WriteLock) -> None:
        self.inner = threading.Lock()
        self.inner.acquire()
        self.write_lock = write_lock
        self.releasing: threading.Thread | None = None

    def acquire(self, blocking: bool = True) -> bool:
        if blocking:
            return self.inner.acquire()
        self.releasing = threading.Thread(target=self.write_lock.release)
        self.releasing.start()
        self.releasing.join(0.2)  # done at once unless the release must wait for the try
        return False

    def release(self) -> None:
        self.inner.release()


def test_no_release_slips_between_a_refused_try_and_its_request() -> None:
    lock = WriteLock()
    held = ReleasedDuringTheTry(lock)
    lock._lock = held  # type: ignore[assignment]  # the interleaving, not another lock
    woken = threading.Event()
    assert not lock.take_or_call_back(woken.set)
    assert woken.wait(5), "the release came between the try and the request: no call back"
    assert held.releasing is not None
    held.releasing.join(5)
