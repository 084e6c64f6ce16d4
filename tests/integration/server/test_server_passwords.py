"""Passwords and sign-in: an operator's own change, an admin's reset, and the console's
set-password, disable-operator and enable-operator, against the real server on loopback."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from operator_app.protocol import PROTOCOL_VERSION, routes
from operator_app.protocol.errors import WS_CLOSE_REVOKED
from operator_app.server import schema as s
from operator_app.server.cli import main
from operator_app.server.embedded import EmbeddedServer
from tests.integration.server.conftest import SECRET
from tests.integration.server.server_helpers import (
    SMALL_PASSWORD,
    Api,
    Ws,
    customer_says,
    run_cli,
    signs_in,
)

Login = Callable[..., Api]
Socket = Callable[..., Ws]

NEW = "correct horse battery"


def change(current: str, new: str = NEW) -> dict[str, str]:
    return {"current_password": current, "new_password": new}


def reset_path(operator_id: int) -> str:
    return routes.OPERATOR_PASSWORD.format(operator_id=operator_id)


def still_open(ws: Ws) -> bool:
    ws.send({"type": "ping", "nonce": "still-there"})
    return bool(ws.until(lambda f: f["type"] == "pong")["nonce"] == "still-there")


def audit_details(server: EmbeddedServer, action: str) -> list[object]:
    assert server.backend is not None
    with server.backend.read() as conn:
        return list(
            conn.execute(
                select(s.audit_log.c.details).where(s.audit_log.c.action == action)
            ).scalars()
        )


# ---- PUT /me/password ------------------------------------------------------------------------


def test_changing_own_password_revokes_only_the_other_sessions(
    server: EmbeddedServer, login: Login, websocket: Socket
) -> None:
    anna, elsewhere = login("anna"), login("anna")
    mine, theirs = websocket(anna), websocket(elsewhere)
    mine.handshake()
    theirs.handshake()
    assert anna.ok("PUT", routes.MY_PASSWORD, json=change("demo")) is None  # 204
    assert theirs.close_code(timeout=1.0) == WS_CLOSE_REVOKED
    elsewhere.refused("GET", routes.ME, 401, "unauthorized")
    assert anna.ok("GET", routes.ME)["login"] == "anna"
    assert still_open(mine)
    assert not signs_in(server.url, "anna", "demo")
    assert signs_in(server.url, "anna", NEW)
    assert audit_details(server, "change_password") == [{}]  # never the password


def test_a_wrong_current_password_changes_nothing(
    server: EmbeddedServer, login: Login, websocket: Socket
) -> None:
    anna, elsewhere = login("anna"), login("anna")
    theirs = websocket(elsewhere)
    theirs.handshake()
    anna.refused("PUT", routes.MY_PASSWORD, 401, "invalid_credentials", json=change("not-demo"))
    assert elsewhere.ok("GET", routes.ME)["login"] == "anna"
    assert still_open(theirs)
    assert signs_in(server.url, "anna", "demo")
    assert not signs_in(server.url, "anna", NEW)


def test_wrong_current_passwords_count_as_failed_logins(login: Login) -> None:
    anna = login("anna")
    for _ in range(5):
        anna.refused("PUT", routes.MY_PASSWORD, 401, "invalid_credentials", json=change("guess"))
    body = anna.refused("PUT", routes.MY_PASSWORD, 429, "rate_limited", json=change("demo"))
    assert body["details"]["retry_after"] > 0


@pytest.mark.parametrize(
    ("body", "field", "kind"),
    [
        (change("demo", "short"), "new_password", "string_too_short"),
        (change("demo", "x" * 257), "new_password", "string_too_long"),
        (change("", NEW), "current_password", "string_too_short"),
        ({"new_password": NEW}, "current_password", "missing"),
    ],
)
def test_a_refused_password_field_is_named(
    server: EmbeddedServer, login: Login, body: dict[str, str], field: str, kind: str
) -> None:
    anna = login("anna")
    refused = anna.refused("PUT", routes.MY_PASSWORD, 422, "validation_error", json=body)
    [error] = refused["details"]["errors"]
    assert error["loc"] == ["body", field] and error["type"] == kind
    assert signs_in(server.url, "anna", "demo")


# ---- PUT /operators/{id}/password --------------------------------------------------------


def test_only_an_admin_resets_and_not_their_own(server: EmbeddedServer, login: Login) -> None:
    anna, olga, admin = login("anna"), login("olga"), login("admin", "admin")
    body = {"new_password": NEW}
    anna.refused("PUT", reset_path(olga.id), 403, "forbidden", json=body)
    olga.refused("PUT", reset_path(anna.id), 403, "forbidden", json=body)  # supervises her
    admin.refused("PUT", reset_path(admin.id), 409, "conflict", json=body)
    admin.refused("PUT", reset_path(999_999), 404, "not_found", json=body)
    refused = admin.refused(
        "PUT", reset_path(anna.id), 422, "validation_error", json={"new_password": "short"}
    )
    assert refused["details"]["errors"][0]["loc"] == ["body", "new_password"]
    assert signs_in(server.url, "anna", "demo") and signs_in(server.url, "admin", "admin")


def test_an_admin_reset_signs_the_operator_out_everywhere(
    server: EmbeddedServer, login: Login, websocket: Socket
) -> None:
    admin, boris = login("admin", "admin"), login("boris")
    ws = websocket(boris)
    ws.handshake()
    admin.ok("PUT", reset_path(boris.id), json={"new_password": NEW})
    assert ws.close_code(timeout=1.0) == WS_CLOSE_REVOKED
    boris.refused("GET", routes.ME, 401, "unauthorized")
    assert not signs_in(server.url, "boris", "demo")
    assert signs_in(server.url, "boris", NEW)
    operators = {o["login"]: o for o in admin.ok("GET", routes.OPERATORS)}
    assert operators["boris"]["status"] == "offline"  # nobody at that desk: no routing to it
    assert audit_details(server, "reset_password") == [{}]


# ---- the console -----------------------------------------------------------------------------


def test_console_set_password_revokes_the_sessions(
    small_world: str, small_server: EmbeddedServer, small_login: Login
) -> None:
    ann = small_login("ann")
    run_cli("set-password", "--db", small_world, "--login", "ann", "--password", NEW)
    ann.refused("GET", routes.ME, 401, "unauthorized")
    assert not signs_in(small_server.url, "ann", SMALL_PASSWORD)
    assert signs_in(small_server.url, "ann", NEW)


def test_console_set_password_asks_twice(
    small_world: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": answers.pop(0))
    answers[:] = [NEW, NEW + "!"]
    assert main(["set-password", "--db", small_world, "--login", "ann"]) == 2
    assert "differ" in capsys.readouterr().err
    answers[:] = ["short", "short"]
    assert main(["set-password", "--db", small_world, "--login", "ann"]) == 2
    assert "8 to 256 characters" in capsys.readouterr().err
    assert main(["set-password", "--db", small_world, "--login", "ann", "--password", "x"]) == 2
    answers[:] = [NEW, NEW]
    assert main(["set-password", "--db", small_world, "--login", "ann"]) == 0
    assert answers == []
    with EmbeddedServer(database_url=small_world, demo=False) as srv:
        assert signs_in(srv.url, "ann", NEW)


def test_console_disable_and_enable_operator(
    small_world: str, small_server: EmbeddedServer, small_login: Login
) -> None:
    ann, root = small_login("ann", online=True), small_login("root")
    accepted = customer_says(small_server.url, "webchat", "web-1", "Добрый день", secret=SECRET)
    dialog_id = int(accepted["dialog_id"])
    assert root.dialog(dialog_id)["assignee_id"] == ann.id
    run_cli("disable-operator", "--db", small_world, "--login", "ann")
    ann.refused("GET", routes.ME, 401, "unauthorized")
    stranger = Api(small_server.url)
    stranger.refused(
        "POST",
        routes.LOGIN,
        403,
        "account_disabled",
        json={"login": "ann", "password": SMALL_PASSWORD, "protocol_version": PROTOCOL_VERSION},
    )
    stranger.close()
    dialog = root.dialog(dialog_id)
    assert dialog["state"] == "waiting" and dialog["assignee_id"] is None
    operators = {o["login"]: o for o in root.ok("GET", routes.OPERATORS)}
    assert operators["ann"]["enabled"] is False and operators["ann"]["status"] == "offline"
    run_cli("enable-operator", "--db", small_world, "--login", "ann")
    assert signs_in(small_server.url, "ann", SMALL_PASSWORD)


@pytest.mark.parametrize(
    "command",
    [
        ["set-password", "--password", NEW],
        ["disable-operator"],
        ["enable-operator"],
    ],
)
def test_console_refuses_an_unknown_login(
    small_world: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--db", small_world, "--login", "nobody"]) == 2
    assert capsys.readouterr().err == "error: no operator with login 'nobody'\n"


def test_a_console_change_reaches_connected_desks_with_the_next_event(
    small_server: EmbeddedServer, small_world: str, small_login: Login
) -> None:
    """The console is another process: it cannot publish. The serving process publishes what
    it committed before its own next event, so no connected desk's cursor passes it."""
    root = small_login("root")
    desk = Ws(small_server.url, str(root.token))
    try:
        desk.handshake()
        run_cli("disable-operator", "--db", small_world, "--login", "ann")
        customer_says(small_server.url, "webchat", "web-9", "Здравствуйте", secret=SECRET)
        frames = [desk.until(lambda f: f.get("type") == "event")]
        while frames[-1]["event"]["kind"] != "message.created":
            frames.append(desk.until(lambda f: f.get("type") == "event"))
    finally:
        desk.close()
    cursors = [f["cursor"] for f in frames]
    assert cursors == list(range(cursors[0], cursors[0] + len(cursors)))  # none skipped
    ann = [
        f["event"]["operator"]
        for f in frames
        if f["event"]["kind"] == "operator.updated" and f["event"]["operator"]["login"] == "ann"
    ]
    assert ann and ann[-1]["enabled"] is False


