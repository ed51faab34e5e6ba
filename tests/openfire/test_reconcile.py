"""Reconciler against the fake REST API (Openfire cannot run here; the fake follows the REST API
plugin's documented behaviour and is itself checked against the plugin's own Hurl tests in
test_fake_vs_hurl.py). The fake boots from our rendered openfire.xml, so these tests also check
that the seed file enables the API with the secret the reconciler then uses."""
from __future__ import annotations

import json
import logging
import secrets

import pytest

from jitsictl.openfire import reconcile
from jitsictl.openfire.client import RestApiClient
from jitsictl.openfire.reconcile import (BREWERY_ROOM, BREWERY_SERVICE, Change, DesiredStateError,
                                         desired_state, fingerprint_matches, password_fingerprint)
from tests.openfire.conftest import DOMAIN


def _desired(**overrides):
    values = dict(domain=DOMAIN, public_url="https://meet.example.org/", focus_password="focus-" + "f" * 20,
                  jvb_password="jvb-" + "j" * 20, attendance_url="http://logger:8080/events",
                  attendance_secret="whsec_" + "s" * 30, claims=["courseid", "groupid"])
    values.update(overrides)
    return desired_state(**values)


@pytest.fixture
def client(openfire, restapi_secret):
    return RestApiClient(openfire[1].url, restapi_secret, timeout=5)


def _secret_values(desired) -> list[str]:
    return ([u.password for u in desired.users] + [p.value for p in desired.properties if p.secret])


def _assert_no_secret(changes, desired):
    text = "\n".join(str(c) for c in changes) + json.dumps([c.to_dict() for c in changes])
    for value in _secret_values(desired):
        assert value not in text


def test_fresh_openfire_plan_lists_everything_and_reveals_no_secret(client):
    desired = _desired()
    changes = reconcile.plan(client, desired)
    kinds = {(c.kind, c.action, c.target) for c in changes}
    assert ("user", "create", "focus") in kinds and ("user", "create", "jvb") in kinds
    assert ("service", "create", BREWERY_SERVICE) in kinds
    assert ("service", "create", "conference") not in kinds  # Openfire ships it
    assert ("room", "create", f"{BREWERY_ROOM}@{BREWERY_SERVICE}") in kinds
    for key in ("attendance.url", "attendance.secret", "attendance.claims"):
        assert ("property", "create", key) in kinds
    # registered Openfire properties are listed with their defaults: changing one is an update
    assert "update property httpbind.CORS.domains: '*' -> 'https://meet.example.org'" in map(str, changes)
    assert not any(c.target == "httpbind.CORS.enabled" for c in changes)  # default true already
    _assert_no_secret(changes, desired)


def test_apply_configures_openfire_and_second_apply_changes_nothing(openfire, client):
    fake, _ = openfire
    desired = _desired()
    first = reconcile.apply(client, desired)
    assert first
    assert reconcile.plan(client, desired) == []
    assert reconcile.apply(client, desired) == []

    assert fake.users["focus"]["password"] == desired.users[0].password
    assert fake.users["jvb"]["password"] == desired.users[1].password
    assert fingerprint_matches(desired.users[0].password, fake.users["focus"]["properties"]["jitsictl.password"])
    assert fake.services[BREWERY_SERVICE]["hidden"] is True
    room = fake.services[BREWERY_SERVICE]["rooms"][BREWERY_ROOM]
    assert room["membersOnly"] is True and room["publicRoom"] is False and room["persistent"] is True
    assert room["owners"] == [f"focus@{DOMAIN}"] and room["members"] == [f"jvb@{DOMAIN}"]
    assert sorted(room["broadcastPresenceRoles"]) == ["moderator", "participant", "visitor"]
    assert fake.properties["httpbind.CORS.domains"] == "https://meet.example.org"
    assert fake.properties["xmpp.auth.anonymous"] == "true"
    assert fake.properties["attendance.claims"] == "courseid,groupid"
    assert fake.properties["attendance.secret"] == "whsec_" + "s" * 30


