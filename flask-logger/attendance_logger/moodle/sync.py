"""Writing a meeting's attendance into the course's Attendance activity in Moodle.

Three steps, so that a dry run shows exactly what a real run writes:

1. read_course_state: what Moodle holds now (course, Attendance activities and their sessions,
   enrolled users), through the client.
2. plan_sync, a pure function: which session the meeting belongs to, which user gets which status,
   and who could not be matched. Nothing is guessed: people who cannot be matched with certainty
   are listed, and a plan with problems writes nothing.
3. apply_plan: the writes, through the client, each reported to an audit callback.

Session choice, in order: the session stored from this meeting's last sync; a session whose
description carries this meeting's marker (a session we created whose id was not stored); the
session of the course (or of the meeting's group) that overlaps the lesson longest, where the
lesson is the scheduled one when the meeting matched the timetable, else the meeting itself; when
none overlaps, a new session covering the lesson in the course's Attendance activity. Two sessions
overlapping equally long is a problem, not a coin toss.

People: each participant is matched to an enrolled user by LMS user id, else email, else a unique
full name or username among the enrolled users (case and accents ignored). An identifier that
matches nobody makes the participant unknown; several matches make them ambiguous, and the users
they might be are not marked absent. So is a participant the receiver flagged as possibly two people
(a signed name connected twice at once): the user it matches is listed, not marked. Enrolled
students (by role) whom nobody matched are absent. Users with a teacher role are never marked.

Statuses: present -> P, late (present but late) -> L, partial -> L, absent -> A by default, each an
acronym looked up in the session's status set (ids differ per activity). A status that a person
changed in Moodle since our last write is kept, not overwritten; a re-sync rewrites only what it
wrote itself.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Callable, Mapping

from ..names import fold_name
from .client import MoodleClient, MoodleError
from .model import Activity, AttendanceSession, Course, EnrolledUser, SiteInfo, Status

log = logging.getLogger("attendance_logger.moodle.sync")

MARKER = "attendance-logger meeting"
OUTCOMES = ("present", "late", "partial", "absent")  # best first


@dataclasses.dataclass(frozen=True)
class PersonAttendance:
    """One participant of the meeting as the receiver computed them."""
    key: str  # the receiver's participant key
    name: str | None
    email: str | None
    user_id: str | None  # the LMS user id the token carried
    status: str  # present | partial | absent
    late: bool = False
    moderator: bool = False
    ambiguous: str | None = None  # why this participant may be two people (a shared signed name)

    def __post_init__(self):
        if self.status not in ("present", "partial", "absent"):
            raise ValueError(f"participant {self.key}: status {self.status!r} is not present, partial or absent")

    @property
    def outcome(self) -> str:
        return "late" if self.status == "present" and self.late else self.status


@dataclasses.dataclass(frozen=True)
class MeetingAttendance:
    key: str  # the meeting's stable id in the receiver; the sync's records are kept under it
    room: str
    course: str  # the course's Moodle shortname
    start: dt.datetime  # the lesson: the scheduled one when the meeting matched the timetable
    end: dt.datetime
    people: tuple[PersonAttendance, ...]
    group_id: int | None = None  # the Moodle group of the lesson, when known


@dataclasses.dataclass(frozen=True)
class StatusMapping:
    """The status acronym written for each outcome (Moodle's defaults are P, A, L, E; a site
    installed in another language may use other letters)."""
    present: str = "P"
    late: str = "L"
    partial: str = "L"
    absent: str = "A"

    def acronym(self, outcome: str) -> str:
        return getattr(self, outcome)


@dataclasses.dataclass(frozen=True)
class SyncSettings:
    statuses: StatusMapping = StatusMapping()
    student_roles: frozenset[str] = frozenset({"student"})
    teacher_roles: frozenset[str] = frozenset({"editingteacher", "teacher", "manager", "coursecreator"})
    attendance_id: int | None = None  # the Attendance activity to use when the course has several


@dataclasses.dataclass(frozen=True)
class PreviousSync:
    """What the receiver stored after this meeting's last sync."""
    session_id: int
    written: Mapping[int, int]  # user id -> status id the sync wrote


@dataclasses.dataclass(frozen=True)
class CourseState:
    """What Moodle holds for a course, read just before planning."""
    course: Course
    activities: tuple[Activity, ...]
    sessions: Mapping[int, tuple[AttendanceSession, ...]]  # activity instance id -> its sessions
    users: tuple[EnrolledUser, ...]


