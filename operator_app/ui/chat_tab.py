"""A chat tab: header with actions, the timeline, the customer's typing line, and the composer.

The composer completes templates ('/word' or Ctrl+Space; Ctrl+1…9 insert the pinned ones),
attaches files, and in comment mode turns entirely amber so it cannot be mistaken for a reply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.attachments import AttachmentFiles, files_for
from operator_app.core.service import (
    ActionError,
    DeskService,
    DialogRow,
    MessagesChanged,
    OfflineError,
    RenderedTemplate,
    TypingChanged,
)
from operator_app.protocol.limits import MAX_COMMENT_CHARS, MAX_MESSAGE_CHARS, MAX_UPLOAD_BYTES
from operator_app.protocol.models import Attachment, DialogState, MessageKind, Template

from . import theme
from .capabilities import why_not
from .fitting_labels import ElidedLabel, WrappedLabel
from .formatting import one_line
from .i18n import tr
from .labels import CHANNEL_LABELS
from .problems import problem_text
from .resources import channel_icon, icon
from .tasks import TaskRunner
from .template_completer import TemplateCompleter
from .template_fill import TemplateFillDialog
from .thumbnails import ThumbnailStore
from .timeline import TimelineModel, TimelineView, human_size

MAX_ATTACHMENTS = 10
UrlOpener = Callable[[QUrl], object]

DRAFT_SAVE_MS = 400
FOLLOW_SLACK_PX = 80  # this close to the bottom the operator still follows new messages
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


def client_typing_text() -> str:
    return "✎ " + tr("The client is typing…")


class ChatTab(QWidget):
    transfer_requested = Signal(int)
    close_requested = Signal(int)

    def __init__(
        self,
        service: DeskService,
        dialog_id: int,
        runner: TaskRunner,
        *,
        files: AttachmentFiles | None = None,
        open_url: UrlOpener = QDesktopServices.openUrl,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.dialog_id = dialog_id
        self.runner = runner
        self.files = files or files_for(service)
        self.open_url = open_url
        self.model = TimelineModel(service, dialog_id, runner)
        self.thumbnails = ThumbnailStore(self.files, runner, self)
        self.thumbnails.ready.connect(self.model.attachment_ready)
        self.attachments: list[Path] = []
        self.fill_dialog: TemplateFillDialog | None = None
        self.file_dialog: QFileDialog | None = None
        self._typing_sent = False
        self._build()
        self.completer = TemplateCompleter(self.composer, service.templates, self)
        self.completer.chosen.connect(self.insert_template)
        self._install_shortcuts()
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_SAVE_MS)
        self._draft_timer.timeout.connect(self._save_draft)
        self._typing_timer = QTimer(self, singleShot=True, interval=TYPING_IDLE_MS)
        self._typing_timer.timeout.connect(lambda: self._send_typing(False))
        self._client_typing_timer = QTimer(self, singleShot=True, interval=8000)
        self._client_typing_timer.timeout.connect(lambda: self.typing_label.setText(""))
        self.composer.setPlainText(service.draft(dialog_id))
        self.composer.textChanged.connect(self._on_text_changed)
        self.refresh_header()
        # a child timer, not QTimer.singleShot: it must not fire once the tab is deleted
        self._scroll_timer = QTimer(self, singleShot=True, interval=0)
        self._scroll_timer.timeout.connect(self._follow_bottom)
        self._scroll_timer.start()
        self._unread_timer = QTimer(self, singleShot=True, interval=0)
        self._unread_timer.timeout.connect(self._scroll_to_unread)

    # ---- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._build_header())

        self.timeline = TimelineView(self.model, self.thumbnails, self)
        self.delegate = self.timeline.delegate
        self.timeline.retry_requested.connect(self.retry)
        self.timeline.link_activated.connect(self.open_link)
        self.timeline.open_requested.connect(self.open_attachment)
        self.timeline.save_requested.connect(self.save_attachment)
        self.model.rowsAboutToBeInserted.connect(self._note_place)
        self.model.rowsInserted.connect(self._on_rows_inserted)
        layout.addWidget(self.timeline, 1)
        self._build_jump_button()

        self.typing_label = WrappedLabel(self)  # problems name files, too
        self.typing_label.setObjectName("typingLine")
        self.typing_label.setContentsMargins(14, 2, 14, 2)
        layout.addWidget(self.typing_label)
        layout.addWidget(self._build_composer())

    def _build_jump_button(self) -> None:
        """Over the timeline's corner while the operator reads further up: how many messages
        came in below meanwhile, and a click (or End in the timeline) to go down to them."""
        self._unseen = 0
        self._was_at_bottom = True
        self.jump_button = QToolButton(self.timeline)
        self.jump_button.setObjectName("jumpToLatest")
        self.jump_button.setToolTip(tr("To the latest message"))
        self.jump_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.jump_button.clicked.connect(self._follow_bottom)
        self.jump_button.hide()
        bar = self.timeline.verticalScrollBar()
        bar.valueChanged.connect(self._update_jump_button)
        bar.rangeChanged.connect(self._update_jump_button)
        self.timeline.resized.connect(self._update_jump_button)

    def _at_bottom(self) -> bool:
        bar = self.timeline.verticalScrollBar()
        return bar.value() >= bar.maximum() - FOLLOW_SLACK_PX

    def _update_jump_button(self) -> None:
        if self._at_bottom():
            self._unseen = 0
            self.jump_button.hide()
            return
        self.jump_button.setText(f"↓ {self._unseen}" if self._unseen else "↓")
        self.jump_button.adjustSize()
        corner = self.timeline.viewport().geometry().bottomRight()
        self.jump_button.move(
            corner.x() - self.jump_button.width() - 12, corner.y() - self.jump_button.height() - 12
        )
        self.jump_button.show()
        self.jump_button.raise_()

    def _build_header(self) -> QFrame:
        header = QFrame(self)
        header.setObjectName("chatHeader")
        row = QHBoxLayout(header)
        row.setContentsMargins(14, 8, 10, 8)
        self.channel_label = QLabel(header)
        self.title_label = ElidedLabel(header)  # the customer's name: as long as they like
        self.title_label.setObjectName("title")
        self.subtitle_label = ElidedLabel(header)
        self.subtitle_label.setObjectName("muted")
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
        self.reopen_button = QPushButton(icon("retry"), tr("Reopen"), header)
        self.reopen_button.setToolTip(tr("Reopen this closed dialog"))
        if (why := why_not(self.service, "reopen")) is not None:
            self.reopen_button.setEnabled(False)  # for good: refresh_header only shows or hides it
            self.reopen_button.setToolTip(why)
        self.reopen_button.clicked.connect(self._reopen)
        self.reopen_button.hide()  # shown on a closed dialog only
        buttons = (self.take_button, self.transfer_button, self.close_button, self.reopen_button)
        for button in buttons:
            row.addWidget(button)
        return header

    def _build_composer(self) -> QFrame:
        self.composer_frame = frame = QFrame(self)
        frame.setObjectName("composerFrame")
        column = QVBoxLayout(frame)
        column.setContentsMargins(10, 8, 10, 10)
        column.setSpacing(4)
        self.comment_hint = QLabel(tr("Internal comment: the client will not see it"), frame)
        self.comment_hint.setObjectName("commentHint")
        self.comment_hint.hide()
        column.addWidget(self.comment_hint)
        column.addWidget(self._build_attachment_bar(frame))
        row = QHBoxLayout()
        self.comment_toggle = QToolButton(frame)
        self.comment_toggle.setIcon(icon("lock"))
        self.comment_toggle.setCheckable(True)
        self.comment_toggle.setText(tr("Comment"))
        self.comment_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.comment_toggle.setToolTip(tr("Internal comment mode (Ctrl+Shift+C)"))
        self.comment_toggle.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.comment_toggle.toggled.connect(self._set_comment_mode)
        self.attach_button = QToolButton(frame)
        self.attach_button.setIcon(icon("attach"))
        self.attach_button.setToolTip(tr("Attach files (Ctrl+Shift+U)"))
        self.attach_button.setShortcut(QKeySequence("Ctrl+Shift+U"))
        if (why := why_not(self.service, "attachments")) is not None:
            self.attach_button.setEnabled(False)  # and stays so: see _set_closed
            self.attach_button.setToolTip(why)
        self.attach_button.clicked.connect(self.choose_attachments)
        self.composer = Composer(frame)
        self.composer.submitted.connect(self.submit)
        self.send_button = QPushButton(icon("send"), tr("Send"), frame)
        self.send_button.setObjectName("primary")
        self.send_button.setToolTip(tr("Send (Enter); new line: Shift+Enter"))
        self.send_button.clicked.connect(self.submit)
        tools = QVBoxLayout()
        tools.setSpacing(2)
        tools.addWidget(self.attach_button)
        tools.addWidget(self.comment_toggle)
        row.addLayout(tools)
        row.addWidget(self.composer, 1)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        column.addLayout(row)
        self._set_comment_mode(False)
        return frame

    def _build_attachment_bar(self, parent: QWidget) -> QWidget:
        self.attachment_bar = QWidget(parent)
        row = QHBoxLayout(self.attachment_bar)
        row.setContentsMargins(0, 0, 0, 0)
        clip = QLabel(self.attachment_bar)
        clip.setPixmap(icon("attach").pixmap(16, 16))
        row.addWidget(clip)
        self.attachment_label = WrappedLabel(self.attachment_bar)
        self.attachment_label.setObjectName("muted")
        self.clear_attachments_button = QToolButton(self.attachment_bar)
        self.clear_attachments_button.setText("✕")
        self.clear_attachments_button.setToolTip(tr("Remove the attached files"))
        self.clear_attachments_button.clicked.connect(lambda: self.set_attachments([]))
        row.addWidget(self.attachment_label, 1)
        row.addWidget(self.clear_attachments_button)
        self.attachment_bar.hide()
        return self.attachment_bar

    def _install_shortcuts(self) -> None:
        self.pinned_shortcuts: list[QShortcut] = []
        for number in range(1, 10):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{number}"), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda n=number: self.insert_pinned(n))
            self.pinned_shortcuts.append(shortcut)

    # ---- behaviour -------------------------------------------------------------------------

    @property
    def comment_mode(self) -> bool:
        return self.comment_toggle.isChecked()

    def _set_comment_mode(self, on: bool) -> None:
        self.comment_hint.setVisible(on)
        for widget in (self.composer_frame, self.composer, self.send_button):
            if widget.property("comment") is not on:
                widget.setProperty("comment", on)
                self._repolish(widget)
        self.composer_frame.setStyleSheet(_comment_frame_style() if on else "")
        self.send_button.setText(tr("Add comment") if on else tr("Send"))
        self.composer.setPlaceholderText(
            tr("Internal comment for colleagues…") if on else tr("Message to the client…")
        )

    def submit(self) -> None:
        if self.composer.isReadOnly():
            return
        text = self.composer.toPlainText().strip()
        if not text and not self.attachments:
            return
        kind = MessageKind.COMMENT if self.comment_mode else MessageKind.MESSAGE
        limit = MAX_COMMENT_CHARS if self.comment_mode else MAX_MESSAGE_CHARS
        if len(text) > limit:
            self.show_problem(
                tr("The message is too long: {n} characters, at most {max}.").format(
                    n=len(text), max=limit
                )
            )
            return
        try:
            self.service.send(self.dialog_id, text, kind, attachment_paths=self.attachments)
        except ActionError as error:
            self.show_problem(problem_text(error))
            return
        self.composer.blockSignals(True)
        self.composer.clear()
        self.composer.blockSignals(False)
        self.set_attachments([])
        self._draft_timer.stop()
        self.service.save_draft(self.dialog_id, "")
        self._send_typing(False)
        self.comment_toggle.setChecked(False)
        self._scroll_timer.start()  # down to the message just sent, from wherever one read
        self.model.mark_unread(0)  # answered: what was new is read

    def show_problem(self, text: str) -> None:
        self._style_status_line(problem=True)
        self.typing_label.setText(text)
        self._client_typing_timer.start()

    # ---- templates -------------------------------------------------------------------------

    def insert_template(self, template: Template) -> None:
        """Render it for this dialog; ask for missing values first, then insert at the cursor."""
        rendered = self.service.render_template(template, self.dialog_id)
        if not rendered.missing:
            self.insert_text(rendered.text)
            return

        def render(extra: Mapping[str, str]) -> RenderedTemplate:
            return self.service.render_template(template, self.dialog_id, extra)

        dialog = TemplateFillDialog(template.title, rendered.missing, render, self)
        dialog.accepted.connect(lambda: self.insert_text(dialog.rendered().text))
        dialog.finished.connect(lambda _code: self.composer.setFocus())
        self.fill_dialog = dialog
        dialog.open()

    def insert_pinned(self, number: int) -> bool:
        """Ctrl+N: the N-th pinned template, in the order the templates come."""
        pinned = [t for t in self.service.templates() if t.pinned]
        if not 1 <= number <= len(pinned):
            return False
        self.insert_template(pinned[number - 1])
        return True

    def insert_text(self, text: str) -> None:
        cursor = self.composer.textCursor()
        cursor.insertText(text)
        self.composer.setTextCursor(cursor)
        self.composer.setFocus()

    # ---- attachments -----------------------------------------------------------------------

    def choose_attachments(self) -> QFileDialog:
        dialog = QFileDialog(self, tr("Attach files"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(
            lambda names: self.set_attachments(self.attachments + [Path(n) for n in names])
        )
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def set_attachments(self, paths: list[Path]) -> None:
        """Files to send with the next message; unreadable or too large ones are refused."""
        kept: list[Path] = []
        problems: list[str] = []
        for path in dict.fromkeys(paths):
            try:
                size = path.stat().st_size
            except OSError:
                problems.append(tr("{name}: cannot be read").format(name=path.name))
                continue
            if size > MAX_UPLOAD_BYTES:
                problems.append(
                    tr("{name}: larger than {max}").format(
                        name=path.name, max=human_size(MAX_UPLOAD_BYTES)
                    )
                )
                continue
            kept.append(path)
        if len(kept) > MAX_ATTACHMENTS:
            problems.append(tr("At most {n} files per message").format(n=MAX_ATTACHMENTS))
            kept = kept[:MAX_ATTACHMENTS]
        self.attachments = kept
        names = ", ".join(f"{p.name} ({human_size(p.stat().st_size)})" for p in kept)
        self.attachment_label.setText(names)
        self.attachment_bar.setVisible(bool(kept))
        if problems:
            self.show_problem("; ".join(problems))

    def open_attachment(self, attachment: Attachment) -> None:
        self.runner.start(self._open_attachment(attachment), key=f"open-file:{attachment.id}")

    async def _open_attachment(self, attachment: Attachment) -> None:
        try:
            path = await self.files.local_path(attachment)
        except (ActionError, OfflineError) as error:
            self.show_problem(
                tr("Cannot open {name}: {why}").format(name=attachment.name, why=error)
            )
            return
        self.open_url(QUrl.fromLocalFile(str(path)))

    def save_attachment(self, attachment: Attachment) -> QFileDialog:
        dialog = QFileDialog(self, tr("Save file"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(Path(attachment.name).name or "attachment")
        dialog.fileSelected.connect(lambda name: self._start_save(attachment, Path(name)))
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def _start_save(self, attachment: Attachment, target: Path) -> None:
        self.runner.start(self._save(attachment, target), key=f"save-file:{attachment.id}")

    async def _save(self, attachment: Attachment, target: Path) -> None:
        try:
            await self.files.save_copy(attachment, target)
        except (ActionError, OfflineError, OSError) as error:
            self.show_problem(
                tr("Cannot save {name}: {why}").format(name=attachment.name, why=error)
            )
            return
        self.show_notice(tr("Saved to {path}").format(path=str(target)))

    def show_notice(self, text: str) -> None:
        self._style_status_line(problem=False)
        self.typing_label.setText(text)
        self._client_typing_timer.start()

    # ---- timeline actions ------------------------------------------------------------------

    def open_link(self, url: str) -> None:
        """Only http(s) links reach here (links.find_links); opened in the system browser."""
        self.open_url(QUrl(url, QUrl.ParsingMode.StrictMode))

    def retry(self, message_key: str) -> None:
        try:
            self.service.retry(message_key)
        except ActionError as error:
            self.show_problem(problem_text(error))

    def _style_status_line(self, *, problem: bool) -> None:
        color = theme.current().color("failed" if problem else "muted").name()
        self.typing_label.setStyleSheet(f"color: {color};")

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        """Apply the style sheet's [comment=...] rules again; a widget not polished yet (a
        tab being built) gets them when it is first shown."""
        if widget.testAttribute(Qt.WidgetAttribute.WA_WState_Polished):
            widget.style().unpolish(widget)
            widget.style().polish(widget)

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

    def _reopen(self) -> None:
        self.runner.start(self.service.reopen(self.dialog_id), key=f"reopen:{self.dialog_id}")

    def show_unread(self, count: int) -> None:
        """Mark "New messages" above the last ``count`` customer messages; when they begin
        above the screen, the timeline starts there instead of at the bottom."""
        marked = self.model.mark_unread(count)
        if marked.isValid():
            self._unread_timer.start()  # after the first scroll to the bottom

    def _scroll_to_unread(self) -> None:
        marked = self.model.row_of_key(self.model.unread_key or "")
        if marked >= 0:
            index = self.model.index(marked)
            if self.timeline.visualRect(index).top() < 0:
                self.timeline.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)

    def _note_place(self) -> None:
        self._was_at_bottom = self._at_bottom()

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if last != self.model.rowCount() - 1:  # older history above
            if self._was_at_bottom:  # it pushed the bottom down, out of view
                self._scroll_timer.start()
            return
        if self._was_at_bottom:
            self._scroll_timer.start()
            return
        me = self.service.me
        mine = me.id if me is not None else None
        rows = (self.model.message_at(row) for row in range(first, last + 1))
        self._unseen += sum(1 for row in rows if row.author_id != mine)
        self._update_jump_button()

    def _follow_bottom(self) -> None:
        """At the bottom the window keeps only the newest rows, then shows the last one."""
        self.model.trim_older()
        self.timeline.scrollToBottom()

    def on_messages_changed(self, change: MessagesChanged) -> None:
        self.model.apply(change)
        # the client's message ends their typing; a problem or a notice stays its time
        shows_typing = self.typing_label.text() == client_typing_text()
        if shows_typing and any(r.author.value == "client" for r in change.inserted):
            self.typing_label.setText("")

    def on_typing(self, change: TypingChanged) -> None:
        if change.who != "client":
            return
        self._style_status_line(problem=False)
        self.typing_label.setText(client_typing_text() if change.on else "")
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
        channel = tr(CHANNEL_LABELS[dialog.channel])
        self.subtitle_label.setText(f"#{dialog.id} · {channel} · {queue} · {state}")
        me = self.service.me
        mine = me is not None and dialog.assignee_id == me.id
        self.take_button.setVisible(dialog.state == DialogState.WAITING or not mine)
        self.take_button.setEnabled(dialog.state != DialogState.CLOSED)
        self.transfer_button.setEnabled(dialog.state != DialogState.CLOSED)
        self.close_button.setEnabled(dialog.state != DialogState.CLOSED)
        self.close_button.setVisible(dialog.state != DialogState.CLOSED)
        self.reopen_button.setVisible(dialog.state == DialogState.CLOSED)
        self._set_closed(dialog.state == DialogState.CLOSED)

    def _set_closed(self, closed: bool) -> None:
        """A closed dialog takes no replies: the server would refuse them anyway."""
        for widget in (self.send_button, self.comment_toggle):
            widget.setEnabled(not closed)
        can_attach = "attachments" not in self.service.unsupported()
        self.attach_button.setEnabled(can_attach and not closed)
        self.composer.setReadOnly(closed)
        if closed:
            self.composer.setPlaceholderText(tr("The dialog is closed"))
        else:
            self._set_comment_mode(self.comment_mode)

    def shutdown(self) -> None:
        self.model.detach()
        self.completer.close()
        for timer in (self._typing_timer, self._client_typing_timer, self._scroll_timer):
            timer.stop()  # a closed tab may be collected on any thread: no live timers
        self._draft_timer.stop()
        self._save_draft()
        if self._typing_sent:
            self._send_typing(False)


def _comment_frame_style() -> str:
    """The whole composer turns the comment colour: nobody sends a comment to a client."""
    t = theme.current()
    return (
        f"QFrame#composerFrame {{ background: {t.bubble_comment};"
        f" border-top: 3px solid {t.comment_border}; }}"
        f" QLabel#commentHint {{ color: {t.text}; }}"
    )
