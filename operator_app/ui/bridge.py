"""Turns the core's change notifications into Qt signals, one per kind of change."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from operator_app.core import service as core


class CoreBridge(QObject):
    dialogs_changed = Signal(object)  # frozenset[int]
    messages_changed = Signal(object)  # core.MessagesChanged
    history_reset = Signal(int)
    connection_changed = Signal(object)  # ConnectionState
    typing_changed = Signal(object)  # core.TypingChanged
    directory_changed = Signal(str)
    notice = Signal(str, str)  # level, text
    assigned = Signal(int)

    def __init__(self, service: core.DeskService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self._unsubscribe = service.subscribe(self._forward)

    def detach(self) -> None:
        self._unsubscribe()

    def _forward(self, change: core.Change) -> None:
        match change:
            case core.DialogsChanged(ids=ids):
                self.dialogs_changed.emit(ids)
            case core.MessagesChanged():
                self.messages_changed.emit(change)
            case core.HistoryReset(dialog_id=dialog_id):
                self.history_reset.emit(dialog_id)
            case core.ConnectionChanged(state=state):
                self.connection_changed.emit(state)
            case core.TypingChanged():
                self.typing_changed.emit(change)
            case core.DirectoryChanged(what=what):
                self.directory_changed.emit(what)
            case core.Notice(level=level, text=text):
                self.notice.emit(level, text)
            case core.Assigned(dialog_id=dialog_id):
                self.assigned.emit(dialog_id)
