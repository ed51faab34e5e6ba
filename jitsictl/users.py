"""`jitsictl users`: the accounts of a stack with `auth.type: internal` (teachers, who open rooms
and moderate them; with `auth.guests` their students join without one).

The verbs (`add`, `list_users`, `remove`, `passwd`) work on either XMPP server:

- Prosody: `prosodyctl` inside the running prosody container (`docker compose exec -T`), with
  the configuration docker-jitsi-meet's image writes to /run/prosody/config/prosody.cfg.lua.
  Accounts live on the main domain (`meet.jitsi`), the VirtualHost whose users may open rooms.
  `adduser`/`passwd` read the password twice from stdin (Prosody 0.12 and 13 alike), so it is
  never a command-line argument, neither of jitsictl nor of anything it runs.
- Openfire: its REST API (jitsictl.openfire.client), at the container's address.

The accounts jitsictl itself manages (Openfire's focus, jvb and admin) are neither listed nor
touched here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from .compose import ComposeError, ComposeProject
from .openfire.reconcile import ADMIN_USER, FOCUS_USER, JVB_USER

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD_LENGTH = 8
# docker-jitsi-meet's prosody image writes its configuration here at start
# (prosody/rootfs/etc/s6-overlay/scripts/config).
PROSODY_CONFIG = "/run/prosody/config/prosody.cfg.lua"
# Openfire accounts jitsictl configures itself: not a class's.
MANAGED = frozenset({FOCUS_USER, JVB_USER, ADMIN_USER})


class UsersError(Exception):
    """An account operation that cannot be done; `hint` says what to do instead."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


class Accounts(Protocol):
    domain: str

    def create(self, username: str, password: str) -> None: ...
    def names(self) -> list[str]: ...
    def delete(self, username: str) -> None: ...
    def set_password(self, username: str, password: str) -> None: ...


@dataclass
class ProsodyAccounts:
    """Accounts of the prosody service of a compose project, through prosodyctl."""

    project: ComposeProject
    domain: str = "meet.jitsi"

    def _prosodyctl(self, *args: str, stdin: str | None = None) -> str:
        try:
            return self.project.run("exec", "-T", "prosody", "prosodyctl", "--config",
                                    PROSODY_CONFIG, *args, input=stdin, timeout=60)
        except ComposeError as exc:
            if exc.returncode is None:
                raise  # Compose could not even run it (no project, no engine): its own error
            raise _prosody_failure(exc) from None

    @staticmethod
    def _twice(password: str) -> str:
        return f"{password}\n{password}\n"

    def create(self, username: str, password: str) -> None:
        self._prosodyctl("adduser", f"{username}@{self.domain}", stdin=self._twice(password))

    def names(self) -> list[str]:
        output = self._prosodyctl("shell", "user", "list", self.domain)
        suffix = "@" + self.domain
        return sorted(line.strip()[: -len(suffix)] for line in output.splitlines()
                      if line.strip().endswith(suffix) and " " not in line.strip())

    def delete(self, username: str) -> None:
        self._prosodyctl("deluser", f"{username}@{self.domain}")

    def set_password(self, username: str, password: str) -> None:
        self._prosodyctl("passwd", f"{username}@{self.domain}", stdin=self._twice(password))


def _prosody_failure(exc: ComposeError) -> UsersError:
    said = exc.stderr_tail or exc.message
    text = said.lower()
    if "user exists" in text or "already exists" in text:
        return UsersError("that account exists already",
                          "change its password with `jitsictl users passwd NAME`")
    if "no such user" in text or "does not exist" in text:
        return UsersError("no such account", "see `jitsictl users list`")
    if "not running" in text or "no container found" in text or "unable to connect" in text:
        return UsersError("the prosody service is not running",
                          "start the stack with `jitsictl up`, then try again")
    return UsersError(f"prosodyctl failed in the prosody container: {said}",
                      exc.hint or "see `jitsictl logs prosody`")


@dataclass
class OpenfireAccounts:
    """Accounts of an Openfire, through its REST API."""

    client: object  # jitsictl.openfire.client.RestApiClient
    domain: str = "meet.jitsi"

    def create(self, username: str, password: str) -> None:
        from .openfire.client import OpenfireError

        try:
            self.client.create_user(username, password)
        except OpenfireError as exc:
            if exc.status == 409:
                raise UsersError("that account exists already",
                                 "change its password with `jitsictl users passwd NAME`") from None
            raise

    def names(self) -> list[str]:
        return sorted(user["username"] for user in self.client.list_users()
                      if user.get("username") and user["username"] not in MANAGED)

    def delete(self, username: str) -> None:
        self._existing(username)
        self.client.delete_user(username)

    def set_password(self, username: str, password: str) -> None:
        from .openfire.client import user_properties

        user = self._existing(username)
        # The REST API replaces the user's properties with those sent: send them back.
        self.client.update_user(username, password=password, name=user.get("name"),
                                email=user.get("email"), properties=user_properties(user))

    def _existing(self, username: str) -> dict:
        user = self.client.get_user(username)
        if user is None:
            raise UsersError("no such account", "see `jitsictl users list`")
        return user


# -- the verbs ----------------------------------------------------------------------------------

def check_username(username: str) -> str:
    """The account name as the XMPP server stores it (lower case), or UsersError."""
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise UsersError(f"{username!r} is not a usable account name",
                         "use up to 64 lower-case letters, digits, '.', '_' or '-', starting with "
                         "a letter or digit, e.g. m.curie")
    if name in MANAGED:
        raise UsersError(f"{name!r} is an account jitsictl manages for the stack itself",
                         "choose another name")
    return name


def check_password(password: str) -> str:
    if "\n" in password or "\r" in password:
        raise UsersError("the password holds a line break", "give it on one line")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsersError(f"the password is shorter than {MIN_PASSWORD_LENGTH} characters",
                         "choose a longer one")
    return password


def add(accounts: Accounts, username: str, password: str) -> str:
    """Create an account; returns its JID."""
    name = check_username(username)
    accounts.create(name, check_password(password))
    return f"{name}@{accounts.domain}"


def list_users(accounts: Accounts) -> list[str]:
    """The JIDs of the accounts, sorted."""
    return [f"{name}@{accounts.domain}" for name in accounts.names()]


def remove(accounts: Accounts, username: str) -> str:
    name = check_username(username)
    accounts.delete(name)
    return f"{name}@{accounts.domain}"


def passwd(accounts: Accounts, username: str, password: str) -> str:
    name = check_username(username)
    accounts.set_password(name, check_password(password))
    return f"{name}@{accounts.domain}"


def for_stack(config, secret_values: dict[str, str], project: ComposeProject,
              openfire_url: str | None = None) -> Accounts:
    """The accounts of the stack `config` describes, rendered in `project`."""
    from .render import OPENFIRE_DOMAINS, PROSODY_DOMAINS

    if config.xmpp == "prosody":
        return ProsodyAccounts(project, PROSODY_DOMAINS["domain"])
    from .openfire.configure import make_client
    from .stack import openfire_url as find_openfire

    secret = secret_values.get("OPENFIRE_RESTAPI_SECRET")
    if not secret:
        raise UsersError("OPENFIRE_RESTAPI_SECRET is missing from the secrets file",
                         "run `jitsictl render` (it generates missing secrets)")
    return OpenfireAccounts(make_client(openfire_url or find_openfire(project), secret),
                            OPENFIRE_DOMAINS["domain"])
