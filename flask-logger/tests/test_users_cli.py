"""`attendance-logger users …`: the school's accounts, from the command line the operator has."""
from __future__ import annotations

import json
import subprocess

import pytest
from sqlalchemy import create_engine, text

from logger_helpers import CLI, server_env
from tests.support.terminal import on_a_terminal

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def users(database_url, tmp_path):
    def run(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
        env = server_env(tmp_path, ATTENDANCE_DATABASE_URL=database_url)
        return subprocess.run([CLI, "users", *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)

    return run


def listed(users) -> dict:
    result = users("list", "--json")
    assert result.returncode == 0, result.stderr
    return {a["name"]: a for a in json.loads(result.stdout)["accounts"]}


@pytest.mark.slow  # subprocesses and real waits: several seconds
def test_add_list_grant_revoke_passwd_remove(users, database_url, app):
    added = users("add", "ms.dupont", "--course", "MATH101", "--password-stdin", stdin="dupont's long password\n")
    assert added.returncode == 0, added.stderr
    assert "dupont's long password" not in added.stdout + added.stderr
    assert listed(users)["ms.dupont"] == {"name": "ms.dupont", "role": "teacher", "courses": ["MATH101"]}

    assert users("grant", "ms.dupont", "PHYS202", "CHEM303").returncode == 0
    assert listed(users)["ms.dupont"]["courses"] == ["CHEM303", "MATH101", "PHYS202"]
    assert users("revoke", "ms.dupont", "CHEM303").returncode == 0
    assert listed(users)["ms.dupont"]["courses"] == ["MATH101", "PHYS202"]

    accounts = app.extensions["accounts"]
    assert accounts.check("ms.dupont", "dupont's long password") is not None
    assert users("passwd", "ms.dupont", "--password-stdin", stdin="a new long password\n").returncode == 0
    assert accounts.check("ms.dupont", "dupont's long password") is None
    assert accounts.check("ms.dupont", "a new long password").courses == frozenset({"MATH101", "PHYS202"})

    assert users("add", "head", "--role", "admin", "--password-stdin", stdin="the head's long password\n").returncode == 0
    assert listed(users)["head"] == {"name": "head", "role": "admin", "courses": []}
    plain = users("list")
    assert "ms.dupont" in plain.stdout and "MATH101, PHYS202" in plain.stdout and "all courses" in plain.stdout

    assert users("remove", "ms.dupont").returncode == 0
    assert "ms.dupont" not in listed(users)
    assert accounts.check("ms.dupont", "a new long password") is None


def test_passwords_are_argon2id_hashes(users, database_url):
    assert users("add", "ms.dupont", "--password-stdin", stdin="dupont's long password\n").returncode == 0
    with create_engine(database_url).connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM accounts WHERE name = 'ms.dupont'")).scalar()
    assert stored.startswith("$argon2id$") and "dupont" not in stored


def test_the_password_comes_from_a_prompt_twice(database_url, tmp_path, app):
    """On a terminal the password is asked (hidden) and confirmed; a short one is asked again."""
    env = server_env(tmp_path, ATTENDANCE_DATABASE_URL=database_url)
    code, output = on_a_terminal([CLI, "users", "add", "ms.dupont"], env=env, answers=[
        ("Password:", "short"), ("Password:", "dupont's long password"),
        ("Repeat for confirmation:", "dupont's long password")])
    assert code == 0, output
    assert "at least 12 characters" in output and "added teacher ms.dupont" in output
    assert "dupont's long password" not in output and "short" not in output.replace("too short", "")
    assert app.extensions["accounts"].check("ms.dupont", "dupont's long password") is not None


@pytest.mark.parametrize("args, stdin, complaint", [
    (["add", "ms.dupont", "--password-stdin"], "short\n", "too short (5 characters): use at least 12"),
    (["add", "ms dupont", "--password-stdin"], "dupont's long password\n", "account names are"),
    (["add", "ms.dupont", "--role", "owner", "--password-stdin"], "dupont's long password\n", "'owner' is not one of"),
    (["add", "ms.dupont", "--password-stdin"], "", "no password on standard input"),
    (["passwd", "nobody", "--password-stdin"], "a long enough password\n", "no account named 'nobody'"),
    (["remove", "nobody"], None, "no account named 'nobody'"),
    (["grant", "nobody", "MATH101"], None, "no account named 'nobody'"),
])
def test_mistakes_are_explained(users, args, stdin, complaint):
    result = users(*args, stdin=stdin)
    assert result.returncode == 2
    assert complaint in result.stderr


def test_an_account_name_is_taken_once(users):
    assert users("add", "ms.dupont", "--password-stdin", stdin="dupont's long password\n").returncode == 0
    again = users("add", "ms.dupont", "--password-stdin", stdin="another long password\n")
    assert again.returncode == 2 and "already exists" in again.stderr and "users passwd" in again.stderr


def test_no_option_takes_a_password_as_an_argument(users):
    for verb in ("add", "passwd"):
        help_text = users(verb, "--help").stdout
        assert "--password-stdin" in help_text
        assert "--password " not in help_text and "--password=" not in help_text


def test_grants_to_an_admin_or_a_course_never_seen_are_explained(users):
    users("add", "head", "--role", "admin", "--password-stdin", stdin="the head's long password\n")
    granted = users("grant", "head", "MATH101")
    assert granted.returncode == 2 and "admin accounts see every course" in granted.stderr
    users("add", "ms.dupont", "--password-stdin", stdin="dupont's long password\n")
    unseen = users("grant", "ms.dupont", "math101")
    assert unseen.returncode == 0  # courses may be granted before their first lesson
    assert "no meeting has carried courseid 'math101' yet" in unseen.stderr
