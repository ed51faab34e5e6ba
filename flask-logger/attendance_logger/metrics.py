"""Prometheus metrics at GET /metrics.

Under gunicorn every worker counts for itself; `attendance-logger serve` points
PROMETHEUS_MULTIPROC_DIR at a fresh directory so /metrics adds them up whichever worker answers.

Who may read them: clients on ATTENDANCE_METRICS_NETWORKS (default: loopback only, i.e. inside the
receiver's container) and anyone sending `Authorization: Bearer <ATTENDANCE_METRICS_TOKEN>`.
Behind the web container's proxy (ATTENDANCE_PROXY_HOPS) the client is the forwarded visitor, so
the proxy's own address on the internal network opens nothing.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Response, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from .config import ConfigError

EVENTS_ACCEPTED = Counter("attendance_events_accepted_total", "Events stored (new ids).")
EVENTS_DUPLICATE = Counter("attendance_events_duplicate_total", "Events received again with an id already stored.")
REQUESTS_REJECTED = Counter("attendance_requests_rejected_total", "Ingest requests refused, by reason.", ["reason"])
REQUEST_SECONDS = Histogram("attendance_request_seconds", "Time to answer a request, by endpoint.", ["endpoint"],
                            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

MIN_TOKEN_LENGTH = 24
TOKEN_HINT = "python -c \"import secrets; print(secrets.token_urlsafe(32))\""

bp = Blueprint("metrics", __name__)


def _networks(text: str) -> list:
    try:
        return [ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"ATTENDANCE_METRICS_NETWORKS: {exc}; write networks like 127.0.0.0/8,172.16.0.0/12") from None


def _may_read() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    address = getattr(address, "ipv4_mapped", None) or address
    return any(address in network for network in current_app.extensions["metrics_networks"])


@bp.get("/metrics")
def metrics_page():
    if not _may_read():
        response = jsonify({"error": "unauthorized",
                            "message": "metrics are served to ATTENDANCE_METRICS_NETWORKS (default: loopback) "
                                       "and to `Authorization: Bearer <ATTENDANCE_METRICS_TOKEN>`"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def init_app(app) -> None:
    token = app.config.get("METRICS_TOKEN")
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"ATTENDANCE_METRICS_TOKEN is too short ({len(token)} characters): use at least "
                          f"{MIN_TOKEN_LENGTH} random characters, e.g. from {TOKEN_HINT}")
    app.extensions["metrics_networks"] = _networks(app.config["METRICS_NETWORKS"])
    app.register_blueprint(bp)

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.get("request_started")
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            REQUEST_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
        return response
