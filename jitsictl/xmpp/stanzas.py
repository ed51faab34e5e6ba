"""Building and reading the few XMPP stanzas a Jitsi web client exchanges (no network here).

Each WebSocket message carries one complete XML element (RFC 7395 §3.3.3), so a frame is parsed on
its own with ElementTree; element tags come back in Clark notation `{namespace}name`.
"""
from __future__ import annotations

import base64
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass

NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
NS_STREAMS = "http://etherx.jabber.org/streams"
NS_CLIENT = "jabber:client"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner"
NS_NICK = "http://jabber.org/protocol/nick"
NS_FOCUS = "http://jitsi.org/protocol/focus"


def q(namespace: str, name: str) -> str:
    """Clark notation, as ElementTree names parsed elements."""
    return f"{{{namespace}}}{name}"


def _serialize(element: ET.Element) -> str:
    # Over WebSocket every stanza is a document of its own and names jabber:client itself
    # (RFC 7395 §3.3.3); children in other namespaces carry their own default xmlns. Written by
    # hand because ElementTree would invent ns0: prefixes.
    return _write(element, parent_ns="")


def _write(element: ET.Element, parent_ns: str) -> str:
    tag = element.tag
    namespace, name = (tag[1:].split("}", 1) if tag.startswith("{") else (parent_ns or NS_CLIENT, tag))
    attrs = dict(element.attrib)
    text = [f"<{name}"]
    if namespace != parent_ns:
        text.append(f" xmlns={_quote(namespace)}")
    text += [f" {k}={_quote(v)}" for k, v in attrs.items()]
    children = list(element)
    if not children and not element.text:
        return "".join(text) + "/>"
    text.append(">")
    if element.text:
        text.append(_escape(element.text))
    for child in children:
        text.append(_write(child, namespace))
        if child.tail:
            text.append(_escape(child.tail))
    text.append(f"</{name}>")
    return "".join(text)


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote(value: str) -> str:
    return "'" + _escape(value).replace("'", "&apos;") + "'"


def new_id(prefix: str = "jc") -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def endpoint_id() -> str:
    """A random 8-hex-digit MUC resource, like the endpoint ids Jitsi's web client uses."""
    return secrets.token_hex(4)


# -- stream ------------------------------------------------------------------------------------
def open_frame(domain: str) -> str:
    return f"<open xmlns='{NS_FRAMING}' to={_quote(domain)} version='1.0'/>"


def close_frame() -> str:
    return f"<close xmlns='{NS_FRAMING}'/>"


def sasl_auth(mechanism: str, initial: bytes = b"") -> str:
    payload = base64.b64encode(initial).decode() if initial else "="
    return f"<auth xmlns='{NS_SASL}' mechanism={_quote(mechanism)}>{payload}</auth>"


def plain_credentials(user: str, password: str) -> bytes:
    return b"\0" + user.encode() + b"\0" + password.encode()


def bind_iq(stanza_id: str, resource: str | None = None) -> str:
    iq = ET.Element("iq", {"type": "set", "id": stanza_id})
    bind = ET.SubElement(iq, q(NS_BIND, "bind"))
    if resource:
        ET.SubElement(bind, q(NS_BIND, "resource")).text = resource
    return _serialize(iq)


def session_iq(stanza_id: str, domain: str) -> str:
    iq = ET.Element("iq", {"type": "set", "id": stanza_id, "to": domain})
    ET.SubElement(iq, q(NS_SESSION, "session"))
    return _serialize(iq)


# -- MUC ---------------------------------------------------------------------------------------
def muc_presence(occupant_jid: str, nick: str | None, join: bool) -> str:
    """Presence to `room@muc/resource`: with the MUC <x/> when joining, with <nick/> when named."""
    presence = ET.Element("presence", {"to": occupant_jid})
    if join:
        ET.SubElement(presence, q(NS_MUC, "x"))
    if nick is not None:
        ET.SubElement(presence, q(NS_NICK, "nick")).text = nick
    return _serialize(presence)


def unavailable_presence(occupant_jid: str) -> str:
    return _serialize(ET.Element("presence", {"to": occupant_jid, "type": "unavailable"}))


