"""Checks our fake REST API against the real plugin's contract: the REST API plugin's own HTTP
tests (Hurl files from igniterealtime/openfire-restAPI-plugin `test/`, read in place from
shared/peers/openfire-restapi-tests/ beside the checkout) are replayed against the fake, booted from the
plugin's own boot file `demoboot-with-additions.xml` (secret from its `test.env`).

Openfire cannot run here; this is how we know the fake the reconciler tests use behaves like
the plugin where it matters. Entries for endpoints the fake does not model are skipped and
listed, with the reason, in the test output.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from tests.openfire.fake_restapi import FakeOpenfire, FakeServer
from tests.support.contract import OPENFIRE_RESTAPI_PEER_TESTS as PEERS
from tests.openfire.hurl_subset import evaluate, load_env, parse

HURL_FILES = ("chatrooms.hurl", "chatservice.hurl", "system.hurl", "users.hurl")

# (file, entry index) -> why it is not replayed
SKIPPED_ENTRIES = {
    ("chatrooms.hurl", 2): "GET /sessions: sessions are not faked (jitsictl never reads them)",
    ("users.hurl", 9): "GET /users/{u}/roster: rosters are not faked (jitsictl never uses them)",
}
# (file, entry index, assert line text) -> why the assertion alone is not evaluated
SKIPPED_ASSERTS = {
    ("system.hurl", 9, 'xpath "/properties/property" count > 150'):
        "counts Openfire's ~150 built-in properties, which the fake does not model",
}

pytestmark = pytest.mark.skipif(not PEERS.is_dir(), reason=f"{PEERS} (the plugin's Hurl tests) is absent")


def _entries():
    env = load_env(PEERS / "test.env")
    for name in HURL_FILES:
        yield name, parse(PEERS / name, env)


def test_every_hurl_file_parses_and_is_accounted_for(capsys):
    total = replayed = 0
    for name, entries in _entries():
        total += len(entries)
        replayed += sum((name, e.index) not in SKIPPED_ENTRIES for e in entries)
        assert all(e.status is not None for e in entries), f"{name}: entry without expected status"
    # the skip table must point at real entries (and so fail if the peer files change)
    known = {(name, e.index): e for name, entries in _entries() for e in entries}
    for key in SKIPPED_ENTRIES:
        assert key in known, f"skip entry {key} no longer exists"
    for (name, index, text) in SKIPPED_ASSERTS:
        assert text in [a.text for a in known[(name, index)].asserts], f"skipped assert {text!r} not found"
    with capsys.disabled():
        print(f"\n[hurl] {replayed}/{total} entries replayed against the fake; skipped:")
        for (name, index), reason in SKIPPED_ENTRIES.items():
            print(f"[hurl]   {known[(name, index)].name}: {reason}")
        for (name, index, text), reason in SKIPPED_ASSERTS.items():
            print(f"[hurl]   {name}#{index} assert `{text}`: {reason}")
    assert replayed >= 20


@pytest.mark.parametrize("hurl_file", HURL_FILES)
def test_fake_passes_the_plugins_own_hurl_tests(hurl_file):
    env = load_env(PEERS / "test.env")
    entries = parse(PEERS / hurl_file, env)
    fake = FakeOpenfire((PEERS / "demoboot-with-additions.xml").read_text())
    checked_asserts = 0
    with FakeServer(fake) as server, requests.Session() as http:
        for entry in entries:
            if (hurl_file, entry.index) in SKIPPED_ENTRIES:
                continue
            split = urlsplit(entry.url)
            url = server.url + split.path + (f"?{split.query}" if split.query else "")
            response = http.request(entry.method, url, headers=entry.headers,
                                    data=entry.body.encode() if entry.body else None, timeout=5)
            assert response.status_code == entry.status, (
                f"{entry.name} (line {entry.line}): expected HTTP {entry.status}, "
                f"fake answered {response.status_code}: {response.text[:300]}")
            for check in entry.asserts:
                if (hurl_file, entry.index, check.text) in SKIPPED_ASSERTS:
                    continue
                passed, actual = evaluate(check, response.headers.get("Content-Type", ""),
                                          response.content, {k.lower(): v for k, v in response.headers.items()})
                assert passed, f"{entry.name} line {check.line}: `{check.text}` got {actual!r}"
                checked_asserts += 1
    expected_asserts = sum(len(e.asserts) for e in entries if (hurl_file, e.index) not in SKIPPED_ENTRIES) \
        - sum(1 for (f, _, _) in SKIPPED_ASSERTS if f == hurl_file)
    assert checked_asserts == expected_asserts


def test_the_fake_is_not_trivially_permissive():
    """The replay is only meaningful if the fake can fail it: a wrong secret or a changed state
    must change the answers the Hurl files check."""
    fake = FakeOpenfire((PEERS / "demoboot-with-additions.xml").read_text())
    with FakeServer(fake) as server:
        assert requests.get(server.url + "/plugins/restapi/v1/users", timeout=5).status_code == 401
        assert requests.get(server.url + "/plugins/restapi/v1/users", headers={"Authorization": "tomato"},
                            timeout=5).status_code == 401
        fake.users.pop("john")
        env = load_env(PEERS / "test.env")
        first = parse(PEERS / "users.hurl", env)[0]
        response = requests.get(server.url + "/plugins/restapi/v1/users", headers=first.headers, timeout=5)
        results = [evaluate(a, "", response.content, {})[0] for a in first.asserts]
        assert not all(results)
