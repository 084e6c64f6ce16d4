"""The console's Staff tab: admins switch accounts' sign-in and set new passwords, for real."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from operator_app.app import sign_in
from operator_app.core.connection import Phase
from operator_app.core.errors import ActionError
from operator_app.core.service import DeskService, Section
from operator_app.core.supervision import Memberships
from operator_app.protocol.errors import ErrorCode
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.supervisor.staff_view import StaffView
from tests.helpers.qt_async import type_text, wait_until

from .console_harness import Desk, supervisor_desk


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as srv:
        yield srv


async def open_staff(desk: Desk) -> StaffView:
    staff = desk.console.staff
    assert staff is not None
    desk.console.tabs.setCurrentWidget(staff)
    await wait_until(lambda: staff.model.rowCount() > 0, what="the staff list")
    return staff


async def signs_in(server: EmbeddedServer, login: str, password: str) -> ErrorCode | None:
    """None when the login works, else the code it was refused with."""
    try:
        service = await sign_in(server.url, login, password, demo=True)
    except ActionError as refused:
        return refused.code
    await service.close()
    service.cache.close()
    return None


def test_only_admins_have_the_staff_tab(
    qloop: asyncio.AbstractEventLoop, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        async with supervisor_desk(server, "olga") as desk:
            titles = [desk.console.tabs.tabText(n) for n in range(desk.console.tabs.count())]
            assert desk.console.staff is None and "Staff" not in titles
        async with supervisor_desk(server, "admin", password="admin") as desk:
            staff = await open_staff(desk)
            rows = {row.login: row for row in staff.model.rows()}
            assert {"anna", "olga", "admin"} <= set(rows)
            names = {q.id: q.name for q in await desk.service.api.queues()}
            anna_queues = ", ".join(names[q] for q in rows["anna"].queue_ids)
            assert anna_queues and staff.model.cell(rows["anna"], 3) == anna_queues
            olga_supervises = ", ".join(names[q] for q in rows["olga"].supervised_queue_ids)
            assert staff.model.cell(rows["olga"], 3).endswith(f"supervises: {olga_supervises}")
            staff.select(desk.operator_id("admin"))
            assert not staff.password_button.isEnabled()  # their own: Account -> Change password
            assert not staff.sign_in_button.isEnabled()

    qloop.run_until_complete(scenario())


def test_an_admin_disables_and_allows_an_accounts_sign_in(
    qloop: asyncio.AbstractEventLoop, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        async with supervisor_desk(server, "admin", password="admin") as desk:
            staff = await open_staff(desk)
            anna = desk.operator_id("anna")
            staff.select(anna)
            assert staff.sign_in_button.text() == "Disable sign-in…"
            question = desk.console.switch_sign_in(anna, False)
            assert isinstance(question, QMessageBox)
            question.reject()  # asked first: nothing happens on Cancel
            await asyncio.sleep(0.2)
            assert staff.model.row_at(staff.model.row_of(anna)).enabled
            question = desk.console.switch_sign_in(anna, False)
            assert question is not None
            question.accept()
            await wait_until(
                lambda: not staff.model.row_at(staff.model.row_of(anna)).enabled,
                what="anna disabled",
            )
            assert staff.model.cell(staff.model.row_at(staff.model.row_of(anna)), 4) == "disabled"
            assert await signs_in(server, "anna", "demo") == ErrorCode.ACCOUNT_DISABLED
            assert staff.sign_in_button.text() == "Allow sign-in"
            staff.sign_in_button.click()
            await wait_until(
                lambda: staff.model.row_at(staff.model.row_of(anna)).enabled, what="allowed"
            )
            name = staff.model.row_at(staff.model.row_of(anna)).name
            assert desk.console.status_line.text() == f"{name} may sign in again."
            assert await signs_in(server, "anna", "demo") is None

    qloop.run_until_complete(scenario())


def test_an_admin_sets_a_new_password_for_an_operator(
    qloop: asyncio.AbstractEventLoop, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        async with supervisor_desk(server, "admin", password="admin") as desk:
            await open_staff(desk)
            form = desk.console.ask_new_password(desk.operator_id("anna"))
            assert form.current is None  # an admin is not asked for anna's password
            type_text(form.new, "short")
            type_text(form.repeat, "short")
            assert not form.ok_button.isEnabled() and "8" in form.hint.text()
            form.new.clear()
            form.repeat.clear()
            type_text(form.new, "Sunny-day-42")
            type_text(form.repeat, "Sunny-day-42")
            assert form.ok_button.isEnabled()
            form.ok_button.click()  # accepted once the server has it: the form is gone then
            said = desk.console.status_line
            await wait_until(lambda: said.text().endswith("has a new password."), what="saved")
        assert await signs_in(server, "anna", "demo") == ErrorCode.INVALID_CREDENTIALS
        assert await signs_in(server, "anna", "Sunny-day-42") is None

    qloop.run_until_complete(scenario())


def test_an_admin_creates_an_account_that_signs_in(
    qloop: asyncio.AbstractEventLoop, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        async with supervisor_desk(server, "admin", password="admin") as desk:
            staff = await open_staff(desk)
            form = desk.console.ask_new_account()
            assert form.parentWidget() is desk.console  # over the console, not a loose window
            type_text(form.name, "Кира Соколова")
            type_text(form.login, "ki ra")
            assert not form.ok_button.isEnabled() and "spaces" in form.hint.text()
            form.login.clear()
            type_text(form.login, "anna")  # taken: said under the fields, nothing lost
            for field in (form.password, form.repeat):
                type_text(field, "Sunny-day-42")
            support = desk.queue_id("Поддержка")
            box = next(
                form.queues.works_in.item(n)
                for n in range(form.queues.works_in.count())
                if form.queues.works_in.item(n).data(Qt.ItemDataRole.UserRole) == support
            )
            box.setCheckState(Qt.CheckState.Checked)
            assert not form.queues.supervises.isEnabled()  # an operator supervises nothing
            form.ok_button.click()
            await wait_until(lambda: "login" in form.hint.text().lower(), what="taken")
            assert form.isVisible() and form.name.text() == "Кира Соколова"
            form.login.clear()
            type_text(form.login, "kira")
            form.ok_button.click()
            said = desk.console.status_line
            await wait_until(lambda: said.text() == "Account kira created.", what="created")
            await wait_until(
                lambda: any(r.login == "kira" for r in staff.model.rows()), what="listed"
            )
            kira = next(r for r in staff.model.rows() if r.login == "kira")
            assert kira.queue_ids == [support] and kira.name == "Кира Соколова"
            await wait_until(  # every desk learns of the colleague (transfer lists)
                lambda: any(o.login == "kira" for o in desk.service.operators()),
                what="in the directory",
            )
        assert await signs_in(server, "kira", "Sunny-day-42") is None

    qloop.run_until_complete(scenario())


def test_an_admin_moves_an_operator_to_other_queues(
    qloop: asyncio.AbstractEventLoop, server: EmbeddedServer
) -> None:
    async def scenario() -> None:
        annas_desk = await sign_in(server.url, "anna", "demo", demo=True)
        try:
            await wait_until(lambda: annas_desk.connection.phase == Phase.ONLINE, what="online")
            await wait_until(lambda: annas_desk.dialogs(Section.WAITING), what="anna's waiting")
            await move_anna(annas_desk)
        finally:
            await annas_desk.close()
            annas_desk.cache.close()

    async def move_anna(annas_desk: DeskService) -> None:
        async with supervisor_desk(server, "admin", password="admin") as desk:
            await open_staff(desk)
            anna = desk.operator_id("anna")
            form = desk.console.ask_queues(anna)
            assert form is not None
            billing = desk.queue_id("Биллинг")
            form.queues.set_memberships(Memberships(works_in=(billing,)))
            form.ok_button.click()
            said = desk.console.status_line
            await wait_until(lambda: said.text().endswith("saved."), what="saved")
            staff = desk.console.staff
            assert staff is not None
            await wait_until(
                lambda: staff.model.row_at(staff.model.row_of(anna)).queue_ids == [billing],
                what="the new queues listed",
            )
            # anna's own desk re-reads what she may see: no waiting dialog of a queue she left
            await wait_until(
                lambda: annas_desk.me is not None and annas_desk.me.queue_ids == (billing,),
                what="anna's desk knows her queues",
            )
            await wait_until(
                lambda: all(
                    r.dialog.queue_id == billing for r in annas_desk.dialogs(Section.WAITING)
                ),
                what="her waiting list follows",
            )

    qloop.run_until_complete(scenario())
