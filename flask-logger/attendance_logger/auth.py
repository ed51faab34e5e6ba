"""Who may read attendance: the school's administrator, by password.

The read API takes HTTP Basic (user `admin`); the dashboard a session cookie set by the login
form. Passwords are compared in constant time and never logged.
"""
from __future__ import annotations

import functools
import hmac
import logging

from flask import (Blueprint, current_app, flash, jsonify, redirect, render_template, request, session,
                   url_for)

ADMIN_USER = "admin"
bp = Blueprint("auth", __name__)
log = logging.getLogger("attendance_logger.auth")


def password_ok(user: str | None, password: str | None) -> bool:
    expected = current_app.config.get("ADMIN_PASSWORD")
    if not expected or user is None or password is None:
        return False
    user_ok = hmac.compare_digest(user.encode(), ADMIN_USER.encode())
    password_ok_ = hmac.compare_digest(password.encode(), expected.encode())
    return user_ok and password_ok_


def api_login_required(view):
    """HTTP Basic for scripts; a dashboard session also works (the CSV buttons use it)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if session.get("user") == ADMIN_USER:
            return view(*args, **kwargs)
        credentials = request.authorization
        if credentials and password_ok(credentials.username, credentials.password):
            return view(*args, **kwargs)
        log.info("refused read of %s from %s: no valid credentials", request.path, request.remote_addr)
        response = jsonify({"error": "unauthorized",
                            "message": "attendance is personal data: authenticate with HTTP Basic, "
                                       "user 'admin' and ATTENDANCE_ADMIN_PASSWORD"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Basic realm="attendance", charset="UTF-8"'
        return response

    return wrapped


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if session.get("user") != ADMIN_USER:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


@bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "POST":
        if password_ok(ADMIN_USER, request.form.get("password", "")):
            session.clear()
            session["user"] = ADMIN_USER
            target = request.args.get("next", "")
            # Only local paths: never bounce a freshly logged-in admin to another site.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("dashboard.meetings")
            return redirect(target)
        log.info("failed dashboard login from %s", request.remote_addr)
        flash("Wrong password." if current_app.config.get("ADMIN_PASSWORD")
              else "No admin password is configured: set ATTENDANCE_ADMIN_PASSWORD and restart.")
        return render_template("login.html"), 401
    return render_template("login.html")


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
