"""A refused action in the operator's language: the server writes its reasons in English.

A refusal whose code says it all gets the UI's own sentence; the core's local refusals are
marked here with ``N_`` so the translation files carry them; anything else (a validation
detail, say) is shown as the server wrote it.
"""

from __future__ import annotations

from operator_app.core.errors import ActionError, OfflineError
from operator_app.protocol.enums import ErrorCode

from .i18n import N_, tr

BY_CODE = {
    ErrorCode.DIALOG_CLOSED: N_("The dialog is closed."),
    ErrorCode.NOT_ASSIGNED: N_("This dialog is not assigned to you."),
    ErrorCode.OPERATOR_OFFLINE: N_("That operator is offline."),
    ErrorCode.OPERATOR_AT_CAPACITY: N_("That operator has no free slots."),
    ErrorCode.FORBIDDEN: N_("You are not allowed to do this."),
    ErrorCode.RATE_LIMITED: N_("Too many attempts. Wait a minute and try again."),
    ErrorCode.INTERNAL: N_("The server failed. Try again later."),
}

# The core's own refusals (core/service.py): shown translated.
LOCAL = (
    N_("The message is empty."),
    N_("At most 10 attachments per message."),
    N_("There is no failed message to retry."),
)


def problem_text(error: ActionError | OfflineError) -> str:
    if isinstance(error, OfflineError):
        detail = str(error)
        if any(word in detail.lower() for word in ("tls", "ssl", "certificate")):
            return tr("Secure connection failed (TLS): {detail}").format(detail=detail)
        return tr("The server cannot be reached: {detail}").format(detail=detail)
    phrase = BY_CODE.get(error.code)
    if phrase is not None:
        return tr(phrase)
    return tr(error.message) if error.message in LOCAL else error.message
