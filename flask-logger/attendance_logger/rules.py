"""The attendance rules: contract-v1 events in, meetings with per-participant attendance out.

Pure and standard-library only, so the receiver, the CLI and the benchmarks share one definition
of attendance (README, "Attendance"). The rules, in the order they apply:

- Delivery order never matters: events are deduplicated by `id`, then sorted by time, a fixed
  rank of their type (source.started, room.created, occupant.joined, occupant.renamed,
  occupant.left, room.destroyed: a room's life reads naturally within one millisecond) and id.
- A meeting is one life of a room, room.created to room.destroyed, kept apart per server process
  (`source.instance`); with a Jitsi `meeting_id` the events name their life. A join in a room
  with no open life (its room.created was purged or never delivered) opens one at its own time;
  a leave or rename without a known join is ignored. A breakout room (`room.parent_jid`) is no
  meeting: its presence counts for the parent room's meeting open when the occupant joined it.
- A participant's name, e-mail, claims and moderator flag come from the identity (verified
  token) of their latest join; claims are filtered by the receiver's own allow-list too.
- A participant is keyed by the verified identity, never by what a user can type (the nick):
  `user:<user_id>`, else `email:<email>`, else `name:<issuer>:<name>` (the name the LMS signed,
  scoped to the token's issuer, percent-encoded); only guests, whose events carry no identity with
  any of these, are keyed `jid:<bare_jid>`, else `occupant:<occupant_jid>`. Empty strings count as
  absent. Reports say which it was (`key_kind`). Their presence intervals are clipped to the
  meeting, overlaps merged (two tabs never count twice) and gaps shorter than the reconnect grace
  merged (counted as present).
- A signed name is not an id: two people may share it (two students with the same name, a guest
  invited under a student's name). Connections of one signed name that were in the meeting at the
  same time for longer than SAME_NAME_OVERLAP_SECONDS are flagged (`ambiguous`), not told apart:
  the events cannot distinguish two people from one person with two tabs or devices.
- With a scheduled lesson (lessons.py), late, left early and percent are measured against the
  lesson instead of the meeting: presence before the lesson began or after it ended does not
  count, and joining before the lesson began is not late. Students on the class list whom nobody
  matched are reported as absent, never joined.
- Intervals left open end with the meeting: at room.destroyed; at the last event seen from the
  server process when a later `source.started` from the same (server, host) shows it was restarted
  (closed_by "source.started"); at the start of the room's next life if its destroy never came
  (closed_by "room.created"); otherwise the meeting is still running and is computed up to `now`.

Times are handled internally as integer milliseconds since the epoch (times.py).
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from .course_names import CourseNames
from .lessons import Enrolled, Lesson, MeetingContext, choose_lesson, expected_students, match_roster
from .times import EPOCH, ONE_MS, UTC, format_time, from_ms, parse_time, to_ms  # noqa: F401 - part of this API

# Names meeting keys of rooms without a Jitsi meeting_id (uuid5 is deterministic, so a meeting
# keeps its key however often it is recomputed).
MEETING_KEY_NAMESPACE = uuid.UUID("6f0d7c52-8a51-4a8e-9b8e-3f5e1c2a9d47")

# Two connections of one signed name in the meeting at once for longer than this are flagged as
# possibly two people: a reload overlaps its old connection at most while the server still holds
# the dropped one (Prosody 13's stream management: 60 s), so twice that is not a reload.
SAME_NAME_OVERLAP_SECONDS = 120

# What each participant key's prefix says about how the person was identified.
KEY_KINDS = {"user": "user_id", "email": "email", "name": "signed_name", "jid": "guest", "occupant": "guest"}

TYPE_RANK = {
    "source.started": 0,
    "room.created": 1,
    "occupant.joined": 2,
    "occupant.renamed": 3,
    "occupant.left": 4,
    "room.destroyed": 5,
}

# ------------------------------------------------------------------------------------------------
# Settings
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """What a school may tune; the defaults are those of tests/vectors/README.md.

    The same names and whole numbers all the way: `attendance.thresholds` in jitsictl.yaml
    (jitsictl.config.Thresholds), the `ATTENDANCE_*` variables jitsictl renders from them
    (`from_mapping`), and these fields.
    """

    reconnect_grace_seconds: int = 60
    late_after_seconds: int = 300
    left_early_seconds: int = 300
    present_min_percent: int = 75
    partial_min_percent: int = 25
    claims: tuple[str, ...] = ("courseid", "groupid")

    def __post_init__(self) -> None:
        for name in ("reconnect_grace_seconds", "late_after_seconds", "left_early_seconds"):
            _check_whole_number(name, getattr(self, name), low=0)
        for name in ("present_min_percent", "partial_min_percent"):
            _check_whole_number(name, getattr(self, name), low=0, high=100)
        if self.partial_min_percent > self.present_min_percent:
            raise ValueError(
                f"partial_min_percent ({self.partial_min_percent}) must not exceed present_min_percent "
                f"({self.present_min_percent})")
        if isinstance(self.claims, str) or not all(isinstance(c, str) and c for c in self.claims):
            raise ValueError(f"claims must be a list of claim names, got {self.claims!r}")
        object.__setattr__(self, "claims", tuple(self.claims))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], prefix: str = "ATTENDANCE_") -> "Settings":
        """Settings from a dict or an environment-style mapping.

        Keys are the field names, in any case, optionally with `prefix`
        (`ATTENDANCE_RECONNECT_GRACE_SECONDS=90`); other keys are ignored, so `os.environ` can be
        passed as is. Values may be whole numbers or strings of them; `claims` a list or a
        comma-separated string. Raises ValueError naming the key when a value is unusable.
        """
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        given: dict[str, str] = {}
        for key, raw in values.items():
            name = str(key).lower()
            if name.startswith(prefix.lower()):
                name = name[len(prefix):]
            if name not in known:
                continue
            given[name] = str(key)
            try:
                kwargs[name] = _parse_claims(raw) if name == "claims" else _parse_whole_number(raw)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
        try:
            return cls(**kwargs)
        except ValueError as exc:
            message = str(exc)
            for name, key in given.items():
                if message.startswith(name):
                    message = key + message[len(name):]
                    break
            raise ValueError(message) from None


def _parse_whole_number(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"must be a whole number, got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError(f"must be a whole number, got {raw!r}") from None


def _parse_claims(raw: Any) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(str(item).strip() for item in items if str(item).strip())


def _check_whole_number(name: str, value: Any, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}, got {value}")


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InstanceInfo:
    """What the store knows about one `source.instance` (a server process life)."""

    last_seen: datetime  # time of the last event seen from that instance
    superseded: bool  # a later source.started from the same (server, host) exists


@dataclass
class Participant:
    key: str
    name: str
    names: list[str]
    email: str | None
    user_id: str | None
    claims: dict
    moderator: bool
    intervals: list[tuple[datetime, datetime]]
    first_join: datetime
    last_leave: datetime | None  # None while still present in a running meeting
    present_seconds: float
    percent: float
    status: str  # "present" | "partial" | "absent"
    late: bool
    left_early: bool
    still_present: bool
    key_kind: str = "guest"  # user_id | email | signed_name | guest (KEY_KINDS)
    ambiguous: str | None = None  # why this row may be two people (a shared signed name)
    enrolled: bool | None = None  # on the class list; None when the course has none


@dataclass(frozen=True)
class Reference:
    """What late, left early and percent were measured against: the scheduled lesson, or the
    meeting itself (`lesson` None; `note` says why when a lesson was near)."""

    start: datetime
    end: datetime
    lesson: Lesson | None = None
    note: str | None = None

    @property
    def kind(self) -> str:
        return "meeting" if self.lesson is None else "lesson"


@dataclass
class Meeting:
    key: str  # room.meeting_id when known, else a uuid5 of room jid, start and instance
    room_jid: str
    room_name: str
    meeting_id: str | None
    started_at: datetime
    ended_at: datetime | None  # None while running
    # "room.destroyed", "source.started" (server restarted), "room.created" (the room's next life
    # began without a destroy being seen) or None while running
    closed_by: str | None
    participants: list[Participant] = field(default_factory=list)
    duration_seconds: float = 0.0
    instance: str = ""
    reference: Reference | None = None  # None: computed before references existed (the meeting)
    absentees: list[Enrolled] = field(default_factory=list)  # on the class list, never joined
    courses: tuple[str, ...] = ()
    group: str | None = None


@dataclass
class PersonPresence:
    """A participant's connections to one meeting, before any setting applies."""

    key: str
    name: str
    names: list[str]
    email: str | None
    user_id: str | None
    claims: Mapping  # all the identity's claims: the allow-list (a setting) filters them
    moderator: bool
    sessions: list[tuple[int, int | None]]  # (join ms, leave ms or None while connected)


