"""Refusals in the operator's language: the server's English reason becomes the UI's sentence
when its code says it all, the core's own refusals are translated, any other detail stays."""

from __future__ import annotations

import ast
import asyncio
import socket
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from operator_app.core.changes import NOTICE_SENTENCES, SESSION_ENDED
from operator_app.core.errors import ActionError, FieldProblem, OfflineError, build, guarded
from operator_app.core.outbox import UNREADABLE_FILE
from operator_app.net.api import ApiClient
from operator_app.net.tls import NETWORK_REASONS as NET_REASONS
from operator_app.protocol.enums import ErrorCode
from operator_app.server.embedded import EmbeddedServer
from operator_app.ui.i18n import install_language
from operator_app.ui.login import explain
from operator_app.ui.problems import (
    BY_CODE,
    LOCAL,
    NETWORK_REASONS,
    NOTICES,
    SERVER_SENTENCES,
    notice_text,
    problem_text,
    reason_text,
)


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


def test_a_colleague_taking_the_dialog_first_is_said_in_russian(russian: None) -> None:
    taken = ActionError(ErrorCode.CONFLICT, "the dialog is already assigned")
    assert problem_text(taken) == "Коллега уже взял этот диалог."
    full = ActionError(ErrorCode.OPERATOR_AT_CAPACITY, "you are at capacity")
    assert problem_text(full).startswith("У вас нет свободных мест")
    their = ActionError(ErrorCode.OPERATOR_AT_CAPACITY, "Ivan has no free capacity")
    assert problem_text(their) == "У этого оператора нет свободных мест."
    many = ActionError(ErrorCode.PAYLOAD_TOO_LARGE, LOCAL[1])  # the same code, the core's own
    assert problem_text(many) == "Не больше 10 вложений в одном сообщении."
    chatwoot = ActionError(ErrorCode.NOT_FOUND, "Resource could not be found")
    assert problem_text(chatwoot) == "Этого на сервере нет (или уже нет)."
    gone = ActionError(ErrorCode.NOT_FOUND, "template not found")
    assert problem_text(gone) == "Шаблон уже удалён."


# Sentences of the server no operator meets through this app: the app never sends what they
# refuse (malformed requests, the channels' side, the REST contract's misuse).
NOT_FOR_OPERATORS = {
    "missing bearer token",
    "wrong or missing channel secret",
    "empty message",  # a channel's post
    "open dialog not found",  # a channel's typing
    "only a closed dialog can be rated",  # a channel's rating
    "the server has no queue to route to",  # a channel's post on a server without queues
    "bad content type",
    "bad cursor",
    "give before_id or after_id, not both",
    "give exactly one of to_operator_id and to_queue_id",
    "client_msg_id already used in another dialog",
}
SERVER = Path(__file__).resolve().parents[2] / "operator_app" / "server"


