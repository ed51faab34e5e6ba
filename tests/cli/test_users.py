"""`jitsictl users` on Openfire: jitsictl.users through the REST client against the contract fake
of the REST API plugin (tests/openfire/fake_restapi.py, checked against the plugin's own HTTP
tests by tests/openfire/test_fake_vs_hurl.py), booted from the openfire.xml jitsictl renders."""
from __future__ import annotations

import pytest

from jitsictl import users
from jitsictl.openfire.client import RestApiClient
from tests.openfire.conftest import boot_xml, openfire, restapi_secret  # noqa: F401 (fixtures)


@pytest.fixture
def accounts(openfire, restapi_secret):  # noqa: F811
    fake, server = openfire
    return fake, users.OpenfireAccounts(RestApiClient(server.url, restapi_secret), "meet.jitsi")


def test_accounts_are_created_listed_changed_and_removed(accounts):
    fake, openfire_accounts = accounts
    fake.users["focus"] = {"username": "focus", "name": None, "email": None, "password": "x",
                           "properties": {}}
    assert users.add(openfire_accounts, "M.Curie", "Radium-1898") == "m.curie@meet.jitsi"
    assert fake.users["m.curie"]["password"] == "Radium-1898"
    with pytest.raises(users.UsersError) as exists:
        users.add(openfire_accounts, "m.curie", "Radium-1898")
    assert str(exists.value) == "that account exists already"
    # The accounts jitsictl manages (admin from the first boot, focus, jvb) are not a class's.
    assert users.list_users(openfire_accounts) == ["m.curie@meet.jitsi"]

    fake.users["m.curie"].update(name="Marie Curie", properties={"school.role": "teacher"})
    users.passwd(openfire_accounts, "m.curie", "Nobel-Prize-1911")
    changed = fake.users["m.curie"]
    assert changed["password"] == "Nobel-Prize-1911"
    # The REST API replaces a user's properties with those sent: they were sent back.
    assert changed["properties"] == {"school.role": "teacher"} and changed["name"] == "Marie Curie"

    assert users.remove(openfire_accounts, "m.curie") == "m.curie@meet.jitsi"
    assert "m.curie" not in fake.users
    for verb in (users.remove, lambda a, n: users.passwd(a, n, "Whatever-123")):
        with pytest.raises(users.UsersError) as missing:
            verb(openfire_accounts, "m.curie")
        assert str(missing.value) == "no such account"


def test_managed_accounts_cannot_be_touched(accounts):
    fake, openfire_accounts = accounts
    for name in ("focus", "jvb", "admin", "Admin"):
        with pytest.raises(users.UsersError) as refused:
            users.passwd(openfire_accounts, name, "Long-enough-1")
        assert "jitsictl manages" in str(refused.value)
    assert fake.users["admin"]["password"] != "Long-enough-1"
