"""Refusals in the operator's language: the server's English reason becomes the UI's sentence
when its code says it all, the core's own refusals are translated, any other detail stays."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from operator_app.core.errors import ActionError, OfflineError
from operator_app.protocol.enums import ErrorCode
from operator_app.ui.i18n import install_language
from operator_app.ui.problems import BY_CODE, LOCAL, problem_text


@pytest.fixture
def russian(qtbot: QtBot) -> Iterator[None]:
    assert install_language("ru")
    yield
    install_language("en")


def test_a_refusal_whose_code_says_it_all_is_said_in_russian(russian: None) -> None:
    closed = ActionError(ErrorCode.DIALOG_CLOSED, "dialog 12 is closed")
    assert problem_text(closed) == "Диалог закрыт."
    assert all(problem_text(ActionError(code, "x")) != "x" for code in BY_CODE)


def test_the_cores_own_refusals_are_translated_and_other_details_kept(russian: None) -> None:
    assert problem_text(ActionError(ErrorCode.BAD_REQUEST, LOCAL[0])) == "Сообщение пустое."
    detail = "shortcut /hi is taken"
    assert problem_text(ActionError(ErrorCode.CONFLICT, detail)) == detail
    assert problem_text(OfflineError("connection refused")).startswith("Сервер недоступен")


def test_in_english_the_sentences_are_the_marked_ones(qtbot: QtBot) -> None:
    install_language("en")
    assert (
        problem_text(ActionError(ErrorCode.NOT_ASSIGNED, "not yours"))
        == BY_CODE[ErrorCode.NOT_ASSIGNED]
    )
