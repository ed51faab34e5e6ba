"""The API (authenticated): meetings, a meeting's attendance as JSON or CSV, a course's CSV; class
lists and timetables, imported and read.

Every read and import goes through access.view(): a teacher reads only the meetings of their
courses, and imports and reads only their courses' class lists and timetables."""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, Response, abort, current_app, jsonify, request, stream_with_context

from . import reports
from .access import CourseNotReadable, view
from .attendance import MeetingNotFound
from .auth import api_login_required
from .table_import import ImportFailed
from .times import format_ms, to_ms

bp = Blueprint("api", __name__, url_prefix="/v1")
LAST_DAY = dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadQuery(Exception):
    pass


def parse_bound(name: str, value: str | None) -> int | None:
    """A `from`/`to` query value in milliseconds: an RFC 3339 time, or a date (UTC), which as
    `to` includes that whole day (the dashboard's date fields send dates)."""
    if not value:
        return None
    try:
        if _DATE.match(value):
            day = dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc)
            return to_ms(day + dt.timedelta(days=1) if name == "to" else day)
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError
        return to_ms(moment)
    except (ValueError, OverflowError):  # OverflowError: the day after 9999-12-31
        raise BadQuery(f"{name}={value!r} is not a date (2025-11-22) or an RFC 3339 time with a zone "
                       "(2025-11-22T08:00:00Z)") from None


def meeting_summary(row) -> dict:
    return {"id": row.id, "room": row.room_name, "room_jid": row.room_jid, "meeting_id": row.meeting_id,
            "started_at": format_ms(row.started_ms), "ended_at": format_ms(row.ended_ms), "closed_by": row.closed_by,
            "participants": row.participant_count}


def meeting_filters(args) -> dict:
    return {"room": args.get("room") or None, "course": args.get("course") or None,
            "from_ms_": parse_bound("from", args.get("from")), "to_ms_": parse_bound("to", args.get("to"))}


@bp.errorhandler(BadQuery)
def _bad_query(exc):
    return jsonify({"error": "bad_query", "message": str(exc)}), 400


def _meeting_or_404(meeting_id: str):
    try:
        return view().meeting(meeting_id)
    except MeetingNotFound:
        abort(404, description=f"no meeting with id {meeting_id!r}")


@bp.get("/meetings")
@api_login_required
def list_meetings():
    rows = view().meetings(**meeting_filters(request.args))
    return jsonify({"meetings": [meeting_summary(r) for r in rows]})


@bp.get("/meetings/<meeting_id>/attendance")
@api_login_required
def meeting_attendance(meeting_id: str):
    meeting = _meeting_or_404(meeting_id)
    body = reports.meeting_json(meeting, sync=sync_states(meeting_id))
    body["id"] = meeting_id
    return jsonify(body)


def sync_states(meeting_id: str) -> list | None:
    """The meeting's Moodle sync per course; None when Moodle is not configured."""
    moodle = current_app.extensions.get("moodle_sync")
    return None if moodle is None else moodle.states(meeting_id)


def csv_response(chunks, filename: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80] or "attendance"


@bp.get("/meetings/<meeting_id>/attendance.csv")
@api_login_required
def meeting_attendance_csv(meeting_id: str):
    meeting = _meeting_or_404(meeting_id)
    settings = view().settings
    name = safe_filename(f"{meeting.room_name}-{meeting.started_at:%Y%m%dT%H%M}")
    return csv_response(reports.meeting_csv(meeting, settings), f"{name}.csv")


@bp.get("/courses/<course>/attendance.csv")
@api_login_required
def course_attendance_csv(course: str):
    readable = view()
    try:
        meetings = readable.course(course)
    except CourseNotReadable as exc:
        abort(404, description=str(exc))
    return csv_response(reports.course_csv(meetings, readable.settings, course=course),
                        f"{safe_filename(course)}-attendance.csv")


# -- class lists and timetables ----------------------------------------------------------------------

def _uploaded() -> tuple[bytes, str]:
    """The file sent: a form's `file` field (multipart), else the body itself."""
    upload = request.files.get("file")
    if upload is not None:
        return upload.read(), upload.filename or "upload"
    return request.get_data(cache=False), request.args.get("filename") or "upload"


