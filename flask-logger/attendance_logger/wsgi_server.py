"""gunicorn, started from `attendance-logger serve` with the already-built (and migrated) app."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def _child_exit(_server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def run_gunicorn(app, *, host: str, port: int, workers: int) -> None:
    _Server(app, {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "preload_app": True,  # migrations ran once, in the master, before workers fork
        "accesslog": "-",
        # No query strings or headers in the access log: nothing secret ends up there.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss',
        "child_exit": _child_exit,
        "timeout": 60,
    }).run()