def kick_iq(stanza_id: str, room_jid: str, resource: str, reason: str | None = None) -> str:
    iq = ET.Element("iq", {"type": "set", "id": stanza_id, "to": room_jid})
    item = ET.SubElement(ET.SubElement(iq, q(NS_MUC_ADMIN, "query")), q(NS_MUC_ADMIN, "item"),
                         {"nick": resource, "role": "none"})
    if reason:
        ET.SubElement(item, q(NS_MUC_ADMIN, "reason")).text = reason
    return _serialize(iq)


def destroy_iq(stanza_id: str, room_jid: str, reason: str | None = None) -> str:
    iq = ET.Element("iq", {"type": "set", "id": stanza_id, "to": room_jid})
    destroy = ET.SubElement(ET.SubElement(iq, q(NS_MUC_OWNER, "query")), q(NS_MUC_OWNER, "destroy"))
    if reason:
        ET.SubElement(destroy, q(NS_MUC_OWNER, "reason")).text = reason
    return _serialize(iq)


def conference_iq(stanza_id: str, focus_jid: str, room_jid: str, machine_uid: str,
                  properties: dict[str, str] | None = None) -> str:
    """Jitsi's conference request to focus (lib-jitsi-meet moderator.js), sent before the MUC join."""
    iq = ET.Element("iq", {"type": "set", "id": stanza_id, "to": focus_jid})
    conference = ET.SubElement(iq, q(NS_FOCUS, "conference"), {"room": room_jid, "machine-uid": machine_uid})
    for name, value in (properties or {}).items():
        ET.SubElement(conference, q(NS_FOCUS, "property"), {"name": name, "value": value})
    return _serialize(iq)


# -- reading -----------------------------------------------------------------------------------
def parse(frame: str) -> ET.Element:
    return ET.fromstring(frame)


def local_name(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


@dataclass(frozen=True)
class StanzaError:
    """The <error/> of a stanza: its type, RFC 6120 condition and optional text."""
    type: str
    condition: str
    text: str | None

    def __str__(self) -> str:
        return self.condition + (f" ({self.text})" if self.text else "")


def stanza_error(element: ET.Element) -> StanzaError | None:
    error = element.find(q(NS_CLIENT, "error"))
    if error is None:
        error = element.find("error")
    if error is None:
        return None
    condition, text = "undefined-condition", None
    for child in error:
        if child.tag == q(NS_STANZAS, "text"):
            text = child.text
        elif child.tag.startswith("{" + NS_STANZAS + "}"):
            condition = local_name(child)
    return StanzaError(error.get("type", "cancel"), condition, text)


def sasl_failure_condition(element: ET.Element) -> str:
    parts = []
    for child in element:
        parts.append(child.text if local_name(child) == "text" and child.text else local_name(child))
    return ", ".join(p for p in parts if p) or "failure"


def stream_error_text(element: ET.Element) -> str:
    """`<stream:error>` as `condition (text)`."""
    condition, text = "undefined-condition", None
    for child in element:
        if local_name(child) == "text":
            text = child.text
        else:
            condition = local_name(child)
    return condition + (f" ({text})" if text else "")


def mechanisms(features: ET.Element) -> list[str]:
    found = features.find(q(NS_SASL, "mechanisms"))
    return [m.text for m in found.findall(q(NS_SASL, "mechanism"))] if found is not None else []


def nick_of(presence: ET.Element) -> str | None:
    nick = presence.find(q(NS_NICK, "nick"))
    return nick.text if nick is not None else None


def muc_status_codes(presence: ET.Element) -> set[int]:
    x = presence.find(q(NS_MUC_USER, "x"))
    if x is None:
        return set()
    return {int(s.get("code")) for s in x.findall(q(NS_MUC_USER, "status")) if (s.get("code") or "").isdigit()}


def muc_item(presence: ET.Element) -> dict[str, str]:
    x = presence.find(q(NS_MUC_USER, "x"))
    item = x.find(q(NS_MUC_USER, "item")) if x is not None else None
    return dict(item.attrib) if item is not None else {}
