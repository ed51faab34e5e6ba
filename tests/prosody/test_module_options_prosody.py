"""A misconfigured attendance module is refused at load by a real Prosody, with a log error that
names the option; Prosody itself keeps serving (joins are never blocked by our module)."""
from __future__ import annotations

import asyncio
import time

import pytest

from jitsictl.xmpp import WebSocketXmppClient
from tests.prosody.receivers import new_webhook_secret
from tests.support.prosody_server import PLUGIN_DIR, ProsodyServer

pytestmark = pytest.mark.slow  # real Prosody

GOOD = {"presence_logger_url": "http://127.0.0.1:9/v1/events", "presence_logger_secret": new_webhook_secret()}

CASES = {
    "missing url": ({"presence_logger_url": None}, "presence_logger_url"),
    "url not http": ({"presence_logger_url": "ftp://logger/v1/events"}, "presence_logger_url"),
    "missing secret": ({"presence_logger_secret": None}, "presence_logger_secret"),
    "secret not whsec": ({"presence_logger_secret": "whsec_!!!not base64!!!"}, "presence_logger_secret"),
    "secret too short": ({"presence_logger_secret": "whsec_c2hvcnQ="}, "presence_logger_secret"),
    "batch too large": ({"presence_logger_batch_size": 5000}, "presence_logger_batch_size"),
    "flush interval text": ({"presence_logger_flush_interval": "soon"}, "presence_logger_flush_interval"),
    "claims not a list": ({"presence_logger_claims": "courseid"}, "presence_logger_claims"),
    "negative queue": ({"presence_logger_max_queue": -1}, "presence_logger_max_queue"),
    "claim path with an empty name": ({"presence_logger_claim_user_id": "context..id"}, "presence_logger_claim_user_id"),
    "claim path not text": ({"presence_logger_claim_name": ["context", "user"]}, "presence_logger_claim_name"),
    "trusted affiliations not a list": ({"presence_logger_trusted_affiliations": "owner"},
                                        "presence_logger_trusted_affiliations"),
}


@pytest.mark.parametrize("change,option", CASES.values(), ids=CASES.keys())
def test_bad_option_is_a_load_error_naming_it(tmp_path, change, option, prosody_version):
    options = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    prosody = ProsodyServer(tmp_path / "prosody", plugin_paths=[PLUGIN_DIR], muc_modules=["presence_logger"],
                            muc_options=options, version=prosody_version)
    prosody.start()
    try:
        prosody.wait_for_log("Error initializing module 'presence_logger'", timeout=5)
        errors = [l for l in prosody.log_text().splitlines() if "\terror\t" in l and option in l]
        assert errors, f"no error naming {option}:\n{prosody.recent_log()}"
        assert GOOD["presence_logger_secret"] not in prosody.log_text()      # never log the secret
        # The server still works: a participant can join a room.
        asyncio.run(_join(prosody))
    finally:
        prosody.stop()


def test_good_options_load_without_error(tmp_path, prosody_version):
    prosody = ProsodyServer(tmp_path / "prosody", plugin_paths=[PLUGIN_DIR], muc_modules=["presence_logger"],
                            muc_options=GOOD, version=prosody_version)
    prosody.start()
    try:
        prosody.wait_for_log("Reporting attendance on muc.meet.jitsi", timeout=5)
        assert not [l for l in prosody.log_text().splitlines() if "\terror\t" in l and "presence_logger" in l]
        assert GOOD["presence_logger_secret"] not in prosody.log_text()
    finally:
        prosody.stop()


async def _join(prosody, token=None):
    client = WebSocketXmppClient(prosody.websocket_url(room="r", token=token or prosody.token({})), "meet.jitsi")
    await client.connect()
    await client.join("r@muc.meet.jitsi", "Someone")
    await client.close()


def test_claim_paths_and_trusted_affiliations_shape_the_identity(tmp_path, prosody_version):
    """An LMS that signs its ids elsewhere: the configured dot paths are read from the verified
    token, and a trusted affiliation makes a moderator (real Prosody, real token login)."""
    from tests.prosody.environment import logger_prosody
    from tests.prosody.receivers import CaptureReceiver

    sink = CaptureReceiver().start()
    prosody = logger_prosody(tmp_path / "prosody", sink.url, sink.secret, claims=(), version=prosody_version,
                             claim_user_id="lms.person.number", claim_name="lms.person.display",
                             trusted_affiliations=["teacher"])
    prosody.start()
    try:
        token = prosody.token({"lms": {"person": {"number": 4711, "display": "Zoé d\\'Arc"}},
                               "context": {"user": {"id": "", "name": "zoe", "affiliation": "teacher"}}})
        asyncio.run(_join(prosody, token))
        deadline = time.monotonic() + 10
        while not [e for e in sink.events() if e["type"] == "occupant.joined"] and time.monotonic() < deadline:
            time.sleep(0.05)
        joined = [e for e in sink.events() if e["type"] == "occupant.joined"]
        assert joined, prosody.recent_log()
        assert joined[0]["identity"] == {"user_id": "4711", "name": "Zoé d'Arc", "issuer": "jitsictl-test",
                                         "moderator": True}
    finally:
        prosody.stop()
        sink.stop()
