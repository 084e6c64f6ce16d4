"""Account -> Change password…: the form's checks, and the change against the real server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from pytestqt.qtbot import QtBot

from operator_app.app import sign_in
from operator_app.core.errors import ActionError
from operator_app.protocol.errors import ErrorCode
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.passwords import PasswordDialog
from operator_app.ui.tasks import TaskRunner
from tests.helpers.qt_async import type_text, wait_until
from tests.ui.shell_helpers import signed_in_window


def fill(form: PasswordDialog, current: str, new: str, repeat: str) -> None:
    for field, text in ((form.current, current), (form.new, new), (form.repeat, repeat)):
        assert field is not None
        field.clear()
        type_text(field, text)


def test_the_form_says_what_keeps_a_password_from_being_saved(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    sent: list[tuple[str, str]] = []

    async def submit(current: str, new: str) -> None:
        sent.append((current, new))

    form = PasswordDialog(submit, TaskRunner(), title="t", intro="i", ask_current=True)
    qtbot.addWidget(form)
    assert not form.ok_button.isEnabled() and form.hint.text() == "Type your current password."
    fill(form, "old-one", "1234567", "1234567")
    assert form.hint.text() == "The new password needs at least 8 characters."
    fill(form, "old-one", "12345678", "12345679")
    assert form.hint.text() == "The two new passwords differ."
    assert not form.ok_button.isEnabled()
    form.ok_button.click()
    qloop.run_until_complete(asyncio.sleep(0.05))
    assert sent == []  # nothing leaves while the form says no
    fill(form, "old-one", "12345678", "12345678")
    assert form.ok_button.isEnabled() and form.hint.text() == ""
    form.ok_button.click()
    qloop.run_until_complete(wait_until(lambda: bool(sent), what="the submit"))
    assert sent == [("old-one", "12345678")]
    assert form.result() == form.DialogCode.Accepted


def attempt(url: str, password: str) -> Awaitable[ErrorCode | None]:
    async def run() -> ErrorCode | None:
        try:
            service = await sign_in(url, "anna", password, demo=True)
        except ActionError as refused:
            return refused.code
        await service.close()
        service.cache.close()
        return None

    return run()


def test_an_operator_changes_their_password_and_stays_signed_in(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    async def scenario(server: EmbeddedServer) -> None:
        async with signed_in_window(server, qtbot) as (service, window):
            form = window.change_password()
            fill(form, "not-my-password", "Sunny-day-42", "Sunny-day-42")
            form.ok_button.click()
            await wait_until(
                lambda: form.hint.text() == "The current password is wrong.", what="refused"
            )
            assert form.isVisible() and form.new.text() == "Sunny-day-42"  # nothing lost
            fill(form, "demo", "Sunny-day-42", "Sunny-day-42")
            form.ok_button.click()  # accepted once the server has it: the form is gone then
            said = window.statusBar()
            await wait_until(
                lambda: said.currentMessage() == "Your password has been changed.", what="saved"
            )
            assert (await service.api.me()).login == "anna"  # this session still works
        assert await attempt(server.url, "demo") == ErrorCode.INVALID_CREDENTIALS
        assert await attempt(server.url, "Sunny-day-42") is None

    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as server:
        qloop.run_until_complete(scenario(server))


def test_the_form_stays_while_the_server_is_asked(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    answer = asyncio.Event()

    async def submit(_current: str, _new: str) -> None:
        await answer.wait()

    form = PasswordDialog(submit, TaskRunner(), title="t", intro="i", ask_current=False)
    qtbot.addWidget(form)
    form.show()
    for field in (form.new, form.repeat):
        type_text(field, "Sunny-day-42")
    form.ok_button.click()
    assert form.saving and form.hint.text() == "Saving…"
    form.reject()  # Escape or the window's close button meanwhile
    qloop.run_until_complete(asyncio.sleep(0.05))
    assert form.isVisible()  # else nobody would know whether the password changed
    answer.set()
    qloop.run_until_complete(wait_until(lambda: not form.isVisible(), what="saved"))
    assert form.result() == form.DialogCode.Accepted
