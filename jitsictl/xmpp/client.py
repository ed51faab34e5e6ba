"""An asyncio XMPP client over WebSocket (RFC 7395) that behaves like Jitsi's web client.

It connects to `wss?://host/xmpp-websocket?room=R&token=JWT`, logs in with SASL ANONYMOUS (the token
travels in the URL, as lib-jitsi-meet does) or PLAIN, binds a resource, asks focus for the
conference, and joins the MUC room under a random endpoint id with a `<nick>` display name.

    client = WebSocketXmppClient(url, domain="meet.jitsi")
    await client.connect()                                   # or connect(user=..., password=...)
    await client.conference_request("maths-3b@muc.meet.jitsi")
    occupant = await client.join("maths-3b@muc.meet.jitsi", nick="Alice")
    await client.send_presence("maths-3b@muc.meet.jitsi", nick="Alice Martin")   # rename
    await client.leave("maths-3b@muc.meet.jitsi")
    await client.close()                                     # or drop(): connection lost

Failures raise the exceptions of jitsictl.xmpp.errors with readable messages.
"""
from __future__ import annotations

import asyncio
import re
import secrets
import xml.etree.ElementTree as ET
from typing import Callable

from . import stanzas as s
from .errors import (MucJoinError, XmppAuthError, XmppConnectError, XmppDisconnected, XmppError,
                     XmppStanzaError, XmppTimeout)

Predicate = Callable[[ET.Element], bool]


def redact_token(url: str) -> str:
    """The URL without its token value, for messages: a JWT is a credential."""
    return re.sub(r"([?&]token=)[^&]*", r"\1…", url)