@dataclasses.dataclass(frozen=True)
class SessionChoice:
    attendance_id: int
    session_id: int | None  # None: to be created
    start: dt.datetime
    duration_seconds: int
    group_id: int
    reason: str
    statusset: int = 0  # sessions created through the web service use set 0
    description: str = ""  # for a session to be created


@dataclasses.dataclass(frozen=True)
class Mark:
    user_id: int
    fullname: str
    outcome: str  # present | late | partial | absent
    acronym: str
    status_id: int | None  # None until the session to be created exists
    action: str  # write | unchanged | keep (changed in Moodle since our last write)
    because: str
    ours: int | None = None  # the status id our last sync wrote for this user


@dataclasses.dataclass(frozen=True)
class Unresolved:
    person: str  # the participant's key
    name: str | None
    reason: str
    candidates: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class SyncPlan:
    meeting: str
    course: str
    session: SessionChoice | None
    marks: tuple[Mark, ...] = ()
    unknown: tuple[Unresolved, ...] = ()
    ambiguous: tuple[Unresolved, ...] = ()
    not_marked: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # any problem: nothing is written

    @property
    def writes(self) -> tuple[Mark, ...]:
        return tuple(mark for mark in self.marks if mark.action == "write")

    def describe(self) -> list[str]:
        """The plan in lines a teacher can read (what a dry run prints)."""
        lines = [f"meeting {self.meeting} -> course {self.course}"]
        lines += [f"  PROBLEM: {problem}" for problem in self.problems]
        if self.session:
            s = self.session
            what = f"session {s.session_id}" if s.session_id else "NEW session"
            lines.append(f"  {what} in Attendance activity {s.attendance_id}: {s.start:%Y-%m-%d %H:%M} UTC, "
                         f"{s.duration_seconds // 60} min ({s.reason})")
        for mark in self.marks:
            status = f"{mark.acronym}" + (f" (status {mark.status_id})" if mark.status_id else "")
            lines.append(f"  {mark.action:9} {mark.fullname} [{mark.user_id}]: {mark.outcome} -> {status}; "
                         f"{mark.because}")
        for kind, people in (("unknown", self.unknown), ("ambiguous", self.ambiguous)):
            for person in people:
                also = f" (could be users {', '.join(map(str, person.candidates))})" if person.candidates else ""
                lines.append(f"  {kind:9} {person.name or person.person}: {person.reason}{also}")
        lines += [f"  not marked {who}" for who in self.not_marked]
        return lines


class SyncRefused(Exception):
    """The plan cannot be written as it is; nothing (more) was written."""

    def __init__(self, problems: tuple[str, ...] | list[str]):
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    time: dt.datetime
    meeting: str
    function: str
    params: Mapping[str, object]  # never the token
    result: str


@dataclasses.dataclass(frozen=True)
class SyncResult:
    session_id: int
    created: bool
    written: dict[int, int]  # what to store as PreviousSync.written
    wrote: int  # status writes made by this run


class SyncIncomplete(Exception):
    """Moodle failed part-way; `result` holds what was written, to be stored like a full result
    (the next sync carries on from it)."""

    def __init__(self, result: SyncResult, cause: MoodleError):
        self.result = result
        self.cause = cause
        super().__init__(f"{result.wrote} statuses written before Moodle failed: {cause}")


def read_course_state(client: MoodleClient, shortname: str | Course) -> CourseState | None:
    """Moodle's current view of the course (by shortname, or a Course already found), or None
    when no course has that shortname."""
    course = client.course_by_shortname(shortname) if isinstance(shortname, str) else shortname
    if course is None:
        return None
    activities = tuple(client.attendance_activities(course.id))
    sessions = {activity.instance: tuple(client.attendance_sessions(activity.instance)) for activity in activities}
    return CourseState(course=course, activities=activities, sessions=sessions,
                       users=tuple(client.enrolled_users(course.id)))


def check_service(client: MoodleClient) -> SiteInfo:
    """The token's user and site, once it is clear the token's service has every function the sync
    calls (Moodle would otherwise refuse the first missing one mid-sync)."""
    site = client.site_info()
    missing = client.missing_functions(site)
    if missing:
        raise SyncRefused([f"the token's web service lacks {', '.join(missing)}: add them in Site administration > "
                           "Server > Web services > External services > Functions"])
    return site


def marker(meeting_key: str) -> str:
    return f"{MARKER} {meeting_key}"


