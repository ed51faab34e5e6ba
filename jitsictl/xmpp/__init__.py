"""XMPP over WebSocket, the way Jitsi's web client talks to Prosody: the engine of `jitsictl smoke`.

Importing this package costs nothing worth measuring: the client (asyncio) loads on first use of
`WebSocketXmppClient`, and `websockets` only when a client connects.
"""
from .errors import (MucJoinError, XmppAuthError, XmppConnectError, XmppDisconnected, XmppError,
                     XmppStanzaError, XmppTimeout)

__all__ = ["WebSocketXmppClient", "XmppError", "XmppConnectError", "XmppAuthError", "XmppTimeout",
           "XmppStanzaError", "MucJoinError", "XmppDisconnected"]


def __getattr__(name: str):
    if name == "WebSocketXmppClient":
        from .client import WebSocketXmppClient

        return WebSocketXmppClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
