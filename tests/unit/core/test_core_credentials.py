"""Credentials: per-server keyring service, refusal of fail/null/plaintext backends."""

from __future__ import annotations

from typing import ClassVar

import keyring
import pytest
from keyring.backends import chainer, fail, null

from operator_app.core.credentials import CredentialStore, service_name
from tests.helpers.keyring_backend import MemoryKeyring


def test_token_round_trip_under_a_service_per_server(test_keyring: MemoryKeyring) -> None:
    store = CredentialStore("https://desk.example/")
    assert store.available
    assert store.set_token("anna", "tok-1")
    assert store.get_token("anna") == "tok-1"
    assert test_keyring.secrets == {("operator-desk:https://desk.example", "anna"): "tok-1"}
    assert CredentialStore("https://other.example").get_token("anna") is None
    store.delete_token("anna")
    store.delete_token("anna")  # twice is fine
    assert store.get_token("anna") is None


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring()],  # type: ignore[no-untyped-call]  # keyring: unannotated
)
def test_no_keyring_is_reported_and_nothing_is_stored(
    backend: keyring.backend.KeyringBackend,
) -> None:
    store = CredentialStore("https://desk.example", backend=backend)
    assert not store.available
    assert not store.set_token("anna", "secret")
    assert store.get_token("anna") is None
    assert "password" in store.unavailable_reason()


def test_chainer_of_nothing_is_no_keyring() -> None:
    class EmptyChainer(chainer.ChainerBackend):
        backends: ClassVar[list[keyring.backend.KeyringBackend]] = []  # a headless box

    class FailChainer(chainer.ChainerBackend):
        backends: ClassVar[list[keyring.backend.KeyringBackend]] = [
            fail.Keyring()  # type: ignore[no-untyped-call]  # keyring: unannotated
        ]

    empty = EmptyChainer()  # type: ignore[no-untyped-call]  # keyring: unannotated
    failing = FailChainer()  # type: ignore[no-untyped-call]  # keyring: unannotated
    assert not CredentialStore("https://x.example", backend=empty).available
    assert not CredentialStore("https://x.example", backend=failing).available


def test_backend_name_is_reported() -> None:
    assert CredentialStore("https://x.example").backend_name


def test_service_name_strips_trailing_slash() -> None:
    assert service_name("http://127.0.0.1:8000/") == "operator-desk:http://127.0.0.1:8000"
