"""What a backend can do, so the UI can disable or hide the rest with a tooltip saying why."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Capabilities:
    queue_position: bool = True
    transfer_comment: bool = True  # False: the comment is stored as a private note instead
    set_own_status: bool = True
    personal_templates: bool = True
    attachments: bool = True
    reports: bool = True
    reopen: bool = True
    change_password: bool = True
    manage_staff: bool = True  # accounts' sign-in and passwords (admins)
    # feature name -> why it is missing (the tooltip text)
    reasons: dict[str, str] = field(default_factory=dict)


CAPABILITIES = Capabilities(
    queue_position=False,
    transfer_comment=False,
    set_own_status=False,
    personal_templates=False,
    attachments=False,
    reports=False,
    change_password=False,
    manage_staff=False,
    reasons={
        "queue_position": "Chatwoot has no queue position.",
        "transfer_comment": "Chatwoot has no transfer comment: it is saved as a private note.",
        "set_own_status": "Set your availability in Chatwoot itself.",
        "personal_templates": "Chatwoot canned responses are shared by the whole account.",
        "attachments": "Chatwoot's API takes no files from this app: attachments cannot be sent.",
        "reports": "Use Chatwoot's own reports.",
        "change_password": (
            "You sign in to Chatwoot with an access token: change your password in Chatwoot itself."
        ),
        "manage_staff": "Manage the agents in Chatwoot itself.",
    },
)
