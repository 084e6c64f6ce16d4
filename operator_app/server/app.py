"""The FastAPI application: REST routes, error bodies for every refusal, size limits."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from operator_app import __version__
from operator_app.protocol import MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, routes
from operator_app.protocol import models as m
from operator_app.protocol.errors import ErrorBody, ErrorCode
from operator_app.protocol.limits import (
    FIELD_LIMIT_KEYS,
    MAX_REQUEST_BYTES,
    MAX_UPLOAD_BYTES,
    PAGE_LIMIT_MAX,
)

from . import attachments, inbound, supervision, templates, ws
from .access import Caller
from .errors import ApiError, aware, http_status
from .service import Backend
from .simulator import Simulator

log = logging.getLogger(__name__)


def error_response(code: ErrorCode, message: str, **details: Any) -> JSONResponse:
    body = ErrorBody(code=code, message=message, details=details)
    headers = {"WWW-Authenticate": "Bearer"} if code == ErrorCode.UNAUTHORIZED else None
    return JSONResponse(
        body.model_dump(mode="json"), status_code=http_status(code), headers=headers
    )


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """One refused field for a 422's ``details.errors``: where, pydantic's words, and its
    kind and limit, from which a client words it in its operator's language."""
    found: dict[str, Any] = {
        "loc": [str(part) for part in error.get("loc", ())],
        "msg": str(error.get("msg", "")),
        "type": str(error.get("type", "")),
    }
    ctx = error.get("ctx") or {}
    limit = next((ctx[key] for key in FIELD_LIMIT_KEYS if key in ctx), None)
    if isinstance(limit, int | float | str):
        found["limit"] = limit
    return found


def create_app(backend: Backend, *, simulator: Simulator | None = None) -> FastAPI:
    m.build_validators()  # the wire models defer their validators; the server needs them all

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        backend.attach(asyncio.get_running_loop())
        looking = asyncio.create_task(backend.watch_foreign(), name="foreign-events")
        if simulator is not None:
            simulator.start()
        try:
            yield
        finally:
            looking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await looking
            if simulator is not None:
                await simulator.stop()

    app = FastAPI(title="Operator desk server", version=__version__, lifespan=lifespan)
    app.state.backend = backend
    _install_error_handlers(app)
    _add_auth_routes(app, backend)
    _add_dialog_routes(app, backend)
    _add_other_routes(app, backend)
    supervision.add_routes(app, backend)
    app.add_middleware(BodySizeLimit)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.code, exc.message, **exc.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            ErrorCode.VALIDATION_ERROR,
            "invalid request",
            errors=[_field_error(e) for e in exc.errors()],
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: ErrorCode.UNAUTHORIZED,
            403: ErrorCode.FORBIDDEN,
            404: ErrorCode.NOT_FOUND,
            413: ErrorCode.PAYLOAD_TOO_LARGE,
        }.get(exc.status_code, ErrorCode.BAD_REQUEST)
        body = ErrorBody(code=code, message=str(exc.detail))
        return JSONResponse(body.model_dump(mode="json"), status_code=exc.status_code)

    @app.exception_handler(OverflowError)
    async def id_out_of_range(_request: Request, _exc: OverflowError) -> JSONResponse:
        # an id past the database's 64-bit integers names nothing that exists
        return error_response(ErrorCode.NOT_FOUND, "no such object: the id is out of range")

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return error_response(ErrorCode.INTERNAL, "internal server error")


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(ErrorCode.UNAUTHORIZED, "missing bearer token")
    return token.strip()


def current_caller(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Caller:
    backend: Backend = request.app.state.backend
    return backend.authenticate(bearer_token(authorization))


def client_address(request: Request) -> str:
    """Where a request comes from, for the failed-login rate limit."""
    return request.client.host if request.client else "?"


CallerDep = Annotated[Caller, Depends(current_caller)]


def admin_caller(caller: CallerDep) -> Caller:
    """The admin's routes refuse anyone else before their body is validated: a non-admin
    learns nothing about the fields from a 422. (The actions check it again: the console
    calls them without a route.)"""
    caller.require_admin()
    return caller


AdminDep = Annotated[Caller, Depends(admin_caller)]
SecretHeader = Annotated[str | None, Header(alias="X-Channel-Secret")]
Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)]


