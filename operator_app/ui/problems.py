"""A refused action in the operator's language: the server writes its reasons in English.

A refusal whose code says it all gets the UI's own sentence; so does one of the server's
fixed sentences an operator can meet (a colleague took the dialog first, a template deleted
meanwhile); a refused field is named with its kind of problem; the core's local refusals are
marked here with ``N_`` so the translation files carry them; anything else is shown as the
server (or the validator) wrote it.
"""

from __future__ import annotations

from operator_app.core.errors import ActionError, FieldProblem, OfflineError
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
    ErrorCode.UNAUTHORIZED: N_("Your session has ended. Please sign in again."),
    # our server's not-found sentences say what is gone (below); a Chatwoot server's do not
    ErrorCode.NOT_FOUND: N_("It is not on the server (any more)."),
}

# The server's sentences (operator_app/server) for refusals whose code leaves the reason open
# (or serves two cases: at capacity is you, or the colleague you transfer to), as it writes
# them; they go before the code's sentence. tests/ui/test_problems.py reads the server's code
# and fails on a sentence that is neither here nor known to be one no operator meets.
SERVER_SENTENCES = {
    "the dialog is closed": BY_CODE[ErrorCode.DIALOG_CLOSED],
    "this dialog is not assigned to you": BY_CODE[ErrorCode.NOT_ASSIGNED],
    "you may not access this dialog": N_("This dialog is no longer available to you."),
    "you are at capacity": N_("You have no free slots: finish one of your dialogs first."),
    "the dialog is already assigned": N_("A colleague has already taken this dialog."),
    "the dialog is already assigned to this operator": N_(
        "The dialog is already with that operator."
    ),
    "nobody is assigned to this dialog": N_("Nobody is assigned to this dialog now."),
    "an admin cannot disable themselves": N_("You cannot disable your own account."),
    "the login is taken": N_("This login is taken: choose another."),
    "only a supervisor supervises queues": N_("Only a supervisor supervises queues."),
    "change your own password with PUT /api/v1/me/password": N_(
        "Change your own password from Account → Change password."
    ),
    "a message needs text or an attachment": N_("The message is empty."),
    "a whisper needs text": N_("The whisper is empty."),
    "the file is too large": N_("The file is too large for the server."),
    "the file is empty": N_("The file is empty."),
    "tags must be 1-40 characters": N_("A tag must be 1 to 40 characters long."),
    "unknown queue": N_("There is no such queue (any more)."),
    "dialog not found": N_("The dialog is not on the server (any more)."),
    "template not found": N_("The template was deleted meanwhile."),
    "operator not found": N_("There is no such operator (any more)."),
    "queue not found": N_("There is no such queue (any more)."),
    "contact not found": N_("The client's card is not on the server (any more)."),
    "attachment not found": N_("The file is not on the server (any more)."),
    "unknown attachment": N_("An attached file is not on the server (any more)."),
}

# The core's own refusals (core/service.py) and reasons (core/outbox.py): shown translated.
LOCAL = (
    N_("The message is empty."),
    N_("At most 10 attachments per message."),
    N_("There is no failed message to retry."),
    N_("An attached file cannot be read"),  # + ": file name"
)


# A refused field: its name and what is wrong with it, by the validator's kind of problem
# (core.errors.FieldProblem; pydantic's error types). Other kinds keep the validator's words.
FIELD_NAMES = {
    "text": N_("Text"),
    "comment": N_("Comment"),
    "resolution": N_("Resolution"),
    "tags": N_("Tags"),
    "shortcut": N_("Shortcut"),
    "title": N_("Title"),
    "category": N_("Category"),
    "body": N_("Text"),
    "capacity": N_("Capacity"),
}
FIELD_PROBLEMS = {
    "missing": N_("it must be filled in"),
    "string_too_short": N_("it must not be empty"),  # every minimum of ours is one character
    "string_too_long": N_("at most {limit} characters"),
    "too_long": N_("at most {limit} items"),
    "string_pattern_mismatch": N_("letters, digits, “_” and “-” only"),  # the shortcut's
    "less_than_equal": N_("at most {limit}"),
    "greater_than_equal": N_("at least {limit}"),
    "int_parsing": N_("a whole number is needed"),
}

# Why the server cannot be reached (net/tls.py, NETWORK_REASONS), as the net layer words it
# after the server's address ("host:port: connection refused").
NETWORK_REASONS = {
    "connection refused": N_("the connection was refused"),
    "connection reset": N_("the connection was reset"),
    "host not found": N_("the address is not found"),
    "timed out": N_("no answer in time"),
    "network unreachable": N_("the network is unreachable"),
}

# The core's notices (core/changes.py, NOTICE_SENTENCES), as it writes them.
NOTICES = (
    N_(
        "The local cache was damaged and has been rebuilt from the server; "
        "the old file was kept beside it."
    ),
    N_(
        "The local cache is damaged. It keeps working for now and will be rebuilt "
        "from the server at the next start."
    ),
    N_("Your session has ended. Please sign in again."),
    N_("The server was reset; the local cache is rebuilt."),
    N_(
        "No system keyring is available, so the password is not remembered: "
        "it will be asked at each start."
    ),
)


def notice_text(text: str) -> str:
    """A notice of the core in the operator's language (any other text as it is)."""
    return tr(text) if text in NOTICES else text


def reason_text(reason: str) -> str:
    """A kept reason (why a message was not sent) in the operator's language: one of the
    server's fixed sentences (only the sentence is kept, not the code), or one of the core's,
    perhaps followed by ": " and a detail (a file's name)."""
    phrase = SERVER_SENTENCES.get(reason)
    if phrase is not None:
        return tr(phrase)
    sentence, colon, detail = reason.partition(": ")
    return tr(sentence) + colon + detail if sentence in LOCAL else reason


def network_text(detail: str) -> str:
    """``host: reason`` with a known reason in the operator's language."""
    host, colon, reason = detail.rpartition(": ")
    phrase = NETWORK_REASONS.get(reason)
    return detail if phrase is None else host + colon + tr(phrase)


def field_text(problem: FieldProblem) -> str | None:
    """The refusal of a field in words, e.g. "Check the field “Title”: at most 120
    characters" (a kind of problem not known: the validator's words); None when it does not
    say which field."""
    if not problem.field:
        return None
    phrase = FIELD_PROBLEMS.get(problem.kind)
    said = tr(phrase).format(limit=problem.limit) if phrase is not None else problem.words
    name = FIELD_NAMES.get(problem.field.split(".")[0])
    field = tr(name) if name is not None else problem.field
    return tr("Check the field “{field}”: {problem}").format(field=field, problem=said)


def problem_text(error: ActionError | OfflineError) -> str:
    if isinstance(error, OfflineError):
        detail = str(error)
        if any(word in detail.lower() for word in ("tls", "ssl", "certificate")):
            return tr("Secure connection failed (TLS): {detail}").format(detail=detail)
        return tr("The server cannot be reached: {detail}").format(detail=network_text(detail))
    if error.problem is not None and (text := field_text(error.problem)) is not None:
        return text
    phrase = SERVER_SENTENCES.get(error.message) or BY_CODE.get(error.code)
    if phrase is not None:
        return tr(phrase)
    return tr(error.message) if error.message in LOCAL else error.message