def test_property_drift_is_planned_and_repaired(openfire, client):
    fake, _ = openfire
    desired = _desired()
    reconcile.apply(client, desired)
    fake.properties["httpbind.CORS.domains"] = "*"
    fake.properties["attendance.secret"] = "something-else-entirely"
    changes = reconcile.plan(client, desired)
    assert [str(c) for c in changes] == [
        "update property httpbind.CORS.domains: '*' -> 'https://meet.example.org'",
        "update property attendance.secret: (secret changed)",
    ]
    assert "something-else-entirely" not in json.dumps([c.to_dict() for c in changes])
    reconcile.apply(client, desired)
    assert fake.properties["httpbind.CORS.domains"] == "https://meet.example.org"
    assert reconcile.plan(client, desired) == []


def test_room_drift_is_repaired_with_a_complete_upsert(openfire, client):
    fake, _ = openfire
    desired = _desired()
    reconcile.apply(client, desired)
    room = fake.services[BREWERY_SERVICE]["rooms"][BREWERY_ROOM]
    room["membersOnly"] = False
    room["members"] = [f"jvb@{DOMAIN}", f"intruder@{DOMAIN}"]
    changes = reconcile.plan(client, desired)
    assert len(changes) == 1 and changes[0].kind == "room" and changes[0].action == "update"
    assert any("membersOnly false -> true" in d for d in changes[0].details)
    reconcile.apply(client, desired)
    room = fake.services[BREWERY_SERVICE]["rooms"][BREWERY_ROOM]
    # the upsert resets omitted booleans to false; persistent survives only because we send it
    assert room["membersOnly"] and room["persistent"] and room["canAnyoneDiscoverJID"]
    assert room["members"] == [f"jvb@{DOMAIN}"]
    assert reconcile.plan(client, desired) == []


def test_room_update_keeps_creation_date_and_subject(openfire, client):
    """The upsert resets what it is not sent; the reconciler sends the room's own creation date
    and subject back, so repairing drift does not make the brewery look new."""
    fake, _ = openfire
    desired = _desired()
    reconcile.apply(client, desired)
    room = fake.services[BREWERY_SERVICE]["rooms"][BREWERY_ROOM]
    room.update(creationDate=1_600_000_000_000, subject="bridges", moderated=True)
    reconcile.apply(client, desired)
    room = fake.services[BREWERY_SERVICE]["rooms"][BREWERY_ROOM]
    assert room["moderated"] is False
    assert room["creationDate"] == 1_600_000_000_000 and room["subject"] == "bridges"


def test_restart_note_fires_for_a_property_openfire_reads_at_start(openfire, client):
    fake, _ = openfire
    fake.properties["httpbind.CORS.enabled"] = "false"
    changes = [c for c in reconcile.plan(client, _desired()) if c.target == "httpbind.CORS.enabled"]
    assert [str(c) for c in changes] == [
        "update property httpbind.CORS.enabled: 'false' -> 'true' (takes effect after an Openfire restart)"]


def test_room_capacity_is_a_property_of_the_attendance_plugin(openfire, client):
    fake, _ = openfire
    reconcile.apply(client, _desired(max_room_occupants=0))
    assert fake.properties["attendance.jitsi.room.max.occupants"] == "0"
    changes = reconcile.plan(client, _desired(max_room_occupants=250))
    assert [str(c) for c in changes] == ["update property attendance.jitsi.room.max.occupants: '0' -> '250'"]
    with pytest.raises(DesiredStateError, match="max_room_occupants"):
        _desired(max_room_occupants=-5)


def test_password_rotation_updates_once_and_keeps_other_user_properties(openfire, client):
    fake, _ = openfire
    reconcile.apply(client, _desired())
    fake.users["focus"]["properties"]["someone.else"] = "keep-me"
    rotated = _desired(focus_password="rotated-" + secrets.token_hex(16))
    changes = reconcile.plan(client, rotated)
    assert [str(c) for c in changes] == ["update user focus: password (secret changed)"]
    _assert_no_secret(changes, rotated)
    reconcile.apply(client, rotated)
    assert fake.users["focus"]["password"] == rotated.users[0].password
    assert fake.users["focus"]["properties"]["someone.else"] == "keep-me"
    assert reconcile.plan(client, rotated) == []


