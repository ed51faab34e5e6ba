"""`jitsictl smoke`: synthetic participants go through a running stack, then attendance is checked.

What a run does, as Jitsi's web client would:

1. Each participant gets a token (auth `jwt`: minted with the stack's own secret, `jitsictl.token`,
   with a user id, e-mail and every allow-listed claim set to a recognisable value; auth `none`:
   no token, anonymous login) and opens the XMPP WebSocket of the web container,
   `/xmpp-websocket?room=R&token=JWT`.
2. It sends the conference request to focus (`focus.<domain>`), joins the MUC room
   `R@muc.<domain>` with a display name (`<nick>`), and stays `hold` seconds; halfway, the first
   participant renames itself (a presence with a new `<nick>`).
3. They leave one after another and close their connections; Prosody then destroys the room.
4. The receiver's read API (`GET /v1/meetings`, `GET /v1/meetings/<id>/attendance`, HTTP Basic
   `admin:<ATTENDANCE_ADMIN_PASSWORD>`) is polled until the meeting of that room, started during
   this run, shows every participant and has ended, or `timeout` passes.
5. What the receiver reports is compared with what was done: the same participants and no
   others, ids, e-mails and claims from the tokens, every display name used (the renamed one
   too), and the present time within max(2 s, 20 %) of the time each participant spent in the
   room as measured here.

Any difference is listed as one line per problem; the CLI exits 1 then. The default targets are
the rendered stack on this host: `ws://127.0.0.1:<ports.http>/xmpp-websocket` (the web
container's HTTP port; `wss://<domain>:<ports.https>` with Let's Encrypt) and the receiver on
`http://127.0.0.1:<ports.attendance>`; `--url` and `--attendance-url` point elsewhere.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets as _random
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional
from urllib.parse import quote, urlencode

DURATION_TOLERANCE_SECONDS = 2.0
DURATION_TOLERANCE_RATIO = 0.2

Mint = Callable[..., str]


class SmokeError(Exception):
    """The smoke run could not be carried out (connection, login, join); `hint` says what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass
class SmokePlan:
    websocket_url: str  # ws(s)://host:port/xmpp-websocket, without query
    attendance_url: str  # http(s)://host:port of the receiver
    admin_password: str
    room: str
    xmpp_domain: str = "meet.jitsi"
    muc_domain: str = "muc.meet.jitsi"
    participants: int = 3
    hold: float = 4.0
    timeout: float = 30.0
    claims: dict[str, str] = field(default_factory=dict)  # set in every token, expected back
    mint: Optional[Mint] = field(default=None, repr=False)  # None: anonymous, no token

    @property
    def room_jid(self) -> str:
        return f"{self.room}@{self.muc_domain}"


@dataclass
class Participant:
    name: str
    user_id: Optional[str] = None
    email: Optional[str] = None
    renamed_to: Optional[str] = None
    occupant: Optional[str] = None
    joined_at: Optional[str] = None  # RFC 3339 UTC
    left_at: Optional[str] = None
    seconds: float = 0.0  # time in the room, measured by this client

    @property
    def names(self) -> list[str]:
        return [self.name] + ([self.renamed_to] if self.renamed_to else [])


@dataclass
class SmokeResult:
    room: str
    meeting: Optional[str]
    participants: list[Participant]
    problems: list[str]
    attendance: Optional[dict] = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "room": self.room, "meeting": self.meeting,
                "participants": [asdict(p) for p in self.participants],
                "problems": self.problems, "attendance": self.attendance}


def new_room_name() -> str:
    return f"jitsictl-smoke-{_random.token_hex(4)}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(text: Optional[str]) -> Optional[dt.datetime]:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def cast(plan: SmokePlan) -> list[Participant]:
    """Who takes part: names, ids and e-mails unique to this run (so reruns never collide)."""
    run = _random.token_hex(3)
    people = []
    for index in range(1, plan.participants + 1):
        person = Participant(name=f"Smoke Tester {index}")
        if plan.mint is not None:
            person.user_id = f"jitsictl-smoke-{run}-{index}"
            person.email = f"smoke-{run}-{index}@example.invalid"
        people.append(person)
    people[0].renamed_to = f"{people[0].name} (renamed)"
    return people


# -- driving the clients ------------------------------------------------------------------------

def _url_for(plan: SmokePlan, person: Participant) -> str:
    query = {"room": plan.room}
    if plan.mint is not None:
        query["token"] = plan.mint(room=plan.room, name=person.name, email=person.email,
                                   user_id=person.user_id, claims=dict(plan.claims))
    return f"{plan.websocket_url}?{urlencode(query, quote_via=quote)}"


