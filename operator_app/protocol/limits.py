"""Size limits both sides enforce. The server refuses anything larger with ``payload_too_large``."""

MAX_MESSAGE_CHARS = 8192
MAX_COMMENT_CHARS = 2000
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_REQUEST_BYTES = 256 * 1024  # any JSON body
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # one attachment
MAX_WS_FRAME_BYTES = 64 * 1024  # one websocket frame, either way
PAGE_LIMIT_MAX = 500
MIN_PASSWORD_CHARS = 8  # a new password; signing in takes any stored one
MAX_PASSWORD_CHARS = 256
MAX_QUEUES_LISTED = 100  # an operator's queues in one request

# The keys of a validation error's context that hold the field's limit (pydantic's names):
# a server's 422 reports it as ``limit``, and the client reads it from its own checks too.
FIELD_LIMIT_KEYS = ("max_length", "min_length", "le", "ge", "lt", "gt", "pattern")
