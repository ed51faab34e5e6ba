"""Serving the receiver: gunicorn with asyncio workers in production, Flask's server with --dev.

`attendance-logger serve` builds (and migrates) the app once, in gunicorn's master, which then
forks its workers; each runs uvicorn's event loop over asgi.ReceiverApp.
"""
from __future__ import annotations

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker


class ReceiverWorker(UvicornWorker):
    # asgi.ReceiverApp writes the access log (without query strings) and needs no lifespan.
    CONFIG_KWARGS = {"loop": "auto", "http": "auto", "lifespan": "off", "access_log": False}


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
    """`threads`: per worker, for the read API and dashboard (deliveries need none)."""
    import gc

    from .asgi import ReceiverApp

    _start_writer_process(app)
    front = ReceiverApp(app, threads)
    # Everything built so far lives as long as the workers: out of the collector's sight, full
    # collections in a worker stay short and do not copy the master's pages.
    gc.collect()
    gc.freeze()
    _Server(front, {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": f"{__name__}.ReceiverWorker",
        "preload_app": True,  # migrations ran once, in the master, before workers fork
        "child_exit": _child_exit,
        "timeout": 60,
    }).run()


def _start_writer_process(app) -> None:
    """Fork the writer process (writer_process.py) before gunicorn forks its workers, and send
    the app's deliveries to it. Without it the workers store through their own writer threads."""
    import contextlib
    import logging
    import os
    import tempfile
    import time

    from . import writer_process

    storage = app.extensions["storage"]
    directory = tempfile.mkdtemp(prefix="attendance-writer-")  # 0700: only this user connects
    socket_path = os.path.join(directory, "writer.sock")
    alive_read, alive_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer process
        status = 0
        try:
            writer_process.run(lambda: storage, socket_path, alive_read, (alive_write,))
        except BaseException:  # noqa: BLE001 - reported, and the workers fall back
            logging.getLogger("attendance_logger.writer").exception("writer process failed")
            status = 1
        finally:
            with contextlib.suppress(OSError):
                os.unlink(socket_path)
            with contextlib.suppress(OSError):
                os.rmdir(directory)
            os._exit(status)
    os.close(alive_read)  # alive_write stays open here and in every worker: the writer's lifeline
    deadline = time.monotonic() + 10
    while not os.path.exists(socket_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    app.extensions["committer"] = writer_process.WriterClient(socket_path, storage, app.extensions["committer"])


def run_dev(app, *, host: str, port: int) -> None:
    """Flask's development server, with access log lines that leave out query strings."""
    from werkzeug.serving import WSGIRequestHandler

    class _Handler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):
            path = self.path.split("?", 1)[0]
            self.log("info", '"%s %s" %s %s', self.command, path, code, size)

    app.run(host=host, port=port, threaded=True, use_reloader=False, request_handler=_Handler)
