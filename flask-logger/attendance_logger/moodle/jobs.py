"""The Moodle sync of the receiver's meetings: a durable queue in the database, worked in the
background by every receiver process, and the same sync run by `attendance-logger moodle sync`.

When the meetings index finishes a meeting (meetings_index.py), each of its courses is queued
(`moodle_syncs`), in the same transaction: a restart loses nothing. A meeting indexed again (late
events) is queued again; one that ended more than AUTO_SYNC_HOURS ago is queued only if it was
synced before, so turning the sync on never writes a school's history into Moodle by itself
(`moodle sync --course` does that when asked).

A worker takes a due job by moving it to `running` with a lease; a process that dies leaves it to
be taken again when the lease runs out. A failed job is tried again later, the waits doubling from
a minute to an hour: for ever while Moodle cannot be reached (nothing is lost), at most
MAX_ATTEMPTS times when Moodle refuses (a missing capability, a plan with problems), after which it
waits for `moodle sync`. Moodle is called outside any database transaction, so a slow Moodle never
holds up ingest or reads.

One sync of a meeting and course:

1. the Moodle course: the course's shortname, else (all digits) its id, else the one shortname
   mod_jitsi would reduce to it (a course read from a room name);
2. what Moodle holds (sync.read_course_state); its students become the course's class list and its
   Attendance sessions (with a duration) its lessons, source "moodle" (class_store.py);
3. the meeting's attendance measured against them (a dry run keeps nothing);
4. the plan (sync.plan_sync), with what the last sync of this meeting wrote;
5. the writes (sync.apply_plan): the session's id is stored the moment it is known and every write
   goes to the audit log (`moodle_audit`) as it happens; a sync that fails part-way keeps what it
   wrote, so the next one carries on.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
import time
from typing import Callable, Iterable

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.engine import Connection

from ..attendance import MeetingNotFound
from ..lessons import Enrolled, Lesson, MeetingContext
from ..room_pattern import courses_named, mod_jitsi_room_part
from ..storage import insert_for
from ..tables import meeting_courses, meetings, moodle_audit, moodle_syncs
from ..times import format_ms
from .client import MoodleClient, MoodleError, MoodleUnavailable
from .model import Course
from .settings import MoodleSettings
from .sync import (AuditEntry, CourseState, MeetingAttendance, PersonAttendance, PreviousSync, SyncIncomplete,
                   SyncPlan, SyncRefused, apply_plan, plan_sync, read_course_state)

log = logging.getLogger("attendance_logger.moodle.jobs")

AUTO_SYNC_HOURS = 24
MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
LEASE_SECONDS = 900
MAX_SHORTNAME = 255  # Moodle's course.shortname is VARCHAR(255)
ALL_TIME = (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc))


class Unresolvable(Exception):
    """The course names no Moodle course (or several); the message says what to configure."""


@dataclasses.dataclass
class Outcome:
    """One sync of a meeting and course, for the command line and its --json."""
    meeting: str
    course: str
    state: str  # done | failed | queued (Moodle unreachable: tried again) | planned (dry run) | busy | gone
    message: str = ""
    plan: SyncPlan | None = None
    wrote: int = 0
    session_id: int | None = None

    @property
    def ok(self) -> bool:
        """Done, or (dry run) planned without problems."""
        return self.state == "done" or (self.state == "planned" and self.plan is not None and not self.plan.problems)

    def as_json(self) -> dict:
        body = {"meeting": self.meeting, "course": self.course, "state": self.state, "message": self.message,
                "wrote": self.wrote, "session_id": self.session_id}
        if self.plan is not None:
            body["plan"] = plan_json(self.plan)
        return body


def plan_json(plan: SyncPlan) -> dict:
    choice = plan.session
    return {
        "meeting": plan.meeting, "course": plan.course, "problems": list(plan.problems),
        "session": None if choice is None else {
            "session_id": choice.session_id, "attendance_id": choice.attendance_id,
            "start": choice.start.isoformat().replace("+00:00", "Z"), "duration_seconds": choice.duration_seconds,
            "group_id": choice.group_id, "reason": choice.reason, "description": choice.description or None},
        "marks": [{"user_id": m.user_id, "fullname": m.fullname, "outcome": m.outcome, "acronym": m.acronym,
                   "status_id": m.status_id, "action": m.action, "because": m.because} for m in plan.marks],
        "unknown": [dataclasses.asdict(u) for u in plan.unknown],
        "ambiguous": [dataclasses.asdict(u) for u in plan.ambiguous],
        "not_marked": list(plan.not_marked),
    }


def summary(plan: SyncPlan, wrote: int) -> str:
    counts = {action: sum(1 for m in plan.marks if m.action == action) for action in ("unchanged", "keep")}
    parts = [f"{wrote} statuses written", f"{counts['unchanged']} already right"]
    if counts["keep"]:
        parts.append(f"{counts['keep']} changed in Moodle since, kept")
    if plan.unknown or plan.ambiguous:
        parts.append(f"{len(plan.unknown) + len(plan.ambiguous)} participants not matched (see the dry run)")
    return ", ".join(parts)


class MoodleSync:
    def __init__(self, attendance, settings: MoodleSettings, *, clock: Callable[[], float] = time.time,
                 client: MoodleClient | None = None):
        self.attendance = attendance
        self.storage = attendance.storage
        self.settings = settings
        self.clock = clock
        self._client = client
        self._thread: threading.Thread | None = None

    @classmethod
    def attach(cls, attendance, settings: MoodleSettings) -> MoodleSync:
        """The sync of `attendance`'s meetings; with auto_sync, finished meetings are queued by
        whichever process indexes them (the receiver or a command that reads attendance)."""
        sync = attendance.moodle = cls(attendance, settings)
        if settings.auto_sync:
            attendance.index.on_finished = sync.enqueue_finished
        return sync

    def client(self) -> MoodleClient:
        if self._client is None:
            self._client = self.settings.client()
        return self._client

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- the queue --------------------------------------------------------------------------

    def enqueue_finished(self, conn: Connection, finished: Iterable[tuple[dict, tuple[str, ...]]]) -> None:
        """Queue the courses of meetings the index just finished (meetings_index.on_finished)."""
        now = self._now_ms()
        recent = now - AUTO_SYNC_HOURS * 3600 * 1000
        for row, courses in finished:
            for course in courses:
                if len(course) > MAX_SHORTNAME:
                    continue
                known = conn.execute(select(moodle_syncs.c.state).where(
                    moodle_syncs.c.meeting == row["id"], moodle_syncs.c.course == course)).first()
                if known is not None:
                    # A job running now sees its queued_ms changed when it ends, and queues itself again.
                    queued = moodle_syncs.c.queued_ms
                    conn.execute(update(moodle_syncs).where(
                        moodle_syncs.c.meeting == row["id"], moodle_syncs.c.course == course).values(
                        state=case((moodle_syncs.c.state == "running", "running"), else_="queued"), due_ms=now,
                        attempts=0, queued_ms=case((queued >= now, queued + 1), else_=now)))
                elif row["ended_ms"] >= recent:
                    conn.execute(insert_for(conn, moodle_syncs).values(
                        meeting=row["id"], course=course, state="queued", due_ms=now, attempts=0,
                        queued_ms=now).on_conflict_do_nothing())

    def enqueue(self, meeting_id: str, course: str) -> None:
        now = self._now_ms()
        with self.storage.write() as conn:
            statement = insert_for(conn, moodle_syncs).values(meeting=meeting_id, course=course, state="queued",
                                                             due_ms=now, attempts=0, queued_ms=now)
            conn.execute(statement.on_conflict_do_nothing())

    def _take(self, meeting_id: str, course: str, *, only_due: bool) -> int | None:
        """Move a job to running with a lease, unless another worker holds it (or, `only_due`,
        it is not due); its queued_ms when taken, or None."""
        now = self._now_ms()
        free = or_(moodle_syncs.c.state != "running", moodle_syncs.c.lease_ms < now)
        if only_due:
            free = and_(free, moodle_syncs.c.due_ms.is_not(None), moodle_syncs.c.due_ms <= now)
        job = and_(moodle_syncs.c.meeting == meeting_id, moodle_syncs.c.course == course)
        with self.storage.write() as conn:
            if conn.execute(update(moodle_syncs).where(job, free).values(
                    state="running", lease_ms=now + LEASE_SECONDS * 1000)).rowcount != 1:
                return None
            return conn.execute(select(moodle_syncs.c.queued_ms).where(job)).scalar()

    def due(self) -> list[tuple[str, str]]:
        now = self._now_ms()
        with self.storage.read() as conn:
            return [tuple(r) for r in conn.execute(
                select(moodle_syncs.c.meeting, moodle_syncs.c.course).where(
                    moodle_syncs.c.due_ms <= now,
                    or_(moodle_syncs.c.state != "running", moodle_syncs.c.lease_ms < now))
                .order_by(moodle_syncs.c.due_ms)).all()]

    def pending(self) -> list[tuple[str, str]]:
        """Every job not done, due or not (what `moodle sync` runs by default)."""
        with self.storage.read() as conn:
            return [tuple(r) for r in conn.execute(
                select(moodle_syncs.c.meeting, moodle_syncs.c.course).where(moodle_syncs.c.state != "done")
                .order_by(moodle_syncs.c.queued_ms, moodle_syncs.c.meeting)).all()]

    def work_once(self, limit: int = 20) -> list[Outcome]:
        """Run the due jobs (at most `limit`) that no other worker holds."""
        done = []
        for meeting_id, course in self.due()[:limit]:
            queued = self._take(meeting_id, course, only_due=True)
            if queued is not None:
                done.append(self._run_taken(meeting_id, course, queued))
        return done

    def start_worker(self, interval_seconds: float) -> None:
        """Work the queue every `interval_seconds` in a thread of this process (one per gunicorn
        worker: jobs are taken with a lease, so two never run the same one)."""
        if interval_seconds <= 0 or (self._thread is not None and self._thread.is_alive()):
            return

        def loop():
            while True:
                time.sleep(interval_seconds)
                try:
                    self.work_once()
                except Exception:  # keep working; the job's lease lets another try it
                    log.exception("the Moodle sync worker failed")

        self._thread = threading.Thread(target=loop, name="moodle-sync", daemon=True)
        self._thread.start()

    # -- one sync ---------------------------------------------------------------------------

    def sync(self, meeting_id: str, course: str, *, dry_run: bool = False) -> Outcome:
        """Sync (or, `dry_run`, plan) one meeting and course now, queue or not."""
        if dry_run:
            try:
                plan, _, _ = self._plan(meeting_id, course, dry_run=True)
            except MeetingNotFound:
                return Outcome(meeting_id, course, "gone", "no such meeting (purged?)")
            except (MoodleError, SyncRefused, Unresolvable, ValueError) as exc:
                return Outcome(meeting_id, course, "failed", str(exc))
            return Outcome(meeting_id, course, "planned", "; ".join(plan.problems) or "dry run: nothing written",
                           plan=plan, session_id=plan.session.session_id if plan.session else None)
        self.enqueue(meeting_id, course)
        queued = self._take(meeting_id, course, only_due=False)
        if queued is None:
            return Outcome(meeting_id, course, "busy", "the receiver is syncing this meeting right now; try again "
                           "in a few minutes")
        return self._run_taken(meeting_id, course, queued)

    def _run_taken(self, meeting_id: str, course: str, queued_ms: int) -> Outcome:
        """Run a job taken when it was queued at `queued_ms`; queued again if it was since."""
        plan = None
        try:
            plan, state, course = self._plan(meeting_id, course, dry_run=False)
            result = apply_plan(self.client(), plan, on_session=lambda sid: self._keep_session(
                meeting_id, course, state.course.shortname, sid), audit=lambda entry: self._audit(course, entry))
        except MeetingNotFound:
            with self.storage.write() as conn:
                conn.execute(delete(moodle_syncs).where(moodle_syncs.c.meeting == meeting_id,
                                                        moodle_syncs.c.course == course))
            return Outcome(meeting_id, course, "gone", "no such meeting (purged?)")
        except SyncIncomplete as exc:
            self._keep_written(meeting_id, course, exc.result.written)
            return self._failed(meeting_id, course, f"{exc.result.wrote} statuses written, then: {exc.cause}",
                                transient=isinstance(exc.cause, MoodleUnavailable), plan=plan)
        except MoodleUnavailable as exc:
            return self._failed(meeting_id, course, str(exc), transient=True, plan=plan)
        except (MoodleError, SyncRefused, Unresolvable, ValueError) as exc:
            return self._failed(meeting_id, course, str(exc), transient=False, plan=plan)
        except Exception as exc:
            log.exception("Moodle sync of meeting %s failed", meeting_id)
            return self._failed(meeting_id, course, f"{type(exc).__name__}: {exc}", transient=False, plan=plan)
        message = summary(plan, result.wrote)
        now = self._now_ms()
        job = and_(moodle_syncs.c.meeting == meeting_id, moodle_syncs.c.course == course)
        with self.storage.write() as conn:
            again = conn.execute(select(moodle_syncs.c.queued_ms).where(job)).scalar() != queued_ms
            if again:
                message += "; the meeting changed meanwhile (late events): it is synced again"
            conn.execute(update(moodle_syncs).where(job).values(
                state="queued" if again else "done", due_ms=now if again else None, lease_ms=None, attempts=0,
                session_id=result.session_id, written=_written_json(result.written), message=message,
                synced_ms=now))
        log.info("Moodle sync of meeting %s (%s): session %s, %s", meeting_id, course, result.session_id, message)
        return Outcome(meeting_id, course, "queued" if again else "done", message, plan=plan, wrote=result.wrote,
                       session_id=result.session_id)

    def _failed(self, meeting_id: str, course: str, message: str, *, transient: bool,
                plan: SyncPlan | None) -> Outcome:
        now = self._now_ms()
        with self.storage.write() as conn:
            attempts = (conn.execute(select(moodle_syncs.c.attempts).where(
                moodle_syncs.c.meeting == meeting_id, moodle_syncs.c.course == course)).scalar() or 0) + 1
            wait = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1))
            due = now + wait * 1000 if transient or attempts < MAX_ATTEMPTS else None
            conn.execute(update(moodle_syncs).where(
                moodle_syncs.c.meeting == meeting_id, moodle_syncs.c.course == course).values(
                state="queued" if transient else "failed", due_ms=due, lease_ms=None, attempts=attempts,
                message=message))
        log.warning("Moodle sync of meeting %s (%s) failed (attempt %d): %s", meeting_id, course, attempts, message)
        return Outcome(meeting_id, course, "queued" if transient else "failed", message, plan=plan)

    def _plan(self, meeting_id: str, course: str, *, dry_run: bool) -> tuple[SyncPlan, CourseState, str]:
        """The plan, Moodle's state, and the course the job is now kept under: a course read from a
        room name becomes the Moodle shortname once Moodle's class list names it."""
        row = self.storage.get_meeting(meeting_id, with_result=False)
        if row is None:
            raise MeetingNotFound(meeting_id)
        if row.ended_ms is None:
            raise SyncRefused([f"meeting {meeting_id} is still running; it is synced when it ends"])
        client = self.client()
        moodle_course = self._moodle_course(client, course)
        state = read_course_state(client, moodle_course)
        settings = self.settings.sync_settings(moodle_course.shortname, state.activities)
        local = course if self._claimed(meeting_id, course) else moodle_course.shortname
        lessons, roster = moodle_class_data(state, local, settings.attendance_id)
        if not dry_run:
            self.attendance.classes.replace_roster(roster, source="moodle", courses=[local])
            self.attendance.classes.replace_lessons(lessons, source="moodle", courses=[local], window=ALL_TIME)
            if local != course:
                self._rename(meeting_id, course, local)
                course = local
        stored = self.attendance.meeting(meeting_id)
        if dry_run:  # measured against what Moodle holds now, nothing kept
            near = [l for l in lessons if l.end_ms > _ms(stored.started_at) and l.start_ms < _ms(stored.ended_at)]
            context = MeetingContext(courses=stored.courses, group=stored.group,
                                     lessons=tuple(near) or tuple(self._file_lessons(stored)),
                                     roster=tuple(roster) or tuple(self.attendance.classes.class_list(local)))
            stored = self.attendance.measured_with(meeting_id, context)
        return plan_sync(meeting_attendance(stored, meeting_id, moodle_course.shortname), state,
                         settings=settings, previous=self._previous(meeting_id, course)), state, course

    def _file_lessons(self, meeting) -> list[Lesson]:
        return [l for course in meeting.courses
                for l in self.attendance.classes.lessons_of(course, meeting.started_at, meeting.ended_at)
                if l.source == "file"]

    def _moodle_course(self, client: MoodleClient, course: str) -> Course:
        found = client.course_by_shortname(course)
        if found is None and course.isdigit():
            found = client.course_by_id(int(course))
        if found is not None:
            return found
        shortnames = {c.shortname: c for c in client.courses()}
        named = courses_named(course, sorted(shortnames))
        if len(named) == 1:
            return shortnames[named[0]]
        if named:
            raise Unresolvable(f"course {course!r} (from the room name) could be Moodle's {', '.join(named)}: say "
                               f"which with ATTENDANCE_ROOM_COURSES={course}=<shortname>")
        raise Unresolvable(f"no Moodle course has the shortname {course!r} (nor reduces to it as mod_jitsi names "
                           f"rooms): map it with ATTENDANCE_ROOM_COURSES={course}=<shortname>, or check that the "
                           "web-service user can see the course")

    def _claimed(self, meeting_id: str, course: str) -> bool:
        """Whether a participant's token named this course (else it came from the room's name)."""
        with self.storage.read() as conn:
            return conn.execute(select(meeting_courses.c.meeting).where(
                meeting_courses.c.meeting == meeting_id, meeting_courses.c.course == course,
                meeting_courses.c.source == "claim")).first() is not None

    def _rename(self, meeting_id: str, course: str, local: str) -> None:
        """Keep the job (and what its last sync wrote) under the course's resolved name; a job
        already kept under that name is merged into it."""
        def job(name):
            return and_(moodle_syncs.c.meeting == meeting_id, moodle_syncs.c.course == name)

        with self.storage.write() as conn:
            other = conn.execute(select(moodle_syncs.c.session_id, moodle_syncs.c.written).where(job(local))).first()
            if other is not None:
                conn.execute(delete(moodle_syncs).where(job(local)))
                if other.session_id is not None:
                    conn.execute(update(moodle_syncs).where(job(course), moodle_syncs.c.session_id.is_(None)).values(
                        session_id=other.session_id, written=other.written))
            conn.execute(update(moodle_syncs).where(job(course)).values(course=local))

    def _previous(self, meeting_id: str, course: str) -> PreviousSync | None:
        with self.storage.read() as conn:
            row = conn.execute(select(moodle_syncs.c.session_id, moodle_syncs.c.written).where(
                moodle_syncs.c.meeting == meeting_id, moodle_syncs.c.course == course)).first()
        if row is None or row.session_id is None:
            return None
        return PreviousSync(session_id=row.session_id,
                            written={int(k): v for k, v in json.loads(row.written or "{}").items()})

    def _keep_session(self, meeting_id: str, course: str, shortname: str, session_id: int) -> None:
        with self.storage.write() as conn:
            conn.execute(update(moodle_syncs).where(
                moodle_syncs.c.meeting == meeting_id, moodle_syncs.c.course == course).values(
                session_id=session_id, shortname=shortname))

    def _keep_written(self, meeting_id: str, course: str, written: dict[int, int]) -> None:
        with self.storage.write() as conn:
            conn.execute(update(moodle_syncs).where(
                moodle_syncs.c.meeting == meeting_id, moodle_syncs.c.course == course).values(
                written=_written_json(written)))

    def _audit(self, course: str, entry: AuditEntry) -> None:
        with self.storage.write() as conn:
            conn.execute(moodle_audit.insert().values(
                time_ms=_ms(entry.time), meeting=entry.meeting, course=course, function=entry.function,
                params=json.dumps(dict(entry.params), sort_keys=True, default=str), result=entry.result))
            conn.execute(update(moodle_syncs).where(  # a long sync keeps its lease
                moodle_syncs.c.meeting == entry.meeting, moodle_syncs.c.course == course).values(
                lease_ms=self._now_ms() + LEASE_SECONDS * 1000))

    # -- what reports show ------------------------------------------------------------------

    def states(self, meeting_id: str) -> list[dict]:
        """The meeting's sync per course, for reports.meeting_json's `sync`."""
        with self.storage.read() as conn:
            rows = conn.execute(select(moodle_syncs).where(moodle_syncs.c.meeting == meeting_id)
                                .order_by(moodle_syncs.c.course)).all()
        return [{"course": r.course, "shortname": r.shortname, "state": r.state, "session_id": r.session_id,
                 "synced_at": format_ms(r.synced_ms), "attempts": r.attempts, "message": r.message,
                 "next_attempt_at": format_ms(r.due_ms) if r.state != "done" else None} for r in rows]

    def audit_log(self, meeting_id: str | None = None) -> list[dict]:
        query = select(moodle_audit).order_by(moodle_audit.c.id)
        if meeting_id is not None:
            query = query.where(moodle_audit.c.meeting == meeting_id)
        with self.storage.read() as conn:
            return [{"time": format_ms(r.time_ms), "meeting": r.meeting, "course": r.course, "function": r.function,
                     "params": json.loads(r.params), "result": r.result} for r in conn.execute(query).all()]

    def meetings_of(self, course: str) -> list[tuple[str, str]]:
        """The finished meetings of a course as (meeting, course as indexed), oldest first: also
        those whose room names the course as mod_jitsi reduces its shortname (`mat-1a` for
        MAT-1A) while no class list has resolved it yet."""
        names = {course, mod_jitsi_room_part(course)}
        with self.storage.read() as conn:
            return [tuple(row) for row in conn.execute(
                select(meetings.c.id, meeting_courses.c.course).join(
                    meeting_courses, meeting_courses.c.meeting == meetings.c.id).where(
                    meetings.c.ended_ms.is_not(None),
                    or_(meeting_courses.c.course == course,
                        and_(meeting_courses.c.source == "room", meeting_courses.c.course.in_(names))))
                .order_by(meetings.c.started_ms, meetings.c.id)).all()]

    def courses_of(self, meeting_id: str) -> list[str]:
        with self.storage.read() as conn:
            return list(conn.execute(select(meeting_courses.c.course).where(meeting_courses.c.meeting == meeting_id)
                                     .order_by(meeting_courses.c.course)).scalars())


