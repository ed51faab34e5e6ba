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


def run_gunicorn(app, *, host: str, port: int, workers: int, threads: int) -> None:
    _Server(app, {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        # Threads let concurrent deliveries share one durable commit (group_commit.py).
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": True,  # migrations ran once, in the master, before workers fork
        "accesslog": "-",
        # No query strings or headers in the access log: nothing secret ends up there.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss',
        "child_exit": _child_exit,
        "timeout": 60,
    }).run()


def run_dev(app, *, host: str, port: int) -> None:
    """Flask's development server, with access log lines that leave out query strings."""
    from werkzeug.serving import WSGIRequestHandler

    class _Handler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):
            path = self.path.split("?", 1)[0]
            self.log("info", '"%s %s" %s %s', self.command, path, code, size)

    app.run(host=host, port=port, threaded=True, use_reloader=False, request_handler=_Handler)
