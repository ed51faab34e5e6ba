"""Load the scenario vectors of tests/vectors and expand their compact notation.

Every implementation's tests use this one reader, so the receiver, the Prosody module and the
Openfire plugin are held to the same expectations. See tests/vectors/README.md for the format.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

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
# The app id tokens are issued by when a vector's token has no `iss` (the harnesses sign with it:
# tests/support/prosody_server.py JWT_APP_ID, openfire-plugin's ScenarioRunner.ISSUER).
DEFAULT_ISSUER = "jitsictl-test"
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def _given(value) -> str | None:
    """A claim as the plugins report it: text unless blank (mod_jitsi signs `"id": ""`), numbers
    as text, nothing else (null, objects, arrays, booleans)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str) and value.strip(" \t\n\r\f\v"):
        return value
    return None


def _says(value) -> bool | None:
    """A moderator claim: true for true or "true", false for other booleans and strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value == "true"
    return None


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
    classroom: dict = field(default_factory=dict)  # the vector's `class` section, if any

    @property
    def room_pattern(self) -> str | None:
        """The receiver's ATTENDANCE_ROOM_PATTERN for this scenario, if it needs one."""
        return self.classroom.get("room_pattern")

    # -- class list and timetable ---------------------------------------------------------------
    def roster_csv(self) -> bytes:
        """The class list as the receiver's roster CSV (flask-logger attendance_logger/roster.py)."""
        return _csv(["name", "user_id", "email", "username", "course"],
                    ([s["name"], s.get("user_id", ""), s.get("email", ""), s.get("username", ""), s["course"]]
                     for s in self.classroom.get("students", [])))

    def timetable_csv(self, base: dt.datetime) -> bytes:
        """The lessons as the receiver's timetable CSV (attendance_logger/timetable.py), each at
        `base + start` seconds: the same base the scenario's events are timed from."""
        def at(seconds: float) -> str:
            return (base + dt.timedelta(seconds=seconds)).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

        return _csv(["course", "start", "end"],
                    ([lesson["course"], at(lesson["start"]), at(lesson["start"] + lesson["duration"])]
                     for lesson in self.classroom.get("lessons", [])))

    def class_imports(self, base: dt.datetime) -> list[tuple[str, bytes]]:
        """The receiver's import requests for the class section, as (path with query, body)."""
        imports = []
        if self.classroom.get("students"):
            imports.append(("/v1/roster?filename=roster.csv", self.roster_csv()))
        if self.classroom.get("lessons"):
            imports.append(("/v1/schedule?filename=timetable.csv", self.timetable_csv(base)))
        return imports

    # -- people -----------------------------------------------------------------------------
    def token(self, person: str) -> dict | None:
        """The payload a person's client presents: the vector's token with the issuer filled in."""
        token = self.people[person].get("token")
        return {"iss": DEFAULT_ISSUER, **token} if token else None

    def identity(self, person: str) -> dict | None:
        """The contract `identity` object a person's token yields, or None for guests."""
        if not self.people[person].get("token"):
            return None
        token = self.token(person)
        context = token.get("context") if isinstance(token.get("context"), dict) else {}
        user = context.get("user") if isinstance(context.get("user"), dict) else {}
        identity = {}
        fields = {"user_id": _given(user.get("id")), "name": _given(user.get("name")),
                  "email": _given(user.get("email")), "issuer": _given(token.get("iss"))}
        if fields["name"]:
            fields["name"] = fields["name"].replace("\\'", "'")  # mod_jitsi's escaped quote
        if fields["email"] and not EMAIL.fullmatch(fields["email"]):
            fields["email"] = None
        identity.update({k: v for k, v in fields.items() if v is not None})
        # As mod_token_moderators decides: context.user.moderator or the top-level moderator (the
        # vectors trust no affiliation).
        said = [_says(user.get("moderator")), _says(token.get("moderator"))]
        if said != [None, None]:
            identity["moderator"] = True in said
        if _given(context.get("group")) is not None:
            identity["group"] = context["group"]
        claims = {k: token[k] for k in self.settings["claims"] if k in token}
        if claims:
            identity["claims"] = claims
        return identity

    def participant_key(self, person: str) -> str | None:
        """How the receiver keys this person (ARCHITECTURE §5: user id, e-mail, the signed name
        scoped to the token's issuer, else the guest's JID); None means: by occupant."""
        identity = self.identity(person) or {}
        if str(identity.get("user_id") or "").strip():
            return "user:" + identity["user_id"].strip()
        if str(identity.get("email") or "").strip():
            return "email:" + identity["email"].strip()
        if str(identity.get("name") or "").strip():
            return f"name:{quote(str(identity.get('issuer') or '').strip(), safe='')}:{identity['name'].strip()}"
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


