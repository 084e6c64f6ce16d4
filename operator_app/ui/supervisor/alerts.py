"""Supervisor alerts: a queue over its threshold, a dialog waiting past its SLA.

``AlertWatcher.check(board)`` returns only *new* alerts: a queue alerts again only after it
dropped back under the threshold, a dialog once per wait. The console shows them, plays a
sound and flashes the taskbar. Settings live in QSettings (nothing secret in them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from operator_app.protocol.reports import Board

from ..i18n import tr
from ..notifications import SoundPlayer

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


class AlertSound:
    """The supervisor's alert: the new-dialog sound, or the system beep where no audio output
    exists (QtMultimedia missing, a headless machine). ``requested`` counts every request."""

    NAME = "new-dialog"

    def __init__(self, player: SoundPlayer | None = None) -> None:
        self.requested = 0
        self.player = player or SoundPlayer()

    def play(self) -> bool:
        self.requested += 1
        if self.player.play(self.NAME):
            return True
        QApplication.beep()
        return False
