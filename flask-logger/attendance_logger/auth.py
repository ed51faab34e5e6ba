"""Who is reading: an account logged in to the dashboard (a session cookie), or a script sending
HTTP Basic. Either way the account lands in `g.account`, which access.view() reads.

Passwords are checked by accounts.py and never logged, nor are the account names tried (people
type passwords into the wrong field). Wrong passwords are throttled (logins.LoginThrottle); the
client address is the one the proxy forwarded when ATTENDANCE_PROXY_HOPS says to trust it.
"""
from __future__ import annotations

import functools
import logging
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for)
from sqlalchemy.exc import SQLAlchemyError

from .accounts import Account, AccountError, Accounts, check_password
from .config import ConfigError
from .l10n import translator
from .logins import LoginThrottle, Sessions
from .storage import database_error_name

COOKIE = "attendance_session"
bp = Blueprint("auth", __name__)
log = logging.getLogger("attendance_logger.auth")


class Throttled(Exception):
    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds

    @property
    def minutes(self) -> int:
        return -(-self.seconds // 60)

    @property
    def advice(self) -> str:
        return f"try again in {self.minutes} minute{'s' if self.minutes != 1 else ''}"


def init_app(app) -> None:
    for key, unit in (("SESSION_HOURS", "hours"), ("SESSION_IDLE_MINUTES", "minutes")):
        if app.config[key] < 1:
            raise ConfigError(f"ATTENDANCE_{key} must be at least 1 ({unit}), got {app.config[key]}")
    storage = app.extensions["storage"]
    app.extensions["accounts"] = Accounts(storage)
    app.extensions["sessions"] = Sessions(storage, lifetime_seconds=app.config["SESSION_HOURS"] * 3600,
                                          idle_seconds=app.config["SESSION_IDLE_MINUTES"] * 60)
    app.extensions["login_throttle"] = LoginThrottle(storage)
    password = app.config.get("ADMIN_PASSWORD")
    if password:
        try:
            check_password(password, "ATTENDANCE_ADMIN_PASSWORD")
        except AccountError as exc:
            raise ConfigError(str(exc)) from None
        if app.config["AUTO_MIGRATE"]:  # else the tables may not be there yet
            _keep_bootstrap_admin(app)
    else:
        app.logger.warning("ATTENDANCE_ADMIN_PASSWORD is not set: only accounts made with "
                           "`attendance-logger users add` can read attendance")
    app.register_blueprint(bp)
    app.context_processor(lambda: {"account": g.get("account")})


def _keep_bootstrap_admin(app) -> None:
    """Store the bootstrap admin account; a database that refuses the write now (read-only, full
    disk) must not stop the receiver from starting, so the next login tries again."""
    try:
        app.extensions["accounts"].keep_bootstrap_admin(app.config["ADMIN_PASSWORD"])
    except SQLAlchemyError as exc:
        app.extensions["bootstrap_admin_pending"] = True
        log.warning("could not store the admin account yet (%s): the next login tries again",
                    database_error_name(exc))
    else:
        app.extensions["bootstrap_admin_pending"] = False


def _now_ms() -> int:
    return int(current_app.config["CLOCK"]() * 1000)


def _client() -> str:
    return request.remote_addr or "unknown"


def _check_password(name: str, password: str) -> Account | None:
    """The account if `password` is its password; raises Throttled after too many failures."""
    if current_app.extensions.get("bootstrap_admin_pending"):
        _keep_bootstrap_admin(current_app)
    throttle: LoginThrottle = current_app.extensions["login_throttle"]
    now = _now_ms()
    wait = throttle.wait_seconds(name, _client(), now)
    if wait:
        log.info("login refused from %s: too many failed logins", _client())
        raise Throttled(wait)
    account = current_app.extensions["accounts"].check(name, password)
    if account is None:
        throttle.failed(name, _client(), now)
        return None
    throttle.succeeded(name)
    return account


def session_account() -> Account | None:
    """The account of this request's dashboard session, if any."""
    name = current_app.extensions["sessions"].account_of(request.cookies.get(COOKIE), _now_ms())
    return current_app.extensions["accounts"].get(name) if name else None


def api_login_required(view):
    """HTTP Basic for scripts; a dashboard session also works (the CSV buttons use it)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        account = session_account()
        credentials = request.authorization
        if account is None and credentials and credentials.type == "basic":
            try:
                account = _check_password(credentials.username or "", credentials.password or "")
            except Throttled as throttled:
                response = jsonify({"error": "too_many_failed_logins",
                                    "message": f"too many failed logins: {throttled.advice}"})
                response.status_code = 429
                response.headers["Retry-After"] = str(throttled.seconds)
                return response
        if account is None:
            log.info("refused read of %s from %s: no valid credentials", request.path, _client())
            response = jsonify({"error": "unauthorized",
                                "message": "attendance is personal data: authenticate with HTTP Basic as an account "
                                           "made with `attendance-logger users add`, or as user 'admin' with "
                                           "ATTENDANCE_ADMIN_PASSWORD"})
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Basic realm="attendance", charset="UTF-8"'
            return response
        g.account = account
        return view(*args, **kwargs)

    return wrapped


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        g.account = session_account()
        if g.account is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only. Browsers drop tabs and newlines
    inside URLs and read backslashes as slashes, so `/\\t/evil.example` would leave the site."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(c.isspace() or not c.isprintable() for c in target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return request.script_root + target
    return url_for("dashboard.meetings")


def posted_from_this_site() -> bool:
    """False for a form posted from another site (a browser names it in Origin)."""
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"


@bp.before_request
def _forms_from_this_site_only():
    """Refuse login and logout forms posted from another site."""
    if request.method == "POST" and not posted_from_this_site():
        log.info("refused a form posted from another origin to %s from %s", request.path, _client())
        return render_template("login.html", error=translator()("login.other_site")), 403
    return None


@bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "GET":
        return render_template("login.html")
    name = request.form.get("user", "").strip()
    try:
        account = _check_password(name, request.form.get("password", ""))
    except Throttled as throttled:
        return render_template("login.html", error=translator().plural("login.throttled", throttled.minutes),
                               user=name), \
            429, {"Retry-After": str(throttled.seconds)}
    if account is None:
        log.info("failed dashboard login from %s", _client())
        return render_template("login.html", error=translator()("login.wrong_password"), user=name), 401
    sessions: Sessions = current_app.extensions["sessions"]
    sessions.end(request.cookies.get(COOKIE))
    token = sessions.start(account.name, _now_ms())
    response = redirect(_safe_next(request.args.get("next")))
    response.set_cookie(COOKIE, token, max_age=sessions.lifetime_ms // 1000, path=request.script_root or "/",
                        secure=request.is_secure, httponly=True, samesite="Lax")
    return response


@bp.post("/logout")
def logout():
    current_app.extensions["sessions"].end(request.cookies.get(COOKIE))
    response = redirect(url_for("auth.login"))
    response.delete_cookie(COOKIE, path=request.script_root or "/", secure=request.is_secure, httponly=True,
                           samesite="Lax")
    return response