def test_a_console_change_reaches_connected_desks_on_a_quiet_server(
    small_server: EmbeddedServer, small_world: str, small_login: Login
) -> None:
    """No event of the server's own follows: its periodic look at the head publishes what
    stayed unpublished a whole period after it was committed (``Backend.watch_foreign``)."""
    root = small_login("root")
    desk = Ws(small_server.url, str(root.token))
    try:
        desk.handshake()
        run_cli("disable-operator", "--db", small_world, "--login", "ann")
        ann = desk.until(
            lambda f: (
                f.get("type") == "event"
                and f["event"]["kind"] == "operator.updated"
                and f["event"]["operator"]["login"] == "ann"
            ),
            timeout=10.0,
        )
        assert ann["event"]["operator"]["enabled"] is False
        later = desk.quiet(2.5)  # one more look: nothing goes out twice
    finally:
        desk.close()
    assert ann["cursor"] not in [f.get("cursor") for f in later]


@pytest.mark.parametrize(
    "command", [["disable-operator"], ["set-password", "--password", NEW]], ids=["off", "pw"]
)
def test_a_console_revocation_ends_open_sessions_on_a_quiet_server(
    small_server: EmbeddedServer, small_world: str, small_login: Login, command: list[str]
) -> None:
    """The console cannot reach the serving process's websockets; the server ends them when
    it publishes the console's events, not at their token's expiry."""
    ann, bob = small_login("ann"), small_login("bob")
    anns, bobs = Ws(small_server.url, str(ann.token)), Ws(small_server.url, str(bob.token))
    try:
        anns.handshake()
        bobs.handshake()
        run_cli(*command, "--db", small_world, "--login", "ann")
        assert anns.close_code(timeout=10.0) == WS_CLOSE_REVOKED
        assert still_open(bobs)  # only the revoked operator's
    finally:
        anns.close()
        bobs.close()
