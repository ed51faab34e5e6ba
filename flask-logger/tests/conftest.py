"""Fixtures for the receiver's tests: real SQLite and real PostgreSQL, an app, signed requests, Chromium."""
from __future__ import annotations

import os
import shutil
import ssl
import sys
from pathlib import Path

import pytest
import trustme

# Under --import-mode=importlib conftest is not importable; the helpers module next to it is.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from attendance_logger import create_app  # noqa: E402
from fake_moodle import FakeMoodle  # noqa: E402
from logger_helpers import (ADMIN_PASSWORD, ARTIFACTS, PG_BIN, WEBHOOK_SECRET, PostgresServer,  # noqa: E402
                            Sender, basic_auth, signed_headers)
from tests.support import real_components  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def postgres():
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None and os.geteuid() == 0:
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG_BIN} (scripts/install-system-deps installs them)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'attendance.db'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def app(database_url):
    app = create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET,
                      "ADMIN_PASSWORD": ADMIN_PASSWORD, "TESTING": True,
                      "REFRESH_INTERVAL_SECONDS": 0})
    yield app
    app.extensions["storage"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sender(client):
    return Sender(client)


@pytest.fixture
def auth():
    return basic_auth()


@pytest.fixture
def browser():
    """Debian's headless Chromium, driven by Playwright's Python package."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed (scripts/install-system-deps installs chromium)")
    from playwright.sync_api import sync_playwright

    real_components.starting("Chromium")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def sign():
    """`sign(body, **options)` -> signed request headers (standardwebhooks library)."""
    return signed_headers


@pytest.fixture(scope="session")
def moodle_ca(tmp_path_factory):
    """A certificate authority of the school's own, as many schools run Moodle behind one."""
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("moodle-ca") / "school-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


@pytest.fixture
def moodle(moodle_ca):
    """A running fake Moodle (fake_moodle.py) on https://127.0.0.1:<port>; its CA file is `moodle.ca_file`."""
    ca, ca_file = moodle_ca
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    site = FakeMoodle(tls=context)
    site.ca_file = ca_file
    site.start()
    yield site
    site.stop()
