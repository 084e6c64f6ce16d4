"""Operator desk: desktop workstation for chat-center operators, and its shared backend."""

__version__ = "0.1.0"
APP_NAME = "Operator desk"
APP_ID = "operator-desk"