def _server_refusals() -> list[tuple[str, str]]:
    """(code, sentence) of every refusal the server writes with a fixed sentence."""
    found = []
    for path in sorted(SERVER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            args, name = node.args, node.func.id
            texts = [
                a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if name == "ApiError" and isinstance(args[0], ast.Attribute) and texts:
                found.append((args[0].attr.lower(), texts[0]))
            elif name == "invalid" and texts:
                found.append(("validation_error", texts[0]))
            elif name == "not_found" and texts:
                found.append(("not_found", f"{texts[0]} not found"))
            elif name == "forbidden" and texts:
                found.append(("forbidden", f"you may not access {texts[0]}"))
    return found


def test_every_fixed_sentence_of_the_server_an_operator_meets_is_translated() -> None:
    refusals = _server_refusals()
    assert ("conflict", "the dialog is already assigned") in refusals  # the scan works
    login_codes = {ErrorCode.INVALID_CREDENTIALS, ErrorCode.ACCOUNT_DISABLED}
    untranslated = [
        (code, sentence)
        for code, sentence in refusals
        if ErrorCode(code) not in BY_CODE
        and ErrorCode(code) not in login_codes
        and sentence not in SERVER_SENTENCES
        and sentence not in NOT_FOR_OPERATORS
    ]
    assert untranslated == []
    stale = set(SERVER_SENTENCES) - {sentence for _code, sentence in refusals}
    assert stale == set()


def test_sign_in_refusals_in_russian(russian: None) -> None:
    assert explain(ActionError(ErrorCode.INVALID_CREDENTIALS, "x")) == "Неверный логин или пароль."


def test_the_cores_notices_are_said_in_russian(russian: None) -> None:
    assert set(NOTICES) == set(NOTICE_SENTENCES)
    assert notice_text(SESSION_ENDED) == "Сеанс завершён. Войдите снова."
    assert all(notice_text(text) != text for text in NOTICE_SENTENCES)
    assert notice_text("no auth frame in time") == "no auth frame in time"  # a server's words


def test_the_core_words_its_notices_only_from_the_catalogue() -> None:
    core = Path(__file__).resolve().parents[2] / "operator_app" / "core"
    literal = []
    for path in sorted(core.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Notice"
                and any(
                    isinstance(a, ast.JoinedStr)
                    or (isinstance(a, ast.Constant) and a.value not in ("info", "warning", "error"))
                    for a in node.args[1:]
                )
            ):
                literal.append(f"{path.name}:{node.lineno}")
    assert literal == []


def test_a_kept_reason_of_the_core_is_translated_with_its_detail(russian: None) -> None:
    unreadable = f"{UNREADABLE_FILE}: счёт.pdf"
    assert reason_text(unreadable) == "Вложенный файл не удаётся прочитать: счёт.pdf"
    assert reason_text("the dialog is closed") == "Диалог закрыт."
    assert reason_text("something: else") == "something: else"


def test_why_the_server_cannot_be_reached_is_said_in_russian(
    russian: None, qloop: asyncio.AbstractEventLoop
) -> None:
    assert set(NETWORK_REASONS) == set(NET_REASONS)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def ask() -> OfflineError:
        api = ApiClient(f"http://127.0.0.1:{port}")
        try:
            await guarded(api.info())
        except OfflineError as error:
            return error
        finally:
            await api.aclose()
        raise AssertionError("a dead port answered")

    refused = qloop.run_until_complete(ask())
    assert problem_text(refused) == f"Сервер недоступен: 127.0.0.1:{port}: соединение отклонено"
    assert all(
        problem_text(OfflineError(f"h: {r}")) != f"Сервер недоступен: h: {r}" for r in NET_REASONS
    )
    odd = OfflineError("h: [Errno 99] Cannot assign requested address")
    assert problem_text(odd) == "Сервер недоступен: h: [Errno 99] Cannot assign requested address"


def test_a_refused_field_is_named_and_its_problem_said_in_russian(russian: None) -> None:
    from operator_app.protocol.models import CloseRequest, TemplateIn, TemplateScope

    with pytest.raises(ActionError) as long_resolution:
        build(CloseRequest, resolution="я" * 2001)
    assert problem_text(long_resolution.value) == "Проверьте поле «Итог»: не больше 2000 символов"
    with pytest.raises(ActionError) as spaced:
        build(TemplateIn, scope=TemplateScope.PERSONAL, shortcut="до ставка", title="t", body="b")
    assert problem_text(spaced.value) == (
        "Проверьте поле «Сокращение»: только буквы, цифры, «_» и «-»"
    )
    unknown = FieldProblem("body", "value_error", words="Value error, odd")
    odd = ActionError(ErrorCode.VALIDATION_ERROR, "invalid request", unknown)
    assert problem_text(odd) == "Проверьте поле «Текст»: Value error, odd"  # the validator's
    nameless = ActionError(ErrorCode.VALIDATION_ERROR, "empty message", FieldProblem("", "x"))
    assert problem_text(nameless) == "empty message"


def test_a_servers_refused_field_is_said_in_russian(
    russian: None, qloop: asyncio.AbstractEventLoop
) -> None:
    from operator_app.protocol.models import DialogScope, TransferRequest

    async def refuse(url: str) -> ActionError:
        api = ApiClient(url)
        try:
            await api.login("anna", "demo")
            mine = await api.dialogs(DialogScope.MINE)
            # past the client's own check, as an older client or another one would send it
            body = TransferRequest.model_construct(comment="я" * 2001)
            await guarded(api.transfer(mine.items[0].id, body))
        except ActionError as error:
            return error
        finally:
            await api.aclose()
        raise AssertionError("the server took a comment over its limit")

    with EmbeddedServer(demo=True, simulate_rate=0.0) as server:
        refused = qloop.run_until_complete(refuse(server.url))
    assert refused.problem is not None
    assert (refused.problem.field, refused.problem.kind) == ("comment", "string_too_long")
    assert refused.problem.limit == 2000
    assert problem_text(refused) == "Проверьте поле «Комментарий»: не больше 2000 символов"
