"""Server profiles: where to connect and as whom. Never holds a password or a token."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

ServerKind = Literal["operator-desk", "chatwoot"]
_KINDS: tuple[ServerKind, ...] = ("operator-desk", "chatwoot")


class ProfileError(ValueError):
    """A profile that cannot be used, with a message for the operator."""


@dataclass(frozen=True, slots=True)
class ServerProfile:
    name: str
    base_url: str
    kind: ServerKind = "operator-desk"
    login: str = ""
    ca_bundle: str | None = None  # a PEM file to trust besides the system store
    account_id: int | None = None  # Chatwoot only: the account under /api/v1/accounts/{id}

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProfileError(f"not an http(s) server address: {self.base_url!r}")
        if self.kind not in _KINDS:
            raise ProfileError(f"unknown server kind: {self.kind!r}")
        if self.account_id is not None and self.account_id <= 0:
            raise ProfileError(f"the account id must be positive, not {self.account_id}")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerProfile:
        return cls(
            name=str(data["name"]),
            base_url=str(data["base_url"]),
            kind=data.get("kind", "operator-desk"),
            login=str(data.get("login", "")),
            ca_bundle=data.get("ca_bundle") or None,
            account_id=_account_id(data.get("account_id")),
        )


def _account_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"the account id must be a number, not {value!r}") from exc
