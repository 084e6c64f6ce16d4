"""Untrusted input never crashes the net layer: any answer, any frame, any file name."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operator_app.net import ApiClient, NetError, safe_filename
from operator_app.net.realtime import decode_or_skip
from operator_app.protocol.events import PongFrame, encode_frame

# a function-scoped fixture (caplog, the harness's) is reset per test, not per example: fine here
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(FUZZ, max_examples=60)  # a fresh loop and client per example cost ~30 ms
@given(
    status=st.integers(200, 599),
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.sampled_from(
            [b'{"code": "nope", "message": 1}', b'{"detail": [1, 2]}', b"[]", b"null", b'"x"']
        ),
    ),
)
def test_any_answer_becomes_a_value_or_a_net_error(status: int, body: bytes) -> None:
    async def call() -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
        api = ApiClient("http://desk.test", transport=transport)
        try:
            await api.me()
        except NetError:
            pass  # the only kind of failure allowed
        finally:
            await api.aclose()

    asyncio.run(call())


@pytest.mark.allow_warnings
@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_any_frame_is_decoded_or_skipped(raw: bytes | str) -> None:
    logging.getLogger("operator_app.net.realtime").disabled = True  # thousands of warnings
    try:
        frame = decode_or_skip(raw)
    finally:
        logging.getLogger("operator_app.net.realtime").disabled = False
    assert frame is None or frame.type in {
        "hello",
        "event",
        "ephemeral",
        "replay_done",
        "resync_required",
        "pong",
        "error",
    }


def test_a_valid_frame_still_decodes() -> None:
    assert decode_or_skip(encode_frame(PongFrame(nonce="n"))) == PongFrame(nonce="n")


@given(name=st.text(max_size=300), attachment_id=st.integers(1, 10**9))
def test_safe_filename_never_escapes_or_hides(name: str, attachment_id: int) -> None:
    safe = safe_filename(name, attachment_id)
    assert safe and len(safe) <= 120
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".") and safe not in {".", ".."}
    assert safe == safe.strip() and not safe.endswith(".")
    assert all(ord(ch) >= 32 and ch != "\x7f" for ch in safe)
