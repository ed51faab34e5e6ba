"""XMPP over WebSocket, the way Jitsi's web client talks to Prosody: the engine of `jitsictl smoke`.

Importing this package is cheap (standard library only); `websockets` is imported when a client
connects.
"""
from .client import WebSocketXmppClient
from .errors import (MucJoinError, XmppAuthError, XmppConnectError, XmppDisconnected, XmppError,
                     XmppStanzaError, XmppTimeout)

__all__ = ["WebSocketXmppClient", "XmppError", "XmppConnectError", "XmppAuthError", "XmppTimeout",
           "XmppStanzaError", "MucJoinError", "XmppDisconnected"]