@dataclass
class Presence:
    """One meeting as its events tell it, before any setting applies (`classify` applies them).

    Kept by the receiver so that changed settings, or the clock of a running meeting, never make
    it read the events again.
    """

    key: str
    room_jid: str
    room_name: str
    meeting_id: str | None
    instance: str
    start: int  # ms
    end: int | None  # ms; None while running
    closed_by: str | None
    people: list[PersonPresence] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Helpers that are useful on their own (and to property tests)
# ------------------------------------------------------------------------------------------------
def merge_intervals(intervals: Iterable[tuple[Any, Any]], grace: Any = 0) -> list[tuple[Any, Any]]:
    """Overlapping, touching and less-than-`grace`-apart intervals merged, sorted by start.

    Works for numbers (grace a number) and datetimes (grace a timedelta). Idempotent.
    """
    merged: list[list[Any]] = []
    for start, end in sorted(intervals):
        if merged and (start <= merged[-1][1] or start - merged[-1][1] < grace):
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def percent_of(part: float, whole: float) -> float:
    """Percentage rounded half up to one decimal (what a teacher expects to read)."""
    if whole <= 0:
        return 0.0
    return min(100.0, math.floor(part * 1000.0 / whole + 0.5) / 10.0)


def status_for(percent: float, settings: Settings) -> str:
    if percent >= settings.present_min_percent:
        return "present"
    if percent >= settings.partial_min_percent:
        return "partial"
    return "absent"