def _add_auth_routes(app: FastAPI, backend: Backend) -> None:

    @app.get(routes.INFO)
    def info() -> m.ServerInfo:
        return m.ServerInfo(
            server_version=__version__,
            protocol_version=PROTOCOL_VERSION,
            min_protocol_version=MIN_PROTOCOL_VERSION,
        )

    @app.post(routes.LOGIN)
    def login(body: m.LoginRequest, request: Request) -> m.LoginResponse:
        return backend.login(body, client_address(request))

    @app.post(routes.LOGOUT, status_code=204)
    def logout(caller: CallerDep) -> Response:
        backend.logout(caller)
        return Response(status_code=204)

    @app.get(routes.ME)
    def me(caller: CallerDep) -> m.Operator:
        return backend.me(caller)

    @app.put(routes.MY_STATUS)
    def my_status(body: m.StatusRequest, caller: CallerDep) -> m.Operator:
        return backend.set_status(caller, caller.id, body.status)

    @app.put(routes.MY_PASSWORD, status_code=204)
    def my_password(body: m.PasswordChange, caller: CallerDep, request: Request) -> Response:
        backend.change_password(caller, body, client_address(request))
        return Response(status_code=204)

    @app.get(routes.OPERATORS)
    def operators(caller: CallerDep) -> list[m.Operator]:
        return backend.list_operators(caller)

    @app.post(routes.OPERATORS, status_code=201)
    def create_operator(body: m.OperatorCreate, caller: AdminDep) -> m.Operator:
        return backend.create_operator(caller, body)

    @app.put(routes.OPERATOR_STATUS)
    def operator_status(operator_id: int, body: m.StatusRequest, caller: CallerDep) -> m.Operator:
        return backend.set_status(caller, operator_id, body.status)

    @app.put(routes.OPERATOR_CAPACITY)
    def operator_capacity(
        operator_id: int, body: m.CapacityRequest, caller: CallerDep
    ) -> m.Operator:
        return backend.set_capacity(caller, operator_id, body.capacity)

    @app.put(routes.OPERATOR_ENABLED)
    def operator_enabled(operator_id: int, body: m.EnabledRequest, caller: AdminDep) -> m.Operator:
        return backend.set_enabled(caller, operator_id, body.enabled)

    @app.put(routes.OPERATOR_PASSWORD, status_code=204)
    def operator_password(operator_id: int, body: m.PasswordReset, caller: AdminDep) -> Response:
        backend.reset_password(caller, operator_id, body)
        return Response(status_code=204)

    @app.put(routes.OPERATOR_QUEUES)
    def operator_queues(operator_id: int, body: m.QueueAssignment, caller: AdminDep) -> m.Operator:
        return backend.set_queues(caller, operator_id, body)

    @app.get(routes.QUEUES)
    def queues(caller: CallerDep) -> list[m.Queue]:
        return backend.list_queues(caller)


