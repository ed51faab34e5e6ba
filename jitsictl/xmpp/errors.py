"""Errors of the XMPP client, each with a message a person can act on."""
from __future__ import annotations


class XmppError(Exception):
    """Base class: something went wrong talking XMPP."""


class XmppConnectError(XmppError):
    """The WebSocket could not be opened (refused, wrong path, HTTP error, not XMPP)."""


class XmppAuthError(XmppError):
    """SASL authentication failed (bad or expired token, wrong password, mechanism not offered)."""


class XmppTimeout(XmppError):
    """The server did not answer in time."""


class XmppStanzaError(XmppError):
    """The server answered a request with an error stanza."""

    def __init__(self, message: str, condition: str = "undefined-condition", text: str | None = None):
        super().__init__(message)
        self.condition = condition
        self.text = text


class MucJoinError(XmppStanzaError):
    """The MUC room refused the join (e.g. not-allowed, forbidden, conflict)."""


class XmppDisconnected(XmppError):
    """The connection closed while a request was waiting for its answer."""
