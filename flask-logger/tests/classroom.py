"""Lessons written as events, for tests of what the receiver makes of them.

A `Classroom` is one room's life seen by the XMPP server: each `join` is a new connection with a
bare JID of its own, as Jitsi's token and anonymous users get (a reload is a new connection); the
identity is what the plugins send from the verified token. `stock_identity` is what a stock
mod_jitsi token gives (ARCHITECTURE §10): no user id, no e-mail unless the admin enabled it, the
signed name (the Moodle username by default), and the token's issuer.
"""
from __future__ import annotations

import datetime as dt
import itertools
import uuid

ISSUER = "moodle-school"
_counter = itertools.count()


def stock_identity(name: str, *, moderator: bool = False, issuer: str = ISSUER, email: str | None = None) -> dict:
    identity = {"name": name, "moderator": moderator, "group": "", "issuer": issuer}
    if email:
        identity["email"] = email
    return identity


def stamp(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Classroom:
    def __init__(self, room: str, start: dt.datetime, *, instance: str | None = None):
        self.room = {"jid": f"{room}@muc.meet.jitsi", "name": room}
        self.start = start
        self.source = {"server": "prosody", "host": "muc.meet.jitsi",
                       "instance": instance or f"classroom-{uuid.uuid4().hex[:12]}"}
        self.events: list[dict] = []
        self.connections: dict[str, dict] = {}

    def _event(self, kind: str, minutes: float, **fields) -> dict:
        event = {"id": str(uuid.uuid4()), "type": kind, "time": stamp(self.start + dt.timedelta(minutes=minutes)),
                 "source": self.source, "room": self.room, **fields}
        self.events.append(event)
        return event

    def created(self, minutes: float = 0) -> Classroom:
        self._event("room.created", minutes)
        return self

    def join(self, connection: str, minutes: float, *, identity: dict | None = None, nick: str | None = None,
             role: str = "participant") -> Classroom:
        """A new connection (its own random bare JID, as Jitsi's token users have)."""
        jid = f"{uuid.uuid4().hex[:10]}@meet.jitsi"
        occupant = {"occupant_jid": f"{self.room['jid']}/{uuid.uuid4().hex[:8]}", "user_jid": f"{jid}/web",
                    "bare_jid": jid, "nick": nick or (identity or {}).get("name") or connection, "role": role}
        self.connections[connection] = occupant
        fields = {"occupant": occupant}
        if identity is not None:
            fields["identity"] = identity
        self._event("occupant.joined", minutes, **fields)
        return self

    def leave(self, connection: str, minutes: float) -> Classroom:
        self._event("occupant.left", minutes, occupant=self.connections.pop(connection))
        return self

    def destroyed(self, minutes: float) -> Classroom:
        for connection in list(self.connections):
            self.leave(connection, minutes)
        self._event("room.destroyed", minutes)
        return self
