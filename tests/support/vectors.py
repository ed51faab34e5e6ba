"""Load the scenario vectors of tests/vectors and expand their compact notation.

Every implementation's tests use this one reader, so the receiver, the Prosody module and the
Openfire plugin are held to the same expectations. See tests/vectors/README.md for the format.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

VECTORS_DIR = Path(__file__).resolve().parent.parent / "vectors"
DOMAIN = "meet.jitsi"
COMPONENTS = {"muc": f"muc.{DOMAIN}", "breakout": f"breakout.{DOMAIN}", "internal-muc": f"internal-muc.{DOMAIN}"}
DEFAULT_SETTINGS = {
    "claims": ["courseid", "groupid"],
    "reconnect_grace_seconds": 60,
    "late_after_seconds": 300,
    "left_early_seconds": 300,
    "present_min_percent": 75,
    "partial_min_percent": 25,
}
PLACEHOLDER = "*"


@dataclass
class Vector:
    name: str
    description: str
    settings: dict
    people: dict
    steps: list
    events: list
    attendance: list
    raw: dict = field(repr=False)

    # -- people -----------------------------------------------------------------------------
    def identity(self, person: str) -> dict | None:
        """The contract `identity` object a person's token yields, or None for guests."""
        token = self.people[person].get("token")
        if not token:
            return None
        context = token.get("context", {})
        user = context.get("user", {})
        identity = {}
        for src, dst in (("id", "user_id"), ("name", "name"), ("email", "email")):
            if user.get(src) is not None:
                identity[dst] = user[src]
        if "moderator" in user:
            identity["moderator"] = user["moderator"] in (True, "true")
        if context.get("group") is not None:
            identity["group"] = context["group"]
        claims = {k: token[k] for k in self.settings["claims"] if k in token}
        if claims:
            identity["claims"] = claims
        return identity

    def participant_key(self, person: str) -> str | None:
        """How the receiver keys this person (ARCHITECTURE §5); None means: by occupant."""
        identity = self.identity(person) or {}
        if identity.get("user_id"):
            return "user:" + identity["user_id"]
        if identity.get("email"):
            return "email:" + identity["email"]
        jid = self.people[person].get("jid")
        return "jid:" + jid if jid else None

    def display_name(self, person: str, nicks: list[str]) -> str:
        identity = self.identity(person) or {}
        return identity.get("name") or (nicks[-1] if nicks else "")

    # -- steps ------------------------------------------------------------------------------
    def client_person(self, client: str) -> str:
        for step in self.steps:
            if step["do"] == "join" and step["client"] == client:
                return step["person"]
        raise KeyError(client)

    def client_join(self, client: str) -> dict:
        return next(s for s in self.steps if s["do"] == "join" and s["client"] == client)

    # -- events -----------------------------------------------------------------------------
    def expected_events(self) -> list[dict]:
        """Full contract events with placeholders for id, time, instance and run-time JIDs.

        Each carries `_at` (scenario seconds) and `_client` (who caused it) for the harness.
        """
        out = []
        for e in self.events:
            event = {"_at": e["at"], "_client": e.get("client"), "_instance": e.get("instance", 1),
                     "id": PLACEHOLDER, "type": e["type"], "time": PLACEHOLDER,
                     "source": {"server": PLACEHOLDER, "host": PLACEHOLDER, "instance": PLACEHOLDER}}
            if "room" in e:
                event["room"] = room_object(e["room"], e.get("parent"), self._component_of(e))
            if "client" in e:
                occupant = {"occupant_jid": PLACEHOLDER, "user_jid": PLACEHOLDER, "bare_jid": PLACEHOLDER}
                person = self.client_person(e["client"])
                if self.people[person].get("jid"):
                    occupant["bare_jid"] = self.people[person]["jid"]
                if "nick" in e:
                    occupant["nick"] = e["nick"]
                if "previous_nick" in e:
                    occupant["previous_nick"] = e["previous_nick"]
                event["occupant"] = occupant
                identity = self.identity(person)
                if identity:
                    event["identity"] = identity
            out.append(event)
        return out

    def _component_of(self, e: dict) -> str:
        if e.get("client"):
            return self.client_join(e["client"]).get("component", "muc")
        for step in self.steps:
            if step["do"] == "join" and step["room"] == e["room"]:
                return step.get("component", "muc")
        return "muc"

    def materialize(self, base: dt.datetime, server: str = "prosody") -> list[dict]:
        """Concrete, schema-valid events: placeholders filled, times at `base + at`.

        Used by the receiver's tests, which need events without running an XMPP server.
        """
        instances = {}
        occupant_resources = {}
        events = []
        for expected in self.expected_events():
            event = {k: v for k, v in expected.items() if not k.startswith("_")}
            at = expected["_at"]
            event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.name}/{len(events)}"))
            event["time"] = format_time(base + dt.timedelta(seconds=at))
            instance = instances.setdefault(expected["_instance"], f"{self.name}-i{expected['_instance']}")
            event["source"] = {"server": server, "host": event.get("room", {}).get("jid", "@muc.meet.jitsi").split("@")[1],
                               "instance": instance}
            client = expected["_client"]
            if client:
                person = self.client_person(client)
                resource = occupant_resources.setdefault(client, uuid.uuid5(uuid.NAMESPACE_DNS, client).hex[:8])
                jid = self.people[person].get("jid") or f"{person}-{client}@{DOMAIN}"
                occ = dict(event["occupant"])
                occ["occupant_jid"] = f"{event['room']['jid']}/{resource}"
                occ["bare_jid"] = jid
                occ["user_jid"] = f"{jid}/{client}"
                event["occupant"] = occ
            events.append(event)
        return events