def _given(value: Any) -> str:
    """A token's text field, stripped; "" when absent, empty or not text."""
    return value.strip() if isinstance(value, str) else ""


def participant_key(event: Mapping) -> str | None:
    """How an occupant event's person is keyed (module docstring), or None without an occupant."""
    identity = event.get("identity") or {}
    if identity:
        user_id = _given(identity.get("user_id"))
        if user_id:
            return "user:" + user_id
        email = _given(identity.get("email"))
        if email:
            return "email:" + email
        name = _given(identity.get("name"))
        if name:
            return f"name:{quote(_given(identity.get('issuer')), safe='')}:{name}"
    occupant = event.get("occupant") or {}
    if occupant.get("bare_jid"):
        return "jid:" + occupant["bare_jid"]
    if occupant.get("occupant_jid"):
        return "occupant:" + occupant["occupant_jid"]
    return None


def key_kind(key: str) -> str:
    """user_id, email, signed_name or guest: what identified the participant with this key."""
    return KEY_KINDS.get(key.split(":", 1)[0], "guest")


def concurrent_ms(sessions: Iterable[tuple[int, int]]) -> int:
    """How long two or more of `sessions` (start, end) were open at the same time."""
    edges = sorted(edge for start, end in sessions for edge in ((start, 1), (end, -1)))
    total, open_now, since = 0, 0, 0
    for moment, step in edges:
        if open_now >= 2:
            total += moment - since
        open_now += step
        since = moment
    return total


def meeting_key(room_jid: str, started_at: datetime, instance: str) -> str:
    return str(uuid.uuid5(MEETING_KEY_NAMESPACE, f"{room_jid}|{format_time(started_at)}|{instance}"))


# ------------------------------------------------------------------------------------------------
# Working state of one computation
# ------------------------------------------------------------------------------------------------
class _Session:
    """One connection's presence in one room: opened by a join, closed by its leave."""

    __slots__ = ("person", "meeting", "start", "end")

    def __init__(self, person: "_Person", meeting: "_MeetingSoFar", start: int) -> None:
        self.person = person
        self.meeting = meeting
        self.start = start
        self.end: int | None = None


class _Person:
    __slots__ = ("key", "sessions", "nicks", "last_nick", "identity", "role_moderator")

    def __init__(self, key: str) -> None:
        self.key = key
        self.sessions: list[_Session] = []
        self.nicks: dict[str, None] = {}  # insertion-ordered set of display names
        self.last_nick = ""
        # The identity of the latest join that had one: a token is one consistent whole, so its
        # fields are never mixed with those of an older token.
        self.identity: Mapping = {}
        self.role_moderator = False  # held the MUC moderator role at some point

    @property
    def moderator(self) -> bool:
        """The token decides when it says; otherwise the room role does (guest-only deployments)."""
        token_says = self.identity.get("moderator")
        return token_says if isinstance(token_says, bool) else self.role_moderator


