"""GET /healthz: 200 when events can be stored now, 503 otherwise (Docker HEALTHCHECK, load balancers).

It commits a write, as ingest does: a database that answers reads but refuses writes
(read-only file, full disk) is not healthy.
"""
import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import DBAPIError

from .storage import database_error_name

bp = Blueprint("health", __name__)
log = logging.getLogger("attendance_logger.health")


@bp.get("/healthz")
def healthz():
    try:
        current_app.extensions["storage"].check_writable()
    except Exception as exc:  # any database failure means "not healthy"; say which, not how
        log.warning("health check failed: %s", database_error_name(exc))
        return jsonify({"status": "unhealthy", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})


@bp.app_errorhandler(DBAPIError)
def database_unavailable(exc):
    """Any page or API read while the database is down: 503, and only the error type logged."""
    log.error("database error %s", database_error_name(exc))
    return jsonify({"error": "database_unavailable", "message": "the database cannot be reached; try again later"}), 503
