"""Supervisor endpoints over real HTTP against the real demo server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from operator_app.protocol import routes
from operator_app.protocol.reports import Board, Report
from operator_app.server.embedded import EmbeddedServer


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(demo=True, simulate_rate=0.0, reply_to_operators=False) as srv:
        yield srv


def client(server: EmbeddedServer, login: str, password: str = "demo") -> httpx.Client:
    http = httpx.Client(base_url=server.url, timeout=10)
    answer = http.post(
        routes.LOGIN, json={"login": login, "password": password, "protocol_version": 1}
    )
    answer.raise_for_status()
    http.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return http


@pytest.fixture
def olga(server: EmbeddedServer) -> Iterator[httpx.Client]:
    http = client(server, "olga")
    yield http
    http.close()


@pytest.fixture
def anna(server: EmbeddedServer) -> Iterator[httpx.Client]:
    http = client(server, "anna")
    yield http
    http.close()


def ids_by_login(http: httpx.Client) -> dict[str, int]:
    return {o["login"]: o["id"] for o in http.get(routes.OPERATORS).json()}


def week() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"since": (now - timedelta(days=30)).isoformat(), "until": now.isoformat()}


def test_operator_is_refused_403_on_every_supervisor_call(
    anna: httpx.Client, olga: httpx.Client
) -> None:
    people = ids_by_login(olga)
    active = [d for d in anna.get(routes.DIALOGS, params={"scope": "mine"}).json()["items"]]
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", routes.SUPERVISION_BOARD, {}),
        ("GET", routes.REPORTS, {"params": week()}),
        ("POST", routes.WHISPER.format(dialog_id=active[0]["id"]), {"json": {"text": "hi"}}),
        (
            "PUT",
            routes.OPERATOR_STATUS.format(operator_id=people["boris"]),
            {"json": {"status": "away"}},
        ),
        (
            "PUT",
            routes.OPERATOR_CAPACITY.format(operator_id=people["boris"]),
            {"json": {"capacity": 1}},
        ),
    ]
    for method, path, extra in calls:
        answer = anna.request(method, path, **extra)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["code"] == "forbidden"
    # and nothing changed for boris
    boris = next(o for o in olga.get(routes.OPERATORS).json() if o["login"] == "boris")
    assert boris["capacity"] != 1


def test_unauthenticated_board_is_401(server: EmbeddedServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        assert http.get(routes.SUPERVISION_BOARD).status_code == 401


def test_board_counts_the_demo_queues_and_operators(olga: httpx.Client) -> None:
    board = Board.model_validate(olga.get(routes.SUPERVISION_BOARD).json())
    dialogs = olga.get(routes.DIALOGS, params={"scope": "supervised", "limit": 500}).json()
    working = [d for d in dialogs["items"] if d["state"] != "closed"]
    assert {q.name for q in board.queues} >= {"Продажи", "Поддержка"}
    for row in board.queues:
        mine = [d for d in working if d["queue_id"] == row.queue_id]
        assert row.waiting == sum(d["state"] == "waiting" for d in mine)
        assert row.active == sum(d["state"] == "active" for d in mine)
        if row.waiting:
            assert row.longest_wait_seconds > 0
        assert 0 <= row.operators_online <= row.operators_total
    anna = next(o for o in board.operators if o.login == "anna")
    assert anna.load == len(anna.active_dialog_ids) == 4
    assert anna.handled_today >= 0
    assert anna.capacity == 5


def test_board_sees_a_customer_waiting_past_the_sla(olga: httpx.Client) -> None:
    board = Board.model_validate(olga.get(routes.SUPERVISION_BOARD).json())
    late = [d for q in board.queues for d in q.over_sla_dialog_ids]
    # the demo world has customers waiting for minutes, queues' SLA is a minute or so
    assert late, board.queues
    assert sum(q.over_sla for q in board.queues) == len(late)


def test_report_buckets_and_filters(olga: httpx.Client) -> None:
    params = week() | {"bucket": "day"}
    report = Report.model_validate(olga.get(routes.REPORTS, params=params).json())
    assert len(report.rows) == 30
    assert sum(r.dialogs for r in report.rows) == report.totals.dialogs > 0
    assert sum(report.rating_counts) == report.totals.ratings > 0
    assert report.totals.first_response_median is not None
    assert report.totals.first_response_p90 is not None
    assert report.totals.first_response_p90 >= report.totals.first_response_median
    hourly = Report.model_validate(
        olga.get(routes.REPORTS, params=week() | {"bucket": "hour"}).json()
    )
    assert len(hourly.rows) == 30 * 24
    assert hourly.totals.dialogs == report.totals.dialogs

    people = ids_by_login(olga)
    only_anna = Report.model_validate(
        olga.get(routes.REPORTS, params=params | {"operator_id": people["anna"]}).json()
    )
    assert 0 < only_anna.totals.dialogs < report.totals.dialogs
    queues = olga.get(routes.QUEUES).json()
    per_queue = [
        Report.model_validate(
            olga.get(routes.REPORTS, params=params | {"queue_id": q["id"]}).json()
        ).totals.dialogs
        for q in queues
    ]
    assert sum(per_queue) == report.totals.dialogs


def test_report_refuses_bad_ranges_clearly(olga: httpx.Client) -> None:
    now = datetime.now(UTC)
    backwards = {"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()}
    too_long = {"since": (now - timedelta(days=400)).isoformat(), "until": now.isoformat()}
    naive = {"since": "2026-01-01T00:00:00", "until": "2026-01-02T00:00:00"}
    for params in (backwards, too_long, naive, {"since": "soon", "until": "later"}):
        answer = olga.get(routes.REPORTS, params=params)
        assert answer.status_code == 422, params
        assert answer.json()["code"] == "validation_error"


def test_whisper_reaches_the_assignee_as_a_comment(olga: httpx.Client, anna: httpx.Client) -> None:
    dialog = anna.get(routes.DIALOGS, params={"scope": "mine"}).json()["items"][0]
    answer = olga.post(
        routes.WHISPER.format(dialog_id=dialog["id"]), json={"text": "Предложите скидку"}
    )
    assert answer.status_code == 201, answer.text
    message = answer.json()
    assert message["kind"] == "comment"
    assert message["text"] == "@Анна Смирнова: Предложите скидку" or message["text"].endswith(
        ": Предложите скидку"
    )
    seen = anna.get(routes.MESSAGES.format(dialog_id=dialog["id"])).json()["items"]
    assert seen[-1]["id"] == message["id"]
    # the supervisor did not join the dialog as a participant
    assert (
        ids_by_login(olga)["olga"]
        not in anna.get(routes.DIALOG.format(dialog_id=dialog["id"])).json()["participant_ids"]
    )


def test_whisper_refusals(olga: httpx.Client) -> None:
    waiting = olga.get(routes.DIALOGS, params={"scope": "waiting"}).json()["items"][0]
    nobody = olga.post(routes.WHISPER.format(dialog_id=waiting["id"]), json={"text": "x"})
    assert nobody.status_code == 409 and nobody.json()["code"] == "conflict"
    empty = olga.post(routes.WHISPER.format(dialog_id=waiting["id"]), json={"text": ""})
    assert empty.status_code == 422
    missing = olga.post(routes.WHISPER.format(dialog_id=999999), json={"text": "x"})
    assert missing.status_code == 404


def test_supervisor_forces_status_and_capacity(olga: httpx.Client) -> None:
    people = ids_by_login(olga)
    path = routes.OPERATOR_CAPACITY.format(operator_id=people["elena"])
    assert olga.put(path, json={"capacity": 7}).json()["capacity"] == 7
    assert olga.put(path, json={"capacity": -1}).status_code == 422
    status = routes.OPERATOR_STATUS.format(operator_id=people["elena"])
    assert olga.put(status, json={"status": "away"}).json()["status"] == "away"
    board = Board.model_validate(olga.get(routes.SUPERVISION_BOARD).json())
    elena = next(o for o in board.operators if o.login == "elena")
    assert (elena.status, elena.capacity) == ("away", 7)
    olga.put(status, json={"status": "online"})