class _MeetingSoFar:
    """One life of a main room while the events are read."""

    __slots__ = ("instance", "room_jid", "room_name", "meeting_id", "start", "end", "closed_by", "replaced_at",
                 "people")

    def __init__(self, instance: str, room: Mapping, start: int) -> None:
        self.instance = instance
        self.room_jid = room["jid"]
        self.room_name = room.get("name") or self.room_jid.split("@", 1)[0]
        self.meeting_id = room.get("meeting_id")
        self.start = start
        self.end: int | None = None
        self.closed_by: str | None = None
        self.replaced_at: int | None = None
        self.people: dict[str, _Person] = {}


class _Room:
    """A room jid within one server instance: its open lives and its connections inside."""

    __slots__ = ("open", "sessions")

    def __init__(self) -> None:
        self.open: list[_MeetingSoFar] = []
        self.sessions: dict[str, _Session] = {}


class _Instances:
    """What the events tell about each server instance (process life)."""

    __slots__ = ("first_seen", "last_seen", "hosts", "starts")

    def __init__(self) -> None:
        self.first_seen: dict[str, int] = {}
        self.last_seen: dict[str, int] = {}
        self.hosts: dict[str, set] = {}  # instance -> (server, host) it was seen from
        self.starts: dict[tuple, dict[str, int]] = {}  # (server, host) -> instance -> latest source.started

    def ends_of_superseded(self, known: Mapping[str, InstanceInfo]) -> dict[str, int]:
        """For each instance that a later source.started from the same (server, host) shows was
        restarted: the time of the last event seen from it, when its open intervals end."""
        ends: dict[str, int] = {}
        for instance, first in self.first_seen.items():
            for where in self.hosts[instance]:
                if any(other != instance and ms >= first for other, ms in self.starts.get(where, {}).items()):
                    ends[instance] = self.last_seen[instance]
                    break
        for instance, info in known.items():
            if info.superseded:
                ends[instance] = max(to_ms(info.last_seen), self.last_seen.get(instance, -1 << 62))
        return ends


# ------------------------------------------------------------------------------------------------
# The computation
# ------------------------------------------------------------------------------------------------
def compute(events: Iterable[Mapping], settings: Settings = Settings(), *,
            instances: Mapping[str, InstanceInfo] | None = None, now: datetime | None = None) -> list[Meeting]:
    """Meetings, each with its participants' attendance, from contract-v1 events in any order.

    `instances` adds what the store knows about server processes beyond the events given (so a
    caller may pass one meeting's events only); `now` (default: the current time) ends meetings
    still running. Meetings are ordered by start, then room; participants by first join, then name.
    """
    builder = PresenceBuilder()
    builder.add(events)
    now_ms = to_ms(now if now is not None else datetime.now(UTC))
    return [classify(presence, settings, now_ms) for presence in builder.presences(instances)]


def claims_context(presence: Presence, settings: Settings) -> MeetingContext:
    """A meeting's courses and group as its participants' claims give them, without lessons or
    class lists (what the receiver's ClassStore adds)."""
    courses, group = CourseNames().of_meeting(presence.room_name, presence.people, (), settings.claims)
    return MeetingContext(courses=tuple(course for course, _ in courses), group=group)


class PresenceBuilder:
    """Events read in the rules' order, and what they left: rooms, meetings, server instances.

    Resumable: events that all sort after those already read can be added later, and the result
    is the one of a single reading of all of them (a running lesson's new events are read without
    reading its old ones again).
    """

    def __init__(self) -> None:
        self._rooms: dict[tuple[str, str], _Room] = {}
        self._lives: list[_MeetingSoFar] = []
        self._instances = _Instances()
        self._kept: dict[str, tuple[int, int]] = {}  # id -> (ms, rank) of the event read under it
        self._last: tuple[int, int, str] | None = None

    @property
    def ids(self):
        """The ids of the events read."""
        return self._kept.keys()

    @property
    def instance_names(self) -> set[str]:
        return set(self._instances.last_seen)

    def add(self, events: Iterable[Mapping]) -> bool:
        """Read more events. False, reading none of them, when one sorts before the last event read
        or is a retry that would replace one read (the engine keeps the earlier of two with an id):
        then only a new builder given all the events gives the rules' answer."""
        fresh = []
        for item in _ordered_unique(events):
            kept = self._kept.get(item[2])
            if kept is None:
                fresh.append(item)
            elif (item[0], item[1]) < kept:
                return False
        if not fresh:
            return True
        if self._last is not None and fresh[0][:3] <= self._last:
            return False
        _read_lives(fresh, self._rooms, self._lives, self._instances)
        for ms, rank, event_id, _event in fresh:
            self._kept[event_id] = (ms, rank)
        self._last = fresh[-1][:3]
        return True

    def presences(self, instances: Mapping[str, InstanceInfo] | None = None) -> list[Presence]:
        """Each meeting read so far, ordered by start, then room. `instances`: as for `compute`.
        Copies: adding events later changes none of them."""
        ends_of_instances = self._instances.ends_of_superseded(instances or {})
        presences = [_presence(life, ends_of_instances) for life in self._lives]
        presences.sort(key=lambda p: (p.start, p.room_jid, p.key))
        _make_keys_unique(presences)
        return presences


