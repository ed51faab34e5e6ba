"""The attendance receiver: turns contract-v1 events into attendance teachers can trust."""
from __future__ import annotations

__version__ = "0.1.0"


def create_app(test_config: dict | None = None):
    """Application factory (Flask tutorial style): environment config, then `test_config` on top."""
    import logging
    import time

    from flask import Flask

    from . import config as config_module
    from .attendance import Attendance
    from .storage import Storage

    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(
        DATABASE_URL="sqlite:///attendance.db",
        WEBHOOK_SECRET=None,
        ADMIN_PASSWORD=None,
        MAX_BATCH_EVENTS=500,
        MAX_CONTENT_LENGTH=1024 * 1024,
        TIMESTAMP_TOLERANCE_SECONDS=300,
        SETTINGS={},  # rules.Settings, or a mapping Settings.from_mapping reads
        AUTO_MIGRATE=True,
        SQLITE_SYNCHRONOUS="FULL",
        REFRESH_INTERVAL_SECONDS=5.0,
        CLOCK=time.time,  # what "now" is for signature timestamps, sessions and throttling (tests pin it)
        SESSION_HOURS=12,
        SESSION_IDLE_MINUTES=120,
        PROXY_HOPS=0,
        METRICS_TOKEN=None,
        METRICS_NETWORKS="127.0.0.0/8,::1/128",
        TIMEZONE="UTC",  # IANA zone of local times on pages and exports, and of timetables without one
        CLAIM_LABELS=None,  # `claim=Label,...`: headings of claim columns (l10n.py)
        COURSE_NAMES=None,  # course_names.CourseNames: ATTENDANCE_ROOM_PATTERN, ATTENDANCE_ROOM_COURSES
        MOODLE=None,  # moodle.settings.MoodleSettings, or None without ATTENDANCE_MOODLE_URL
    )
    app.config.update(config_module.from_environment())
    if test_config:
        app.config.update(test_config)

    app.extensions["webhook_key"] = config_module.decode_webhook_secret(app.config["WEBHOOK_SECRET"])

    if app.config["SQLITE_SYNCHRONOUS"] not in ("FULL", "NORMAL"):
        raise config_module.ConfigError("ATTENDANCE_SQLITE_SYNCHRONOUS must be FULL or NORMAL, got "
                                        f"{app.config['SQLITE_SYNCHRONOUS']!r}")
    storage = Storage(app.config["DATABASE_URL"],
                      replay_window_seconds=2 * app.config["TIMESTAMP_TOLERANCE_SECONDS"],
                      sqlite_synchronous=app.config["SQLITE_SYNCHRONOUS"])
    if app.config["AUTO_MIGRATE"]:
        storage.upgrade()
    app.extensions["storage"] = storage
    try:
        attendance = app.extensions["attendance"] = Attendance(storage, app.config["SETTINGS"],
                                                               app.config["COURSE_NAMES"])
    except ValueError as exc:
        raise config_module.ConfigError(f"attendance settings: {exc}") from None
    if app.config["AUTO_MIGRATE"]:
        _index_room_courses(attendance)
    moodle = None
    if app.config["MOODLE"] is not None:
        from .moodle.jobs import MoodleSync

        moodle = app.extensions["moodle_sync"] = MoodleSync.attach(attendance, app.config["MOODLE"])

    from . import api, auth, dashboard, health, ingest, l10n, metrics, security_headers

    @app.before_request
    def _start_background_work():
        app.extensions["attendance"].start_background_refresh(app.config["REFRESH_INTERVAL_SECONDS"])
        if moodle is not None:
            moodle.start_worker(app.config["REFRESH_INTERVAL_SECONDS"])

    metrics.init_app(app)
    security_headers.init_app(app)
    auth.init_app(app)
    l10n.init_app(app)
    app.register_blueprint(ingest.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(health.bp)
    trust_proxy(app)
    ingest.schema_validator()  # built before gunicorn forks its workers
    storage.close()  # and no connection may cross that fork
    logging.getLogger("attendance_logger").setLevel(logging.INFO)
    return app


def _index_room_courses(attendance) -> None:
    """Re-index the meetings' room courses if ATTENDANCE_ROOM_PATTERN or ATTENDANCE_ROOM_COURSES
    changed since the last start; a database that refuses the write now must not stop the receiver."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from .storage import database_error_name

    try:
        if attendance.classes.ensure_room_rules():
            logging.getLogger("attendance_logger").info("room courses re-indexed under the new room pattern")
    except SQLAlchemyError as exc:
        logging.getLogger("attendance_logger").warning(
            "could not re-index the room courses (%s): the next start tries again", database_error_name(exc))


def trust_proxy(app) -> None:
    """Behind ATTENDANCE_PROXY_HOPS proxies (1: the web container's nginx), take the client
    address, scheme, host and path prefix from their X-Forwarded-* headers: links, redirects and
    cookies then carry `/attendance`, cookies are Secure under https, and throttling and logs see
    the visitor's address. With 0 (the default) those headers are ignored, as anyone can send them."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from .config import ConfigError

    hops = app.config["PROXY_HOPS"]
    if hops < 0:
        raise ConfigError(f"ATTENDANCE_PROXY_HOPS must be 0 (no proxy) or the number of proxies in front, got {hops}")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)
