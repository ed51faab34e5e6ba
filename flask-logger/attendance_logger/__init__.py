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
        TIMEZONE="UTC",  # IANA zone of local times on pages and in exports
        CLAIM_LABELS=None,  # `claim=Label,...`: headings of claim columns (l10n.py)
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
        app.extensions["attendance"] = Attendance(storage, app.config["SETTINGS"])
    except ValueError as exc:
        raise config_module.ConfigError(f"attendance settings: {exc}") from None

    from . import api, auth, dashboard, health, ingest, l10n, metrics, security_headers

    @app.before_request
    def _start_refresher():
        app.extensions["attendance"].start_background_refresh(app.config["REFRESH_INTERVAL_SECONDS"])

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
    logging.getLogger("attendance_logger").setLevel(logging.INFO)
    return app


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
