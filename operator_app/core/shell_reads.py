"""Cache reads the workspace shell needs beyond DeskService: the cached client card at once
(before the network answers) and the tags and channels the dialog list can filter by.

Bounded, synchronous and Qt-free, like DeskService's own reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from operator_app.protocol.enums import Channel

from .service import DeskService

if TYPE_CHECKING:
    from operator_app.protocol.models import ContactCard

MAX_TAGS_LISTED = 200


def cached_contact_card(service: DeskService, contact_id: int) -> ContactCard | None:
    """The card as last fetched, or None when it was never fetched; never touches the network."""
    return service.cache.contact_card(contact_id)


def known_tags(service: DeskService) -> list[str]:
    """Tags of the cached dialogs, most used first, then alphabetically."""
    rows = service.cache.conn.execute(
        "SELECT t.value, count(*) AS uses FROM dialogs d, json_each(d.data, '$.tags') t "
        "WHERE t.type = 'text' GROUP BY t.value ORDER BY uses DESC, t.value LIMIT ?",
        (MAX_TAGS_LISTED,),
    )
    return [str(tag) for tag, _uses in rows]


def known_channels(service: DeskService) -> list[Channel]:
    """Channels of the cached dialogs, in the protocol's order."""
    rows = service.cache.conn.execute("SELECT DISTINCT channel FROM dialogs")
    present = {value for (value,) in rows}
    return [channel for channel in Channel if channel.value in present]
