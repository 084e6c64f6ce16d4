"""Supervisor alerts: a queue over its threshold, a dialog waiting past its SLA.

``AlertWatcher.check(board)`` returns only *new* alerts: a queue alerts again only after it
dropped back under the threshold, a dialog once per wait. The console shows them, plays a
sound and flashes the taskbar. Settings live in QSettings (nothing secret in them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from PySide6.QtCore import QMessageLogContext, QSettings, QtMsgType, QUrl, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from operator_app.protocol.reports import Board

from ..i18n import tr
from ..resources import resource_path

logger = logging.getLogger(__name__)
SETTINGS_GROUP = "supervisor/alerts"
MAX_SEPARATE_SLA_ALERTS = 3


@dataclass(frozen=True)
class AlertSettings:
    queue_threshold: int = 5  # alert when more dialogs than this wait in one queue
    queue_alerts: bool = True
    sla_alerts: bool = True
    sound: bool = True

    @classmethod
    def load(cls) -> AlertSettings:
        store = QSettings()
        default = cls()
        return cls(
            queue_threshold=_int(
                store.value(f"{SETTINGS_GROUP}/threshold"), default.queue_threshold
            ),
            queue_alerts=_bool(store.value(f"{SETTINGS_GROUP}/queue"), default.queue_alerts),
            sla_alerts=_bool(store.value(f"{SETTINGS_GROUP}/sla"), default.sla_alerts),
            sound=_bool(store.value(f"{SETTINGS_GROUP}/sound"), default.sound),
        )

    def save(self) -> None:
        store = QSettings()
        store.setValue(f"{SETTINGS_GROUP}/threshold", self.queue_threshold)
        store.setValue(f"{SETTINGS_GROUP}/queue", self.queue_alerts)
        store.setValue(f"{SETTINGS_GROUP}/sla", self.sla_alerts)
        store.setValue(f"{SETTINGS_GROUP}/sound", self.sound)

    def with_changes(self, **changes: object) -> AlertSettings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _int(value: object, default: int) -> int:
    try:
        return max(0, int(str(value)))
    except (TypeError, ValueError):
        return default


def _bool(value: object, default: bool) -> bool:
    if value is None:
        return default
    return str(value).lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Alert:
    kind: str  # "queue" or "sla"
    key: int  # queue id or dialog id
    text: str
    at: datetime


class AlertWatcher:
    def __init__(self, settings: AlertSettings) -> None:
        self.settings = settings
        self._queues_over: set[int] = set()
        self._late_dialogs: set[int] = set()

    def check(self, board: Board, name_of: Callable[[int], str] | None = None) -> list[Alert]:
        return self._queue_alerts(board) + self._sla_alerts(board, name_of or str)

    def _queue_alerts(self, board: Board) -> list[Alert]:
        over = {q.queue_id for q in board.queues if q.waiting > self.settings.queue_threshold}
        fresh = over - self._queues_over
        self._queues_over = over
        if not self.settings.queue_alerts:
            return []
        return [
            Alert(
                "queue",
                q.queue_id,
                tr("Queue {queue}: {n} dialogs waiting (threshold {limit})").format(
                    queue=q.name, n=q.waiting, limit=self.settings.queue_threshold
                ),
                board.generated_at,
            )
            for q in board.queues
            if q.queue_id in fresh
        ]

    def _sla_alerts(self, board: Board, name_of: Callable[[int], str]) -> list[Alert]:
        late = {d: q.name for q in board.queues for d in q.over_sla_dialog_ids}
        fresh = sorted(late.keys() - self._late_dialogs)
        self._late_dialogs = set(late)
        if not self.settings.sla_alerts or not fresh:
            return []
        if len(fresh) > MAX_SEPARATE_SLA_ALERTS:  # one line for a burst, not a wall of them
            text = tr("{n} dialogs wait past the SLA").format(n=len(fresh))
            return [Alert("sla", fresh[0], text, board.generated_at)]
        return [
            Alert(
                "sla",
                dialog_id,
                tr("{client} waits past the SLA in {queue}").format(
                    client=name_of(dialog_id), queue=late[dialog_id]
                ),
                board.generated_at,
            )
            for dialog_id in fresh
        ]


@contextmanager
def _quiet_qt(why: str) -> Iterator[None]:
    """Qt multimedia chatters on machines without audio; that is not a warning of ours."""

    def to_debug(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        logger.debug("%s: qt said: %s", why, message)

    previous = qInstallMessageHandler(to_debug)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


class AlertSound:
    """Plays the alert sound when an audio output exists; ``requested`` counts every request."""

    NAME = "new-dialog"

    def __init__(self) -> None:
        self.requested = 0
        self._effect: object | None = None
        self._available: bool | None = None

    def play(self) -> bool:
        self.requested += 1
        if not self._probe():
            QApplication.beep()
            return False
        with _quiet_qt("alert sound"):
            self._effect_instance().play()  # type: ignore[attr-defined]
        return True

    def _probe(self) -> bool:
        if self._available is None:
            with _quiet_qt("audio probe"):
                try:
                    from PySide6.QtMultimedia import QMediaDevices

                    self._available = bool(QMediaDevices.audioOutputs())
                except ImportError:
                    self._available = False
        return self._available

    def _effect_instance(self) -> object:
        if self._effect is None:
            from PySide6.QtMultimedia import QSoundEffect

            effect = QSoundEffect()
            effect.setSource(QUrl.fromLocalFile(str(resource_path("sounds", f"{self.NAME}.wav"))))
            effect.setVolume(0.7)
            self._effect = effect
        return self._effect
