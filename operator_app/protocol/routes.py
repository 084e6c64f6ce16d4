"""URL paths of the REST API and the websocket, relative to the server base URL."""

PREFIX = "/api/v1"

INFO = f"{PREFIX}/info"  # GET, no auth: ServerInfo
LOGIN = f"{PREFIX}/auth/login"  # POST LoginRequest -> LoginResponse
LOGOUT = f"{PREFIX}/auth/logout"  # POST, revokes the bearer token
ME = f"{PREFIX}/me"  # GET -> Operator
MY_STATUS = f"{PREFIX}/me/status"  # PUT StatusRequest -> Operator
# PUT PasswordChange -> 204. A wrong current password: invalid_credentials. The caller's other
# sessions are revoked; this one stays.
MY_PASSWORD = f"{PREFIX}/me/password"

# GET -> list[Operator]; POST OperatorCreate -> Operator, 201 (admin): a new account, published
# as operator.updated (and queue.updated for its queues). A login in use: conflict.
OPERATORS = f"{PREFIX}/operators"
OPERATOR_STATUS = f"{PREFIX}/operators/{{operator_id}}/status"  # PUT StatusRequest (supervisor)
OPERATOR_CAPACITY = f"{PREFIX}/operators/{{operator_id}}/capacity"  # PUT CapacityRequest
# PUT EnabledRequest -> Operator (admin). Disabling revokes tokens and closes websockets (4005).
OPERATOR_ENABLED = f"{PREFIX}/operators/{{operator_id}}/enabled"
# PUT PasswordReset -> 204 (admin; not for the caller, who uses MY_PASSWORD). Revokes every
# session of that operator and closes their websockets (4005): they sign in with the new one.
OPERATOR_PASSWORD = f"{PREFIX}/operators/{{operator_id}}/password"
# PUT QueueAssignment -> Operator (admin): replaces the queues the operator works in and
# supervises. Their open desks are sent resync_required: what they may see has changed.
OPERATOR_QUEUES = f"{PREFIX}/operators/{{operator_id}}/queues"
QUEUES = f"{PREFIX}/queues"  # GET -> list[Queue]

# GET ?scope=&cursor=&limit=&updated_since=&day_start= -> Page[Dialog]; day_start: the
#   caller's local midnight, where closed_today begins (UTC midnight when not given)
DIALOGS = f"{PREFIX}/dialogs"
DIALOG = f"{PREFIX}/dialogs/{{dialog_id}}"  # GET -> Dialog
# GET ?before_id=&after_id=&limit= -> Page[Message], items always oldest first.
#   before_id (or neither): the newest `limit` messages older than it; next_cursor is the
#   smallest id returned when older ones remain. after_id: the oldest `limit` newer than it;
#   next_cursor is the largest id returned when newer ones remain.
# POST SendMessageRequest -> SendMessageResponse
MESSAGES = f"{PREFIX}/dialogs/{{dialog_id}}/messages"
TAKE = f"{PREFIX}/dialogs/{{dialog_id}}/take"  # POST -> Dialog
TRANSFER = f"{PREFIX}/dialogs/{{dialog_id}}/transfer"  # POST TransferRequest -> Dialog
CLOSE = f"{PREFIX}/dialogs/{{dialog_id}}/close"  # POST CloseRequest -> Dialog
TAGS = f"{PREFIX}/dialogs/{{dialog_id}}/tags"  # PUT TagsRequest -> Dialog
TYPING = f"{PREFIX}/dialogs/{{dialog_id}}/typing"  # POST TypingRequest -> 204

CONTACT = f"{PREFIX}/contacts/{{contact_id}}"  # GET -> ContactCard

TEMPLATES = f"{PREFIX}/templates"  # GET -> list[Template]; POST TemplateIn -> Template
TEMPLATE = f"{PREFIX}/templates/{{template_id}}"  # PUT TemplateIn -> Template; DELETE -> 204

ATTACHMENTS = f"{PREFIX}/attachments"  # POST multipart file -> Attachment
ATTACHMENT = f"{PREFIX}/attachments/{{attachment_id}}"  # GET -> bytes

# GET ?queue_id=&operator_id=&since=&until=&bucket=hour|day (supervisor)
REPORTS = f"{PREFIX}/reports"  # -> reports.Report
# GET ?day_start= (supervisor) -> reports.Board: live queue and operator boards
SUPERVISION_BOARD = f"{PREFIX}/supervision/board"
# POST reports.WhisperRequest -> Message (supervisor): internal comment to the assignee
WHISPER = f"{PREFIX}/dialogs/{{dialog_id}}/whisper"

INBOUND = f"{PREFIX}/channels/{{channel}}/inbound"  # POST InboundMessage, header X-Channel-Secret
INBOUND_TYPING = f"{PREFIX}/channels/{{channel}}/typing"  # POST InboundTyping -> 204
INBOUND_RATING = f"{PREFIX}/channels/{{channel}}/rating"  # POST InboundRating

WS = f"{PREFIX}/ws"  # websocket, see events.py