def _csv(header: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def import_class(vector: Vector, base: dt.datetime, post) -> None:
    """Import the vector's class list and lessons into a receiver before its events arrive.

    `post(path, body)` sends one file to the receiver's import API as its admin and returns the
    response (a Flask test client's or a `requests` one: both have `status_code` and `text`)."""
    for path, body in vector.class_imports(base):
        response = post(path, body)
        assert response.status_code == 200, (
            f"{vector.name}: the receiver refused the class import {path}: {response.status_code} {response.text}")


def scenario_seconds(text: str | None, base: dt.datetime) -> float | None:
    """A time from the receiver's read API as seconds since `base` (None stays None)."""
    if text is None:
        return None
    return (dt.datetime.fromisoformat(text.replace("Z", "+00:00")) - base).total_seconds()


def person_keys(vector: Vector, person: str, events: list[dict], key_of) -> set[str]:
    """The receiver's participant keys for a person: by identity, or for a guest the keys
    (`key_of(event)`) of their connections' events."""
    key = vector.participant_key(person)
    if key:
        return {key}
    return {key_of(event) for expected, event in zip(vector.expected_events(), events, strict=True)
            if expected["_client"] and vector.client_person(expected["_client"]) == person}


def participant_problems(expected: dict, participant: dict, seconds) -> list[str]:
    """The fields of a participant from the receiver's read API that differ from the vector's
    expected participant; `seconds(text)` turns its times into scenario seconds. The figures
    and flags are always compared; name, names, intervals, moderator, key_kind and ambiguous
    when the vector gives them."""
    got = {"first_join": seconds(participant["first_join"]), "last_leave": seconds(participant["last_leave"]),
           "present_seconds": participant["present_seconds"], "percent": participant["percent"],
           "status": participant["status"], "late": participant["late"], "left_early": participant["left_early"],
           "name": participant["name"], "names": participant["names"],
           "intervals": [[seconds(a), seconds(b)] for a, b in participant["intervals"]],
           "moderator": participant["moderator"], "key_kind": participant["key_kind"],
           "ambiguous": bool(participant["ambiguous"])}
    compared = [*_ALWAYS_COMPARED, *(field for field in got if field not in _ALWAYS_COMPARED and field in expected)]
    return [f"{field}: {got[field]!r}, expected {expected[field]!r}"
            for field in compared if got[field] != expected[field]]


_ALWAYS_COMPARED = ("first_join", "last_leave", "present_seconds", "percent", "status", "late", "left_early")


def class_problems(vector: Vector, expected: dict, meeting: dict, seconds) -> list[str]:
    """How a meeting's JSON from the receiver's read API (`reference`, `absentees`) differs from
    the vector's expected meeting; `seconds(text)` turns its times into scenario seconds."""
    where = f"{vector.name}/{expected['room']}@{expected['started_at']}"
    problems = []
    reference, want = meeting.get("reference") or {}, expected.get("reference")
    if want is None:
        if reference.get("kind") != "meeting":
            problems.append(f"{where}: measured against {reference!r}, expected the meeting itself")
    else:
        got = {"kind": reference.get("kind"), "start": seconds(reference.get("start")),
               "end": seconds(reference.get("end"))}
        wanted = {"kind": "lesson", "start": want["start"], "end": want["end"]}
        if "course" in want:
            got["course"], wanted["course"] = reference.get("course"), want["course"]
        if got != wanted:
            problems.append(f"{where}: measured against {got} ({reference.get('note') or 'no note'}), "
                            f"expected {wanted}")
    absent = sorted(a.get("name") for a in meeting.get("absentees") or [])
    if absent != sorted(expected.get("absentees", [])):
        problems.append(f"{where}: absentees {absent}, expected {sorted(expected.get('absentees', []))}")
    return problems


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
                  attendance=raw["attendance"], raw=raw, classroom=raw.get("class", {}))


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


def pair_group(want: list[dict], got: list[dict], problems=matches) -> tuple[dict[int, int], dict]:
    """Pair the expected and produced events of one moment, in any order among them.

    A bipartite matching (augmenting paths), so one loose expectation cannot take the event a
    stricter one needs. Returns ({expected index: produced index}, {(i, j): problems}); expected
    events left out of the first map have no partner.
    """
    found = {(i, j): problems(w, g) for i, w in enumerate(want) for j, g in enumerate(got)}
    partner: dict[int, int] = {}  # produced index -> expected index

    def assign(i: int, tried: set) -> bool:
        for j in range(len(got)):
            if j in tried or found[(i, j)]:
                continue
            tried.add(j)
            if j not in partner or assign(partner[j], tried):
                partner[j] = i
                return True
        return False

    for i in range(len(want)):
        assign(i, set())
    return {i: j for j, i in partner.items()}, found


def align(vector: Vector, produced: list[dict]) -> list[dict]:
    """The produced events reordered to line up with `vector.expected_events()`.

    `produced` must be in emission order; only the order within one moment (`at`) may differ.
    Raises AssertionError with a readable report when the events do not fit the vector.
    """
    aligned: list[dict] = []
    position = 0
    for group in group_by_at(vector.expected_events()):
        got = produced[position:position + len(group)]
        pairs, found = pair_group(group, got)
        if len(pairs) < len(group) or len(got) < len(group):
            lines = [f"{vector.name}, at {group[0]['_at']}: produced events do not fit the expectations"]
            for i, want in enumerate(group):
                if i not in pairs:
                    lines.append(f"  expected {want['type']} {want.get('_client') or ''}: " + "; ".join(
                        "; ".join(found[(i, j)]) for j in range(len(got))))
            lines.append(f"  produced: {[(e.get('type'), e.get('occupant', {}).get('nick')) for e in got]}")
            raise AssertionError("\n".join(lines))
        aligned.extend(got[pairs[i]] for i in range(len(group)))
        position += len(group)
    if position != len(produced):
        extra = [(e.get("type"), e.get("occupant", {}).get("nick")) for e in produced[position:]]
        raise AssertionError(f"{vector.name}: {len(produced) - position} unexpected extra events: {extra}")
    return aligned
