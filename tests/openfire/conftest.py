"""Fixtures: a fake Openfire REST API booted from our own rendered openfire.xml."""
from __future__ import annotations

import secrets

import pytest

from jitsictl.openfire.render import render_openfire_xml
from tests.openfire.fake_restapi import FakeOpenfire, FakeServer

DOMAIN = "meet.example.org"


@pytest.fixture
def restapi_secret() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture
def boot_xml(restapi_secret):
    def make(**overrides):
        values = dict(domain=DOMAIN, fqdn="xmpp.meet.jitsi", admin_email="ops@example.org",
                      admin_password=secrets.token_urlsafe(16), restapi_secret=restapi_secret)
        values.update(overrides)
        return render_openfire_xml(**values)
    return make


@pytest.fixture
def openfire(boot_xml):
    """(fake state, server) for a fresh Openfire that booted from our openfire.xml."""
    fake = FakeOpenfire(boot_xml())
    with FakeServer(fake) as server:
        yield fake, server
