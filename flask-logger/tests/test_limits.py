"""Limits that fit the contract: what the schema allows is stored and read back on both
databases, what it refuses (or JSON, UTF-8 and XML cannot carry) is a 400 that says why, and a
bad delivery never touches another.

Values are made of random 4-byte characters (emoji): in UTF-8 they are as large as a string of
their length can be, and random, so PostgreSQL can neither compress them nor fit them in a
narrower column or index.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import uuid

import pytest
from sqlalchemy import func, select

from attendance_logger.tables import events
from logger_helpers import basic_auth, refuse_inserts
from tests.support import contract

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
SCHEMA = json.loads(contract.SCHEMA_PATH.read_text(encoding="utf-8"))
DEFS = SCHEMA["$defs"]


def wide(length: int, seed: int) -> str:
    """`length` random characters of 4 bytes each in UTF-8."""
    rng = random.Random(seed)
    return "".join(chr(rng.randrange(0x1F300, 0x1F9FF)) for _ in range(length))


def at(seconds: int) -> str:
    moment = NOW - dt.timedelta(hours=1) + dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def event(type_: str, seconds: int, *, room: dict, source: dict, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "type": type_, "time": at(seconds), "source": source, "room": room, **extra}


def stored(app) -> int:
    with app.extensions["storage"].read() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar()


def longest_lesson() -> list[dict]:
    """A lesson whose every length-limited string is as long as the schema allows."""
    longest = {name: spec["maxLength"] for definition in DEFS.values()
               for name, spec in definition.get("properties", {}).items() if "maxLength" in spec}
    host = "muc." + "h" * (DEFS["source"]["properties"]["host"]["maxLength"] - 4)
    local = wide(DEFS["room"]["properties"]["jid"]["maxLength"] - len(host) - 1, 1)
    room = {"jid": f"{local}@{host}", "name": wide(longest["name"], 2), "meeting_id": wide(longest["meeting_id"], 3)}
    source = {"server": "prosody", "host": host, "instance": wide(longest["instance"], 4)}
    occupant_jid = f"{room['jid']}/" + wide(DEFS["occupant"]["properties"]["occupant_jid"]["maxLength"]
                                            - len(room["jid"]) - 1, 5)
    bare = wide(400, 6) + "@meet.jitsi"
    occupant = {"occupant_jid": occupant_jid, "user_jid": bare + "/" + wide(1000, 7), "bare_jid": bare,
                "nick": wide(longest["nick"], 8)}
    identity = {"user_id": wide(longest["user_id"], 9), "name": wide(longest["name"], 10),
                "email": wide(100, 11) + "@" + wide(100, 12), "group": wide(longest["group"], 13),
                "claims": {"courseid": wide(1023, 14), "groupid": wide(1023, 15)}}
    return [event("room.created", 0, room=room, source=source),
            event("occupant.joined", 60, room=room, source=source, occupant=occupant, identity=identity),
            event("occupant.left", 1800, room=room, source=source, occupant=occupant, identity=identity),
            event("room.destroyed", 3600, room=room, source=source)]


def test_the_longest_values_the_schema_allows_are_stored_and_read_back(app, client, sender):
    """PostgreSQL answered 503 for ever to a room JID over 512 characters or a host over 255, and
    every read 503 once a long room name, meeting id or course was stored."""
    lesson = longest_lesson()
    for item in lesson:
        assert contract.validator().is_valid(item)
    answer = sender.post({"events": lesson})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"accepted": 4, "duplicates": 0}
    listed = client.get("/v1/meetings", headers=basic_auth())
    assert listed.status_code == 200, listed.get_json()
    meeting, = listed.get_json()["meetings"]
    assert meeting["room"] == lesson[0]["room"]["name"] and meeting["meeting_id"] == lesson[0]["room"]["meeting_id"]
    course = lesson[1]["identity"]["claims"]["courseid"]
    assert client.get("/v1/meetings", query_string={"course": course}, headers=basic_auth()).get_json()["meetings"]
    report = client.get(f"/v1/meetings/{meeting['id']}/attendance", headers=basic_auth())
    assert report.status_code == 200
    assert report.get_json()["participants"][0]["name"] == lesson[1]["identity"]["name"]
    assert client.get(f"/v1/meetings/{meeting['id']}/attendance.csv", headers=basic_auth()).status_code == 200


@pytest.mark.parametrize("where", ["room.jid", "source.host"])
def test_a_value_longer_than_the_schema_allows_is_refused_with_400(app, sender, where):
    room = {"jid": "maths@muc.meet.jitsi", "name": "maths"}
    source = {"server": "prosody", "host": "muc.meet.jitsi", "instance": "limits-test-1"}
    if where == "room.jid":
        room["jid"] = "r" * DEFS["room"]["properties"]["jid"]["maxLength"] + "@muc.meet.jitsi"
    else:
        source["host"] = "h" * (DEFS["source"]["properties"]["host"]["maxLength"] + 1)
    answer = sender.post(event("room.created", 0, room=room, source=source))
    assert answer.status_code == 400 and answer.get_json()["error"] == "schema"
    assert answer.get_json()["errors"][0].startswith(f"event.{where.split('.')[0]}")
    assert stored(app) == 0


@pytest.mark.parametrize("field", ["room.jid", "occupant.nick", "identity.claims.courseid"])
def test_a_nul_character_is_refused_with_400(app, sender, field):
    """XML (so XMPP) cannot carry U+0000 and PostgreSQL cannot store it in text: a sender that
    puts one in an event has a bug, which a 400 shows it (a 503 would be retried for ever)."""
    item = dict(contract.invalid_events()["valid_base"], id=str(uuid.uuid4()))
    item = json.loads(json.dumps(item))
    if field == "room.jid":
        item["room"]["jid"] = "ma\u0000ths@muc.meet.jitsi"
    elif field == "occupant.nick":
        item["occupant"]["nick"] = "Al\u0000ice"
    else:
        item["identity"]["claims"]["courseid"] = "MATH\u0000101"
    answer = sender.post(item)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "U+0000" in answer.get_json()["message"]
    assert stored(app) == 0


def test_a_delivery_the_database_refuses_does_not_fail_another(app, sender, backend):
    """Each delivery is its own transaction: one the database refuses gets its 503 alone."""
    refuse_inserts(app.extensions["storage"], "events", room_like="poison%")
    import concurrent.futures

    def deliver(n):
        room = {"jid": f"{'poison' if n == 0 else 'room'}-{n}@muc.meet.jitsi", "name": f"room-{n}"}
        source = {"server": "prosody", "host": "muc.meet.jitsi", "instance": "limits-test-2"}
        return n, sender.post(event("room.created", n, room=room, source=source)).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = dict(pool.map(deliver, range(24)))
    assert answers.pop(0) == 503
    assert set(answers.values()) == {200}
    assert stored(app) == 23


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("body,why", [
    (b"\xef\xbb\xbf", "UTF-8 with a byte-order mark"),
    ("utf-16", "UTF-16"),
    ("utf-16-le", "UTF-16 without a byte-order mark"),
    ("utf-32", "UTF-32"),
], ids=["utf8-bom", "utf16", "utf16le", "utf32"])
def test_only_utf8_without_a_byte_order_mark_is_json_here(app, client, sign, body, why):
    text_body = json.dumps(dict(contract.invalid_events()["valid_base"], id=str(uuid.uuid4())))
    raw = body + text_body.encode() if isinstance(body, bytes) else text_body.encode(body)
    answer = client.post("/v1/events", data=raw, headers=sign(raw))
    assert answer.status_code == 400, (why, answer.get_data(as_text=True))
    assert answer.get_json()["error"] == "bad_json" and "UTF-8" in answer.get_json()["message"]
    assert stored(app) == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("number", ["1e400", "-1e400", "123456789012345678901234567890"])
def test_numbers_no_sender_can_mean_are_refused_with_400(app, client, sign, number):
    """`1e400` is beyond any double (it was stored as null); an integer beyond 64 bits cannot be
    held by the plugins, PostgreSQL or most JSON readers."""
    item = dict(contract.invalid_events()["valid_base"], id=str(uuid.uuid4()))
    raw = json.dumps(item).replace('"courseid": "MATH101"', f'"courseid": {number}')
    assert number in raw
    answer = client.post("/v1/events", data=raw.encode(), headers=sign(raw))
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["error"] == "bad_json" and number in answer.get_json()["message"]
    assert stored(app) == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("depth", [40, 1000, 100_000])
def test_deeply_nested_unknown_fields_are_refused_with_400(app, client, sign, depth):
    """Unknown fields are allowed (forward compatibility), nesting a thousand deep is not: it was
    a 500, which a plugin retries for ever."""
    item = dict(contract.invalid_events()["valid_base"], id=str(uuid.uuid4()))
    raw = json.dumps(item)[:-1] + ', "future": ' + "[" * depth + "]" * depth + "}"
    answer = client.post("/v1/events", data=raw.encode(), headers=sign(raw))
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["error"] == "bad_json" and "deep" in answer.get_json()["message"]
    assert stored(app) == 0


def test_uuid_event_ids_are_the_same_event_in_any_case(app, sender):
    item = dict(contract.invalid_events()["valid_base"], id=str(uuid.uuid4()).upper())
    assert sender.post(item).get_json() == {"accepted": 1, "duplicates": 0}
    assert sender.post(dict(item, id=item["id"].lower())).get_json() == {"accepted": 0, "duplicates": 1}
    together = sender.post({"events": [dict(item, id=str(uuid.uuid4()).upper()), dict(item, id=item["id"].title())]})
    assert together.get_json() == {"accepted": 1, "duplicates": 1}
    with app.extensions["storage"].read() as conn:
        ids = conn.execute(select(events.c.id)).scalars().all()
    assert len(ids) == 2 and all(i == i.lower() for i in ids)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("query", ["?to=9999-12-31", "?from=9999-12-31", "?from=0001-01-01T00:00:00Z",
                                   "?to=9999-12-31T23:59:59.999999+00:00"])
def test_dates_at_the_ends_of_the_calendar_are_answered(client, query):
    response = client.get("/v1/meetings" + query, headers=basic_auth())
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    if response.status_code == 400:
        assert response.get_json()["error"] == "bad_query"