def _add_dialog_routes(app: FastAPI, backend: Backend) -> None:

    @app.get(routes.DIALOGS)
    def dialogs(
        caller: CallerDep,
        scope: m.DialogScope = m.DialogScope.ALL_VISIBLE,
        cursor: str | None = None,
        limit: Limit = 100,
        updated_since: datetime | None = None,
        day_start: datetime | None = None,
    ) -> m.Page[m.Dialog]:
        if updated_since is not None:
            aware(updated_since, "updated_since")
        return backend.list_dialogs(caller, scope, cursor, limit, updated_since, day_start)

    @app.get(routes.DIALOG)
    def dialog(dialog_id: int, caller: CallerDep) -> m.Dialog:
        return backend.get_dialog(caller, dialog_id)

    @app.get(routes.MESSAGES)
    def messages(
        dialog_id: int,
        caller: CallerDep,
        before_id: int | None = None,
        after_id: int | None = None,
        limit: Limit = 50,
    ) -> m.Page[m.Message]:
        return backend.list_messages(caller, dialog_id, before_id, after_id, limit)

    @app.post(routes.MESSAGES)
    def send(
        dialog_id: int, body: m.SendMessageRequest, caller: CallerDep
    ) -> m.SendMessageResponse:
        return backend.send(caller, dialog_id, body)

    @app.post(routes.TAKE)
    def take(dialog_id: int, caller: CallerDep) -> m.Dialog:
        return backend.take(caller, dialog_id)

    @app.post(routes.TRANSFER)
    def transfer(dialog_id: int, body: m.TransferRequest, caller: CallerDep) -> m.Dialog:
        return backend.transfer(caller, dialog_id, body)

    @app.post(routes.CLOSE)
    def close(dialog_id: int, body: m.CloseRequest, caller: CallerDep) -> m.Dialog:
        return backend.close(caller, dialog_id, body)

    @app.put(routes.TAGS)
    def tags(dialog_id: int, body: m.TagsRequest, caller: CallerDep) -> m.Dialog:
        return backend.set_tags(caller, dialog_id, body)

    @app.post(routes.TYPING, status_code=204)
    def typing(dialog_id: int, body: m.TypingRequest, caller: CallerDep) -> Response:
        backend.operator_typing(caller, dialog_id, body.on)
        return Response(status_code=204)


def _add_other_routes(app: FastAPI, backend: Backend) -> None:

    @app.get(routes.CONTACT)
    def contact(contact_id: int, caller: CallerDep) -> m.ContactCard:
        return backend.contact_card(caller, contact_id)

    @app.get(routes.TEMPLATES)
    def list_templates(caller: CallerDep) -> list[m.Template]:
        return templates.list_for(backend, caller)

    @app.post(routes.TEMPLATES, status_code=201)
    def create_template(body: m.TemplateIn, caller: CallerDep) -> m.Template:
        return templates.create(backend, caller, body)

    @app.put(routes.TEMPLATE)
    def replace_template(template_id: int, body: m.TemplateIn, caller: CallerDep) -> m.Template:
        return templates.replace(backend, caller, template_id, body)

    @app.delete(routes.TEMPLATE, status_code=204)
    def delete_template(template_id: int, caller: CallerDep) -> Response:
        templates.remove(backend, caller, template_id)
        return Response(status_code=204)

    @app.post(routes.ATTACHMENTS, status_code=201)
    def upload(file: UploadFile, caller: CallerDep) -> m.Attachment:
        data = file.file.read(MAX_UPLOAD_BYTES + 1)
        return attachments.store(backend, caller, file.filename or "", file.content_type, data)

    @app.get(routes.ATTACHMENT)
    def download(attachment_id: int, caller: CallerDep) -> Response:
        data, headers = attachments.load(backend, caller, attachment_id)
        return Response(content=data, headers=headers, media_type=headers["Content-Type"])

    @app.post(routes.INBOUND)
    async def inbound_message(
        channel: m.Channel, body: m.InboundMessage, secret: SecretHeader = None
    ) -> m.InboundAccepted:
        # on the loop: the secret comes from memory, the write from the group writer
        inbound.check_secret(backend, channel, secret)
        return await inbound.accept_message_async(backend, channel, body)

    @app.post(routes.INBOUND_TYPING, status_code=204)
    def inbound_typing(
        channel: m.Channel, body: m.InboundTyping, secret: SecretHeader = None
    ) -> Response:
        inbound.check_secret(backend, channel, secret)
        inbound.customer_typing(backend, channel, body.address, body.on)
        return Response(status_code=204)

    @app.post(routes.INBOUND_RATING)
    def inbound_rating(
        channel: m.Channel, body: m.InboundRating, secret: SecretHeader = None
    ) -> m.Dialog:
        inbound.check_secret(backend, channel, secret)
        return inbound.record_rating(backend, channel, body)


