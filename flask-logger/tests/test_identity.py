"""Who is who: participants keyed by the verified token's user id, e-mail, or signed name scoped to
its issuer; guests by their connection; a shared signed name flagged, not merged silently."""
from __future__ import annotations

import datetime as dt

import pytest

from attendance_logger import rules
from classroom import Classroom, stock_identity
from logger_helpers import basic_auth

NINE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def key(identity=None, bare_jid="r4nd0m@meet.jitsi"):
    event = {"occupant": {"bare_jid": bare_jid, "occupant_jid": "r@muc/1"}}
    if identity is not None:
        event["identity"] = identity
    return rules.participant_key(event)


def test_the_key_falls_back_from_user_id_to_email_to_the_signed_name_and_its_issuer():
    assert key({"user_id": "u7", "email": "a@x.example", "name": "Ana"}) == "user:u7"
    assert key({"email": "a@x.example", "name": "Ana"}) == "email:a@x.example"
    assert key({"name": "agarcia", "issuer": "moodle-school"}) == "name:moodle-school:agarcia"
    # the issuer is percent-encoded, so the name after it is never mistaken for part of it
    assert key({"name": "Ana", "issuer": "https://lms:8443/x"}) == "name:https%3A%2F%2Flms%3A8443%2Fx:Ana"
    assert key({"name": "Ana"}) == "name::Ana"  # a plugin that does not send the issuer yet


def test_empty_strings_count_as_absent():
    assert key({"user_id": " ", "email": "", "name": "agarcia", "issuer": "m"}) == "name:m:agarcia"
    assert key({"user_id": "", "email": "", "name": "  "}) == "jid:r4nd0m@meet.jitsi"


def test_only_guests_are_keyed_by_their_connection_and_never_by_the_typed_nick():
    assert key(None) == "jid:r4nd0m@meet.jitsi"
    assert rules.participant_key({"occupant": {"occupant_jid": "r@muc/1", "nick": "Ana"}}) == "occupant:r@muc/1"
    assert [rules.key_kind(k) for k in ("user:1", "email:a@b", "name::x", "jid:j@x", "occupant:r@m/1")] == [
        "user_id", "email", "signed_name", "guest", "guest"]


def lesson_with_reloads() -> Classroom:
    """A 60-minute lesson; the student's browser reloads twice (each a new connection and JID)."""
    ana = stock_identity("agarcia")
    room = Classroom("mat-1a_7_algebra", NINE).created(0)
    room.join("teacher", 0, identity=stock_identity("tteacher", moderator=True), role="moderator")
    room.join("ana-1", 2, identity=ana).leave("ana-1", 20)
    room.join("ana-2", 20.5, identity=ana, nick="Ana G").leave("ana-2", 41)
    room.join("ana-3", 41.2, identity=ana)
    room.join("guest-1", 10, nick="agarcia").leave("guest-1", 30)  # a guest typing her username
    return room.destroyed(60)


def test_a_stock_token_student_who_reloads_twice_is_one_participant(client, sender):
    sender.post_all(lesson_with_reloads().events)
    meeting_id = client.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"][0]["id"]
    body = client.get(f"/v1/meetings/{meeting_id}/attendance", headers=basic_auth()).get_json()
    by_kind = sorted((p["key_kind"], p["name"]) for p in body["participants"])
    assert by_kind == [("guest", "agarcia"), ("signed_name", "agarcia"), ("signed_name", "tteacher")]
    [ana] = [p for p in body["participants"] if p["key"] == "name:moodle-school:agarcia"]
    # 09:02-10:00 with reload gaps of 30 s and 12 s (under the 60 s grace): 58 of 60 minutes
    assert (ana["present_seconds"], ana["percent"], ana["status"], ana["late"]) == (3480, 96.7, "present", False)
    assert ana["names"] == ["agarcia", "Ana G"] and ana["ambiguous"] is None


def test_a_name_signed_by_another_issuer_is_another_person():
    room = Classroom("r", NINE).created(0)
    room.join("a", 0, identity=stock_identity("ana", issuer="moodle-a")).join("b", 0, identity=stock_identity(
        "ana", issuer="moodle-b"))
    [meeting] = rules.compute(room.destroyed(30).events)
    assert sorted(p.key for p in meeting.participants) == ["name:moodle-a:ana", "name:moodle-b:ana"]


@pytest.mark.parametrize("overlap_minutes,flagged", [(0, False), (1, False), (2.5, True), (45, True)])
def test_one_signed_name_connected_twice_at_once_is_flagged_not_merged_silently(overlap_minutes, flagged):
    """A reload overlaps its dropped connection for at most Prosody's 60 s hibernation; two people
    with the same name (or one with two tabs) overlap for longer."""
    room = Classroom("r", NINE).created(0)
    room.join("one", 0, identity=stock_identity("Ana Garcia"), nick="Ana").leave("one", 50)
    room.join("two", 50 - overlap_minutes, identity=stock_identity("Ana Garcia"), nick="Ana (phone)")
    [meeting] = rules.compute(room.destroyed(60).events)
    [ana] = meeting.participants
    assert (ana.ambiguous is not None) is flagged
    if flagged:
        assert ana.ambiguous.startswith("connections signed with this name were in the meeting at the same time "
                                        f"for {round(overlap_minutes)} min (display names Ana, Ana (phone))")


def test_two_tabs_of_a_student_with_a_user_id_are_never_flagged():
    room = Classroom("r", NINE).created(0)
    room.join("tab-1", 0, identity={"user_id": "u1", "name": "Ana"}).join("tab-2", 0, identity={"user_id": "u1"})
    [meeting] = rules.compute(room.destroyed(60).events)
    [ana] = meeting.participants
    assert (ana.key_kind, ana.ambiguous, ana.percent) == ("user_id", None, 100.0)