async def _drive(plan: SmokePlan, people: list[Participant]) -> None:
    from .xmpp import WebSocketXmppClient, XmppError

    clients: list[WebSocketXmppClient] = []
    started: dict[int, float] = {}

    async def enter(index: int, person: Participant) -> None:
        client = WebSocketXmppClient(_url_for(plan, person), plan.xmpp_domain, timeout=10.0)
        clients.append(client)
        await client.connect()
        await client.conference_request(plan.room_jid)
        person.occupant = await client.join(plan.room_jid, nick=person.name)
        started[index] = time.monotonic()
        person.joined_at = _iso(_now())

    try:
        try:
            # One after another, like people arriving: the first one creates the room.
            for index, person in enumerate(people):
                await enter(index, person)
            await asyncio.sleep(plan.hold / 2)
            renamer = people[0]
            await clients[0].send_presence(plan.room_jid, renamer.renamed_to)
            await asyncio.sleep(plan.hold / 2)
            for index, (client, person) in enumerate(zip(clients, people, strict=True)):
                await client.leave(plan.room_jid)
                person.seconds = round(time.monotonic() - started[index], 3)
                person.left_at = _iso(_now())
                await client.close()
                await asyncio.sleep(0.2)
        except XmppError as exc:
            raise SmokeError(f"synthetic participant failed: {exc}",
                             "check `jitsictl status`, the --url, and that auth.type is jwt or "
                             "none (smoke cannot log in with internal accounts)") from None
    finally:
        for client in clients:
            if client.connected:
                await client.drop()


# -- reading the receiver -----------------------------------------------------------------------

def _get(plan: SmokePlan, path: str) -> dict:
    import requests

    from .render import ATTENDANCE_ADMIN_USER

    url = plan.attendance_url.rstrip("/") + path
    try:
        response = requests.get(url, auth=(ATTENDANCE_ADMIN_USER, plan.admin_password), timeout=10)
    except requests.RequestException as exc:
        raise SmokeError(f"cannot reach the attendance receiver at {plan.attendance_url}: "
                         f"{type(exc).__name__}",
                         "check `jitsictl status` (service logger) or pass --attendance-url") \
            from None
    if response.status_code == 401:
        raise SmokeError(f"the attendance receiver at {plan.attendance_url} refused the admin "
                         "password", "smoke reads ATTENDANCE_ADMIN_PASSWORD from "
                         "jitsictl.secrets.yaml: re-render and restart the logger if it changed")
    if response.status_code != 200:
        raise SmokeError(f"GET {url} answered HTTP {response.status_code}",
                         "see `jitsictl logs logger`")
    try:
        return response.json()
    except ValueError:
        raise SmokeError(f"GET {url} did not answer JSON",
                         "is --attendance-url the attendance receiver (service logger)?") from None