def room_object(name: str, parent: str | None = None, component: str = "muc") -> dict:
    room = {"jid": f"{name}@{COMPONENTS[component]}", "name": name}
    if parent:
        room["parent_jid"] = f"{parent}@{COMPONENTS['muc']}"
    return room


def format_time(moment: dt.datetime) -> str:
    """RFC 3339 UTC with milliseconds, as the contract requires."""
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def load(path: Path) -> Vector:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    settings = {**DEFAULT_SETTINGS, **raw.get("settings", {})}
    return Vector(name=raw["name"], description=raw["description"], settings=settings,
                  people=raw["people"], steps=raw["steps"], events=raw["events"],
                  attendance=raw["attendance"], raw=raw)


def all_vectors() -> list[Vector]:
    return [load(p) for p in sorted(VECTORS_DIR.glob("*.json"))]


def matches(expected: dict, actual: dict) -> list[str]:
    """Differences between an expected event (placeholders allowed) and an actual one."""
    problems = []

    def walk(exp, act, path):
        if exp == PLACEHOLDER:
            if act is None:
                problems.append(f"{path}: missing")
            return
        if isinstance(exp, dict):
            if not isinstance(act, dict):
                problems.append(f"{path}: expected an object, got {act!r}")
                return
            for key, value in exp.items():
                if key.startswith("_"):
                    continue
                walk(value, act.get(key), f"{path}.{key}" if path else key)
            return
        if exp != act:
            problems.append(f"{path}: expected {exp!r}, got {act!r}")

    walk(expected, actual, "")
    # Identity is personal data: nothing beyond what is expected may be sent (allow-list).
    if actual.get("identity") != expected.get("identity"):
        problems.append(f"identity: expected {expected.get('identity')!r}, got {actual.get('identity')!r}")
    return problems


def group_by_at(expected: list[dict]) -> list[list[dict]]:
    """Expected events grouped by `_at`: within a group the order is free."""
    groups: list[list[dict]] = []
    for event in expected:
        if groups and groups[-1][0]["_at"] == event["_at"]:
            groups[-1].append(event)
        else:
            groups.append([event])
    return groups
