"""The API (authenticated): meetings, a meeting's attendance, courses at a glance, a student's
lessons, student search; exports as CSV and Excel workbooks; class lists and timetables, imported
and read.

Every read and import goes through access.view(): a teacher reads only the meetings of their
courses, and imports and reads only their courses' class lists and timetables."""
from __future__ import annotations

import datetime as dt
import itertools
import re

from flask import Blueprint, Response, abort, current_app, jsonify, request, stream_with_context

from . import l10n, reports, student_search, workbooks
from .access import CourseNotReadable, view
from .attendance import MeetingNotFound
from .auth import api_login_required
from .course_report import DEFAULT_SORT, SORTS, course_report
from .lesson import lesson_of
from .table_import import ImportFailed
from .times import format_ms, format_time, to_ms

bp = Blueprint("api", __name__, url_prefix="/v1")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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


def export_name(lesson) -> str:
    return safe_filename(f"{lesson.room}-{lesson.started_at.astimezone(l10n.zone()):%Y%m%dT%H%M}")


def xlsx_response(chunks, filename: str) -> Response:
    response = Response(chunks, mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/meetings/<meeting_id>/attendance.csv")
@api_login_required
def meeting_attendance_csv(meeting_id: str):
    """Everyone in the meeting, a row each (reports.rows_columns); `?sep=;` for European spreadsheets."""
    meeting = _meeting_or_404(meeting_id)
    lesson = lesson_of(meeting, meeting_id)
    return csv_response(reports.meeting_csv(meeting, view().settings, l10n.layout(request.args.get("sep")),
                                            public_id=meeting_id), f"{export_name(lesson)}.csv")


@bp.get("/meetings/<meeting_id>/attendance.xlsx")
@api_login_required
def meeting_attendance_xlsx(meeting_id: str):
    lesson = lesson_of(_meeting_or_404(meeting_id), meeting_id)
    return xlsx_response(workbooks.meeting_xlsx(lesson, view().settings, l10n.layout(), l10n.translator()),
                         f"{export_name(lesson)}.xlsx")


@bp.get("/courses")
@api_login_required
def list_courses():
    """The courses the account may read, with their number of meetings."""
    return jsonify({"courses": [{"course": c, "meetings": n} for c, n in view().courses().items()]})


class NoLessons(Exception):
    pass


def course_lessons(readable_view, course: str, args) -> list:
    """The course's lessons (lesson.Lesson, oldest first) within `args`' `from`/`to`; raises
    CourseNotReadable, BadQuery."""
    start, end = parse_bound("from", args.get("from")), parse_bound("to", args.get("to"))
    lessons = []
    for meeting in readable_view.course(course):
        lesson = lesson_of(meeting, course=course)
        if (start is None or to_ms(lesson.end) >= start) and (end is None or to_ms(lesson.started_at) < end):
            lessons.append(lesson)
    return lessons


def sort_of(args) -> tuple[str, bool]:
    """The grid's order from `?sort=` (one of course_report.SORTS) and `?order=asc|desc`."""
    sort = args.get("sort", DEFAULT_SORT)
    return (sort if sort in SORTS else DEFAULT_SORT), args.get("order") == "desc"


def _course_report_or_404(course: str, *, empty_is_missing: bool):
    try:
        lessons = course_lessons(view(), course, request.args)
    except CourseNotReadable as exc:
        abort(404, description=str(exc))
    if empty_is_missing and not lessons:
        raise NoLessons(course)
    return course_report(course, lessons)


@bp.errorhandler(NoLessons)
def _no_lessons(exc):
    course = exc.args[0]
    period = " in that period" if request.args.get("from") or request.args.get("to") else " yet"
    return jsonify({"error": "no_lessons", "message": f"course {course!r} has no lessons{period}: "
                                                     "there is nothing to export"}), 404


def _grid(report) -> dict:
    sort, descending = sort_of(request.args)
    return {
        "course": report.course,
        "lessons": [{"id": c.lesson.id, "room": c.lesson.room, "started_at": format_time(c.lesson.started_at),
                     "running": c.lesson.running, "expected": c.expected, "attended": c.attended,
                     "rate": round(c.rate, 1)} for c in report.columns],
        "students": [{"key": row.key, "name": row.name, "email": row.email, "group": row.group,
                      "lessons": [None if cell is None else {
                          "status": cell.status, "joined": cell.joined, "late": cell.late,
                          "left_early": cell.left_early, "percent": cell.percent,
                          "minutes": round(cell.minutes, 1)} for cell in row.cells],
                      "attended": row.attended, "expected": row.expected, "minutes": round(row.minutes, 1),
                      "average_percent": round(row.average_percent, 1), "late": row.late,
                      "left_early": row.left_early, "missed": row.missed}
                     for row in report.sorted(sort, descending)],
        "guests": [{"meeting": lesson.id, "name": person.name} for lesson, person in report.guests],
    }


@bp.get("/courses/<course>")
@api_login_required
def course_summary(course: str):
    """The course's students × lessons with totals (course_report.py), as the course page shows it."""
    return jsonify(_grid(_course_report_or_404(course, empty_is_missing=False)))


@bp.get("/courses/<course>/summary.csv")
@api_login_required
def course_summary_csv(course: str):
    report = _course_report_or_404(course, empty_is_missing=True)
    rows = report.sorted(*sort_of(request.args))
    return csv_response(reports.summary_csv(report, l10n.translator(), l10n.layout(request.args.get("sep")), rows),
                        f"{safe_filename(course)}-summary.csv")


@bp.get("/courses/<course>/attendance.csv")
@api_login_required
def course_attendance_csv(course: str):
    """A row per student per lesson, streamed; `?sep=;` for European spreadsheets."""
    readable = view()
    try:
        meetings = iter(readable.course(course))
    except CourseNotReadable as exc:
        abort(404, description=str(exc))
    first = next(meetings, None)
    if first is None:
        raise NoLessons(course)
    return csv_response(reports.course_csv(itertools.chain([first], meetings), readable.settings,
                                           l10n.layout(request.args.get("sep")), course=course),
                        f"{safe_filename(course)}-attendance.csv")


@bp.get("/courses/<course>/attendance.xlsx")
@api_login_required
def course_attendance_xlsx(course: str):
    """The grid as the course page shows it (same `sort`, `order`, `from`, `to`), then a row per
    student per lesson."""
    report = _course_report_or_404(course, empty_is_missing=True)
    rows = report.sorted(*sort_of(request.args))
    return xlsx_response(workbooks.course_xlsx(report, rows, view().settings, l10n.layout(), l10n.translator()),
                         f"{safe_filename(course)}-attendance.xlsx")


@bp.get("/courses/<course>/students/<path:key>")
@api_login_required
def course_student(course: str, key: str):
    report = _course_report_or_404(course, empty_is_missing=False)
    row = report.student(key)
    if row is None:
        abort(404, description=f"no student {key!r} in course {course!r}")
    grid = _grid(report)
    student_json = next(s for s in grid["students"] if s["key"] == key)
    return jsonify({**student_json, "course": report.course, "lessons": [
        {**lesson, "attendance": cell} for lesson, cell in zip(grid["lessons"], student_json["lessons"], strict=True)]})


@bp.get("/students")
@api_login_required
def find_students():
    """Students whose name or e-mail contains `q` (case and accents ignored), in readable meetings."""
    found = student_search.search(view(), request.args.get("q", ""))
    return jsonify({"students": [{"key": f.key, "name": f.name, "email": f.email, "courses": f.courses}
                                 for f in found]})


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
def scheduled_lessons(course: str):
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