def _ordered_unique(events: Iterable[Mapping]) -> list[tuple[int, int, str, Mapping]]:
    """(ms, rank, id, event) sorted, one per id. Unknown event types are skipped.

    Of two events with the same id (a retry), the earlier in this order is kept, so which one
    counts does not depend on arrival either.
    """
    ranks = TYPE_RANK
    fromisoformat = datetime.fromisoformat
    epoch, one_ms = EPOCH, ONE_MS
    by_id: dict[str, tuple] = {}
    for event in events:
        rank = ranks.get(event.get("type"))
        if rank is None:
            continue  # a type this receiver does not know (contract: ignore what you don't know)
        time = event.get("time")
        try:
            if type(time) is str and time[-1:] == "Z":
                ms = (fromisoformat(time) - epoch) // one_ms
            else:
                ms = to_ms(time)
        except (TypeError, ValueError):
            raise ValueError(f"event {event.get('id')!r} has no valid time: {time!r}") from None
        event_id = event.get("id")
        if type(event_id) is not str:
            event_id = str(event_id)
        if event_id in by_id:
            kept = by_id[event_id]
            if (kept[0], kept[1]) <= (ms, rank):
                continue
        by_id[event_id] = (ms, rank, event_id, event)
    ordered = list(by_id.values())
    ordered.sort()  # ids are unique here, so the events themselves are never compared
    return ordered


def _read_lives(ordered: list, rooms: dict[tuple[str, str], _Room], lives: list[_MeetingSoFar],
                instances: _Instances) -> None:
    """One pass over ordered events, on from the state earlier ones left: room lives, who was
    inside when, and server instances."""
    first_seen, last_seen, hosts = instances.first_seen, instances.last_seen, instances.hosts

    for ms, _rank, _id, event in ordered:
        kind = event["type"]
        source = event["source"]
        instance = source["instance"]
        if instance not in last_seen:
            first_seen[instance] = ms
            hosts[instance] = set()
        last_seen[instance] = ms
        if kind == "source.started":
            where = (source.get("server"), source.get("host"))
            hosts[instance].add(where)
            instances.starts.setdefault(where, {})[instance] = ms
            continue

        room_info = event["room"]
        jid = room_info["jid"]
        parent_jid = room_info.get("parent_jid")
        room = rooms.get((instance, jid))
        if room is None:
            room = rooms[(instance, jid)] = _Room()
            # A room lives on one component: its first event tells where the instance runs.
            hosts[instance].add((source.get("server"), source.get("host")))

        if kind == "occupant.joined":
            occupant = event.get("occupant") or {}
            occupant_jid = occupant.get("occupant_jid")
            if not occupant_jid:
                continue
            session = room.sessions.get(occupant_jid)
            if session is None:
                if parent_jid:
                    parent = rooms.get((instance, parent_jid))
                    if parent is None or not parent.open:
                        continue  # a breakout with no main meeting to count towards
                    life = parent.open[-1]
                elif room.open and "meeting_id" not in room_info:
                    life = room.open[-1]
                else:
                    life = _life_for(room, room_info, instance, ms, lives)
                key = participant_key(event)
                person = life.people.get(key)
                if person is None:
                    person = life.people[key] = _Person(key)
                session = room.sessions[occupant_jid] = _Session(person, life, ms)
                person.sessions.append(session)
            person = session.person
            nick = occupant.get("nick")
            if nick:
                person.nicks.setdefault(nick, None)
                person.last_nick = nick
            # The identity comes from the connection's verified token: its join tells it all.
            identity = event.get("identity")
            if identity:
                person.identity = identity
            if occupant.get("role") == "moderator":
                person.role_moderator = True
            continue

        if kind in ("occupant.left", "occupant.renamed"):
            occupant = event.get("occupant") or {}
            session = room.sessions.get(occupant.get("occupant_jid"))
            if session is None:
                continue  # no join we know of: nothing to attribute
            person = session.person
            if kind == "occupant.left":
                session.end = ms
                del room.sessions[occupant["occupant_jid"]]
            else:
                previous = occupant.get("previous_nick")
                if previous:
                    person.nicks.setdefault(previous, None)
            nick = occupant.get("nick")
            if nick:
                person.nicks.setdefault(nick, None)
                person.last_nick = nick
            if occupant.get("role") == "moderator":
                person.role_moderator = True
            continue

        if parent_jid:
            if kind == "room.destroyed":  # a breakout room's presence ends with it
                for session in room.sessions.values():
                    session.end = ms
                room.sessions.clear()
            continue  # a breakout room is no meeting

        if kind == "room.created":
            for life in room.open:
                if life.replaced_at is None:
                    life.replaced_at = ms
            life = _MeetingSoFar(instance, room_info, ms)
            room.open.append(life)
            lives.append(life)
        else:  # room.destroyed
            closing = _life_destroyed(room, room_info.get("meeting_id"), ms)
            if closing is None:
                continue
            closing.end = ms
            closing.closed_by = "room.destroyed"
            room.open.remove(closing)
            for occupant_jid, session in list(room.sessions.items()):
                if session.meeting is closing:
                    session.end = ms
                    del room.sessions[occupant_jid]