def plan_sync(meeting: MeetingAttendance, state: CourseState, *, settings: SyncSettings = SyncSettings(),
              previous: PreviousSync | None = None) -> SyncPlan:
    """What a sync of `meeting` would write, given Moodle's `state` and the stored `previous` sync."""
    choice, problems = _choose_session(meeting, state, settings, previous)
    if choice is None:
        return SyncPlan(meeting=meeting.key, course=meeting.course, session=None, problems=tuple(problems))
    session = _find_session(state, choice.session_id)
    statuses = session.statuses if session else _status_set(state.sessions.get(choice.attendance_id, ()), 0)
    problems += _unmapped_acronyms(settings.statuses, statuses, choice.attendance_id)
    people = _match_people(meeting, state, settings, session)
    marks = []
    for user, outcome, because in people.outcomes:
        acronym = settings.statuses.acronym(outcome)
        status_id = _status_id(statuses, acronym)
        ours = previous.written.get(user.id) if previous and session and previous.session_id == session.id else None
        current = session.taken.get(user.id) if session else None
        marks.append(Mark(user_id=user.id, fullname=user.fullname, outcome=outcome, acronym=acronym,
                          status_id=status_id, because=because, ours=ours, action=_action(current, status_id, ours)))
    return SyncPlan(meeting=meeting.key, course=meeting.course, session=choice, marks=tuple(marks),
                    unknown=tuple(people.unknown), ambiguous=tuple(people.ambiguous),
                    not_marked=tuple(people.not_marked), problems=tuple(problems))


def _find_session(state: CourseState, session_id: int | None) -> AttendanceSession | None:
    return next((s for sessions in state.sessions.values() for s in sessions if s.id == session_id), None)


def _status_set(sessions, statusset: int) -> tuple[Status, ...] | None:
    """The statuses of `statusset` in an activity, as any of its sessions using that set shows them;
    None when no session shows them (they are read once the new session exists)."""
    return next((s.statuses for s in sessions if s.statusset == statusset and s.statuses), None)


def _status_id(statuses: tuple[Status, ...] | None, acronym: str) -> int | None:
    if not statuses:
        return None
    exact = [s.id for s in statuses if s.acronym == acronym]
    folded = [s.id for s in statuses if s.acronym.casefold() == acronym.casefold()]
    found = exact or folded
    return found[0] if len(found) == 1 else None


def _unmapped_acronyms(mapping: StatusMapping, statuses, attendance_id: int) -> list[str]:
    if statuses is None:
        return []
    have = ", ".join(s.acronym for s in statuses) or "none"
    return [f"status {mapping.acronym(outcome)!r} (for {outcome}) names no single status in Attendance activity "
            f"{attendance_id}'s set, which has {have}: map {outcome} to one of those"
            for outcome in OUTCOMES if _status_id(statuses, mapping.acronym(outcome)) is None]


def _action(current: int | None, target: int | None, ours: int | None) -> str:
    """Write what Moodle lacks or still holds as we wrote it; keep what a person changed since."""
    if current is None:
        return "write"
    if current == target:
        return "unchanged"
    return "write" if current == ours else "keep"


def _overlap(session: AttendanceSession, start: dt.datetime, end: dt.datetime) -> float | None:
    """Seconds the session overlaps [start, end]; None when they do not meet. A session of no
    duration (mod_attendance's default) overlaps when its start lies within the lesson."""
    if session.duration_seconds <= 0:
        return 0.0 if start <= session.start <= end else None
    seconds = (min(session.end, end) - max(session.start, start)).total_seconds()
    return seconds if seconds > 0 else None


