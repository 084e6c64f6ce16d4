"""Chatwoot's OpenAPI document as a checker: every request and response in the tests goes
through ``Contract.check_request`` / ``check_response`` (jsonschema, draft 2020-12)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]  # no stubs in the test extras
import pytest

REPO = Path(__file__).resolve().parents[3]
SWAGGER = REPO.parent / "shared" / "contracts" / "chatwoot" / "swagger.json"
MISSING = "shared/contracts/chatwoot/swagger.json not found"


class ContractViolation(AssertionError):
    pass


@dataclass(frozen=True)
class Operation:
    template: str
    method: str
    spec: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._routes: list[tuple[re.Pattern[str], str]] = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$"), template)
            for template in document["paths"]
        ]
        self.checked = 0

    def operation(self, method: str, path: str) -> Operation:
        for pattern, template in self._routes:
            item = self.document["paths"][template]
            if pattern.match(path) and method.lower() in item:
                spec = item[method.lower()]
                params = tuple(self._deref(p) for p in item.get("parameters", []))
                params += tuple(self._deref(p) for p in spec.get("parameters", []))
                return Operation(template, method.upper(), spec, params)
        raise ContractViolation(f"{method} {path} is not in Chatwoot's API")

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        if not ref:
            return node
        target: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return dict(target)

    def _validate(self, schema: dict[str, Any], instance: Any, what: str) -> None:
        full = {**schema, "components": self.document["components"]}
        errors = sorted(
            jsonschema.Draft202012Validator(full).iter_errors(instance), key=lambda e: e.path
        )
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path)
            raise ContractViolation(f"{what}: {where}: {first.message}")
        self.checked += 1

    def check_request(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> None:
        operation = self.operation(method, path)
        names = {p["name"] for p in operation.parameters if p.get("in") == "query"}
        unknown = set(query) - names - {"labels[]"}
        if unknown:
            raise ContractViolation(f"{method} {path}: unknown query parameters {unknown}")
        for param in operation.parameters:
            if param.get("in") == "query" and param["name"] in query:
                value: Any = query[param["name"]]
                if param.get("schema", {}).get("type") == "integer":
                    value = int(value) if value.lstrip("-").isdigit() else value
                self._validate(param.get("schema", {}), value, f"{method} {path} ?{param['name']}")
        if operation.spec.get("security") and "api_access_token" not in headers:
            raise ContractViolation(f"{method} {path}: no api_access_token header")
        request_body = operation.spec.get("requestBody")
        if request_body is not None:
            schema = request_body["content"]["application/json"]["schema"]
            self._validate(schema, body, f"{method} {path} request")
        elif body is not None:
            raise ContractViolation(f"{method} {path} takes no body")

    def check_response(self, method: str, path: str, status: int, body: Any) -> None:
        operation = self.operation(method, path)
        answer = operation.spec["responses"].get(str(status))
        if answer is None:
            raise ContractViolation(f"{method} {path}: status {status} is not documented")
        content = answer.get("content", {}).get("application/json")
        if content is None:
            return
        self._validate(content["schema"], body, f"{method} {path} {status} response")


@cache
def load_contract() -> Contract:
    if not SWAGGER.is_file():
        pytest.skip(MISSING)
    return Contract(json.loads(SWAGGER.read_text()))


FILE_STORAGE = "/rails/active_storage/"  # where Chatwoot's data_url points (ActiveStorage)


class CheckingTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport: checks what the adapter sends and what it receives."""

    def __init__(self, contract: Contract, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.contract = contract
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.requests: list[tuple[str, str, Any]] = []
        self.files: list[str] = []  # file storage paths fetched (redirects included)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path, query = request.url.path, dict(request.url.params)
        if path.startswith(FILE_STORAGE):  # a data_url: file storage, not the REST API
            assert "api_access_token" not in request.headers, "the token went to a file URL"
            self.files.append(path)
            return await self.inner.handle_async_request(request)
        body = json.loads(request.content) if request.content else None
        self.contract.check_request(request.method, path, query, body, dict(request.headers))
        self.requests.append((request.method, path, body))
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        if response.is_success or response.status_code in (401, 403, 404):
            data = json.loads(content) if content else None
            self.contract.check_response(request.method, path, response.status_code, data)
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