def _from_this_site() -> None:
    """A write with a dashboard session must come from the dashboard: refuse other origins."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        abort(403, description="this import was sent from another site and was refused")


@bp.errorhandler(ImportFailed)
def _refused_file(exc: ImportFailed):
    problems = [{"line": p.line, "column": p.column, "field": p.field, "message": p.message} for p in exc.problems]
    return jsonify({"error": "bad_file", "message": f"nothing imported: {len(problems)} problem(s) in {exc.source}",
                    "problems": problems}), 400


def _import(parse, courses_of):
    """Parse the file (ImportFailed: 400 naming each problem), check that the account may import
    for every course it names, and return what it holds."""
    _from_this_site()
    readable = view()
    try:
        parsed = parse()
    except ImportFailed:  # a ValueError too: answered by _refused_file
        raise
    except ValueError as exc:
        raise BadQuery(str(exc)) from None
    try:
        readable.require_courses(courses_of(parsed))
    except CourseNotReadable as exc:
        abort(403, description=str(exc))
    return parsed


@bp.post("/roster")
@api_login_required
def import_roster():
    """A class list CSV (`?course=` when it is one course's); replaces its courses' class lists."""
    from .class_store import read_roster_file

    course = request.args.get("course") or None
    data, name = _uploaded()
    entries = _import(lambda: read_roster_file(data, name, course=course),
                      lambda found: {e.course for e in found} | ({course} if course else set()))
    summary = view().attendance.classes.replace_roster(entries, source="file", courses=[course] if course else [])
    return jsonify(summary.as_json())


@bp.post("/schedule")
@api_login_required
def import_schedule():
    """A timetable, CSV or iCalendar (`?course=&timezone=&from=&to=&course_from=&course_pattern=`);
    replaces its courses' lessons within its window."""
    from .class_store import read_timetable_file

    args = request.args
    course = args.get("course") or None
    window = None
    if args.get("from") or args.get("to"):
        start, end = parse_bound("from", args.get("from")), parse_bound("to", args.get("to"))
        if start is None or end is None:
            raise BadQuery("give both from and to, or neither")
        window = (_moment(start), _moment(end))
    data, name = _uploaded()
    found = _import(lambda: read_timetable_file(
        data, name, course=course, timezone=args.get("timezone") or current_app.config["TIMEZONE"], window=window,
        course_from=args.get("course_from") or "SUMMARY", course_pattern=args.get("course_pattern") or None),
        lambda parsed: {lesson.course for lesson in parsed[0]} | ({course} if course else set()))
    lessons, window, skipped = found
    try:
        summary = view().attendance.classes.replace_lessons(lessons, source="file", courses=[course] if course else [],
                                                            window=window, skipped=skipped)
    except ValueError as exc:
        raise BadQuery(str(exc)) from None
    return jsonify(summary.as_json())


def _classes_of(course: str):
    """The class store, once the account may read `course` (404 otherwise, as course exports)."""
    readable = view()
    try:
        readable.require_courses([course])
    except CourseNotReadable as exc:
        abort(404, description=str(exc))
    return readable.attendance.classes


@bp.get("/courses/<course>/roster")
@api_login_required
def course_roster(course: str):
    students = _classes_of(course).class_list(course)
    return jsonify({"course": course, "students": [reports.enrolled_json(e) for e in students]})


@bp.get("/courses/<course>/lessons")
@api_login_required
def course_lessons(course: str):
    classes = _classes_of(course)
    start = parse_bound("from", request.args.get("from"))
    end = parse_bound("to", request.args.get("to"))
    found = classes.lessons_of(course, _moment(start or 0), _moment(end or to_ms(LAST_DAY)))
    return jsonify({"course": course, "lessons": [
        {"start": format_ms(l.start_ms), "end": format_ms(l.end_ms), "group": l.group, "source": l.source,
         "origin": l.origin, "moodle_session": l.external_id} for l in found]})


def _moment(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)


@bp.errorhandler(403)
def _forbidden(exc):
    return jsonify({"error": "forbidden", "message": exc.description}), 403


@bp.errorhandler(404)
def _not_found(exc):
    return jsonify({"error": "not_found", "message": exc.description}), 404
