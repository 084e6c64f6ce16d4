"""The templates panel: search, category filter, shared and personal sections, an editor.

Operators create, edit and delete their own (personal) templates; shared ones are read-only
for them (admins may edit those too, the server decides in the end). Double-click or Enter
asks the integrator to insert the template into the current chat tab.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.errors import invalid_input
from operator_app.core.service import ActionError, DeskService, OfflineError
from operator_app.protocol.enums import Role, TemplateScope

from .capabilities import why_not
from .formatting import one_line
from .i18n import N_, tr
from .problems import problem_text
from .resources import icon
from .tasks import TaskRunner
from .template_completer import rank_templates

if TYPE_CHECKING:  # the wire models load after the first paint (finish_start fills the panel)
    from operator_app.protocol.models import Template, TemplateIn

TemplateRole = Qt.ItemDataRole.UserRole + 1
CANNED_RESPONSE_FIELDS = N_("Chatwoot canned responses keep only a shortcut and a text.")


def may_edit(template: Template, service: DeskService) -> bool:
    me = service.me
    if me is None:
        return False
    if me.role == Role.ADMIN:
        return True
    return template.scope == TemplateScope.PERSONAL and template.owner_id == me.id


def filter_templates(templates: Sequence[Template], query: str, category: str) -> list[Template]:
    """Fuzzy by shortcut and title (best first), plus plain matches in the body after them."""
    pool = [t for t in templates if not category or t.category == category]
    query = query.strip()
    if not query:
        return sorted(pool, key=lambda t: t.title.casefold())
    ranked = rank_templates(pool, query)
    seen = {t.id for t in ranked}
    folded = query.casefold()
    return ranked + [t for t in pool if t.id not in seen and folded in t.body.casefold()]


class TemplateTree(QTreeView):
    """Double-click or Enter choose a template; a single click only selects it, everywhere
    (``activated`` would fire on a single click on desktops configured that way)."""

    chosen = Signal(QModelIndex)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doubleClicked.connect(self.chosen)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            index = self.currentIndex()
            if index.isValid():
                self.chosen.emit(index)
                return
        super().keyPressEvent(event)


class TemplatesPanel(QWidget):
    insert_requested = Signal(object)  # Template

    def __init__(
        self,
        service: DeskService,
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        fill: bool = True,
    ) -> None:
        """``fill=False`` leaves the list to ``refresh()``: the main window fills it after its
        first paint, as reading templates loads pydantic and the wire models (~70 ms)."""
        super().__init__(parent)
        self.setObjectName("templatesPanel")
        self.service = service
        self.runner = runner
        self.editor: TemplateEditor | None = None
        self._stale = False
        # Chatwoot: canned responses only, shared by the account, short code and text
        self._no_personal = why_not(service, "personal_templates")
        self._build()
        if fill:
            self.refresh()
        else:
            self._update_buttons()

    # ---- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        title = QLabel(tr("Templates"), self)
        title.setObjectName("title")
        column.addWidget(title)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(tr("Search templates"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.category = QComboBox(self)
        self.category.setToolTip(tr("Category"))
        self.category.currentIndexChanged.connect(self.refresh)
        column.addWidget(self.search)
        column.addWidget(self.category)
        self.model = QStandardItemModel(self)
        self.tree = TemplateTree(self)
        self.tree.setObjectName("templateTree")
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setExpandsOnDoubleClick(False)
        self.tree.chosen.connect(self._activated)
        column.addWidget(self.tree, 1)
        row = QHBoxLayout()
        self.new_button = QToolButton(self)
        self.new_button.setIcon(icon("template"))
        self.new_button.setText(tr("New"))
        self.new_button.setToolTip(tr("Create a personal template"))
        self.new_button.clicked.connect(lambda: self.open_editor(None))
        self.edit_button = QToolButton(self)
        self.edit_button.setText(tr("Edit"))
        self.edit_button.clicked.connect(lambda: self.open_editor(self.selected()))
        self.delete_button = QToolButton(self)
        self.delete_button.setText(tr("Delete"))
        self.delete_button.clicked.connect(self.confirm_delete)
        for button in (self.new_button, self.edit_button, self.delete_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            row.addWidget(button)
        row.addStretch(1)
        column.addLayout(row)
        self.tree.selectionModel().currentChanged.connect(self._update_buttons)

    # ---- contents --------------------------------------------------------------------------

    def on_directory_changed(self, what: str) -> None:
        """Connect to ``CoreBridge.directory_changed``."""
        if what == "me":
            self._update_buttons()  # the role decides what is editable
        elif what == "templates":
            if self.isVisible():
                self.refresh()
            else:
                self._stale = True  # refreshed when shown: a hidden view keeps no work queued

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        self._stale = False
        templates = self.service.templates()
        self._refresh_categories(templates)
        chosen = self.selected()
        shown = filter_templates(templates, self.search.text(), self.category.currentData() or "")
        self.model.clear()
        sections = [(TemplateScope.SHARED, tr("Shared"))]
        if self._no_personal is None:
            sections.append((TemplateScope.PERSONAL, tr("My templates")))
        for scope, label in sections:
            header = QStandardItem(label)
            header.setSelectable(False)
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            for template in (t for t in shown if t.scope == scope):
                header.appendRow(self._item(template))
            self.model.appendRow(header)
        self.tree.expandAll()
        if chosen is not None:
            self.select(chosen.id)
        self._update_buttons()

    def _item(self, template: Template) -> QStandardItem:
        pin = "★ " if template.pinned else ""
        item = QStandardItem(f"{pin}{one_line(template.title, 60)}  /{template.shortcut}")
        item.setToolTip(template.body)
        item.setData(template, TemplateRole)
        return item

    def _refresh_categories(self, templates: Sequence[Template]) -> None:
        current = self.category.currentData() or ""
        names = sorted({t.category for t in templates if t.category}, key=str.casefold)
        self.category.blockSignals(True)
        self.category.clear()
        self.category.addItem(tr("All categories"), "")
        for name in names:
            self.category.addItem(name, name)
        self.category.setCurrentIndex(max(self.category.findData(current), 0))
        self.category.blockSignals(False)

    def visible_templates(self) -> list[Template]:
        found: list[Template] = []
        for section in range(self.model.rowCount()):
            header = self.model.item(section)
            found += [header.child(n).data(TemplateRole) for n in range(header.rowCount())]
        return found

    def selected(self) -> Template | None:
        index = self.tree.currentIndex()
        # a template's item holds it, a section header nothing
        template: Template | None = index.data(TemplateRole) if index.isValid() else None
        return template

    def select(self, template_id: int) -> bool:
        for section in range(self.model.rowCount()):
            header = self.model.item(section)
            for number in range(header.rowCount()):
                child = header.child(number)
                if child.data(TemplateRole).id == template_id:
                    self.tree.setCurrentIndex(child.index())
                    return True
        return False

    def _activated(self, index: QModelIndex) -> None:
        template: Template | None = index.data(TemplateRole)  # None on a section header
        if template is not None:
            self.insert_requested.emit(template)

    def _update_buttons(self) -> None:
        self._update_new_button()
        template = self.selected()
        editable = template is not None and may_edit(template, self.service)
        self.edit_button.setEnabled(editable)
        self.delete_button.setEnabled(editable)
        if template is not None and not editable:
            self.edit_button.setToolTip(tr("Shared templates are read-only"))
        else:
            self.edit_button.setToolTip("")

    def _update_new_button(self) -> None:
        if self._no_personal is None:
            return  # "Create a personal template", always allowed
        me = self.service.me
        admin = me is not None and me.role == Role.ADMIN
        self.new_button.setEnabled(admin)
        self.new_button.setToolTip(
            tr("Create a template shared by the whole account") if admin else self._no_personal
        )

    # ---- editing ---------------------------------------------------------------------------

    def open_editor(self, template: Template | None) -> TemplateEditor:
        categories = sorted({t.category for t in self.service.templates() if t.category})
        shared_only = None if self._no_personal is None else tr(CANNED_RESPONSE_FIELDS)
        self.editor = TemplateEditor(template, categories, self, shared_only=shared_only)
        self.editor.save_requested.connect(self._save)
        self.editor.open()
        return self.editor

    def _save(self, body: TemplateIn, template_id: int | None) -> None:
        editor = self.editor
        if editor is None:
            return
        editor.set_busy(True)
        self.runner.start(self._save_async(editor, body, template_id), key="template:save")

    async def _save_async(
        self, editor: TemplateEditor, body: TemplateIn, template_id: int | None
    ) -> None:
        try:
            saved = await self.service.save_template(body, template_id)
        except (ActionError, OfflineError) as error:
            editor.set_busy(False)
            editor.show_error(problem_text(error))
            return
        editor.accept()
        self.refresh()
        self.select(saved.id)

    def confirm_delete(self) -> QMessageBox | None:
        template = self.selected()
        if template is None or not may_edit(template, self.service):
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            tr("Delete template"),
            tr("Delete the template “{title}”?").format(title=one_line(template.title, 80)),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText(tr("Delete"))
        box.button(QMessageBox.StandardButton.No).setText(tr("Cancel"))
        box.setTextFormat(Qt.TextFormat.PlainText)

        # QMessageBox finishes with the button's code, not Accepted: ask which was clicked
        def finished(_code: int) -> None:
            if box.clickedButton() is yes:
                self._delete(template.id)

        box.finished.connect(finished)
        box.open()
        return box

    def _delete(self, template_id: int) -> None:
        self.runner.start(self.service.delete_template(template_id), key="template:delete")


class TemplateEditor(QDialog):
    """Create or edit a personal template; checks the fields before anything is sent."""

    save_requested = Signal(object, object)  # TemplateIn, template id or None

    def __init__(
        self,
        template: Template | None,
        categories: Sequence[str],
        parent: QWidget | None = None,
        *,
        shared_only: str | None = None,
    ) -> None:
        """``shared_only``: the backend keeps shared templates with a shortcut and a text only
        (Chatwoot's canned responses); the other fields are disabled with this reason."""
        super().__init__(parent)
        self.template = template
        self.shared_only = shared_only
        self.setWindowTitle(tr("Edit template") if template else tr("New template"))
        self.setMinimumWidth(460)
        form = QFormLayout()
        self.shortcut = QLineEdit(self)
        self.shortcut.setMaxLength(32)
        self.shortcut.setPlaceholderText(tr("e.g. delivery"))
        self.title = QLineEdit(self)
        self.title.setMaxLength(120)
        self.category = QComboBox(self)
        self.category.setEditable(True)
        self.category.addItems(["", *categories])
        self.body = QPlainTextEdit(self)
        self.body.setPlaceholderText(
            tr("Text; variables: {client_name}, {operator_name}, {dialog_id}")
        )
        self.pinned = QCheckBox(tr("Pinned (Ctrl+1…9 in a chat)"), self)
        form.addRow(tr("Shortcut") + ":", self.shortcut)
        form.addRow(tr("Title") + ":", self.title)
        form.addRow(tr("Category") + ":", self.category)
        form.addRow(tr("Text") + ":", self.body)
        form.addRow("", self.pinned)
        self.error = QLabel(self)
        self.error.setObjectName("errorText")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(tr("Save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if template is not None:
            self.shortcut.setText(template.shortcut)
            self.title.setText(template.title)
            self.category.setCurrentText(template.category)
            self.body.setPlainText(template.body)
            self.pinned.setChecked(template.pinned)
        if shared_only is not None:
            for field in (self.title, self.category, self.pinned):
                field.setEnabled(False)
                field.setToolTip(shared_only)

    def submit(self) -> None:
        from pydantic import ValidationError

        try:
            body = self.value()
        except ValidationError as exc:
            self.show_error(problem_text(invalid_input(exc)))
            return
        self.save_requested.emit(body, None if self.template is None else self.template.id)

    def value(self) -> TemplateIn:
        """The form as a TemplateIn; raises pydantic's ValidationError on bad input."""
        from operator_app.protocol.models import TemplateIn

        keep = self.template
        new_scope = TemplateScope.PERSONAL if self.shared_only is None else TemplateScope.SHARED
        shortcut = self.shortcut.text().strip().lstrip("/")
        return TemplateIn(
            scope=keep.scope if keep else new_scope,
            queue_id=keep.queue_id if keep else None,
            shortcut=shortcut,
            title=shortcut if self.shared_only is not None else self.title.text().strip(),
            category=self.category.currentText().strip(),
            body=self.body.toPlainText().strip(),
            pinned=self.pinned.isChecked(),
        )

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def set_busy(self, busy: bool) -> None:
        self.buttons.setEnabled(not busy)
