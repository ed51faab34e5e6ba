"""The dashboard: server-rendered pages, no front-end build step and no JavaScript."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, render_template, request

from .access import view
from .api import BadQuery, meeting_filters, meeting_summary, sync_states
from .attendance import MeetingNotFound
from .auth import login_required

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def meetings():
    error = None
    try:
        rows = view().meetings(**meeting_filters(request.args))
    except BadQuery as exc:
        rows, error = [], str(exc)
    return render_template("meetings.html", meetings=[meeting_summary(r) for r in rows],
                           filters=request.args, error=error), (400 if error else 200)


@bp.get("/meetings/<meeting_id>")
@login_required
def meeting(meeting_id: str):
    readable = view()
    try:
        found = readable.meeting(meeting_id)
    except MeetingNotFound:
        abort(404)
    return render_template("meeting.html", meeting=found, meeting_id=meeting_id,
                           timeline=timeline(found), settings=readable.settings, sync=sync_states(meeting_id))


def timeline(meeting) -> list[dict]:
    """Each participant's presence as bars placed in percent of the meeting's length."""
    start = meeting.started_at
    end = meeting.ended_at or dt.datetime.now(dt.timezone.utc)
    span = max((end - start).total_seconds(), 0.001)
    rows = []
    for p in meeting.participants:
        bars = []
        for a, b in p.intervals:
            left = max(0.0, (a - start).total_seconds() / span * 100)
            width = max(0.4, (b - a).total_seconds() / span * 100)
            bars.append({"left": round(left, 3), "width": round(min(width, 100 - left), 3),
                         "title": f"{a:%H:%M:%S} – {b:%H:%M:%S} UTC"})
        rows.append({"name": p.name, "status": p.status, "bars": bars})
    return rows
