"""The Prosody launcher (tests/support/prosody_server.py) itself: lifecycle and failure messages."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.prosody_server import ProsodyError, ProsodyServer, lua


@pytest.mark.slow
def test_stop_is_graceful_and_restart_keeps_ports_and_data(tmp_path, prosody_version):
    server = ProsodyServer(tmp_path / "p", version=prosody_version).start()
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


@pytest.mark.slow
def test_a_port_in_use_is_reported_with_the_log(tmp_path, prosody_version):
    server = ProsodyServer(tmp_path / "p", version=prosody_version)
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


PROBE = '''
from tests.support.prosody_versions import prosody_version

def test_probe(prosody_version):
    pass
'''


@pytest.mark.parametrize("skip, outcome", [("", "1 passed, 1 error"), ("1", "1 passed, 1 skipped")],
                         ids=["fails by default", "skips when the owner opts out"])
def test_a_missing_prosody_13_fails_unless_this_machine_opts_out(tmp_path, skip, outcome):
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = dict(os.environ, JITSICTL_PROSODY13_DIR=str(tmp_path / "nowhere"), JITSICTL_SKIP_PROSODY13=skip,
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert outcome in run.stdout, run.stdout
    assert "test_probe[prosody-0.12]" not in run.stdout.split("short test summary")[-1]
    if skip:
        assert "JITSICTL_SKIP_PROSODY13 is set" in run.stdout
    else:
        assert "run scripts/install-system-deps" in run.stdout and "test_probe[prosody-13]" in run.stdout
