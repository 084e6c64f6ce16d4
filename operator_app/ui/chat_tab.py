"""A chat tab: header with actions, the timeline, the customer's typing line, and the composer."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.service import DeskService, DialogRow, MessagesChanged, TypingChanged
from operator_app.protocol.limits import MAX_MESSAGE_CHARS
from operator_app.protocol.models import DialogState, MessageKind

from .formatting import one_line
from .i18n import tr
from .resources import channel_icon, icon
from .tasks import TaskRunner
from .timeline import MessageDelegate, TimelineModel

DRAFT_SAVE_MS = 400
TYPING_IDLE_MS = 4000


class Composer(QPlainTextEdit):
    """Enter sends, Shift+Enter adds a line."""

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.setTabChangesFocus(True)
        self.setMaximumHeight(120)
        self.setMinimumHeight(56)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class ChatTab(QWidget):
    transfer_requested = Signal(int)
    close_requested = Signal(int)

    def __init__(self, service: DeskService, dialog_id: int, runner: TaskRunner) -> None:
        super().__init__()
        self.service = service
        self.dialog_id = dialog_id
        self.runner = runner
        self.model = TimelineModel(service, dialog_id, runner)
        self._typing_sent = False
        self._build()
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_SAVE_MS)
        self._draft_timer.timeout.connect(self._save_draft)
        self._typing_timer = QTimer(self, singleShot=True, interval=TYPING_IDLE_MS)
        self._typing_timer.timeout.connect(lambda: self._send_typing(False))
        self._client_typing_timer = QTimer(self, singleShot=True, interval=8000)
        self._client_typing_timer.timeout.connect(lambda: self.typing_label.setText(""))
        self.composer.setPlainText(service.draft(dialog_id))
        self.composer.textChanged.connect(self._on_text_changed)
        self.refresh_header()
        QTimer.singleShot(0, self.timeline.scrollToBottom)

    # ---- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._build_header())

        self.timeline = QListView(self)
        self.timeline.setObjectName("timeline")
        self.timeline.setModel(self.model)
        self.delegate = MessageDelegate(self.timeline)
        self.timeline.setItemDelegate(self.delegate)
        self.timeline.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.timeline.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.timeline.setUniformItemSizes(False)
        self.timeline.setWordWrap(True)
        self.timeline.setResizeMode(QListView.ResizeMode.Adjust)
        self.timeline.setSpacing(0)
        self.delegate.retry_requested.connect(self.service.retry)
        self.model.rowsInserted.connect(self._on_rows_inserted)
        layout.addWidget(self.timeline, 1)

        self.typing_label = QLabel("", self)
        self.typing_label.setObjectName("muted")
        self.typing_label.setContentsMargins(14, 2, 14, 2)
        layout.addWidget(self.typing_label)
        layout.addWidget(self._build_composer())

    def _build_header(self) -> QFrame:
        header = QFrame(self)
        header.setObjectName("chatHeader")
        row = QHBoxLayout(header)
        row.setContentsMargins(14, 8, 10, 8)
        self.channel_label = QLabel(header)
        self.title_label = QLabel(header)
        self.title_label.setObjectName("title")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle_label = QLabel(header)
        self.subtitle_label.setObjectName("muted")
        self.subtitle_label.setTextFormat(Qt.TextFormat.PlainText)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title_label)
        titles.addWidget(self.subtitle_label)
        row.addWidget(self.channel_label)
        row.addLayout(titles, 1)
        self.take_button = QPushButton(icon("take"), tr("Take"), header)
        self.take_button.setObjectName("primary")
        self.take_button.setToolTip(tr("Take this dialog (Ctrl+Shift+A)"))
        self.take_button.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.take_button.clicked.connect(self._take)
        self.transfer_button = QPushButton(icon("transfer"), tr("Transfer"), header)
        self.transfer_button.setToolTip(tr("Transfer to an operator or a queue (Ctrl+Shift+R)"))
        self.transfer_button.clicked.connect(lambda: self.transfer_requested.emit(self.dialog_id))
        self.close_button = QPushButton(icon("close-dialog"), tr("Close"), header)
        self.close_button.setToolTip(tr("Close the dialog with a resolution (Ctrl+Shift+E)"))
        self.close_button.clicked.connect(lambda: self.close_requested.emit(self.dialog_id))
        for button in (self.take_button, self.transfer_button, self.close_button):
            row.addWidget(button)
        return header

    def _build_composer(self) -> QFrame:
        frame = QFrame(self)
        frame.setObjectName("composerFrame")
        column = QVBoxLayout(frame)
        column.setContentsMargins(10, 8, 10, 10)
        column.setSpacing(4)
        self.comment_hint = QLabel(
            "🔒 " + tr("Internal comment: the client will not see it"), frame
        )
        self.comment_hint.setObjectName("commentHint")
        self.comment_hint.hide()
        column.addWidget(self.comment_hint)
        row = QHBoxLayout()
        self.comment_toggle = QToolButton(frame)
        self.comment_toggle.setIcon(icon("lock"))
        self.comment_toggle.setCheckable(True)
        self.comment_toggle.setText(tr("Comment"))
        self.comment_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.comment_toggle.setToolTip(tr("Internal comment mode (Ctrl+Shift+C)"))
        self.comment_toggle.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.comment_toggle.toggled.connect(self._set_comment_mode)
        self.composer = Composer(frame)
        self.composer.submitted.connect(self.submit)
        self.send_button = QPushButton(icon("send"), tr("Send"), frame)
        self.send_button.setObjectName("primary")
        self.send_button.setToolTip(tr("Send (Enter); new line: Shift+Enter"))
        self.send_button.clicked.connect(self.submit)
        row.addWidget(self.comment_toggle, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.composer, 1)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        column.addLayout(row)
        self._set_comment_mode(False)
        return frame

    # ---- behaviour -------------------------------------------------------------------------

    @property
    def comment_mode(self) -> bool:
        return self.comment_toggle.isChecked()

    def _set_comment_mode(self, on: bool) -> None:
        self.comment_hint.setVisible(on)
        for widget in (self.composer, self.send_button):
            widget.setProperty("comment", on)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        self.send_button.setText(tr("Add comment") if on else tr("Send"))
        self.composer.setPlaceholderText(
            tr("Internal comment for colleagues…") if on else tr("Message to the client…")
        )

    def submit(self) -> None:
        text = self.composer.toPlainText().strip()
        if not text:
            return
        if len(text) > MAX_MESSAGE_CHARS:
            self.typing_label.setText(
                tr("The message is too long: {n} characters, at most {max}.").format(
                    n=len(text), max=MAX_MESSAGE_CHARS
                )
            )
            return
        kind = MessageKind.COMMENT if self.comment_mode else MessageKind.MESSAGE
        self.service.send(self.dialog_id, text, kind)
        self.composer.blockSignals(True)
        self.composer.clear()
        self.composer.blockSignals(False)
        self._draft_timer.stop()
        self.service.save_draft(self.dialog_id, "")
        self._send_typing(False)
        self.comment_toggle.setChecked(False)

    def _on_text_changed(self) -> None:
        self._draft_timer.start()
        if self.comment_mode:
            return
        if not self._typing_sent:
            self._send_typing(True)
        self._typing_timer.start()

    def _save_draft(self) -> None:
        self.service.save_draft(self.dialog_id, self.composer.toPlainText())

    def _send_typing(self, on: bool) -> None:
        if self._typing_sent == on:
            return
        self._typing_sent = on
        self.runner.start(
            self.service.set_typing(self.dialog_id, on), key=f"typing:{self.dialog_id}"
        )

    def _take(self) -> None:
        self.runner.start(self.service.take(self.dialog_id), key=f"take:{self.dialog_id}")

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        bar = self.timeline.verticalScrollBar()
        if last == self.model.rowCount() - 1 and bar.value() >= bar.maximum() - 80:
            QTimer.singleShot(0, self.timeline.scrollToBottom)

    def on_messages_changed(self, change: MessagesChanged) -> None:
        self.model.apply(change)
        if change.inserted and any(r.author.value == "client" for r in change.inserted):
            self.typing_label.setText("")

    def on_typing(self, change: TypingChanged) -> None:
        if change.who != "client":
            return
        self.typing_label.setText(tr("The client is typing…") if change.on else "")
        if change.on:
            self._client_typing_timer.start()

    def refresh_header(self) -> None:
        row: DialogRow | None = self.service.dialog(self.dialog_id)
        if row is None:
            return
        dialog = row.dialog
        self.channel_label.setPixmap(channel_icon(dialog.channel).pixmap(28, 28))
        self.title_label.setText(one_line(dialog.contact_name))
        queue = next((q.name for q in self.service.queues() if q.id == dialog.queue_id), "")
        state = {
            DialogState.WAITING: tr("waiting"),
            DialogState.ACTIVE: tr("active"),
            DialogState.CLOSED: tr("closed"),
        }[dialog.state]
        self.subtitle_label.setText(f"#{dialog.id} · {dialog.channel.value} · {queue} · {state}")
        me = self.service.me
        mine = me is not None and dialog.assignee_id == me.id
        self.take_button.setVisible(dialog.state == DialogState.WAITING or not mine)
        self.take_button.setEnabled(dialog.state != DialogState.CLOSED)
        self.transfer_button.setEnabled(dialog.state != DialogState.CLOSED)
        self.close_button.setEnabled(dialog.state != DialogState.CLOSED)

    def shutdown(self) -> None:
        self._draft_timer.stop()
        self._save_draft()
        if self._typing_sent:
            self._send_typing(False)
