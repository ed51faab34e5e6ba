"""The two reference servers bench/receiver_ingest.py measures the receiver against.

- `seed_baseline_app()`: what a first-try logger looks like (the seed project's style): Flask,
  no authentication, no validation, one line appended to a file per request, no fsync.
- `bare_wsgi`: a WSGI callable that reads the body and answers 204: the ceiling gunicorn and
  loopback HTTP allow on this machine.

Both are served by gunicorn exactly like the receiver, so the ratios compare the applications.
"""
from __future__ import annotations

import json
import os


def seed_baseline_app():
    from flask import Flask, request

    app = Flask("seed_baseline")
    path = os.environ["BASELINE_LOG_FILE"]

    @app.post("/v1/events")
    def receive():
        payload = request.get_json(force=True)
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return {"ok": True}

    return app


def bare_wsgi(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("204 No Content", [])
    return [b""]
