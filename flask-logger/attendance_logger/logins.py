"""Logins: dashboard sessions kept in the database, and the throttle on wrong passwords.

A session is a random 256-bit token in the browser's cookie; the database keeps only its SHA-256,
so neither a copy of the database nor any other secret of the deployment lets anyone make one.
Ending a session deletes its row: a copied cookie is then worth nothing. Sessions last at most
12 hours and end after 2 idle hours (ATTENDANCE_SESSION_HOURS, ATTENDANCE_SESSION_IDLE_MINUTES).

Failed logins are counted in the database, so every gunicorn worker sees the same counts: at most
5 in 15 minutes per account (whoever tries), 20 per client address (whichever accounts it tries).
"""
from __future__ import annotations

import dataclasses
import hashlib
import secrets

from sqlalchemy import delete, insert, select, update

from .tables import login_failures, sessions

# A session's last use is written at most this often: reading a page must not mean a write.
SEEN_RESOLUTION_MS = 60_000


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, storage, *, lifetime_seconds: float, idle_seconds: float):
        self.storage = storage
        self.lifetime_ms = int(lifetime_seconds * 1000)
        self.idle_ms = int(idle_seconds * 1000)

    def start(self, account: str, now_ms: int) -> str:
        """A new session of `account`; returns the token for its cookie."""
        token = secrets.token_urlsafe(32)
        with self.storage.write() as conn:
            conn.execute(insert(sessions).values(token_hash=_hash(token), account=account,
                                                 created_ms=now_ms, seen_ms=now_ms))
            # Expired sessions of anyone go at each login: the table stays the size of who is in.
            conn.execute(delete(sessions).where((sessions.c.created_ms <= now_ms - self.lifetime_ms)
                                                | (sessions.c.seen_ms <= now_ms - self.idle_ms)))
        return token

    def account_of(self, token: str | None, now_ms: int) -> str | None:
        """The account whose live session `token` is, else None. Counts as a use of the session."""
        if not token or len(token) > 128:
            return None
        key = _hash(token)
        with self.storage.read() as conn:
            row = conn.execute(select(sessions.c.account, sessions.c.created_ms, sessions.c.seen_ms)
                               .where(sessions.c.token_hash == key)).first()
        if row is None or now_ms >= row.created_ms + self.lifetime_ms or now_ms >= row.seen_ms + self.idle_ms:
            return None
        if now_ms - row.seen_ms >= SEEN_RESOLUTION_MS:
            with self.storage.write() as conn:
                conn.execute(update(sessions).where(sessions.c.token_hash == key).values(seen_ms=now_ms))
        return row.account

    def end(self, token: str | None) -> None:
        if token:
            with self.storage.write() as conn:
                conn.execute(delete(sessions).where(sessions.c.token_hash == _hash(token)))


@dataclasses.dataclass(frozen=True)
class Limit:
    failures: int
    window_ms: int


class LoginThrottle:
    ACCOUNT = Limit(failures=5, window_ms=15 * 60_000)
    CLIENT = Limit(failures=20, window_ms=15 * 60_000)

    def __init__(self, storage):
        self.storage = storage

    @staticmethod
    def _keys(account: str, client: str) -> dict[str, Limit]:
        # Bounded like the column: a name of any length is still counted (the first 300 characters).
        return {f"account:{account[:300]}": LoginThrottle.ACCOUNT, f"client:{client[:300]}": LoginThrottle.CLIENT}

    def wait_seconds(self, account: str, client: str, now_ms: int) -> int:
        """0 when this account may be tried from this client now, else how many seconds until it may."""
        wait_ms = 0
        with self.storage.read() as conn:
            for key, limit in self._keys(account, client).items():
                recent = (select(login_failures.c.time_ms)
                          .where(login_failures.c.key == key, login_failures.c.time_ms > now_ms - limit.window_ms)
                          .order_by(login_failures.c.time_ms.desc()).limit(limit.failures))
                times = conn.execute(recent).scalars().all()
                if len(times) >= limit.failures:  # free again when the oldest of them leaves the window
                    wait_ms = max(wait_ms, times[-1] + limit.window_ms - now_ms)
        return -(-wait_ms // 1000)

    def failed(self, account: str, client: str, now_ms: int) -> None:
        with self.storage.write() as conn:
            conn.execute(insert(login_failures), [{"key": key, "time_ms": now_ms} for key in self._keys(account, client)])
            longest = max(self.ACCOUNT.window_ms, self.CLIENT.window_ms)
            conn.execute(delete(login_failures).where(login_failures.c.time_ms <= now_ms - longest))

    def succeeded(self, account: str) -> None:
        """A right password clears the account's count (not the address's: one known password
        must not buy an address more guesses at other accounts)."""
        key = next(iter(self._keys(account, "")))
        with self.storage.write() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.key == key))
