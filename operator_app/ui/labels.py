"""Display names of protocol values, marked for translation."""

from __future__ import annotations

from operator_app.protocol.enums import Channel, OperatorStatus

from .i18n import N_

STATUS_LABELS = {
    OperatorStatus.ONLINE: N_("Online"),
    OperatorStatus.AWAY: N_("Away"),
    OperatorStatus.OFFLINE: N_("Offline"),
}

CHANNEL_LABELS = {
    Channel.WHATSAPP: "WhatsApp",
    Channel.TELEGRAM: "Telegram",
    Channel.VIBER: "Viber",
    Channel.VK: N_("VK"),
    Channel.WEBCHAT: N_("Web chat"),
    Channel.EMAIL: N_("E-mail"),
    Channel.EXTERNAL: N_("Other"),
}