def test_users_created_by_autosetup_converge_after_one_password_set(boot_xml, restapi_secret):
    from tests.openfire.fake_restapi import FakeOpenfire, FakeServer

    desired = _desired()
    fake = FakeOpenfire(boot_xml(users=[("focus", desired.users[0].password),
                                        ("jvb", desired.users[1].password)]))
    with FakeServer(fake) as server:
        client = RestApiClient(server.url, restapi_secret, timeout=5)
        users = [c for c in reconcile.plan(client, desired) if c.kind == "user"]
        assert {c.action for c in users} == {"update"}
        assert all("password not yet set by jitsictl" in c.details for c in users)
        reconcile.apply(client, desired)
        assert reconcile.plan(client, desired) == []


def test_guest_login_off_and_extra_properties(openfire, client):
    fake, _ = openfire
    desired = _desired(allow_guests=False, extra_properties={"attendance.batch.size": "50"})
    reconcile.apply(client, desired)
    assert fake.properties["xmpp.auth.anonymous"] == "false"
    assert fake.properties["attendance.batch.size"] == "50"


def test_nothing_secret_is_logged(openfire, client, caplog, restapi_secret):
    desired = _desired()
    with caplog.at_level(logging.DEBUG):
        reconcile.apply(client, desired)
    for value in _secret_values(desired) + [restapi_secret]:
        assert value not in caplog.text
    assert restapi_secret not in repr(client)


@pytest.mark.parametrize("kwargs,needle", [
    (dict(public_url="meet.example.org"), "public_url"),
    (dict(attendance_url="logger:8080"), "attendance_url"),
    (dict(focus_password=""), "focus_password"),
    (dict(attendance_secret="  "), "attendance_secret"),
    (dict(claims=["course,id"]), "claim"),
    (dict(extra_properties={"attendance.url": "x"}), "override"),
])
def test_bad_values_are_refused_clearly(kwargs, needle):
    with pytest.raises(DesiredStateError, match=needle):
        _desired(**kwargs)


def test_public_origin_and_claims_string():
    assert reconcile.public_origin("https://meet.example.org:443/room?x=1") == "https://meet.example.org"
    assert reconcile.public_origin("http://localhost:8000") == "http://localhost:8000"
    assert _desired(claims="courseid, groupid").properties[5].value == "courseid,groupid"


def test_fingerprints_are_salted_and_verify():
    a, b = password_fingerprint("pw"), password_fingerprint("pw")
    assert a != b and fingerprint_matches("pw", a) and fingerprint_matches("pw", b)
    assert not fingerprint_matches("other", a)
    assert not fingerprint_matches("pw", None) and not fingerprint_matches("pw", "garbage")


def test_change_renders_for_humans_and_json():
    change = Change("property", "update", "k", ("'a' -> 'b'",))
    assert str(change) == "update property k: 'a' -> 'b'"
    assert change.to_dict() == {"kind": "property", "action": "update", "target": "k", "details": ["'a' -> 'b'"]}


def test_rest_secret_is_judged_by_the_secret_in_use_even_if_hidden(openfire, client, restapi_secret):
    fake, server = openfire
    desired = _desired(restapi_secret=restapi_secret)
    reconcile.apply(client, desired)
    # as seen through a plugin version that hides its own configuration from the listing
    hidden_view = type(client)(server.url, restapi_secret, timeout=5)
    original = hidden_view.list_properties
    hidden_view.list_properties = lambda: {k: v for k, v in original().items()
                                           if not k.startswith("plugin.restapi.")}
    assert reconcile.plan(hidden_view, desired) == []
    new_secret = secrets.token_urlsafe(24)
    changes = reconcile.plan(hidden_view, _desired(restapi_secret=new_secret))
    assert [str(c) for c in changes] == ["update property plugin.restapi.secret: (secret changed)"]
