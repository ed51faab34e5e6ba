"""Test STAND-IN for `prosodyctl` in docker-jitsi-meet's prosody image (Prosody 13), installed in
the prosody stand-in only, for the account commands `jitsictl users` runs through
`docker compose exec`. Not Prosody: it keeps accounts in files under the data volume.

The contract it reproduces (Prosody 13.0 `prosodyctl` and `util/prosodyctl/shell.lua`,
`util/human/io.lua`; docker-jitsi-meet `prosody/rootfs/etc/s6-overlay/scripts/config` and
`register-setup`), inconvenient parts included:

- the configuration is /run/prosody/config/prosody.cfg.lua, written by the container's start
  script: without `--config` naming an existing file it fails;
- `adduser JID`, `passwd JID`, `deluser JID` and `shell user list HOST` talk to the running
  server through its admin socket (data_path/prosody.sock): with the server down they fail;
- the password is never an argument: `adduser`/`passwd` read it twice from stdin ("Enter new
  password: ", "Retype new password: "); no line cancels, two different lines ask "try again?";
- JIDs are case-folded; a host that is not a VirtualHost of the config is refused; creating an
  existing user or deleting an unknown one fails with exit code 1.
"""
import hashlib
import json
import os
import socket
import sys
from urllib.parse import unquote

DATA = "/var/lib/prosody/data"
SOCKET = os.path.join(DATA, "prosody.sock")
HOSTS = ("meet.jitsi", "auth.meet.jitsi", "guest.meet.jitsi")


def fail(message):
    print(message)
    sys.exit(1)


def encode(text):
    # Prosody's util.datamanager escapes every non-alphanumeric byte of a store path as %xx.
    return "".join(c if c.isalnum() else "".join(f"%{b:02x}" for b in c.encode()) for c in text)


def connect():
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(SOCKET)
        except OSError:
            fail("** Unable to connect to server - is it running? Is mod_admin_shell enabled?")


def split(jid):
    user, _, host = jid.lower().partition("@")
    if not user or not host:
        fail(f"Invalid JID: {jid}")
    if host not in HOSTS:
        fail(f"! No such host: {host}")
    return user, host


def account_file(user, host):
    return os.path.join(DATA, encode(host), "accounts", encode(user) + ".dat")


def read_password():
    while True:
        sys.stdout.write("Enter new password: ")
        first = sys.stdin.readline()
        if not first:
            fail("\nNo password - cancelled")
        sys.stdout.write("\nRetype new password: ")
        second = sys.stdin.readline()
        if first.rstrip("\n") == second.rstrip("\n"):
            print()
            return first.rstrip("\n")
        sys.stdout.write("\nPasswords did not match, try again? [Y/n] ")
        if sys.stdin.readline().strip().lower() not in ("", "y"):
            fail("")


def store(path, password):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    salt = os.urandom(16).hex()
    digest = hashlib.sha256((salt + password).encode()).hexdigest()
    with open(path, "w") as handle:
        json.dump({"salt": salt, "hash": digest}, handle)


def main(argv):
    if len(argv) < 2 or argv[0] != "--config":
        fail("prosodyctl stand-in: jitsictl must name the configuration with --config")
    if not os.path.isfile(argv[1]):
        fail(f"Error: Prosody was unable to find the configuration file.\n"
             f"We looked for: {argv[1]}")
    command = argv[2:]
    if len(command) == 2 and command[0] in ("adduser", "passwd", "deluser"):
        connect()
        user, host = split(command[1])
        path = account_file(user, host)
        exists = os.path.exists(path)
        if command[0] == "adduser":
            if exists:
                fail("! User exists")
            store(path, read_password())
            print(f"OK: Created {user}@{host} with role 'prosody:member'")
        elif command[0] == "passwd":
            if not exists:
                fail("! No such user")
            store(path, read_password())
            print("OK: User password changed")
        else:
            if not exists:
                fail("! No such user")
            os.remove(path)
            print("OK: User deleted")
        return 0
    if command[:3] == ["shell", "user", "list"] and len(command) == 4:
        connect()
        host = command[3].lower()
        if host not in HOSTS:
            fail("! No such host")
        folder = os.path.join(DATA, encode(host), "accounts")
        users = sorted(unquote(name[:-4]) for name in (os.listdir(folder) if os.path.isdir(folder) else [])
                       if name.endswith(".dat"))
        for user in users:
            print(f"{user}@{host}")
        print(f"OK: Showing all {len(users)} users")
        return 0
    fail(f"prosodyctl stand-in: unsupported command {' '.join(command)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
