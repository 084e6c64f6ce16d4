"""Whatever a Chatwoot server (or a proxy) sends, mapping ends in a model or a clear refusal."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from operator_app.net.chatwoot import mapping
from operator_app.net.chatwoot.api import _mapped
from operator_app.net.errors import ApiError

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
KEYS = [
    "id",
    "conversation_id",
    "message_type",
    "content",
    "created_at",
    "updated_at",
    "private",
    "sender_type",
    "sender_id",
    "sender",
    "echo_id",
    "attachments",
    "status",
    "labels",
    "meta",
    "inbox_id",
    "waiting_since",
    "messages",
    "last_non_activity_message",
    "name",
    "email",
    "phone_number",
    "role",
    "availability_status",
    "accounts",
    "short_code",
    "assignee_id",
]
payloads = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=10)
FUNCTIONS: list[Any] = [
    mapping.message,
    mapping.dialog,
    mapping.operator,
    mapping.queue,
    mapping.template,
    mapping.contact,
]


@settings(max_examples=300, deadline=None)
@given(payloads, st.sampled_from(FUNCTIONS))
@example({"id": 1, "conversation_id": 2, "created_at": float("inf")}, mapping.message)
@example({"id": float("nan"), "conversation_id": 2}, mapping.message)
@example({"id": 1e300, "conversation_id": 2}, mapping.message)
@example({"id": 1, "sender_type": "User", "sender_id": float("inf")}, mapping.message)
@example({"id": 3, "meta": {"sender": {"id": "x"}}, "updated_at": -1e20}, mapping.dialog)
def test_any_payload_maps_or_is_refused_clearly(payload: dict[str, Any], function: Any) -> None:
    try:
        _mapped(function, payload)
    except ApiError as exc:
        assert "unexpected Chatwoot answer" in exc.message
