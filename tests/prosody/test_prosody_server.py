"""The Prosody launcher (tests/support/prosody_server.py) itself: lifecycle and failure messages."""
from __future__ import annotations

import os
import socket

import pytest

from tests.support.prosody_server import ProsodyError, ProsodyServer, lua


def test_stop_is_graceful_and_restart_keeps_ports_and_data(tmp_path):
    server = ProsodyServer(tmp_path / "p").start()
    ports, first_pid = (server.c2s_port, server.http_port), server.pid
    assert server.stop() == 0                                     # SIGTERM handled: clean exit
    assert "Shutting down: Received SIGTERM" in server.log_text()
    server.start()
    server.kill()                                                 # crash
    assert server.process.returncode == -9
    server.start()
    assert (server.c2s_port, server.http_port) == ports and server.pid != first_pid
    assert oct(os.stat(server.config_path).st_mode & 0o777) == "0o600"
    server.stop()


def test_a_port_in_use_is_reported_with_the_log(tmp_path):
    server = ProsodyServer(tmp_path / "p")
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", server.c2s_port))
        blocker.listen()
        with pytest.raises(ProsodyError, match="did not answer within 2 s"):
            server.start(timeout=2)
    server.kill()


def test_config_values_are_written_as_lua():
    assert lua({"a": [1, True, None, "x\"y\\z é"]}) == '{ ["a"] = { 1; true; nil; "x\\"y\\\\z é"; }; }'
    with pytest.raises(TypeError):
        lua(object())