def websocket_url(url: str) -> str:
    """The XMPP WebSocket URL for what a person may type: the site's http(s) URL works too."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url.split("?", 1)[0])
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path not in ("", "/") else "/xmpp-websocket"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def _meeting_of_run(plan: SmokePlan, since: dt.datetime) -> Optional[dict]:
    meetings = _get(plan, "/v1/meetings?" + urlencode({"room": plan.room})).get("meetings", [])
    ours = [m for m in meetings if m.get("room") == plan.room
            and (_parse(m.get("started_at")) or since) >= since - dt.timedelta(seconds=5)]
    return max(ours, key=lambda m: m.get("started_at") or "") if ours else None


def fetch_attendance(plan: SmokePlan, since: dt.datetime, expected: int) -> tuple[Optional[str],
                                                                                 Optional[dict]]:
    """Polls until the run's meeting has ended with `expected` participants, or the timeout;
    returns (meeting id, its attendance) as last seen (None when no meeting appeared)."""
    deadline = time.monotonic() + plan.timeout
    meeting_id, attendance = None, None
    while True:
        summary = _meeting_of_run(plan, since)
        if summary is not None:
            meeting_id = summary["id"]
            attendance = _get(plan, f"/v1/meetings/{quote(meeting_id, safe='')}/attendance")
            if attendance.get("ended_at") and len(attendance.get("participants", [])) >= expected:
                return meeting_id, attendance
        if time.monotonic() > deadline:
            return meeting_id, attendance
        time.sleep(0.5)


# -- comparing ----------------------------------------------------------------------------------

def _label(person: Participant) -> str:
    return f"{person.name!r}" + (f" ({person.user_id})" if person.user_id else "")


def _match(person: Participant, reported: list[dict]) -> Optional[dict]:
    for entry in reported:
        if person.user_id and entry.get("user_id") == person.user_id:
            return entry
        if not person.user_id and set(person.names) & set(entry.get("names") or [entry.get("name")]):
            return entry
    return None


def compare(plan: SmokePlan, people: list[Participant], attendance: Optional[dict]) -> list[str]:
    """Differences between what was done and what the receiver reports, one line each."""
    if attendance is None:
        return [f"no meeting of room {plan.room!r} appeared in the receiver within "
                f"{plan.timeout:.0f} s; expected participants: "
                + ", ".join(_label(p) for p in people)
                + " (are the XMPP server's events reaching the receiver? see `jitsictl logs "
                  "prosody logger`)"]
    problems = []
    if not attendance.get("ended_at"):
        problems.append("the meeting has not ended although every participant left "
                        "(no room.destroyed event received)")
    reported = list(attendance.get("participants") or [])
    for person in people:
        entry = _match(person, reported)
        if entry is None:
            problems.append(f"- {_label(person)}: missing from the receiver's attendance")
            continue
        reported.remove(entry)
        problems += _compare_one(plan, person, entry)
    for entry in reported:
        problems.append(f"+ unexpected participant {entry.get('name')!r} "
                        f"(user_id {entry.get('user_id')}, names {entry.get('names')})")
    return problems


def _compare_one(plan: SmokePlan, person: Participant, entry: dict) -> list[str]:
    who = _label(person)
    problems = []
    names = entry.get("names") or []
    for name in person.names:
        if name not in names:
            problems.append(f"~ {who}: display name {name!r} missing (receiver has {names})")
    if plan.mint is not None:
        for key, want in (("email", person.email), ("user_id", person.user_id)):
            if entry.get(key) != want:
                problems.append(f"~ {who}: {key} is {entry.get(key)!r}, expected {want!r}")
        claims = entry.get("claims") or {}
        for claim, value in plan.claims.items():
            if claims.get(claim) != value:
                problems.append(f"~ {who}: claim {claim} is {claims.get(claim)!r}, expected "
                                f"{value!r}")
    present = float(entry.get("present_seconds") or 0)
    tolerance = max(DURATION_TOLERANCE_SECONDS, DURATION_TOLERANCE_RATIO * person.seconds)
    if abs(present - person.seconds) > tolerance:
        problems.append(f"~ {who}: present {present:g} s, but was in the room {person.seconds:g} s "
                        f"(tolerance {tolerance:g} s)")
    return problems


# -- the run ------------------------------------------------------------------------------------

def run(plan: SmokePlan) -> SmokeResult:
    """Drives the participants, then checks the receiver; raises SmokeError if it cannot run."""
    if plan.participants < 1:
        raise SmokeError("--participants must be at least 1", "e.g. --participants 3")
    # Fail before anyone joins when the receiver cannot be read at all.
    _get(plan, "/v1/meetings?" + urlencode({"room": plan.room}))
    since = _now()
    people = cast(plan)
    asyncio.run(_drive(plan, people))
    meeting_id, attendance = fetch_attendance(plan, since, len(people))
    return SmokeResult(room=plan.room, meeting=meeting_id, participants=people,
                       problems=compare(plan, people, attendance), attendance=attendance)


def _minter(config, secret_values: dict[str, str]) -> Mint:
    """Tokens signed with the stack's own JWT secret (jitsictl.token), valid for ten minutes."""
    from . import token

    def mint(**kwargs) -> str:
        return token.mint(config, secret_values, ttl=600, **kwargs)

    return mint


def plan_for(config, secret_values: dict[str, str], *, participants: int, room: Optional[str],
             url: Optional[str], attendance_url: Optional[str], hold: float,
             timeout: float) -> SmokePlan:
    """A plan against the stack `config` describes (its secrets mint the tokens)."""
    from .render import OPENFIRE_DOMAINS, PROSODY_DOMAINS

    if config.auth.type == "internal":
        raise SmokeError("smoke cannot log in to a stack with auth.type internal",
                         "run it against a stack with auth.type jwt (tokens) or none")
    domains = OPENFIRE_DOMAINS if config.xmpp == "openfire" else PROSODY_DOMAINS
    if url is None:
        url = (f"wss://{config.letsencrypt_domain}:{config.ports.https}/xmpp-websocket"
               if config.letsencrypt.enabled else
               f"ws://127.0.0.1:{config.ports.http}/xmpp-websocket")
    mint = _minter(config, secret_values) if config.auth.type == "jwt" else None
    room = (room or new_room_name()).lower()
    if not re.match(r"^[a-z0-9][a-z0-9._-]{0,63}$", room):
        raise SmokeError(f"--room {room!r} is not a room name Jitsi accepts",
                         "use letters, digits, '.', '_' or '-', e.g. --room maths-3b")
    password = secret_values.get("ATTENDANCE_ADMIN_PASSWORD")
    if not password:
        raise SmokeError("ATTENDANCE_ADMIN_PASSWORD is missing from the secrets file",
                         "run `jitsictl render` (it generates missing secrets)")
    return SmokePlan(
        websocket_url=websocket_url(url),
        attendance_url=attendance_url or f"http://127.0.0.1:{config.ports.attendance}",
        admin_password=password, room=room,
        xmpp_domain=domains["domain"], muc_domain=domains["muc"], participants=participants,
        hold=hold, timeout=timeout,
        claims={claim: f"smoke-{claim}" for claim in config.attendance.claims}
        if mint is not None else {},
        mint=mint)
