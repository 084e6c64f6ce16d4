"""The dialog a ``message.created`` event carries is the dialog the REST API serves.

The write path builds that snapshot from rows it already holds (the customer's open dialog as
read plus what its update returned, the message just stored as the preview) instead of
reading them back; these tests hold it to the stored truth at each step of a dialog's life.
"""

from __future__ import annotations

from collections.abc import Callable

from operator_app.protocol import routes
from operator_app.server.embedded import EmbeddedServer
from operator_app.server.views import PREVIEW_CHARS
from tests.integration.server.conftest import SECRET
from tests.integration.server.server_helpers import Api, Json, Ws, customer_says

Login = Callable[..., Api]
LONG = "Добрый день! " + "очень подробное описание проблемы " * 8  # past the preview


def created(ws: Ws, dialog_id: int, text: str) -> Json:
    frame = ws.until(
        lambda f: (
            f["type"] == "event"
            and f["event"]["kind"] == "message.created"
            and f["event"]["message"]["dialog_id"] == dialog_id
            and f["event"]["message"]["text"] == text
        )
    )
    return dict(frame["event"]["dialog"])


def test_the_event_dialog_is_the_stored_dialog_through_a_conversation(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    sue = small_login("sue")  # supervises billing: sees every event of the dialog
    ws = Ws(small_server.url, sue.token)
    ws.handshake()

    def customer(text: str) -> Json:
        accepted = customer_says(
            small_server.url, "email", "client@example.com", text, secret=SECRET
        )
        return created(ws, int(accepted["dialog_id"]), text)

    first = customer(LONG)  # a new dialog, waiting in the queue
    dialog_id = int(first["id"])
    assert first == sue.dialog(dialog_id)
    assert first["waiting_since"] is not None and first["message_count"] == 1
    assert first["last_message"]["text"] == LONG[:PREVIEW_CHARS]

    again = customer("Алло?")  # the open dialog: its row as read, with the update's columns
    assert again == sue.dialog(dialog_id)
    assert again["message_count"] == 2 and again["waiting_since"] == first["waiting_since"]

    bob = small_login("bob")
    bob.ok("POST", routes.TAKE.format(dialog_id=dialog_id))
    bob.send(dialog_id, LONG + "ответ")
    answered = created(ws, dialog_id, LONG + "ответ")
    assert answered == sue.dialog(dialog_id)
    assert answered["waiting_since"] is None and answered["last_message"]["author"] == "operator"

    bob.send(dialog_id, "пометка для коллег", kind="comment")
    assert created(ws, dialog_id, "пометка для коллег") == sue.dialog(dialog_id)
    sue.send(dialog_id, "подсказка от супервизора", kind="comment")  # she takes part now
    joined = created(ws, dialog_id, "подсказка от супервизора")
    assert joined == sue.dialog(dialog_id) and joined["participant_ids"] == [sue.id]

    waiting_again = customer("Спасибо, а ещё вопрос")  # waits again from this message on
    assert waiting_again == sue.dialog(dialog_id)  # the participants as read for the audience
    assert waiting_again["participant_ids"] == [sue.id]
    assert waiting_again["waiting_since"] == waiting_again["last_message"]["created_at"]

    bob.ok("POST", routes.CLOSE.format(dialog_id=dialog_id), json={})
    reopened = customer("Вопрос не решён")  # closed a moment ago: the same dialog again
    assert reopened["id"] == dialog_id and reopened["state"] != "closed"
    assert reopened == sue.dialog(dialog_id)  # the participants as read before the reopening
    assert reopened["participant_ids"] == [sue.id]
    ws.close()


def test_a_nul_in_a_text_is_dropped_so_the_stored_dialog_and_its_event_agree(
    small_server: EmbeddedServer, small_login: Login
) -> None:
    """SQLite's substr() stops at a NUL (the REST preview ended there while the event's did
    not: found by the stateful test), PostgreSQL refuses to store one: nobody types it."""
    sue = small_login("sue")
    ws = Ws(small_server.url, sue.token)
    ws.handshake()
    accepted = customer_says(
        small_server.url, "email", "nul@example.com", "Заказ\x00 42\x00", secret=SECRET
    )
    dialog_id = int(accepted["dialog_id"])
    first = created(ws, dialog_id, "Заказ 42")
    assert first == sue.dialog(dialog_id) and first["last_message"]["text"] == "Заказ 42"

    bob = small_login("bob")
    bob.ok("POST", routes.TAKE.format(dialog_id=dialog_id))
    sent = bob.send(dialog_id, "\x00Проверяю\x00 заказ")
    assert sent["message"]["text"] == "Проверяю заказ"
    answered = created(ws, dialog_id, "Проверяю заказ")
    assert answered == sue.dialog(dialog_id)
    assert answered["last_message"]["text"] == "Проверяю заказ"
    ws.close()
