"""The dashboard: server-rendered pages, one small script (a running lesson's page refreshes itself).

Pages: the meetings (filters), a meeting (timeline and attendance), the courses, a course (its
students × lessons), a student's lessons in a course, the search, the reader's settings. Every
read goes through access.view(); what a reader may not read is "not found", like what does not
exist. Sorting and filtering are links and forms: everything works without the script.
"""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for)

from . import l10n, localtime, preferences, student_search
from .access import CourseNotReadable, readable, view
from .api import BadQuery, course_lessons, meeting_filters, sort_of, sync_states
from .attendance import MeetingNotFound
from .auth import login_required, posted_from_this_site, session_account
from .course_report import course_report
from .i18n import CATALOGUES, LANGUAGES
from .lesson import lesson_of
from .names import fold_course
from .timeline import timeline

bp = Blueprint("dashboard", __name__)
LIVE_REFRESH_SECONDS = 15


@bp.get("/")
@login_required
def meetings():
    error = None
    readable_view = view()
    try:
        rows = readable_view.meetings(**meeting_filters(request.args))
    except BadQuery as exc:
        rows, error = [], str(exc)
    courses = courses_of_meetings(readable_view, [r.id for r in rows])
    return render_template("meetings.html", rows=rows, courses=courses, filters=request.args, error=error), \
        (400 if error else 200)


def courses_of_meetings(readable_view, ids: list[str]) -> dict[str, list[str]]:
    """The readable course ids of each meeting (for links to the course pages)."""
    from sqlalchemy import select

    from .tables import meeting_courses

    found: dict[str, list[str]] = {}
    with readable_view.attendance.storage.read() as conn:
        for start in range(0, len(ids), 500):
            query = select(meeting_courses.c.meeting, meeting_courses.c.course).where(
                meeting_courses.c.meeting.in_(ids[start:start + 500]))
            for meeting, course in conn.execute(query):
                if readable(readable_view.account, [course]):
                    found.setdefault(meeting, []).append(course)
    return found


@bp.get("/meetings/<meeting_id>")
@login_required
def meeting(meeting_id: str):
    readable_view = view()
    try:
        found = readable_view.meeting(meeting_id)
    except MeetingNotFound:
        abort(404)
    lesson = lesson_of(found, meeting_id, sync=sync_states(meeting_id))
    courses = courses_of_meetings(readable_view, [meeting_id]).get(meeting_id, [])
    return render_template("meeting.html", lesson=lesson, timeline=timeline(lesson, l10n.zone()),
                           courses=courses, settings=readable_view.settings, refresh_seconds=LIVE_REFRESH_SECONDS)


@bp.get("/courses")
@login_required
def courses():
    return render_template("courses.html", courses=view().courses())


@bp.get("/courses/<course>")
@login_required
def course(course: str):
    readable_view = view()
    error = None
    try:
        lessons = course_lessons(readable_view, course, request.args)
    except CourseNotReadable:
        abort(404)
    except BadQuery as exc:
        lessons, error = [], str(exc)
    report = course_report(course, lessons)
    sort, descending = sort_of(request.args)
    period = {key: request.args[key] for key in ("from", "to") if request.args.get(key)}
    return render_template("course.html", course=course, report=report, rows=report.sorted(sort, descending),
                           sort=sort, descending=descending, filters=request.args, period=period, error=error,
                           spelled=_spelling(readable_view, course)), (400 if error else 200)


def _spelling(readable_view, course: str) -> str:
    """The course id as its meetings spell it (the page was asked for `math101`: MATH101)."""
    for known in readable_view.courses():
        if fold_course(known) == fold_course(course):
            return known
    return course


@bp.get("/courses/<course>/students/<path:key>")
@login_required
def student(course: str, key: str):
    readable_view = view()
    try:
        lessons = course_lessons(readable_view, course, request.args)
    except CourseNotReadable:
        abort(404)
    except BadQuery:
        lessons = course_lessons(readable_view, course, {})
    report = course_report(course, lessons)
    row = report.student(key)
    if row is None:
        abort(404)
    return render_template("student.html", course=_spelling(readable_view, course), report=report, row=row,
                           history=list(zip(report.columns, row.cells, strict=True)))


@bp.get("/search")
@login_required
def search():
    query = request.args.get("q", "").strip()
    readable_view = view()
    found = student_search.search(readable_view, query) if query else []
    return render_template("search.html", query=query, found=found, too_short=bool(query) and not found
                           and len(query) < student_search.MIN_QUERY)


@bp.route("/settings", methods=("GET", "POST"))
@login_required
def settings():
    storage = current_app.extensions["storage"]
    if request.method == "POST":
        if not posted_from_this_site():
            abort(403)
        language = request.form.get("language") or None
        zone = request.form.get("timezone") or None
        try:
            preferences.write(storage, g.account.name, preferences.Preferences(
                language=language if language in CATALOGUES else None,
                timezone=zone))
        except ValueError:
            return render_template("settings.html", chosen=preferences.Preferences(language, zone),
                                   languages=LANGUAGES, zones=localtime.zone_names(),
                                   error=True), 400
        return redirect(url_for("dashboard.settings", saved=1))
    return render_template("settings.html", chosen=preferences.read(storage, g.account.name), languages=LANGUAGES,
                           zones=localtime.zone_names(), saved=request.args.get("saved") == "1")


@bp.app_errorhandler(404)
def not_found(error):
    """A friendly page with the way back for people; JSON for the API (/v1/...)."""
    if request.path.startswith("/v1/"):
        return jsonify({"error": "not_found", "message": error.description}), 404
    if "account" not in g:
        g.account = session_account()
    return render_template("not_found.html"), 404