class WebSocketXmppClient:
    """One XMPP connection over WebSocket. Not thread-safe; use it from one asyncio loop."""

    def __init__(self, url: str, domain: str, *, timeout: float = 10.0, focus_jid: str | None = None):
        self.url = url
        self.safe_url = redact_token(url)
        self.domain = domain
        self.timeout = timeout
        self.focus_jid = focus_jid or f"focus.{domain}"
        self.jid: str | None = None
        self.rooms: dict[str, str] = {}          # room bare JID -> our occupant JID in it
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._waiters: list[tuple[Predicate, asyncio.Future]] = []
        self._listeners: list[Callable[[ET.Element], None]] = []
        self._closed = asyncio.Event()
        self._close_reason = "connection closed"
        self._server_said: str | None = None      # why the server ended the stream, if it said

    # -- connection ---------------------------------------------------------------------------
    async def connect(self, user: str | None = None, password: str | None = None,
                      resource: str | None = None) -> str:
        """Open the WebSocket, authenticate (PLAIN with user/password, else ANONYMOUS), bind.

        Returns the bound full JID.
        """
        import websockets  # deferred: keeps `jitsictl --help` free of this import
        from websockets.asyncio.client import connect as ws_connect

        try:
            self._ws = await ws_connect(self.url, subprotocols=["xmpp"], open_timeout=self.timeout,
                                        ping_interval=None, compression=None, proxy=None,
                                        max_size=2 ** 20)
        except ConnectionRefusedError:
            raise XmppConnectError(f"cannot connect to {self.safe_url}: connection refused "
                                   "(is the server running, and is the port right?)") from None
        except websockets.exceptions.InvalidStatus as exc:
            raise XmppConnectError(f"{self.safe_url} answered HTTP {exc.response.status_code} instead of opening "
                                   "a WebSocket: is this the XMPP WebSocket path (/xmpp-websocket)?") from None
        except websockets.exceptions.InvalidURI as exc:
            raise XmppConnectError(f"not a WebSocket URL: {exc.uri} (expected ws://host:port/xmpp-websocket)") from None
        except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as exc:
            raise XmppConnectError(f"cannot connect to {self.safe_url}: {exc or type(exc).__name__}") from None
        if self._ws.subprotocol != "xmpp":
            await self._ws.close()
            raise XmppConnectError(f"{self.safe_url} did not agree to speak XMPP (Sec-WebSocket-Protocol: xmpp)")
        self._reader = asyncio.create_task(self._read_loop())

        features = await self._open_stream()
        offered = s.mechanisms(features)
        mechanism = "PLAIN" if user is not None else "ANONYMOUS"
        if mechanism not in offered:
            await self.drop()
            hint = " (a token login needs ?token= in the URL and JWT authentication on the server)" \
                if mechanism == "ANONYMOUS" else ""
            raise XmppAuthError(f"{self.domain} does not offer SASL {mechanism}; it offers "
                                f"{', '.join(offered) or 'nothing'}{hint}")
        initial = s.plain_credentials(user, password or "") if user is not None else b""
        answer = await self._request(s.sasl_auth(mechanism, initial),
                                     lambda e: e.tag in (s.q(s.NS_SASL, "success"), s.q(s.NS_SASL, "failure")),
                                     f"SASL {mechanism}")
        if answer.tag == s.q(s.NS_SASL, "failure"):
            await self.drop()
            who = f"user {user!r}" if user is not None else "the token in the URL"
            raise XmppAuthError(f"authentication to {self.domain} failed for {who}: "
                                f"{s.sasl_failure_condition(answer)}")

        features = await self._open_stream()
        bind_id = s.new_id("bind")
        bound = await self._request(s.bind_iq(bind_id, resource), self._iq_answer(bind_id), "resource binding")
        self._raise_if_error(bound, "resource binding")
        jid = bound.find(f"{s.q(s.NS_BIND, 'bind')}/{s.q(s.NS_BIND, 'jid')}")
        self.jid = jid.text if jid is not None else None
        if features.find(s.q(s.NS_SESSION, "session")) is not None:
            session_id = s.new_id("sess")
            answer = await self._request(s.session_iq(session_id, self.domain), self._iq_answer(session_id),
                                         "session establishment")
            self._raise_if_error(answer, "session establishment")
        return self.jid

    async def _open_stream(self) -> ET.Element:
        features = await self._request(s.open_frame(self.domain),
                                       lambda e: e.tag == s.q(s.NS_STREAMS, "features"), "stream features")
        return features

    async def close(self) -> None:
        """Close the stream cleanly (<close/>), as a browser tab closing normally does."""
        if self._ws is None:
            return
        try:
            if not self._closed.is_set():
                await self._send(s.close_frame())
                try:
                    await asyncio.wait_for(self._closed.wait(), timeout=min(self.timeout, 2.0))
                except asyncio.TimeoutError:
                    pass
            await self._ws.close()
        except Exception:  # already gone: closing is best effort
            pass
        await self._stop_reader()

    async def drop(self) -> None:
        """Lose the connection abruptly (no <close/>, no WebSocket close): a network drop."""
        if self._ws is None:
            return
        transport = getattr(self._ws, "transport", None)
        if transport is not None:
            transport.abort()
        await self._stop_reader()

    async def _stop_reader(self) -> None:
        if self._reader and not self._reader.done():
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
        self._fail_waiters("connection closed")

    def add_listener(self, callback: Callable[[ET.Element], None]) -> None:
        """Call `callback(element)` for every stanza received (e.g. to watch a room's presences)."""
        self._listeners.append(callback)

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._closed.is_set()

    # -- Jitsi ----------------------------------------------------------------------------------
    async def conference_request(self, room_jid: str, machine_uid: str | None = None,
                                 properties: dict[str, str] | None = None) -> dict:
        """Ask focus for the conference, as the web client does before joining.

        Returns the answer's attributes (`ready`, `focusjid`, …) plus `properties`.
        """
        iq_id = s.new_id("conf")
        frame = s.conference_iq(iq_id, self.focus_jid, room_jid, machine_uid or secrets.token_hex(16), properties)
        answer = await self._request(frame, self._iq_answer(iq_id), f"conference request for {room_jid}")
        self._raise_if_error(answer, f"conference request for {room_jid} to {self.focus_jid}")
        conference = answer.find(s.q(s.NS_FOCUS, "conference"))
        if conference is None:
            raise XmppError(f"{self.focus_jid} answered the conference request without <conference/>")
        result = dict(conference.attrib)
        result["properties"] = {p.get("name"): p.get("value") for p in conference.findall(s.q(s.NS_FOCUS, "property"))}
        return result

    # -- MUC ------------------------------------------------------------------------------------
    async def join(self, room_jid: str, nick: str | None = None, resource: str | None = None) -> str:
        """Join `room_jid` as `room_jid/<random endpoint id>` with display name `nick`.

        Returns the occupant JID once the room has reflected our own presence.
        """
        occupant = f"{room_jid}/{resource or s.endpoint_id()}"
        answer = await self._request(s.muc_presence(occupant, nick, join=True), self._from(occupant),
                                     f"joining {room_jid}")
        error = s.stanza_error(answer) if answer.get("type") == "error" else None
        if error:
            raise MucJoinError(f"cannot join {room_jid}: {error}", error.condition, error.text)
        self.rooms[room_jid] = occupant
        return occupant

    async def send_presence(self, room_jid: str, nick: str | None) -> None:
        """Send our presence in the room again (Jitsi does on rename, mute, video changes)."""
        occupant = self._occupant(room_jid)
        await self._request(s.muc_presence(occupant, nick, join=False), self._from(occupant),
                            f"presence update in {room_jid}")

    async def leave(self, room_jid: str) -> None:
        occupant = self._occupant(room_jid)
        await self._request(s.unavailable_presence(occupant),
                            lambda e: self._from(occupant)(e) and e.get("type") == "unavailable",
                            f"leaving {room_jid}")
        self.rooms.pop(room_jid, None)

    async def kick(self, room_jid: str, occupant_jid: str, reason: str | None = None) -> None:
        """Kick `occupant_jid` (room@muc/resource): needs the moderator role."""
        iq_id = s.new_id("kick")
        resource = occupant_jid.split("/", 1)[1]
        answer = await self._request(s.kick_iq(iq_id, room_jid, resource, reason), self._iq_answer(iq_id),
                                     f"kicking {occupant_jid}")
        self._raise_if_error(answer, f"kicking {occupant_jid}")

    async def destroy(self, room_jid: str, reason: str | None = None) -> None:
        """Destroy the room with everyone inside: needs the owner affiliation."""
        iq_id = s.new_id("destroy")
        answer = await self._request(s.destroy_iq(iq_id, room_jid, reason), self._iq_answer(iq_id),
                                     f"destroying {room_jid}")
        self._raise_if_error(answer, f"destroying {room_jid}")
        self.rooms.pop(room_jid, None)

    async def iq_set(self, to: str, payload: str, what: str | None = None) -> ET.Element:
        """Send `<iq type='set'>` with a raw XML `payload` child; return the result, raise on error."""
        iq_id = s.new_id("iq")
        frame = f"<iq xmlns='{s.NS_CLIENT}' type='set' id={s._quote(iq_id)} to={s._quote(to)}>{payload}</iq>"
        what = what or f"request to {to}"
        answer = await self._request(frame, self._iq_answer(iq_id), what)
        self._raise_if_error(answer, what)
        return answer

    def _occupant(self, room_jid: str) -> str:
        try:
            return self.rooms[room_jid]
        except KeyError:
            raise XmppError(f"not in room {room_jid}: join it first") from None

    # -- plumbing -------------------------------------------------------------------------------
    @staticmethod
    def _from(jid: str) -> Predicate:
        return lambda e: s.local_name(e) == "presence" and e.get("from") == jid

    @staticmethod
    def _iq_answer(iq_id: str) -> Predicate:
        return lambda e: s.local_name(e) == "iq" and e.get("id") == iq_id and e.get("type") in ("result", "error")

    @staticmethod
    def _raise_if_error(answer: ET.Element, what: str) -> None:
        if answer.get("type") == "error":
            error = s.stanza_error(answer)
            raise XmppStanzaError(f"{what} failed: {error or 'error'}",
                                  error.condition if error else "undefined-condition", error.text if error else None)

    async def _send(self, frame: str) -> None:
        if self._ws is None or self._closed.is_set():
            raise XmppDisconnected(f"not connected ({self._close_reason})")
        try:
            await self._ws.send(frame)
        except Exception as exc:
            raise XmppDisconnected(f"connection to {self.safe_url} lost: {exc}") from None

    async def _request(self, frame: str, predicate: Predicate, what: str) -> ET.Element:
        future = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        self._waiters.append(waiter)
        try:
            await self._send(frame)
            return await asyncio.wait_for(future, self.timeout)
        except asyncio.TimeoutError:
            raise XmppTimeout(f"no answer to {what} from {self.domain} within {self.timeout:g} s") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def _read_loop(self) -> None:
        import websockets

        try:
            async for message in self._ws:
                if isinstance(message, bytes):
                    message = message.decode("utf-8")
                try:
                    element = s.parse(message)
                except ET.ParseError:
                    continue
                await self._dispatch(element)
        except websockets.exceptions.ConnectionClosed as exc:
            self._close_reason = self._server_said or \
                f"closed by server ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
        finally:
            self._closed.set()
            self._fail_waiters(self._close_reason)

    async def _dispatch(self, element: ET.Element) -> None:
        if element.tag == s.q(s.NS_STREAMS, "error"):
            # The server ends the stream and says why (RFC 6120 §4.9), e.g. system-shutdown.
            self._server_said = f"stream error from server: {s.stream_error_text(element)}"
            self._close_reason = self._server_said
            return
        if element.tag == s.q(s.NS_FRAMING, "close"):
            self._close_reason = self._server_said or "stream closed by server"
            self._closed.set()
            self._fail_waiters(self._close_reason)
            return
        for listener in list(self._listeners):
            listener(element)
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(element):
                future.set_result(element)
        if s.local_name(element) == "iq" and element.get("type") in ("get", "set"):
            await self._answer_server_iq(element)

    async def _answer_server_iq(self, iq: ET.Element) -> None:
        # XMPP requires an answer to every get/set; we only implement ping.
        is_ping = iq.find("{urn:xmpp:ping}ping") is not None
        attrs = f"to={s._quote(iq.get('from') or self.domain)} id={s._quote(iq.get('id') or '')}"
        if is_ping:
            frame = f"<iq xmlns='{s.NS_CLIENT}' type='result' {attrs}/>"
        else:
            frame = (f"<iq xmlns='{s.NS_CLIENT}' type='error' {attrs}><error type='cancel'>"
                     f"<service-unavailable xmlns='{s.NS_STANZAS}'/></error></iq>")
        try:
            await self._send(frame)
        except XmppDisconnected:
            pass

    def _fail_waiters(self, reason: str) -> None:
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(XmppDisconnected(f"connection to {self.safe_url} ended: {reason}"))