def _choose_session(meeting: MeetingAttendance, state: CourseState, settings: SyncSettings,
                    previous: PreviousSync | None) -> tuple[SessionChoice | None, list[str]]:
    activities = [a for a in state.activities
                  if settings.attendance_id is None or a.instance == settings.attendance_id]
    if not activities:
        which = f" with id {settings.attendance_id}" if settings.attendance_id is not None else ""
        return None, [f"course {state.course.shortname} has no Attendance activity{which}; add one in Moodle "
                      "(the sync never creates activities)"]
    sessions = [s for a in activities for s in state.sessions.get(a.instance, ())]

    def chosen(session: AttendanceSession, reason: str) -> SessionChoice:
        return SessionChoice(attendance_id=session.attendance_id, session_id=session.id, start=session.start,
                             duration_seconds=session.duration_seconds, group_id=session.group_id, reason=reason,
                             statusset=session.statusset)

    if previous is not None:
        stored = next((s for s in sessions if s.id == previous.session_id), None)
        if stored is None:
            return None, [f"session {previous.session_id}, used by this meeting's last sync, is no longer in "
                          f"course {state.course.shortname}'s Attendance (deleted in Moodle?); nothing written: "
                          "clear this meeting's Moodle sync record to sync it again"]
        return chosen(stored, "the session of this meeting's last sync"), []
    tagged = sorted((s for s in sessions if marker(meeting.key) in s.description), key=lambda s: s.id)
    if tagged:
        return chosen(tagged[0], "the session created for this meeting"), []

    group = meeting.group_id or 0
    overlapping = [(seconds, s) for s in sessions if (seconds := _overlap(s, meeting.start, meeting.end)) is not None]
    fitting = [(seconds, s) for seconds, s in overlapping if s.group_id in (0, group)]
    if fitting:
        best = max(seconds for seconds, _ in fitting)
        top = [s for seconds, s in fitting if seconds == best]
        if len(top) > 1:
            return None, [f"sessions {', '.join(str(s.id) for s in top)} overlap the lesson equally "
                          f"({best / 60:.0f} min); delete the duplicate in Moodle or link the meeting by hand"]
        return chosen(top[0], f"overlaps the lesson for {best / 60:.0f} of "
                              f"{(meeting.end - meeting.start).total_seconds() / 60:.0f} min"), []
    if overlapping:
        others = ", ".join(f"{s.id} (group {s.group_id})" for _, s in overlapping)
        return None, [f"only sessions of other groups overlap the lesson: {others}; the meeting's group is "
                      f"{'unknown' if not group else group}"]
    if len(activities) > 1:
        ids = ", ".join(f"{a.name!r}: id {a.cmid}" for a in activities)
        return None, [f"course {state.course.shortname} has several Attendance activities ({ids}) and none has a "
                      f"session at this time; choose one: ATTENDANCE_MOODLE_ATTENDANCE={state.course.shortname}=<id> "
                      "(attendance.moodle.attendance in jitsictl.yaml)"]
    start = meeting.start.replace(second=0, microsecond=0)
    end = meeting.end.replace(second=0, microsecond=0)
    if end < meeting.end:
        end += dt.timedelta(minutes=1)
    return SessionChoice(attendance_id=activities[0].instance, session_id=None, start=start,
                         duration_seconds=max(60, int((end - start).total_seconds())), group_id=group,
                         reason="no session overlaps the lesson: a new one covering it",
                         description=f"Jitsi lesson in room {meeting.room} ({marker(meeting.key)})"), []


@dataclasses.dataclass
class _People:
    outcomes: list[tuple[EnrolledUser, str, str]] = dataclasses.field(default_factory=list)
    unknown: list[Unresolved] = dataclasses.field(default_factory=list)
    ambiguous: list[Unresolved] = dataclasses.field(default_factory=list)
    not_marked: list[str] = dataclasses.field(default_factory=list)


def _candidates(person: PersonAttendance, users: tuple[EnrolledUser, ...],
                course: str) -> tuple[list[EnrolledUser], str]:
    """The enrolled users `person` may be, by the strongest identifier they carry, and why."""
    if person.user_id:
        found = [u for u in users if str(u.id) == person.user_id.strip()]
        return found, f"user id {person.user_id} is not enrolled in {course}"
    if person.email:
        email = person.email.strip().casefold()
        found = [u for u in users if u.email and u.email.casefold() == email]
        return found, f"no user enrolled in {course} has the email {person.email}"
    if person.name and fold_name(person.name):
        name = fold_name(person.name)
        found = [u for u in users if fold_name(u.fullname) == name
                 or (u.username and u.username.casefold() == person.name.strip().casefold())]
        return found, f"no user enrolled in {course} has the name or username {person.name!r}"
    return [], "the token carried no user id, email or name"


