"""The read API (authenticated): meetings, a meeting's attendance as JSON or CSV, a course's CSV.

Every read goes through access.view(): a teacher reads only the meetings of their courses."""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, Response, abort, jsonify, request, stream_with_context

from . import reports
from .access import CourseNotReadable, view
from .attendance import MeetingNotFound
from .auth import api_login_required
from .times import format_ms, to_ms

bp = Blueprint("api", __name__, url_prefix="/v1")
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
    body = reports.meeting_json(meeting)
    body["id"] = meeting_id
    return jsonify(body)


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


@bp.errorhandler(404)
def _not_found(exc):
    return jsonify({"error": "not_found", "message": exc.description}), 404
