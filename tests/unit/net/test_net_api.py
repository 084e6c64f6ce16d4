"""ApiClient against httpx.MockTransport: requests it sends, answers and failures it maps."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from operator_app.net import (
    ApiClient,
    ApiError,
    IncompatibleServer,
    ServerUnreachable,
    TlsFailure,
    safe_filename,
)
from operator_app.protocol import PROTOCOL_VERSION, routes
from operator_app.protocol.errors import ErrorCode
from operator_app.protocol.limits import MAX_REQUEST_BYTES, MAX_UPLOAD_BYTES
from operator_app.protocol.models import (
    Attachment,
    Channel,
    Dialog,
    DialogScope,
    DialogState,
    Operator,
    OperatorStatus,
    Role,
    SendMessageRequest,
)

BASE = "http://desk.test"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
OPERATOR = Operator(
    id=7, login="anna", name="Anna", role=Role.OPERATOR, status=OperatorStatus.ONLINE
)
DIALOG = Dialog(
    id=3,
    channel=Channel.TELEGRAM,
    contact_id=1,
    contact_name="Ivan",
    queue_id=1,
    state=DialogState.WAITING,
    created_at=NOW,
    updated_at=NOW,
)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that records requests and answers from a function."""

    def __init__(self, answer: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer(request)

    def client(self, **kwargs: Any) -> ApiClient:
        return ApiClient(BASE, transport=httpx.MockTransport(self), **kwargs)


def json_answer(payload: Any, status: int = 200) -> Handler:
    return lambda request: httpx.Response(status, json=payload)


def error_answer(status: int, code: ErrorCode, message: str = "no") -> Handler:
    return json_answer({"code": code.value, "message": message, "details": {"x": 1}}, status)


def login_payload(protocol_version: int = PROTOCOL_VERSION) -> dict[str, Any]:
    return {
        "token": "tok-123",
        "expires_at": NOW.isoformat(),
        "operator": OPERATOR.model_dump(mode="json"),
        "protocol_version": protocol_version,
        "server_version": "9.9",
    }


@pytest.mark.asyncio
async def test_login_sends_protocol_version_and_uses_the_token_afterwards() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == routes.LOGIN:
            return httpx.Response(200, json=login_payload())
        return httpx.Response(200, json=OPERATOR.model_dump(mode="json"))

    recorder = Recorder(answer)
    api = recorder.client()
    response = await api.login("anna", "demo")
    me = await api.me()
    await api.aclose()

    assert response.operator.login == "anna" and api.token == "tok-123"
    sent = json.loads(recorder.requests[0].content)
    assert sent["protocol_version"] == PROTOCOL_VERSION and sent["password"] == "demo"
    assert "authorization" not in recorder.requests[0].headers
    assert recorder.requests[1].headers["authorization"] == "Bearer tok-123"
    assert me == OPERATOR


@pytest.mark.asyncio
async def test_wrong_password_is_a_permanent_api_error() -> None:
    api = Recorder(error_answer(401, ErrorCode.INVALID_CREDENTIALS, "wrong")).client()
    with pytest.raises(ApiError) as caught:
        await api.login("anna", "nope")
    await api.aclose()
    assert caught.value.status == 401
    assert caught.value.code is ErrorCode.INVALID_CREDENTIALS
    assert caught.value.message == "wrong" and caught.value.details == {"x": 1}
    assert caught.value.permanent and api.token is None


@pytest.mark.asyncio
async def test_empty_password_is_refused_locally() -> None:
    recorder = Recorder(json_answer(login_payload()))
    api = recorder.client()
    with pytest.raises(ApiError) as caught:
        await api.login("anna", "")
    await api.aclose()
    assert caught.value.code is ErrorCode.VALIDATION_ERROR and caught.value.details["local"]
    assert "password" in caught.value.message and recorder.requests == []


@pytest.mark.parametrize(
    ("status", "content", "code"),
    [
        (500, b"<html>oops</html>", ErrorCode.INTERNAL),
        (503, b'{"code": "conflict", "message": "busy"}', ErrorCode.INTERNAL),
        (404, b'{"detail": "Not Found"}', ErrorCode.INTERNAL),
        (413, b"<html>too big</html>", ErrorCode.PAYLOAD_TOO_LARGE),
        (429, b"slow down", ErrorCode.RATE_LIMITED),
        (401, b"", ErrorCode.UNAUTHORIZED),
        (302, b"", ErrorCode.INTERNAL),
    ],
)
@pytest.mark.asyncio
async def test_refusals_without_an_error_body_map_by_status(
    status: int, content: bytes, code: ErrorCode
) -> None:
    api = Recorder(lambda request: httpx.Response(status, content=content)).client()
    with pytest.raises(ApiError) as caught:
        await api.queues()
    await api.aclose()
    assert caught.value.status == status and caught.value.code is code
    assert not caught.value.permanent or code is ErrorCode.PAYLOAD_TOO_LARGE


@pytest.mark.asyncio
async def test_fastapi_detail_is_kept_in_the_message() -> None:
    api = Recorder(json_answer({"detail": "Not Found"}, 404)).client()
    with pytest.raises(ApiError, match="Not Found"):
        await api.dialog(1)
    await api.aclose()


@pytest.mark.asyncio
async def test_an_answer_that_breaks_the_protocol_is_internal_and_retryable() -> None:
    api = Recorder(json_answer({"id": "not a number"})).client()
    with pytest.raises(ApiError) as caught:
        await api.me()
    await api.aclose()
    assert caught.value.code is ErrorCode.INTERNAL and not caught.value.permanent
    assert "does not match the protocol" in caught.value.message


@pytest.mark.asyncio
async def test_incompatible_protocol_refusal_raises_incompatible_server() -> None:
    api = Recorder(error_answer(400, ErrorCode.INCOMPATIBLE_PROTOCOL, "too old")).client()
    with pytest.raises(IncompatibleServer, match="too old"):
        await api.login("anna", "demo")
    await api.aclose()


@pytest.mark.asyncio
async def test_login_answer_with_a_foreign_protocol_raises_incompatible_server() -> None:
    api = Recorder(json_answer(login_payload(protocol_version=PROTOCOL_VERSION + 5))).client()
    with pytest.raises(IncompatibleServer) as caught:
        await api.login("anna", "demo")
    await api.aclose()
    assert caught.value.server_version == "9.9" and api.token is None


@pytest.mark.asyncio
async def test_info_checks_the_supported_range() -> None:
    good = {"server_version": "1", "protocol_version": PROTOCOL_VERSION, "min_protocol_version": 1}
    api = Recorder(json_answer(good)).client()
    assert (await api.info()).server_version == "1"
    await api.aclose()
    newer = {**good, "protocol_version": 9, "min_protocol_version": PROTOCOL_VERSION + 1}
    api = Recorder(json_answer(newer)).client()
    with pytest.raises(IncompatibleServer):
        await api.info()
    await api.aclose()


@pytest.mark.asyncio
async def test_a_body_over_the_limit_is_refused_before_any_network_call() -> None:
    recorder = Recorder(json_answer({}))
    api = recorder.client()
    body = SendMessageRequest.model_construct(
        client_msg_id="abcdefgh", text="я" * MAX_REQUEST_BYTES, attachment_ids=[]
    )
    with pytest.raises(ApiError) as caught:
        await api.send_message(3, body)
    await api.aclose()
    assert caught.value.code is ErrorCode.PAYLOAD_TOO_LARGE and caught.value.permanent
    assert caught.value.details["local"] and recorder.requests == []


@pytest.mark.asyncio
async def test_dialogs_query_parameters() -> None:
    recorder = Recorder(
        json_answer({"items": [DIALOG.model_dump(mode="json")], "next_cursor": "c2"})
    )
    api = recorder.client()
    page = await api.dialogs(DialogScope.MINE, cursor="c1", limit=10, updated_since=NOW)
    with pytest.raises(ValueError, match="timezone"):
        await api.dialogs(DialogScope.MINE, updated_since=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="limit"):
        await api.dialogs(DialogScope.MINE, limit=0)
    with pytest.raises(ValueError, match="not both"):
        await api.messages(3, before_id=1, after_id=2)
    await api.aclose()

    assert page.items == [DIALOG] and page.next_cursor == "c2"
    params = recorder.requests[0].url.params
    assert params["scope"] == "mine" and params["cursor"] == "c1" and params["limit"] == "10"
    assert datetime.fromisoformat(params["updated_since"]) == NOW
    assert len(recorder.requests) == 1


@pytest.mark.asyncio
async def test_no_content_routes() -> None:
    recorder = Recorder(lambda request: httpx.Response(204))
    api = recorder.client(token="t")
    await api.typing(3, True)
    await api.delete_template(5)
    await api.logout()
    await api.aclose()
    methods = [(r.method, r.url.path) for r in recorder.requests]
    assert methods == [
        ("POST", routes.TYPING.format(dialog_id=3)),
        ("DELETE", routes.TEMPLATE.format(template_id=5)),
        ("POST", routes.LOGOUT),
    ]
    assert json.loads(recorder.requests[0].content) == {"on": True}
    assert api.token is None


@pytest.mark.asyncio
async def test_logout_forgets_the_token_even_when_the_server_is_gone() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api = Recorder(fail).client(token="t")
    with pytest.raises(ServerUnreachable):
        await api.logout()
    await api.aclose()
    assert api.token is None


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.asyncio
async def test_a_dead_port_is_server_unreachable() -> None:
    api = ApiClient(f"http://127.0.0.1:{dead_port()}", timeout=2)
    with pytest.raises(ServerUnreachable, match="connection refused"):
        await api.info()
    await api.aclose()


@pytest.mark.asyncio
async def test_timeouts_are_server_unreachable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    api = Recorder(slow).client()
    with pytest.raises(ServerUnreachable, match="timed out"):
        await api.queues()
    await api.aclose()


@pytest.mark.asyncio
async def test_certificate_errors_are_tls_failures() -> None:
    def untrusted(request: httpx.Request) -> httpx.Response:
        cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
        cause.verify_message = "unable to get local issuer certificate"
        raise httpx.ConnectError("tls", request=request) from cause

    api = Recorder(untrusted).client()
    with pytest.raises(TlsFailure, match="not trusted: unable to get local issuer"):
        await api.queues()
    await api.aclose()


def test_addresses_are_checked_when_the_client_is_made(tmp_path: Path) -> None:
    for bad in ("ftp://desk.test", "http://", "desk.test", "https:///path"):
        with pytest.raises(ValueError, match="http"):
            ApiClient(bad)
    with pytest.raises(TlsFailure, match="requires TLS"):
        ApiClient("http://desk.test", require_tls=True)
    with pytest.raises(TlsFailure, match="CA bundle"):
        ApiClient("https://desk.test", verify=str(tmp_path / "missing.pem"))


@pytest.mark.asyncio
async def test_upload_sends_multipart_and_refuses_huge_files(tmp_path: Path) -> None:
    attachment = {"id": 4, "name": "a.txt", "mime": "text/plain", "size": 5, "url": "/x/4"}
    recorder = Recorder(json_answer(attachment))
    api = recorder.client(token="t")
    small = tmp_path / "a.txt"
    small.write_bytes(b"hello")
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as out:
        out.truncate(MAX_UPLOAD_BYTES + 1)

    uploaded = await api.upload(small)
    with pytest.raises(ApiError) as caught:
        await api.upload(huge)
    await api.aclose()

    assert uploaded.id == 4 and len(recorder.requests) == 1
    body = recorder.requests[0].content
    assert b'name="file"; filename="a.txt"' in body and b"hello" in body
    assert caught.value.code is ErrorCode.PAYLOAD_TOO_LARGE


def attachment(url: str = "/api/v1/attachments/4", name: str = "../../etc/passwd") -> Attachment:
    return Attachment(id=4, name=name, mime="text/plain", size=5, url=url)


@pytest.mark.asyncio
async def test_download_keeps_a_hostile_name_inside_the_directory(tmp_path: Path) -> None:
    recorder = Recorder(lambda request: httpx.Response(200, content=b"hello"))
    api = recorder.client(token="t")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    saved = await api.download(attachment(), downloads)
    await api.aclose()
    assert saved == downloads / "passwd" and saved.read_bytes() == b"hello"
    assert recorder.requests[0].headers["authorization"] == "Bearer t"
    assert list(downloads.iterdir()) == [saved]


@pytest.mark.asyncio
async def test_download_refuses_urls_off_the_server(tmp_path: Path) -> None:
    recorder = Recorder(lambda request: httpx.Response(200, content=b"x"))
    api = recorder.client(token="t")
    for url in ("http://evil.test/steal", "//evil.test/steal", "relative/path"):
        with pytest.raises(ApiError, match="outside the server"):
            await api.download(attachment(url=url), tmp_path / "f")
    await api.aclose()
    assert recorder.requests == []


@pytest.mark.asyncio
async def test_download_failures_leave_no_file(tmp_path: Path) -> None:
    tmp_path = tmp_path / "downloads"
    tmp_path.mkdir()
    api = Recorder(lambda request: httpx.Response(200, content=b"x" * 100)).client()
    with pytest.raises(ApiError) as caught:
        await api.download(attachment(), tmp_path / "f", max_bytes=10)
    await api.aclose()
    assert caught.value.code is ErrorCode.PAYLOAD_TOO_LARGE
    missing = Recorder(error_answer(404, ErrorCode.NOT_FOUND)).client()
    with pytest.raises(ApiError) as caught:
        await missing.download(attachment(), tmp_path / "f")
    await missing.aclose()
    assert caught.value.code is ErrorCode.NOT_FOUND
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("..\\..\\win.ini", "win.ini"),
        ("...", "attachment-9"),
        (".bashrc", "bashrc"),
        ("a\x00b\nc:d", "a_b_c_d"),
        ("", "attachment-9"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name, 9) == expected


@pytest.mark.parametrize(
    ("cause", "reason"),
    [
        (ConnectionRefusedError(111, "refused"), "connection refused"),
        (ConnectionResetError(104, "reset"), "connection reset"),
        (socket.gaierror(-2, "Name or service not known"), "host not found"),
        (OSError(101, "Network is unreachable"), "network unreachable"),
        (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), "EOF occurred"),
    ],
)
@pytest.mark.asyncio
async def test_transport_failures_read_as_plain_reasons(cause: OSError, reason: str) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(str(cause), request=request) from cause

    api = Recorder(fail).client()
    with pytest.raises(ServerUnreachable, match=reason):  # an EOF mid-handshake is not TLS
        await api.queues()
    await api.aclose()
