"""attendance.room_pattern and attendance.moodle in jitsictl.yaml, the Moodle token in the secrets
file: rendered into the logger service as the receiver reads them, the token only through .env."""
from __future__ import annotations

import stat

import pytest

from jitsictl import config as config_mod
from jitsictl import render as render_mod
from jitsictl import secrets as secrets_mod

from .conftest import compose_config, run_cli, write_project

ROOM_PATTERN = "(?P<course>[a-z0-9-]+)_(?P<activity>[0-9]+)(?:_[a-z0-9-]*)?$"
TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
MOODLE = {"domain": "meet.example.org", "timezone": "Europe/Madrid",
          "attendance": {"room_pattern": ROOM_PATTERN, "room_courses": {"mat-1a": "MAT-1A"},
                         "moodle": {"url": "https://moodle.school.example", "statuses": {"partial": "A"},
                                    "attendance": {"FIS-2B": 412}}}}


def render(tmp_path, data: dict, token: str | None = TOKEN):
    config_path = write_project(tmp_path / "project", data)
    if token is not None:
        path = secrets_mod.path_for(config_path)
        values, _ = secrets_mod.read(path)
        secrets_mod.write(path, {**values, secrets_mod.MOODLE_TOKEN_NAME: token})
    config = config_mod.load(config_path)
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
    return render_mod.render(config, secrets, tmp_path / "project" / "stack").out_dir


def logger_environment(out) -> dict[str, str]:
    """What the container is given: `docker compose config` writes `$` escaped again as `$$`."""
    return {k: v.replace("$$", "$") for k, v in compose_config(out)["services"]["logger"]["environment"].items()}


def test_the_logger_gets_the_room_pattern_and_the_moodle_settings(tmp_path):
    out = render(tmp_path, MOODLE)
    environment = logger_environment(out)
    assert {k: v for k, v in environment.items() if k in (
        "ATTENDANCE_TIMEZONE", "ATTENDANCE_ROOM_PATTERN", "ATTENDANCE_ROOM_COURSES", "ATTENDANCE_MOODLE_URL",
        "ATTENDANCE_MOODLE_STATUSES", "ATTENDANCE_MOODLE_ATTENDANCE", "ATTENDANCE_MOODLE_AUTO_SYNC",
        "ATTENDANCE_MOODLE_TOKEN")} == {
        "ATTENDANCE_TIMEZONE": "Europe/Madrid", "ATTENDANCE_ROOM_PATTERN": ROOM_PATTERN,  # `$` kept from compose
        "ATTENDANCE_ROOM_COURSES": "mat-1a=MAT-1A", "ATTENDANCE_MOODLE_URL": "https://moodle.school.example",
        "ATTENDANCE_MOODLE_STATUSES": "partial=A", "ATTENDANCE_MOODLE_ATTENDANCE": "FIS-2B=412",
        "ATTENDANCE_MOODLE_AUTO_SYNC": "1", "ATTENDANCE_MOODLE_TOKEN": TOKEN}
    # the token only in the 0600 .env, never in the compose file
    assert TOKEN not in (out / "docker-compose.yml").read_text()
    assert TOKEN in (out / ".env").read_text() and stat.S_IMODE((out / ".env").stat().st_mode) == 0o600


def test_the_receiver_starts_with_the_rendered_moodle_environment(tmp_path, monkeypatch):
    from attendance_logger import create_app

    environment = logger_environment(render(tmp_path, MOODLE))
    environment["ATTENDANCE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'attendance.db'}"
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    moodle = app.config["MOODLE"]
    assert (moodle.url, moodle.token, moodle.statuses.partial, dict(moodle.attendance_modules)) == (
        "https://moodle.school.example", TOKEN, "A", {"FIS-2B": 412})
    names = app.config["COURSE_NAMES"]
    assert names.of_room("mat-1a_7_algebra", known=()) == ("MAT-1A", None)
    assert app.config["TIMEZONE"] == "Europe/Madrid"


def test_a_school_ca_is_mounted_read_only(tmp_path):
    ca = tmp_path / "school-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    data = {**MOODLE, "attendance": {**MOODLE["attendance"], "moodle": {"url": "https://moodle.school.example",
                                                                        "ca_file": str(ca)}}}
    logger = compose_config(render(tmp_path, data))["services"]["logger"]
    assert logger["environment"]["ATTENDANCE_MOODLE_CA_FILE"] == render_mod.MOODLE_CA_MOUNT
    [mount] = [v for v in logger["volumes"] if v["target"] == render_mod.MOODLE_CA_MOUNT]
    assert (mount["source"], mount["read_only"]) == (str(ca), True)


def test_without_the_token_render_says_where_to_put_it(tmp_path):
    with pytest.raises(config_mod.ConfigError) as refused:
        render(tmp_path, MOODLE, token=None)
    assert "has no ATTENDANCE_MOODLE_TOKEN, which attendance.moodle.url needs" in str(refused.value)
    assert 'ATTENDANCE_MOODLE_TOKEN: "<token>"' in str(refused.value)


def test_render_from_the_command_line_never_prints_the_token(tmp_path):
    config_path = write_project(tmp_path, MOODLE)
    path = secrets_mod.path_for(config_path)
    values, _ = secrets_mod.read(path)
    secrets_mod.write(path, {**values, secrets_mod.MOODLE_TOKEN_NAME: TOKEN})
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize("attendance,key,problem", [
    ({"room_pattern": "(?P<course>[a-z"}, "attendance.room_pattern", "is not a regular expression"),
    ({"room_pattern": "(?P<room>.*)"}, "attendance.room_pattern", "needs a named group course"),
    ({"room_courses": {"mat-1a": "MAT 1A"}}, "attendance.room_courses.mat-1a", "is not usable"),
    ({"moodle": {"url": "http://moodle.school.example"}}, "attendance.moodle.url", "is not the https address"),
    ({"moodle": {"url": "https://ws:pw@moodle.school.example"}}, "attendance.moodle.url", "is not the https"),
    ({"moodle": {"statuses": {"partial": "A"}}}, "attendance.moodle.url", "is empty but other"),
    ({"moodle": {"url": "https://m.example", "statuses": {"tardy": "L"}}}, "attendance.moodle.statuses.tardy",
     "is not an outcome"),
    ({"moodle": {"url": "https://m.example", "attendance": {"MAT-1A": "seven"}}},
     "attendance.moodle.attendance.MAT-1A", "is not an activity id"),
    ({"moodle": {"url": "https://m.example", "ca_file": "school-ca.pem"}}, "attendance.moodle.ca_file",
     "must be an absolute path"),
    ({"moodle": {"url": "https://m.example", "token": "x"}}, "attendance.moodle.token",
     "secrets belong in jitsictl.secrets.yaml"),
])
def test_bad_attendance_settings_name_their_key(attendance, key, problem):
    with pytest.raises(config_mod.ConfigError) as refused:
        config_mod.from_dict({"domain": "meet.example.org", "attendance": attendance})
    assert refused.value.key == key and problem in str(refused.value)


def test_the_settings_survive_writing_and_reading_jitsictl_yaml():
    config = config_mod.from_dict(MOODLE)
    import yaml

    assert config_mod.from_dict(yaml.safe_load(config_mod.to_yaml(config))) == config
