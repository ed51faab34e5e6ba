"""A Jitsi-like MUC participant over plain c2s with slixmpp (system accounts, some guests).

Same methods as jitsictl.xmpp.WebSocketXmppClient (connect, join, send_presence, leave, kick,
destroy, close, drop), so the scenario driver can use either transport. Stanzas come from
jitsictl.xmpp.stanzas, so both transports send the same presences.
"""
from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

from jitsictl.xmpp import MucJoinError, XmppAuthError, XmppStanzaError, XmppTimeout
from jitsictl.xmpp import stanzas as s


class C2sClient:
    def __init__(self, jid: str, password: str, port: int, *, anonymous: bool = False, timeout: float = 10.0):
        self.port = port
        self.timeout = timeout
        self.xmpp = slixmpp.ClientXMPP(jid, password, sasl_mech="ANONYMOUS" if anonymous else "PLAIN")
        self.xmpp.enable_starttls = False
        self.xmpp.enable_direct_tls = False
        self.xmpp.enable_plaintext = True
        self.xmpp.plugin["feature_mechanisms"].unencrypted_plain = True
        self.xmpp.register_plugin("xep_0199")  # answer server pings
        self.jid: str | None = None
        self.rooms: dict[str, str] = {}
        self._waiters: list[tuple[object, asyncio.Future]] = []
        self.xmpp.add_event_handler("presence", self._on_presence)

    def _on_presence(self, presence) -> None:
        element = presence.xml
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(element):
                future.set_result(element)

    async def connect(self) -> str:
        loop = asyncio.get_running_loop()
        started, failed = loop.create_future(), loop.create_future()
        self.xmpp.add_event_handler("session_start", lambda _: started.done() or started.set_result(True))
        self.xmpp.add_event_handler("failed_all_auth", lambda _: failed.done() or failed.set_result(True))
        self.xmpp.connect("127.0.0.1", self.port)
        done, _ = await asyncio.wait({started, failed}, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED)
        if failed in done:
            self.xmpp.abort()
            raise XmppAuthError(f"c2s authentication failed for {self.xmpp.boundjid.bare}")
        if not done:
            self.xmpp.abort()
            raise XmppTimeout(f"c2s session for {self.xmpp.boundjid.bare} not started within {self.timeout:g} s")
        self.jid = str(self.xmpp.boundjid.full)
        return self.jid

    async def _presence_request(self, frame: str, predicate, what: str) -> ET.Element:
        future = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        self._waiters.append(waiter)
        try:
            self.xmpp.send_raw(frame)
            return await asyncio.wait_for(future, self.timeout)
        except asyncio.TimeoutError:
            raise XmppTimeout(f"no answer to {what} within {self.timeout:g} s") from None
        finally:
            self._waiters.remove(waiter)

    @staticmethod
    def _from(jid: str):
        return lambda e: e.get("from") == jid

    async def join(self, room_jid: str, nick: str | None = None, resource: str | None = None) -> str:
        occupant = f"{room_jid}/{resource or s.endpoint_id()}"
        answer = await self._presence_request(s.muc_presence(occupant, nick, join=True), self._from(occupant),
                                              f"joining {room_jid}")
        if answer.get("type") == "error":
            error = s.stanza_error(answer)
            raise MucJoinError(f"cannot join {room_jid}: {error}", error.condition if error else "", None)
        self.rooms[room_jid] = occupant
        return occupant

    async def send_presence(self, room_jid: str, nick: str | None) -> None:
        occupant = self.rooms[room_jid]
        await self._presence_request(s.muc_presence(occupant, nick, join=False), self._from(occupant),
                                     f"presence update in {room_jid}")

    async def leave(self, room_jid: str) -> None:
        occupant = self.rooms.pop(room_jid)
        await self._presence_request(s.unavailable_presence(occupant),
                                     lambda e: e.get("from") == occupant and e.get("type") == "unavailable",
                                     f"leaving {room_jid}")

    async def _iq(self, room_jid: str, payload: str, what: str) -> None:
        iq = self.xmpp.make_iq_set(ito=room_jid)
        iq.append(ET.fromstring(payload))
        try:
            await iq.send(timeout=self.timeout)
        except IqError as exc:
            condition = exc.iq["error"]["condition"]
            raise XmppStanzaError(f"{what} failed: {condition}", condition) from None
        except IqTimeout:
            raise XmppTimeout(f"no answer to {what} within {self.timeout:g} s") from None

    async def iq_set(self, to: str, payload: str, what: str | None = None) -> None:
        await self._iq(to, payload, what or f"request to {to}")

    async def kick(self, room_jid: str, occupant_jid: str, reason: str | None = None) -> None:
        resource = occupant_jid.split("/", 1)[1]
        payload = (f"<query xmlns='{s.NS_MUC_ADMIN}'><item nick={s._quote(resource)} role='none'/></query>")
        await self._iq(room_jid, payload, f"kicking {occupant_jid}")

    async def destroy(self, room_jid: str, reason: str | None = None) -> None:
        await self._iq(room_jid, f"<query xmlns='{s.NS_MUC_OWNER}'><destroy/></query>", f"destroying {room_jid}")
        self.rooms.pop(room_jid, None)

    async def close(self) -> None:
        self.xmpp.disconnect()
        await asyncio.sleep(0)

    async def drop(self) -> None:
        self.xmpp.abort()
