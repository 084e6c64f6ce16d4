"""The contract checker itself must refuse what Chatwoot's document does not allow."""

from __future__ import annotations

import pytest

from .contract import ContractViolation, load_contract

MESSAGES = "/api/v1/accounts/1/conversations/5/messages"
AUTH = {"api_access_token": "t"}


def test_refuses_unknown_routes_params_bodies_and_answers() -> None:
    contract = load_contract()
    with pytest.raises(ContractViolation, match="not in Chatwoot"):
        contract.check_request("GET", "/api/v1/accounts/1/dialogs", {}, None, AUTH)
    with pytest.raises(ContractViolation, match="unknown query"):
        contract.check_request("GET", MESSAGES, {"limit": "5"}, None, AUTH)
    with pytest.raises(ContractViolation, match="api_access_token"):
        contract.check_request("GET", MESSAGES, {}, None, {})
    with pytest.raises(ContractViolation, match="request"):
        contract.check_request("POST", MESSAGES, {}, {"text": "no content"}, AUTH)
    with pytest.raises(ContractViolation, match="response"):
        contract.check_response("GET", MESSAGES, 200, {"payload": [{"id": "seven"}]})
    contract.check_request("POST", MESSAGES, {}, {"content": "hi", "echo_id": "e"}, AUTH)
    contract.check_response("GET", MESSAGES, 200, {"payload": [{"id": 7, "message_type": 1}]})