def _life_destroyed(room: _Room, meeting_id: str | None, ms: int) -> _MeetingSoFar | None:
    """Which open life a room.destroyed ends."""
    if not room.open:
        return None
    if meeting_id:
        for life in room.open:
            if life.meeting_id == meeting_id:
                return life
    # A new life created in this very millisecond is ranked before the old one's destroy.
    for life in room.open:
        if life.replaced_at == ms:
            return life
    return room.open[-1]


def _life_for(room: _Room, room_info: Mapping, instance: str, ms: int, lives: list[_MeetingSoFar]) -> _MeetingSoFar:
    """The open life of a main room a join belongs to, opened if none is."""
    meeting_id = room_info.get("meeting_id")
    if room.open:
        if meeting_id:
            for life in room.open:
                if life.meeting_id == meeting_id:
                    return life
        life = room.open[-1]
        if meeting_id and life.meeting_id is None:
            life.meeting_id = meeting_id  # the server named the meeting after room.created
        return life
    life = _MeetingSoFar(instance, room_info, ms)
    room.open.append(life)
    lives.append(life)
    return life


def _presence(life: _MeetingSoFar, ends_of_instances: Mapping[str, int]) -> Presence:
    if life.end is not None:
        end, closed_by = life.end, life.closed_by
    elif life.replaced_at is not None:
        end, closed_by = life.replaced_at, "room.created"
    elif life.instance in ends_of_instances:
        end, closed_by = max(life.start, ends_of_instances[life.instance]), "source.started"
    else:
        end, closed_by = None, None
    people = []
    for person in life.people.values():
        identity = person.identity
        people.append(PersonPresence(
            key=person.key,
            name=identity.get("name") or person.last_nick,
            names=list(person.nicks),
            email=identity.get("email"),
            user_id=identity.get("user_id"),
            claims=identity.get("claims") or {},
            moderator=person.moderator,
            sessions=[(s.start, s.end) for s in person.sessions],
        ))
    started_at = from_ms(life.start)
    return Presence(
        key=life.meeting_id or meeting_key(life.room_jid, started_at, life.instance),
        room_jid=life.room_jid,
        room_name=life.room_name,
        meeting_id=life.meeting_id,
        instance=life.instance,
        start=life.start,
        end=end,
        closed_by=closed_by,
        people=people,
    )


