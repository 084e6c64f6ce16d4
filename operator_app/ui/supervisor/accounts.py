"""The Staff tab's forms: a new account, and the queues an operator works in or supervises."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from operator_app.core.supervision import Memberships, NewAccount
from operator_app.protocol.enums import Role
from operator_app.protocol.models import Operator

from ..forms import ServerForm
from ..i18n import tr
from ..passwords import new_password_problem
from ..tasks import TaskRunner
from .staff_view import ROLE_LABELS


class QueueChecklist(QWidget):
    """Two lists of the queues with a box each: works in, and (a supervisor) supervises."""

    def __init__(self, queue_names: Mapping[int, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.works_in = self._list(tr("Works in"), queue_names, row)
        self.supervises = self._list(tr("Supervises"), queue_names, row)

    def _list(self, title: str, names: Mapping[int, str], row: QHBoxLayout) -> QListWidget:
        column = QVBoxLayout()
        column.addWidget(QLabel(title, self))
        boxes = QListWidget(self)
        for queue_id, name in sorted(names.items(), key=lambda item: item[1].casefold()):
            item = QListWidgetItem(name, boxes)
            item.setData(Qt.ItemDataRole.UserRole, queue_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        boxes.setMaximumHeight(160)
        column.addWidget(boxes)
        row.addLayout(column)
        return boxes

    def set_memberships(self, chosen: Memberships) -> None:
        for boxes, ids in ((self.works_in, chosen.works_in), (self.supervises, chosen.supervises)):
            for item in _items(boxes):
                checked = item.data(Qt.ItemDataRole.UserRole) in ids
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def allow_supervising(self, allowed: bool) -> None:
        """Only a supervisor supervises queues (an admin sees them all anyway)."""
        self.supervises.setEnabled(allowed)
        self.supervises.setToolTip("" if allowed else tr("Only a supervisor supervises queues."))
        if not allowed:
            for item in _items(self.supervises):
                item.setCheckState(Qt.CheckState.Unchecked)

    def memberships(self) -> Memberships:
        return Memberships(_checked(self.works_in), _checked(self.supervises))


def _items(boxes: QListWidget) -> list[QListWidgetItem]:
    return [boxes.item(n) for n in range(boxes.count())]


def _checked(boxes: QListWidget) -> tuple[int, ...]:
    return tuple(
        int(item.data(Qt.ItemDataRole.UserRole))
        for item in _items(boxes)
        if item.checkState() == Qt.CheckState.Checked
    )


class AccountDialog(ServerForm):
    def __init__(
        self,
        create: Callable[[NewAccount], Awaitable[Operator]],
        runner: TaskRunner,
        queue_names: Mapping[int, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            runner,
            title=tr("New account"),
            intro=tr("Tell the colleague their password in person or by phone, never in a chat."),
            ok_text=tr("Create"),
            parent=parent,
        )
        self._create = create
        self.name = self.add_line(tr("Name:"))
        self.login = self.add_line(tr("Login:"))
        self.role = QComboBox(self)
        for role in Role:
            self.role.addItem(tr(ROLE_LABELS[role]), role.value)
        self.form.addRow(tr("Role:"), self.role)
        self.password = self.add_line(tr("Password:"), secret=True)
        self.repeat = self.add_line(tr("Repeat it:"), secret=True)
        self.capacity = QSpinBox(self)
        self.capacity.setRange(0, 50)
        self.capacity.setValue(5)
        self.form.addRow(tr("Chats at once:"), self.capacity)
        self.queues = QueueChecklist(queue_names, self)
        self.form.addRow(self.queues)
        self.role.currentIndexChanged.connect(self._role_changed)
        self._role_changed()
        self.finish_layout()

    def chosen_role(self) -> Role:
        return Role(self.role.currentData())

    def _role_changed(self) -> None:
        self.queues.allow_supervising(self.chosen_role() == Role.SUPERVISOR)

    def problem(self) -> str:
        if not self.name.text().strip():
            return tr("Type the colleague's name.")
        login = self.login.text()
        if not login or any(char.isspace() for char in login):
            return tr("Type a login without spaces.")
        return new_password_problem(self.password.text(), self.repeat.text())

    def account(self) -> NewAccount:
        return NewAccount(
            login=self.login.text(),
            name=self.name.text().strip(),
            password=self.password.text(),
            role=self.chosen_role(),
            capacity=self.capacity.value(),
            queues=self.queues.memberships(),
        )

    def send(self) -> Awaitable[Operator]:
        return self._create(self.account())


class QueuesDialog(ServerForm):
    def __init__(
        self,
        operator: Operator,
        save: Callable[[Memberships], Awaitable[Operator]],
        runner: TaskRunner,
        queue_names: Mapping[int, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            runner,
            title=tr("Queues of {name}").format(name=operator.name),
            intro=tr("Their desk re-reads its dialogs at once. Dialogs they hold stay theirs."),
            ok_text=tr("Save"),
            parent=parent,
        )
        self._save_queues = save
        self.queues = QueueChecklist(queue_names, self)
        self.queues.set_memberships(
            Memberships(tuple(operator.queue_ids), tuple(operator.supervised_queue_ids))
        )
        self.queues.allow_supervising(operator.role == Role.SUPERVISOR)
        self.form.addRow(self.queues)
        self.finish_layout()

    def send(self) -> Awaitable[Operator]:
        return self._save_queues(self.queues.memberships())