def create_asgi_app(backend: Backend, *, simulator: Simulator | None = None) -> ASGIApp:
    """What the server runs: the FastAPI app behind the lean routes of figure 7."""
    return LeanRoutes(create_app(backend, simulator=simulator), backend)


_INBOUND_HEAD, _INBOUND_TAIL = routes.INBOUND.split("{channel}")
_JSON_HEADERS = [(b"content-type", b"application/json")]


class LeanRoutes:
    """The two hot routes of figure 7 without the framework: customers' messages
    (``POST /channels/{channel}/inbound``) and the staff's websocket (``ws.serve``).

    FastAPI's request cycle (its middleware stack, dependency solving, response validation)
    cost more than the message's whole write. A well-formed JSON post is answered here with
    the same checks in the same order (body, then secret) and the same answers; anything
    else (not JSON, an unknown channel, a body the model refuses, over the size limit) goes
    to the FastAPI app with its body replayed, which answers exactly as it always did.
    """

    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == routes.WS:
            await ws.serve(self.backend, scope, receive, send)
            return
        channel = _inbound_channel(scope)
        if channel is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = bool(message.get("more_body", False))
            if size > MAX_REQUEST_BYTES:
                break
        body = b"".join(chunks)
        parsed = None if more or size > MAX_REQUEST_BYTES else _inbound_body(body)
        if parsed is None:  # the framework refuses it, as before
            await self.app(scope, _replaying(body, more, receive), send)
            return
        try:
            inbound.check_secret(self.backend, channel, _header(scope, b"x-channel-secret"))
            accepted = await inbound.accept_message_async(self.backend, channel, parsed)
        except ApiError as exc:
            await _send_response(send, error_response(exc.code, exc.message, **exc.details))
            return
        except Exception:
            log.exception("unhandled error")
            await _send_response(send, error_response(ErrorCode.INTERNAL, "internal server error"))
            return
        payload = accepted.model_dump_json().encode()
        length = (b"content-length", str(len(payload)).encode())
        await _send_bytes(send, 200, [length, *_JSON_HEADERS], payload)


def _inbound_channel(scope: Scope) -> m.Channel | None:
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    if not (path.startswith(_INBOUND_HEAD) and path.endswith(_INBOUND_TAIL)):
        return None
    name = path[len(_INBOUND_HEAD) : len(path) - len(_INBOUND_TAIL)]
    if name not in _CHANNELS:
        return None
    content_type = _header(scope, b"content-type") or ""
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        return None
    return _CHANNELS[name]


_CHANNELS = {c.value: c for c in m.Channel}


def _inbound_body(body: bytes) -> m.InboundMessage | None:
    try:
        data = json.loads(body)  # as FastAPI parses it, then validated as the route's model
        return m.InboundMessage.model_validate(data) if isinstance(data, dict) else None
    except (ValueError, ValidationError):
        return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _replaying(body: bytes, more: bool, receive: Receive) -> Receive:
    """The body read so far, then whatever the client still sends."""
    pending = [{"type": "http.request", "body": body, "more_body": more}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


async def _send_response(send: Send, response: JSONResponse) -> None:
    await _send_bytes(send, response.status_code, response.raw_headers, bytes(response.body))


async def _send_bytes(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuses bodies over the protocol limits with 413 payload_too_large, streamed or not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (
            MAX_UPLOAD_BYTES + 64 * 1024
            if scope["path"] == routes.ATTACHMENTS
            else MAX_REQUEST_BYTES
        )
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        seen = 0
        exceeded = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def replacing_send(message: Message) -> None:
            # the framework turns our exception into its own 400: answer 413 instead
            nonlocal replaced
            if not exceeded:
                await send(message)
            elif not replaced:
                replaced = True
                await _too_large(limit)(scope, receive, send)

        try:
            await self.app(scope, counting_receive, replacing_send)
        except _TooLarge:
            if not replaced:
                await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> JSONResponse:
    return error_response(
        ErrorCode.PAYLOAD_TOO_LARGE, f"request body over {limit} bytes", limit=limit
    )
