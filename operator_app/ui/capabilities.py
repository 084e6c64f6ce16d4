"""What the connected backend cannot do, with the reason translated for tooltips.

``DeskService.unsupported()`` gives English reasons (net and core are Qt-free); the same texts
are marked here with ``N_`` so the translation files carry them and ``tr`` finds them.
"""

from __future__ import annotations

from operator_app.core.service import DeskService

from .i18n import N_, tr

REASONS = (
    N_("Chatwoot has no queue position."),
    N_("Chatwoot has no transfer comment: it is saved as a private note."),
    N_("Set your availability in Chatwoot itself."),
    N_("Chatwoot canned responses are shared by the whole account."),
    N_("Chatwoot's API takes no files from this app: attachments cannot be sent."),
    N_("Use Chatwoot's own reports."),
    N_("This server reopens a closed dialog when the customer writes again."),
    N_("You sign in to Chatwoot with an access token: change your password in Chatwoot itself."),
    N_("Manage the agents in Chatwoot itself."),
)


def unsupported(service: DeskService) -> dict[str, str]:
    """Feature name -> why it is missing, in the UI language."""
    return {name: tr(why) for name, why in service.unsupported().items()}


def why_not(service: DeskService, feature: str) -> str | None:
    """The translated reason ``feature`` is missing, or None when the backend has it."""
    return unsupported(service).get(feature)
