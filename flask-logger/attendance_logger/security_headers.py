"""Headers on every answer that tell browsers to keep the dashboard to itself.

The policy allows scripts, styles and images from this site only (a small script file may come
later; inline script never), inline `style` attributes only (the timeline places its bars with
them), forms posted here only, and no framing. Every answer but the stylesheet is `no-store`:
pages and exports hold personal data, which must not stay in a browser's or proxy's cache.
"""
from __future__ import annotations

from flask import request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # not no-referrer: browsers then send `Origin: null` with our own forms
}


def init_app(app) -> None:
    @app.after_request
    def _security_headers(response):
        response.headers.update(HEADERS)
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response
