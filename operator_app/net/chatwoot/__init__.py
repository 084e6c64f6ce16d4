"""The Chatwoot backend: REST (ChatwootApi), ActionCable (ChatwootRealtime) and the mapping.

See docs/chatwoot.md for what maps how and what Chatwoot cannot do (``CAPABILITIES``).
"""

from .api import ChatwootApi
from .capabilities import CAPABILITIES, Capabilities
from .realtime import ChatwootRealtime, cable_url_for

__all__ = ["CAPABILITIES", "Capabilities", "ChatwootApi", "ChatwootRealtime", "cable_url_for"]
