"""Running a command on a real pseudo-terminal, answering its prompts as a person would."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import time


def on_a_terminal(argv: list[str], answers: list[tuple[str, str]], *, cwd=None, env=None,
                  timeout: float = 30.0) -> tuple[int, str]:
    """Run `argv` with a pty as its terminal; type each (prompt, answer)'s answer when the last
    line shown contains its prompt. Returns the exit code and everything the terminal showed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    pending = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the command ended
                    break
                if not chunk:
                    break
                output += chunk
                while pending and pending[0][0].encode() in output.rsplit(b"\n", 1)[-1]:
                    os.write(leader, pending.pop(0)[1].encode() + b"\r")
                    output += b"\n"
            elif proc.poll() is not None:
                break
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    return proc.returncode, output.decode(errors="replace")
