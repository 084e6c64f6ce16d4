"""AlertWatcher: which boards raise which alerts, once each; settings round-trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtWidgets import QApplication

from operator_app.protocol.reports import Board, QueueBoardRow
from operator_app.ui.notifications import SoundPlayer
from operator_app.ui.supervisor.alerts import AlertSettings, AlertSound, AlertWatcher

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


def board(waiting: int, late: list[int]) -> Board:
    queue = QueueBoardRow(
        queue_id=1, name="Продажи", sla_seconds=60, waiting=waiting, over_sla_dialog_ids=late
    )
    return Board(generated_at=NOW, day_start=NOW, queues=[queue])


def test_queue_alert_once_per_crossing(qapp: QApplication) -> None:
    watcher = AlertWatcher(AlertSettings(queue_threshold=3, sla_alerts=False))
    assert watcher.check(board(3, [])) == []
    first = watcher.check(board(4, []))
    assert [(a.kind, a.key) for a in first] == [("queue", 1)]
    assert "Продажи" in first[0].text and "4" in first[0].text
    assert watcher.check(board(6, [])) == []  # still over: no repeat
    assert watcher.check(board(2, [])) == []
    assert len(watcher.check(board(5, []))) == 1  # over again after falling back


def test_sla_alert_once_per_dialog_and_bursts_collapse(qapp: QApplication) -> None:
    watcher = AlertWatcher(AlertSettings(queue_alerts=False))
    names = {7: "<b>Ann</b>"}.get
    alerts = watcher.check(board(1, [7]), lambda d: names(d) or f"#{d}")
    assert [(a.kind, a.key) for a in alerts] == [("sla", 7)]
    assert "<b>Ann</b>" in alerts[0].text  # shown as plain text by the console
    assert watcher.check(board(1, [7])) == []
    burst = watcher.check(board(1, [7, 8, 9, 10, 11]))
    assert len(burst) == 1 and "4" in burst[0].text
    assert watcher.check(board(0, [])) == []
    assert len(watcher.check(board(0, [7]))) == 1  # a new wait of the same dialog


def test_switched_off_kinds_stay_silent(qapp: QApplication) -> None:
    watcher = AlertWatcher(AlertSettings(queue_threshold=0, queue_alerts=False, sla_alerts=False))
    assert watcher.check(board(9, [1, 2])) == []


def test_settings_round_trip_and_bad_stored_values(qapp: QApplication) -> None:
    AlertSettings(queue_threshold=7, queue_alerts=False, sla_alerts=True, sound=False).save()
    assert AlertSettings.load() == AlertSettings(7, False, True, False)
    from PySide6.QtCore import QSettings

    QSettings().setValue("supervisor/alerts/threshold", "many")
    assert AlertSettings.load().queue_threshold == AlertSettings().queue_threshold


class _Player(SoundPlayer):
    """A machine with (``audio``) or without an audio output; records what was asked."""

    def __init__(self, audio: bool) -> None:
        super().__init__()
        self.audio = audio

    def play(self, name: str) -> bool:
        self.requested.append(name)
        return self.audio


def test_the_alert_sound_plays_or_beeps_where_there_is_no_audio(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    beeps: list[None] = []
    monkeypatch.setattr(QApplication, "beep", lambda: beeps.append(None))
    with_audio, silent = AlertSound(_Player(audio=True)), AlertSound(_Player(audio=False))
    assert with_audio.play() and not beeps
    assert not silent.play() and not silent.play() and len(beeps) == 2
    assert (with_audio.requested, silent.requested) == (1, 2)
    assert silent.player.requested == [AlertSound.NAME] * 2
