"""Prometheus metrics at GET /metrics.

Under gunicorn every worker counts for itself; `attendance-logger serve` points
PROMETHEUS_MULTIPROC_DIR at a fresh directory so /metrics adds them up whichever worker answers.
"""
from __future__ import annotations

import os
import time

from flask import Blueprint, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

EVENTS_ACCEPTED = Counter("attendance_events_accepted_total", "Events stored (new ids).")
EVENTS_DUPLICATE = Counter("attendance_events_duplicate_total", "Events received again with an id already stored.")
REQUESTS_REJECTED = Counter("attendance_requests_rejected_total", "Ingest requests refused, by reason.", ["reason"])
REQUEST_SECONDS = Histogram("attendance_request_seconds", "Time to answer a request, by endpoint.", ["endpoint"],
                            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics_page():
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