def _match_people(meeting: MeetingAttendance, state: CourseState, settings: SyncSettings,
                  session: AttendanceSession | None) -> _People:
    people = _People()

    def is_student(user: EnrolledUser) -> bool:
        roles = set(user.roles)
        return bool(roles & settings.student_roles) and not roles & settings.teacher_roles

    expected = {u.id for u in state.users if is_student(u)}
    if session is not None and session.listed:
        expected &= set(session.listed)  # the session's group
    best: dict[int, tuple[str, list[str]]] = {}
    undecided: set[int] = set()
    for person in meeting.people:
        found, reason = _candidates(person, state.users, state.course.shortname)
        label = person.name or person.key
        if person.ambiguous and found:
            people.ambiguous.append(Unresolved(person.key, person.name, person.ambiguous, tuple(u.id for u in found)))
            undecided.update(u.id for u in found)
        elif len(found) > 1:
            people.ambiguous.append(Unresolved(person.key, person.name, "matches several enrolled users",
                                               tuple(u.id for u in found)))
            undecided.update(u.id for u in found)
        elif not found:
            if person.moderator:
                people.not_marked.append(f"{label}: a moderator who is not enrolled")
            else:
                people.unknown.append(Unresolved(person.key, person.name, reason))
        elif not is_student(found[0]):
            people.not_marked.append(f"{found[0].fullname} [{found[0].id}]: not a student in {state.course.shortname}")
        elif found[0].id not in expected:
            people.not_marked.append(f"{found[0].fullname} [{found[0].id}]: not on this session's list of students "
                                     "(another group?)")
        else:
            outcome, keys = best.get(found[0].id, ("absent", []))
            if OUTCOMES.index(person.outcome) < OUTCOMES.index(outcome):
                outcome = person.outcome
            best[found[0].id] = (outcome, keys + [person.key])
    by_id = {u.id: u for u in state.users}
    for user_id in sorted(expected, key=lambda i: (fold_name(by_id[i].fullname), i)):
        user = by_id[user_id]
        if user_id in best:
            outcome, keys = best[user_id]
            joined = "joined as " + " and ".join(keys) + (" (best of them)" if len(keys) > 1 else "")
            people.outcomes.append((user, outcome, joined))
        elif user_id in undecided:
            people.not_marked.append(f"{user.fullname} [{user_id}]: may be an ambiguous participant")
        else:
            people.outcomes.append((user, "absent", "never joined"))
    return people


def apply_plan(client: MoodleClient, plan: SyncPlan, *, on_session: Callable[[int], None],
               audit: Callable[[AuditEntry], None],
               now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> SyncResult:
    """Carry out `plan`. `on_session(session_id)` is called as soon as the session is known, before
    any status is written (store it: a re-sync then updates that session instead of creating
    another). Every write is reported to `audit`. Raises SyncRefused for a plan with problems,
    SyncIncomplete when Moodle fails part-way."""
    if plan.problems or plan.session is None:
        raise SyncRefused(plan.problems or ("no session chosen",))
    choice = plan.session
    created = choice.session_id is None

    def record(function, params, result):
        audit(AuditEntry(time=now(), meeting=plan.meeting, function=function, params=params, result=result))

    taker = check_service(client).user_id
    if created:
        params = {"attendanceid": choice.attendance_id, "sessiontime": int(choice.start.timestamp()),
                  "duration": choice.duration_seconds, "groupid": choice.group_id, "description": choice.description}
        try:
            session_id = client.add_attendance_session(choice.attendance_id, choice.start, choice.duration_seconds,
                                                       choice.description, group_id=choice.group_id)
        except MoodleError as exc:
            record("mod_attendance_add_session", params, f"failed: {exc.errorcode}")
            raise
        record("mod_attendance_add_session", params, f"session {session_id}")
    else:
        session_id = choice.session_id
    on_session(session_id)

    marks = plan.marks
    if any(mark.status_id is None for mark in marks):
        session = next((s for s in client.attendance_sessions(choice.attendance_id) if s.id == session_id), None)
        statuses = session.statuses if session else ()
        missing = sorted({m.acronym for m in marks if _status_id(statuses, m.acronym) is None})
        if missing:
            have = ", ".join(s.acronym for s in statuses) or "none"
            raise SyncRefused([f"status(es) {', '.join(missing)} name no single status in session {session_id}'s "
                               f"set (it has {have}); change the status mapping, then sync again"])
        marks = tuple(dataclasses.replace(m, status_id=_status_id(statuses, m.acronym)) for m in marks)

    # What to store for the next sync: our status for what is (or becomes) ours, and our old
    # status where a person's change is kept, so that the change is still recognised next time.
    written = {m.user_id: m.status_id for m in marks if m.action == "unchanged"}
    written.update({m.user_id: m.ours for m in marks if m.action != "unchanged" and m.ours is not None})
    done = 0
    for mark in (m for m in marks if m.action == "write"):
        params = {"sessionid": session_id, "studentid": mark.user_id, "takenbyid": taker,
                  "statusid": mark.status_id, "statusset": choice.statusset}
        try:
            client.update_user_status(session_id, mark.user_id, taker, mark.status_id, choice.statusset)
        except MoodleError as exc:
            record("mod_attendance_update_user_status", params, f"failed: {exc.errorcode}")
            raise SyncIncomplete(SyncResult(session_id, created, dict(written), done), exc) from exc
        record("mod_attendance_update_user_status", params, "ok")
        written[mark.user_id] = mark.status_id
        done += 1
    return SyncResult(session_id=session_id, created=created, written=written, wrote=done)
