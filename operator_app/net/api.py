"""The REST client: one ``httpx.AsyncClient``, answers decoded into protocol models.

Every failure becomes a ``NetError`` subclass (see errors.py); nothing httpx-specific leaks out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from operator_app import __version__
from operator_app.protocol import PROTOCOL_VERSION, compatible, routes
from operator_app.protocol.enums import DialogScope, ErrorCode, OperatorStatus
from operator_app.protocol.limits import MAX_REQUEST_BYTES, MAX_UPLOAD_BYTES, PAGE_LIMIT_MAX

from .errors import ApiError, IncompatibleServer, NetError, ServerUnreachable, TlsFailure
from .tls import TIMED_OUT, Verify, describe_network_error, tls_context, tls_failure_from

if TYPE_CHECKING:
    # pydantic and the wire models load at the first request or answer (imported in the
    # functions below, a dictionary lookup after the first time): building the client is on
    # the app's start path, before the first paint, and needs neither (~70 ms).
    import httpx
    from pydantic import TypeAdapter, ValidationError

    from operator_app.protocol.errors import ErrorBody
    from operator_app.protocol.models import (
        Attachment,
        CapacityRequest,
        CloseRequest,
        ContactCard,
        Dialog,
        EnabledRequest,
        LoginResponse,
        Message,
        Operator,
        OperatorCreate,
        Page,
        PasswordChange,
        PasswordReset,
        Queue,
        QueueAssignment,
        SendMessageRequest,
        SendMessageResponse,
        ServerInfo,
        StatusRequest,
        Template,
        TemplateIn,
        TransferRequest,
        WireModel,
    )
    from operator_app.protocol.reports import Board, Report, WhisperRequest

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound="WireModel")

CLIENT_NAME = f"operator-desk/{__version__}"
UPLOAD_FIELD = "file"  # the multipart field name of POST routes.ATTACHMENTS
_DOWNLOAD_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileSource:
    """An attachment's download: URL, headers, and whether redirects are followed (never with
    a token: a redirect to another host would carry it there)."""

    url: str
    headers: dict[str, str]
    follow_redirects: bool = False


# What our server cannot do, with the reason the UI shows (see DeskService.unsupported)
REOPEN_UNSUPPORTED = "This server reopens a closed dialog when the customer writes again."
OWN_SERVER_GAPS = {"reopen": REOPEN_UNSUPPORTED}

# Statuses whose meaning is clear even when the body is not an ErrorBody (a proxy's HTML page).
_STATUS_CODES = {
    401: ErrorCode.UNAUTHORIZED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    429: ErrorCode.RATE_LIMITED,
}

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(kind: type[T]) -> TypeAdapter[T]:
    from pydantic import TypeAdapter

    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    adapter: TypeAdapter[T] = _ADAPTERS[kind]
    return adapter


def local_refusal(code: ErrorCode, message: str, **details: Any) -> ApiError:
    """An ``ApiError`` raised before anything was sent: the server would refuse it the same way."""
    status = 413 if code is ErrorCode.PAYLOAD_TOO_LARGE else 422
    return ApiError(status, code, message, {"local": True, **details})


class ApiClient:
    """Typed access to every REST route of ``operator_app.protocol.routes``.

    ``verify`` is an ``ssl.SSLContext``, a CA bundle path, True (system CAs) or False.
    ``require_tls`` refuses a plain ``http://`` base URL, so an https profile never downgrades.
    ``transport`` replaces the network (tests pass ``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        verify: Verify = True,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        require_tls: bool = False,
    ) -> None:
        scheme = urlsplit(base_url).scheme
        if scheme not in ("http", "https") or not urlsplit(base_url).hostname:
            raise ValueError(f"the server address must start with http(s)://: {base_url!r}")
        if require_tls and scheme != "https":
            raise TlsFailure(f"this profile requires TLS but the address is not https: {base_url}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.ssl_context: ssl.SSLContext | None = tls_context(verify) if scheme == "https" else None
        self._host = urlsplit(base_url).netloc
        self._transport = transport
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None

    @property
    def _client(self) -> httpx.AsyncClient:
        """The httpx client, built at the first request: importing httpx costs ~100-170 ms,
        which the app spends after its window has painted from the cache."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                verify=self.ssl_context or True,
                transport=self._transport,
                timeout=self._timeout,
                headers={"User-Agent": CLIENT_NAME},
            )
        return self._http

    # ---- session ---------------------------------------------------------------------------

    async def info(self) -> ServerInfo:
        """The server's versions; raises ``IncompatibleServer`` if it cannot speak ours."""
        from operator_app.protocol.models import ServerInfo

        info = await self._get(routes.INFO, ServerInfo)
        if not info.min_protocol_version <= PROTOCOL_VERSION <= info.protocol_version:
            raise IncompatibleServer(
                f"the server {info.server_version} speaks protocol {info.min_protocol_version}"
                f"..{info.protocol_version}, this app {PROTOCOL_VERSION}",
                server_version=info.server_version,
                protocol_version=info.protocol_version,
            )
        return info

    async def login(self, login: str, password: str) -> LoginResponse:
        """Log in and keep the token for the next requests."""
        from operator_app.protocol.models import LoginRequest, LoginResponse

        body = _build(
            LoginRequest,
            login=login,
            password=password,
            protocol_version=PROTOCOL_VERSION,
            client_name=CLIENT_NAME,
        )
        answer = await self._send("POST", routes.LOGIN, LoginResponse, body, auth=False)
        if not compatible(answer.protocol_version):
            raise IncompatibleServer(
                f"the server {answer.server_version} answered with protocol "
                f"{answer.protocol_version}, this app speaks {PROTOCOL_VERSION}",
                server_version=answer.server_version,
                protocol_version=answer.protocol_version,
            )
        self.token = answer.token
        return answer

    async def logout(self) -> None:
        """Revoke the token on the server; the local token is forgotten even if that fails."""
        try:
            await self._send_raw("POST", routes.LOGOUT)
        finally:
            self.token = None

    async def me(self) -> Operator:
        from operator_app.protocol.models import Operator

        return await self._get(routes.ME, Operator)

    async def set_my_status(self, status: OperatorStatus) -> Operator:
        from operator_app.protocol.models import Operator, StatusRequest

        return await self._send("PUT", routes.MY_STATUS, Operator, StatusRequest(status=status))

    async def change_password(self, body: PasswordChange) -> None:
        await self._send_raw("PUT", routes.MY_PASSWORD, body)

    # ---- directory -------------------------------------------------------------------------

    async def operators(self) -> list[Operator]:
        from operator_app.protocol.models import Operator

        return await self._get(routes.OPERATORS, list[Operator])

    async def queues(self) -> list[Queue]:
        from operator_app.protocol.models import Queue

        return await self._get(routes.QUEUES, list[Queue])

    # ---- dialogs ---------------------------------------------------------------------------

    async def dialogs(
        self,
        scope: DialogScope,
        *,
        cursor: str | None = None,
        limit: int = 100,
        updated_since: datetime | None = None,
        day_start: datetime | None = None,
    ) -> Page[Dialog]:
        """``day_start``: the operator's local midnight, where closed_today begins."""
        from operator_app.protocol.models import Dialog, Page

        params: dict[str, str | int] = {"scope": scope.value, "limit": _page_limit(limit)}
        if cursor is not None:
            params["cursor"] = cursor
        for name, moment in (("updated_since", updated_since), ("day_start", day_start)):
            if moment is not None:
                if moment.tzinfo is None:
                    raise ValueError(f"{name} must be timezone-aware")
                params[name] = moment.isoformat()
        return await self._get(routes.DIALOGS, Page[Dialog], params)

    async def dialog(self, dialog_id: int) -> Dialog:
        from operator_app.protocol.models import Dialog

        return await self._get(routes.DIALOG.format(dialog_id=dialog_id), Dialog)

    async def messages(
        self,
        dialog_id: int,
        *,
        before_id: int | None = None,
        after_id: int | None = None,
        limit: int = 50,
    ) -> Page[Message]:
        from operator_app.protocol.models import Message, Page

        if before_id is not None and after_id is not None:
            raise ValueError("pass before_id or after_id, not both")
        params: dict[str, str | int] = {"limit": _page_limit(limit)}
        if before_id is not None:
            params["before_id"] = before_id
        if after_id is not None:
            params["after_id"] = after_id
        path = routes.MESSAGES.format(dialog_id=dialog_id)
        return await self._get(path, Page[Message], params)

    async def send_message(self, dialog_id: int, body: SendMessageRequest) -> SendMessageResponse:
        from operator_app.protocol.models import SendMessageResponse

        path = routes.MESSAGES.format(dialog_id=dialog_id)
        return await self._send("POST", path, SendMessageResponse, body)

    async def take(self, dialog_id: int) -> Dialog:
        from operator_app.protocol.models import Dialog

        return await self._send("POST", routes.TAKE.format(dialog_id=dialog_id), Dialog)

    async def transfer(self, dialog_id: int, body: TransferRequest) -> Dialog:
        from operator_app.protocol.models import Dialog

        return await self._send("POST", routes.TRANSFER.format(dialog_id=dialog_id), Dialog, body)

    async def close_dialog(self, dialog_id: int, body: CloseRequest) -> Dialog:
        from operator_app.protocol.models import Dialog

        return await self._send("POST", routes.CLOSE.format(dialog_id=dialog_id), Dialog, body)

    async def reopen(self, dialog_id: int) -> Dialog:
        """Our server has no reopen route: a closed dialog reopens when the customer writes."""
        raise ApiError(422, ErrorCode.BAD_REQUEST, REOPEN_UNSUPPORTED, {"local": True})

    async def set_tags(self, dialog_id: int, tags: list[str]) -> Dialog:
        from operator_app.protocol.models import Dialog, TagsRequest

        body = _build(TagsRequest, tags=tags)
        return await self._send("PUT", routes.TAGS.format(dialog_id=dialog_id), Dialog, body)

    async def typing(self, dialog_id: int, on: bool) -> None:
        from operator_app.protocol.models import TypingRequest

        path = routes.TYPING.format(dialog_id=dialog_id)
        await self._send_raw("POST", path, TypingRequest(on=on))

    async def contact(self, contact_id: int) -> ContactCard:
        from operator_app.protocol.models import ContactCard

        return await self._get(routes.CONTACT.format(contact_id=contact_id), ContactCard)

    # ---- templates -------------------------------------------------------------------------

    async def templates(self) -> list[Template]:
        from operator_app.protocol.models import Template

        return await self._get(routes.TEMPLATES, list[Template])

    async def create_template(self, body: TemplateIn) -> Template:
        from operator_app.protocol.models import Template

        return await self._send("POST", routes.TEMPLATES, Template, body)

    async def update_template(self, template_id: int, body: TemplateIn) -> Template:
        from operator_app.protocol.models import Template

        path = routes.TEMPLATE.format(template_id=template_id)
        return await self._send("PUT", path, Template, body)

    async def delete_template(self, template_id: int) -> None:
        await self._send_raw("DELETE", routes.TEMPLATE.format(template_id=template_id))

    # ---- supervision -----------------------------------------------------------------------

    async def supervision_board(self, day_start: datetime) -> Board:
        """Queue and operator boards; ``day_start``: when "today" began for the supervisor."""
        from operator_app.protocol.reports import Board

        params: dict[str, str | int] = {"day_start": day_start.isoformat()}
        return await self._get(routes.SUPERVISION_BOARD, Board, params)

    async def report(self, params: dict[str, str | int]) -> Report:
        from operator_app.protocol.reports import Report

        return await self._get(routes.REPORTS, Report, params)

    async def set_operator_status(self, operator_id: int, body: StatusRequest) -> Operator:
        from operator_app.protocol.models import Operator

        path = routes.OPERATOR_STATUS.format(operator_id=operator_id)
        return await self._send("PUT", path, Operator, body)

    async def set_capacity(self, operator_id: int, body: CapacityRequest) -> Operator:
        from operator_app.protocol.models import Operator

        path = routes.OPERATOR_CAPACITY.format(operator_id=operator_id)
        return await self._send("PUT", path, Operator, body)

    async def set_enabled(self, operator_id: int, body: EnabledRequest) -> Operator:
        from operator_app.protocol.models import Operator

        path = routes.OPERATOR_ENABLED.format(operator_id=operator_id)
        return await self._send("PUT", path, Operator, body)

    async def create_operator(self, body: OperatorCreate) -> Operator:
        from operator_app.protocol.models import Operator

        return await self._send("POST", routes.OPERATORS, Operator, body)

    async def set_queues(self, operator_id: int, body: QueueAssignment) -> Operator:
        from operator_app.protocol.models import Operator

        path = routes.OPERATOR_QUEUES.format(operator_id=operator_id)
        return await self._send("PUT", path, Operator, body)

    async def reset_password(self, operator_id: int, body: PasswordReset) -> None:
        path = routes.OPERATOR_PASSWORD.format(operator_id=operator_id)
        await self._send_raw("PUT", path, body)

    async def whisper(self, dialog_id: int, body: WhisperRequest) -> Message:
        from operator_app.protocol.models import Message

        return await self._send("POST", routes.WHISPER.format(dialog_id=dialog_id), Message, body)

    # ---- attachments -----------------------------------------------------------------------

    async def upload(self, path: Path) -> Attachment:
        """Upload one file (multipart field ``file``). A missing file raises ``OSError``."""
        from operator_app.protocol.models import Attachment

        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise local_refusal(
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"{path.name} is {size} bytes, the limit is {MAX_UPLOAD_BYTES}",
                bytes=size,
                limit=MAX_UPLOAD_BYTES,
            )
        data = await asyncio.to_thread(path.read_bytes)
        import mimetypes  # at the first upload: the client is built before the first paint

        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        files = {UPLOAD_FIELD: (path.name, data, mime)}
        response = await self._request("POST", routes.ATTACHMENTS, files=files)
        return _decode(response, Attachment)

    async def download(
        self, attachment: Attachment, dest: Path, *, max_bytes: int = MAX_UPLOAD_BYTES
    ) -> Path:
        """Save an attachment to ``dest`` (a file, or a directory to put it in) and return the path.

        The name comes from the customer, so it is reduced to a safe file name. The file appears
        only when complete (written to ``.part`` first).
        """
        source = self._file_source(attachment.url)
        target = dest / safe_filename(attachment.name, attachment.id) if dest.is_dir() else dest
        partial = target.with_name(target.name + ".part")
        try:
            await self._stream_to(source, partial, max_bytes)
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
        return target

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    # ---- plumbing --------------------------------------------------------------------------

    async def _get(self, path: str, kind: type[T], params: dict[str, str | int] | None = None) -> T:
        response = await self._request("GET", path, params=params)
        return _decode(response, kind)

    async def _send(
        self,
        method: str,
        path: str,
        kind: type[T],
        body: WireModel | None = None,
        *,
        auth: bool = True,
    ) -> T:
        response = await self._send_raw(method, path, body, auth=auth)
        return _decode(response, kind)

    async def _send_raw(
        self, method: str, path: str, body: WireModel | None = None, *, auth: bool = True
    ) -> httpx.Response:
        content: bytes | None = None
        if body is not None:
            content = body.model_dump_json().encode()
            if len(content) > MAX_REQUEST_BYTES:
                raise local_refusal(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"the request is {len(content)} bytes, the limit is {MAX_REQUEST_BYTES}",
                    bytes=len(content),
                    limit=MAX_REQUEST_BYTES,
                )
        return await self._request(method, path, content=content, auth=auth)

    def _headers(self, *, auth: bool = True, json: bool = False) -> dict[str, str]:
        headers = {"Content-Type": "application/json"} if json else {}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        content: bytes | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        import httpx  # loaded by self._client already: a dictionary lookup here

        headers = self._headers(auth=auth, json=content is not None)
        try:
            response = await self._client.request(
                method, path, params=params, content=content, files=files, headers=headers
            )
        except httpx.HTTPError as exc:
            raise self._transport_failure(exc) from exc
        raise_for_refusal(response)
        return response

    def _file_source(self, url: str) -> FileSource:
        """Where an attachment is fetched from: our server only, with the token."""
        return FileSource(_same_origin_path(url), self._headers())

    async def _stream_to(self, source: FileSource, partial: Path, max_bytes: int) -> None:
        import httpx

        try:
            async with self._client.stream(
                "GET",
                source.url,
                headers=source.headers,
                follow_redirects=source.follow_redirects,
            ) as response:
                if not response.is_success:
                    await response.aread()
                    raise_for_refusal(response)
                received = 0
                with partial.open("wb") as out:
                    async for chunk in response.aiter_bytes(_DOWNLOAD_CHUNK):
                        received += len(chunk)
                        if received > max_bytes:
                            raise local_refusal(
                                ErrorCode.PAYLOAD_TOO_LARGE,
                                f"the attachment is larger than {max_bytes} bytes",
                                limit=max_bytes,
                            )
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise self._transport_failure(exc) from exc

    def _transport_failure(self, exc: httpx.HTTPError) -> NetError:
        import httpx

        tls = tls_failure_from(exc, self._host)
        if tls is not None:
            return tls
        if isinstance(exc, httpx.TimeoutException):
            return ServerUnreachable(f"{self._host}: {TIMED_OUT}")
        if isinstance(exc, httpx.DecodingError):
            return ApiError(0, ErrorCode.INTERNAL, f"the answer could not be decoded: {exc}")
        return ServerUnreachable(f"{self._host}: {describe_network_error(exc)}")


# ---- module helpers --------------------------------------------------------------------------


def raise_for_refusal(response: httpx.Response) -> None:
    """Raise the ``NetError`` an unsuccessful answer means; do nothing on 2xx."""
    if response.is_success:
        return
    status = response.status_code
    body = _error_body(response)
    if body is not None and body.code is ErrorCode.INCOMPATIBLE_PROTOCOL:
        raise IncompatibleServer(body.message)
    if status >= 500:
        message = body.message if body else f"server error {status}"
        raise ApiError(status, ErrorCode.INTERNAL, message, body.details if body else {})
    if body is not None:
        raise ApiError(status, body.code, body.message, body.details)
    code = _STATUS_CODES.get(status, ErrorCode.INTERNAL)
    raise ApiError(status, code, f"unexpected answer {status}: {_detail_text(response)}")


def _error_body(response: httpx.Response) -> ErrorBody | None:
    from pydantic import ValidationError

    from operator_app.protocol.errors import ErrorBody

    try:
        return ErrorBody.model_validate_json(response.content)
    except ValidationError:
        return None


def _detail_text(response: httpx.Response) -> str:
    """FastAPI's own ``{"detail": ...}`` when there is one, else the first characters."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    text = str(detail) if detail is not None else response.text
    return text[:200]


def _decode(response: httpx.Response, kind: type[T]) -> T:
    from pydantic import ValidationError

    try:
        return _adapter(kind).validate_json(response.content)
    except ValidationError as exc:
        raise ApiError(
            response.status_code,
            ErrorCode.INTERNAL,
            f"the server's answer does not match the protocol: {_first_error(exc)}",
        ) from exc


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def _build(model: type[M], **fields: Any) -> M:
    """Validate a request body locally so bad input fails clearly before anything is sent."""
    from pydantic import ValidationError

    try:
        return model(**fields)
    except ValidationError as exc:
        raise local_refusal(ErrorCode.VALIDATION_ERROR, _first_error(exc)) from exc


def _page_limit(limit: int) -> int:
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise ValueError(f"limit must be within 1..{PAGE_LIMIT_MAX}, not {limit}")
    return limit


def _same_origin_path(url: str) -> str:
    """Attachment URLs must stay on our server: the bearer token goes with the request."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/"):
        raise ApiError(
            0,
            ErrorCode.BAD_REQUEST,
            f"refusing an attachment URL outside the server: {url[:100]!r}",
            {"local": True},
        )
    return url


_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{port}{n}" for port in ("COM", "LPT") for n in range(1, 10)]
)


def safe_filename(name: str, attachment_id: int) -> str:
    """A file name that cannot leave its directory or hide: no separators, controls, dot-start."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_CHARS.sub("_", base).strip().lstrip(".").strip()[:120].rstrip(". ")
    if base.split(".", 1)[0].upper() in _WINDOWS_DEVICES:
        base = f"_{base}"
    return base or f"attachment-{attachment_id}"
