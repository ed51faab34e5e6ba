"""The environment `jitsictl smoke` is tested against (tests/prosody/environment.py) works end to
end: a token user goes through the web client's sequence and the receiver reports the attendance."""
from __future__ import annotations

import asyncio
import time

import pytest

from jitsictl.xmpp import WebSocketXmppClient
from tests.prosody.environment import AttendanceStack

ALICE = {"context": {"user": {"id": "u-1001", "name": "Alice Martin", "email": "alice.martin@school.example"},
                     "group": "class-3b"}, "courseid": "MATH101", "groupid": "3B", "secret_note": "x"}


async def lesson(prosody):
    client = WebSocketXmppClient(prosody.websocket_url(room="smoke-1", token=prosody.token(ALICE)), prosody.domain)
    await client.connect()
    await client.conference_request("smoke-1@muc.meet.jitsi")
    await client.join("smoke-1@muc.meet.jitsi", "Alice")
    await client.send_presence("smoke-1@muc.meet.jitsi", "Alice M.")
    await client.leave("smoke-1@muc.meet.jitsi")
    await client.close()


@pytest.mark.slow
def test_token_user_lesson_reaches_the_receiver(tmp_path, prosody_version):
    with AttendanceStack(tmp_path, version=prosody_version) as stack:
        asyncio.run(lesson(stack.prosody))
        deadline = time.monotonic() + 10
        while not [m for m in stack.receiver.meetings() if m["ended_at"]] and time.monotonic() < deadline:
            time.sleep(0.1)
        [meeting] = stack.receiver.meetings()
        attendance = stack.receiver.attendance(meeting["id"])
    assert meeting["room"] == "smoke-1" and meeting["ended_at"]
    [alice] = attendance["participants"]
    assert (alice["user_id"], alice["name"], alice["names"]) == ("u-1001", "Alice Martin", ["Alice", "Alice M."])
    assert alice["claims"] == {"courseid": "MATH101", "groupid": "3B"}