def classify(presence: Presence, settings: Settings, now_ms: int,
             context: MeetingContext | None = None) -> Meeting:
    """A meeting's attendance under `settings`; a running meeting is computed up to `now_ms`.

    `context` gives the meeting's courses and group, and the lessons and class list of those
    courses: late, left early and percent are measured against the lesson the meeting matches
    (lessons.choose_lesson), else against the meeting; students on the class list whom nobody
    matched are its absentees. Default: the courses and group its participants' claims give."""
    if context is None:
        context = claims_context(presence, settings)
    start = presence.start
    running = presence.end is None
    if running:
        latest = max((s if e is None else e for p in presence.people for s, e in p.sessions), default=start)
        end = max(now_ms, start, latest)
    else:
        end = presence.end
    duration_ms = end - start
    grace_ms = settings.reconnect_grace_seconds * 1000

    choice = choose_lesson(context.lessons, start, presence.end, now_ms, context.group)
    lesson = choice.lesson
    if lesson is None:
        ref_start, ref_end = start, end
    else:
        ref_start = lesson.start_ms
        ref_end = min(lesson.end_ms, max(end, lesson.start_ms)) if running else lesson.end_ms
    ref_ms = ref_end - ref_start

    participants = []
    for person in presence.people:
        raw = []
        open_now = False
        for session_start, session_end in person.sessions:
            if session_end is None:
                session_end = end
                open_now = True
            clipped_start = session_start if session_start > start else start
            clipped_end = session_end if session_end < end else end
            if clipped_start <= clipped_end:
                raw.append((clipped_start, clipped_end))
        if not raw:
            continue
        merged = merge_intervals(raw, grace_ms)
        if lesson is None:
            present_ms = sum(b - a for a, b in merged)
        else:
            present_ms = sum(max(0, min(b, ref_end) - max(a, ref_start)) for a, b in merged)
        first_join = merged[0][0]
        last_leave = merged[-1][1]
        still_present = running and open_now
        percent = percent_of(present_ms, ref_ms)
        claims = person.claims
        kind = key_kind(person.key)
        participants.append(Participant(
            key=person.key,
            name=person.name,
            names=list(person.names),
            email=person.email,
            user_id=person.user_id,
            claims={name: claims[name] for name in settings.claims if name in claims},
            moderator=person.moderator,
            intervals=[(from_ms(a), from_ms(b)) for a, b in merged],
            first_join=from_ms(first_join),
            last_leave=None if still_present else from_ms(last_leave),
            present_seconds=present_ms / 1000,
            percent=percent,
            status=status_for(percent, settings),
            late=(first_join - ref_start) > settings.late_after_seconds * 1000,
            left_early=(not still_present) and (ref_end - last_leave) > settings.left_early_seconds * 1000,
            still_present=still_present,
            key_kind=kind,
            ambiguous=_shared_name(raw, person.names) if kind == "signed_name" else None,
        ))
    participants.sort(key=lambda p: (p.first_join, p.name, p.key))

    absentees: list[Enrolled] = []
    if context.roster:
        group = lesson.group if lesson is not None and lesson.group else context.group
        absentees = match_roster(participants, expected_students(context.roster, group)).absent
        on_list = match_roster(participants, context.roster).enrolled
        for participant in participants:
            participant.enrolled = on_list[participant.key]
    return Meeting(
        key=presence.key,
        room_jid=presence.room_jid,
        room_name=presence.room_name,
        meeting_id=presence.meeting_id,
        started_at=from_ms(start),
        ended_at=None if running else from_ms(end),
        closed_by=presence.closed_by,
        participants=participants,
        duration_seconds=duration_ms / 1000,
        instance=presence.instance,
        reference=Reference(start=from_ms(ref_start), end=from_ms(ref_end), lesson=lesson, note=choice.note),
        absentees=absentees,
        courses=tuple(context.courses),
        group=context.group,
    )


def _shared_name(sessions: list[tuple[int, int]], names: list[str]) -> str | None:
    """Why a signed name's participant may be two people, or None (module docstring)."""
    overlap = concurrent_ms(sessions)
    if overlap <= SAME_NAME_OVERLAP_SECONDS * 1000:
        return None
    shown = f" (display names {', '.join(names)})" if len(names) > 1 else ""
    return (f"connections signed with this name were in the meeting at the same time for {round(overlap / 60000)} min"
            f"{shown}: two people with the same name, or one person with two tabs or devices; the events cannot "
            "tell which")


def _make_keys_unique(presences: list[Presence]) -> None:
    """A meeting_id seen on two lives (a server bug) must not merge them in the store's eyes."""
    used: set[str] = set()
    for presence in presences:
        if presence.key in used:
            presence.key = meeting_key(presence.room_jid, from_ms(presence.start), presence.instance)
        used.add(presence.key)