def moodle_class_data(state: CourseState, course: str, attendance_id: int | None
                      ) -> tuple[list[Lesson], list[Enrolled]]:
    """A course's Attendance sessions that have a duration, as lessons, and its students (by role,
    as the planner counts them), as its class list, both under the receiver's name `course`."""
    teachers = {"editingteacher", "teacher", "manager", "coursecreator"}
    roster = [Enrolled(course=course, name=u.fullname, user_id=str(u.id), username=u.username, email=u.email,
                       source="moodle")
              for u in state.users if "student" in u.roles and not teachers.intersection(u.roles)]
    lessons = [Lesson(course=course, group=None, start_ms=_ms(s.start), end_ms=_ms(s.end), source="moodle",
                      origin=f"Moodle session {s.id}", external_id=s.id, external_group=s.group_id)
               for activity, sessions in state.sessions.items() if attendance_id in (None, activity)
               for s in sessions if s.duration_seconds > 0]
    return lessons, roster


def meeting_attendance(meeting, meeting_id: str, shortname: str) -> MeetingAttendance:
    """A receiver meeting (rules.Meeting) as the planner reads it. Only a name the token signed is
    used to match people: a guest's typed display name never is."""
    reference = meeting.reference
    lesson = reference.lesson if reference else None
    people = tuple(PersonAttendance(
        key=p.key, name=p.name if p.key_kind == "signed_name" else None, email=p.email, user_id=p.user_id,
        status=p.status, late=p.late, moderator=p.moderator, ambiguous=p.ambiguous)
        for p in meeting.participants)
    moodle_group = lesson.external_group if lesson is not None and lesson.source == "moodle" else None
    return MeetingAttendance(key=meeting_id, room=meeting.room_name, course=shortname,
                             start=reference.start if reference else meeting.started_at,
                             end=reference.end if reference else meeting.ended_at, people=people,
                             group_id=moodle_group)


def _written_json(written: dict[int, int]) -> str:
    return json.dumps({str(k): v for k, v in sorted(written.items())})


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)
