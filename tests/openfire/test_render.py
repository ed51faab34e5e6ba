"""The seed openfire.xml: well-formed, escaped, and carrying the keys Openfire's autosetup reads.

Openfire cannot run here, so the output is checked against the contract of its first boot
(igniterealtime/Openfire XMPPServer.runAutoSetup/finalSetupSteps, and the REST API plugin's own
test boot file `shared/peers/openfire-restapi-tests/demoboot-with-additions.xml`): the same
element paths must be present with our values.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from jitsictl.openfire.render import OpenfireXmlError, render_openfire_xml
from tests.openfire.fake_restapi import xml_properties
from tests.support.contract import OPENFIRE_RESTAPI_PEER_TESTS

PEER_DEMOBOOT = OPENFIRE_RESTAPI_PEER_TESTS / "demoboot-with-additions.xml"

NASTY = "p<&>\"'x]]>y"


def _render(**overrides):
    values = dict(domain="meet.example.org", fqdn="xmpp.meet.jitsi", admin_email="ops@example.org",
                  admin_password=NASTY, restapi_secret="s3cr&t<key>")
    values.update(overrides)
    return render_openfire_xml(**values)



def test_well_formed_and_values_round_trip_through_escaping():
    root = ET.fromstring(_render(users=[("focus", "f<&>1"), ("jvb", "j\"'2")]).encode())
    assert root.tag == "jive"
    props = xml_properties(root)
    assert props["autosetup.admin.password"] == NASTY
    assert props["plugin.restapi.secret"] == "s3cr&t<key>"
    assert props["autosetup.users.user1.username"] == "focus"
    assert props["autosetup.users.user1.password"] == "f<&>1"
    assert props["autosetup.users.user2.password"] == "j\"'2"


def test_required_autosetup_and_restapi_keys():
    props = xml_properties(ET.fromstring(_render(anonymous_login=True).encode()))
    assert props["autosetup.run"] == "true"
    assert props["autosetup.locale"] == "en"  # Openfire's autosetup fails without a locale
    assert props["autosetup.xmpp.domain"] == "meet.example.org"
    assert props["autosetup.xmpp.fqdn"] == "xmpp.meet.jitsi"
    assert props["autosetup.xmpp.auth.anonymous"] == "true"
    assert props["autosetup.database.mode"] == "embedded"
    assert props["connectionProvider.className"] == "org.jivesoftware.database.EmbeddedConnectionProvider"
    assert props["autosetup.admin.email"] == "ops@example.org"
    assert props["plugin.restapi.enabled"] == "true"
    assert props["plugin.restapi.httpAuth"] == "secret"
    assert props["adminConsole.access.allow-wildcards-in-excludes"] == "true"
    assert "autosetup.users.user1.username" not in props


def test_anonymous_login_can_be_switched_off():
    props = xml_properties(ET.fromstring(_render(anonymous_login=False).encode()))
    assert props["autosetup.xmpp.auth.anonymous"] == "false"


@pytest.mark.skipif(not PEER_DEMOBOOT.exists(), reason="peer REST API test files not present")
def test_same_property_paths_as_the_rest_api_plugins_own_boot_file():
    """Every bootstrap key the plugin's own e2e setup uses (minus its demo users/rosters) is ours."""
    theirs = xml_properties(ET.parse(PEER_DEMOBOOT).getroot())
    ours = xml_properties(ET.fromstring(_render().encode()))
    wanted = {k for k in theirs if not k.startswith("autosetup.users.")}
    assert wanted - set(ours) == set()


@pytest.mark.parametrize("field,value,needle", [
    ("domain", "Meet.Example.org", "domain"),
    ("domain", "", "domain"),
    ("fqdn", "bad host", "fqdn"),
    ("admin_password", "x\x01y", "admin_password"),
    ("restapi_secret", " padded", "restapi_secret"),
    ("admin_email", "", "admin_email"),
])
def test_bad_values_are_refused_with_the_field_named(field, value, needle):
    with pytest.raises(OpenfireXmlError) as info:
        _render(**{field: value})
    assert needle in str(info.value)


def test_padded_secret_error_does_not_echo_the_secret():
    with pytest.raises(OpenfireXmlError) as info:
        _render(admin_password=" hunter2secret ")
    assert "hunter2secret" not in str(info.value)


def test_bad_users_are_refused():
    with pytest.raises(OpenfireXmlError, match="listed twice"):
        _render(users=[("focus", "a"), ("focus", "b")])
    with pytest.raises(OpenfireXmlError, match="username"):
        _render(users=[("Focus Bot", "a")])
    with pytest.raises(OpenfireXmlError, match="pair"):
        _render(users=["focus"])
