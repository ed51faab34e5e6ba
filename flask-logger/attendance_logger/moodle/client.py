"""A client for the Moodle web-service calls the attendance sync makes, over Moodle's REST protocol.

The protocol (docs/moodle-facts.md, section 5): a form-encoded POST to
/webservice/rest/server.php with `wstoken`, `wsfunction` and `moodlewsrestformat=json`; nested
parameters in PHP's bracket syntax (`options[0][name]`). Moodle reports failures with HTTP 200 and
a JSON envelope {"exception", "errorcode", "message"[, "debuginfo"]}; this client turns them into
MoodleError with a hint that says what to change in Moodle or in our configuration.

The token travels only in the POST body: never in a URL, a log line or an exception's text.
Transport failures and HTTP 5xx are retried with exponential backoff and jitter, but a write that
may already have reached Moodle (a lost answer to mod_attendance_add_session) is never sent twice:
the caller looks again before writing again.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import random
import time
import urllib.parse
from typing import Any, Callable, Mapping

import requests
from urllib3.exceptions import NewConnectionError

from .. import __version__
from .model import (Activity, AttendanceSession, Course, EnrolledUser, SiteInfo, Status, from_unix,
                    to_unix)

log = logging.getLogger("attendance_logger.moodle")

REST_PATH = "/webservice/rest/server.php"

# The functions the sync calls; the token's external service must contain all of them.
SYNC_FUNCTIONS = (
    "core_webservice_get_site_info",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "core_enrol_get_enrolled_users",
    "mod_attendance_get_sessions",
    "mod_attendance_add_session",
    "mod_attendance_update_user_status",
)

# Capabilities each function checks (docs/moodle-facts.md, sections 3 and 4); the first is the one
# whose absence makes the call fail, the others make Moodle withhold data.
CAPABILITIES = {
    "core_course_get_courses_by_field": ("moodle/course:view",),
    "core_course_get_contents": ("moodle/course:view",),
    "core_enrol_get_enrolled_users": ("moodle/course:viewparticipants", "moodle/user:viewdetails",
                                      "moodle/course:useremail", "moodle/site:accessallgroups",
                                      "moodle/user:viewalldetails"),
    "mod_attendance_get_sessions": ("mod/attendance:takeattendances",),
    "mod_attendance_get_session": ("mod/attendance:takeattendances",),
    "mod_attendance_add_session": ("mod/attendance:manageattendances", "moodle/site:accessallgroups"),
    "mod_attendance_update_user_status": ("mod/attendance:takeattendances", "mod/attendance:view"),
}


class MoodleError(Exception):
    """Moodle refused a call, or could not be asked. `errorcode` is Moodle's (or one of ours for
    transport problems: "unreachable", "http", "notjson", "tls", "redirect"); `hint` says what to
    do about it."""

    def __init__(self, function: str, errorcode: str, message: str, hint: str = "", *,
                 debuginfo: str | None = None, exception: str | None = None):
        self.function = function
        self.errorcode = errorcode
        self.message = message
        self.hint = hint
        self.debuginfo = debuginfo
        self.exception = exception
        text = f"Moodle {function}: {message} [{errorcode}]"
        if debuginfo:
            text += f" ({debuginfo})"
        if hint:
            text += f". {hint[0].upper()}{hint[1:]}"
        super().__init__(text)


class MoodleUnavailable(MoodleError):
    """Moodle could not be reached or failed on its side (network, timeout, HTTP 5xx) even after
    retries; trying again later may work."""


def encode_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """`params` as Moodle's REST server reads them: PHP form syntax for nesting
    (`sessions[0][sessdate]`), booleans as 1/0. PHP cannot receive an empty array or a null: an
    empty list sends nothing (the parameter's default applies) and None is refused."""
    pairs: list[tuple[str, str]] = []

    def add(name: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                add(f"{name}[{key}]", item)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                add(f"{name}[{index}]", item)
        elif isinstance(value, bool):
            pairs.append((name, "1" if value else "0"))
        elif isinstance(value, (int, float, str)):
            pairs.append((name, str(value)))
        elif value is None:
            raise ValueError(f"{name} is None; Moodle's REST protocol has no null: leave the parameter out")
        else:
            raise TypeError(f"{name}: cannot send a {type(value).__name__} to Moodle")

    for key, value in params.items():
        add(key, value)
    return pairs


def _endpoint(url: str) -> str:
    """The REST endpoint for a Moodle site address, refusing addresses that would expose the token."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the Moodle URL must be the site's address only (no ?parameters, #fragment or "
                         "user:password@); the token belongs in the secrets file")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"the Moodle URL must start with https://, not {url!r}")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError("the Moodle URL uses http://, which would send the web-service token in clear text; "
                         "use https://")
    path = parts.path.rstrip("/")
    if path.endswith(REST_PATH):
        path = path[: -len(REST_PATH)]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path + REST_PATH, "", ""))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request certainly never reached the server (so even a write may be repeated)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class MoodleClient:
    """Typed calls to one Moodle site with one web-service token.

    `ca_file` names a PEM bundle to verify the site's certificate against instead of the system's
    (a school's own CA); verification is never turned off. `timeout` is (connect, read) seconds.
    `attempts` counts tries of a failing call; waits grow from `backoff` seconds, doubling, capped
    at `max_backoff`, each scaled by a random factor in [0.5, 1) so that many receivers do not
    retry in step. `token_source` tells error hints where the token is configured.
    """

    def __init__(self, url: str, token: str, *, ca_file: str | None = None,
                 timeout: tuple[float, float] = (5.0, 30.0), attempts: int = 4, backoff: float = 0.5,
                 max_backoff: float = 10.0, token_source: str = "the secrets file",
                 session: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random):
        if not token or not token.strip():
            raise ValueError(f"the Moodle web-service token is empty; put it in {token_source}")
        self.endpoint = _endpoint(url)
        self._token = token.strip()
        self.verify: str | bool = ca_file or True
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.token_source = token_source
        self.session = session or requests.Session()
        self._sleep = sleep
        self._jitter = jitter

    def __repr__(self) -> str:
        return f"MoodleClient({self.endpoint!r})"

    # -- the protocol ---------------------------------------------------------------------------

    def call(self, function: str, params: Mapping[str, Any] | None = None, *, repeatable: bool = True) -> Any:
        """Call `function` with `params`; its decoded JSON result. `repeatable` is False for writes
        that must not happen twice: those are retried only when the request never left."""
        body = [("wstoken", self._token), ("wsfunction", function), ("moodlewsrestformat", "json"),
                *encode_params(params or {})]
        headers = {"Accept": "application/json", "User-Agent": f"attendance-logger/{__version__}"}
        for attempt in range(1, self.attempts + 1):
            failure = self._attempt(function, body, headers, repeatable)
            if not isinstance(failure, _Retry):
                return failure
            if attempt == self.attempts:
                raise MoodleUnavailable(function, "unreachable",
                                        f"no answer after {attempt} attempts: {failure.reason}",
                                        "check that Moodle is up and reachable from this host; the sync will try "
                                        "again later")
            wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * (0.5 + self._jitter() / 2)
            log.warning("Moodle %s failed (%s); attempt %d of %d in %.1f s", function, failure.reason,
                        attempt + 1, self.attempts, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")

    def _attempt(self, function: str, body, headers, repeatable: bool):
        try:
            response = self.session.post(self.endpoint, data=body, headers=headers, timeout=self.timeout,
                                         verify=self.verify, allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            raise MoodleError(function, "tls", f"the TLS connection to {self.endpoint} failed: {_reason(exc)}",
                              "if Moodle's certificate comes from the school's own CA, give that CA's PEM file "
                              "as the Moodle CA file; verification is never turned off") from None
        except requests.RequestException as exc:
            if repeatable or _never_sent(exc):
                return _Retry(_reason(exc))
            raise MoodleUnavailable(function, "unreachable", f"the answer was lost ({_reason(exc)}), so Moodle "
                                    "may or may not have done it", "the next sync looks before writing again") from None
        status = response.status_code
        if status >= 500:
            if repeatable:
                return _Retry(f"HTTP {status}")
            raise MoodleUnavailable(function, "http", f"HTTP {status}, so Moodle may or may not have done it",
                                    "the next sync looks before writing again")
        if status in (301, 302, 303, 307, 308):
            raise MoodleError(function, "redirect", f"Moodle redirects to {response.headers.get('Location')}",
                              "set the Moodle URL to the address it redirects to")
        if status == 403 and not response.content.strip():
            raise MoodleError(function, "http", "HTTP 403 with an empty answer: web services or the REST protocol "
                              "are disabled", "enable them in Site administration > Advanced features > Enable web "
                              "services and Site administration > Server > Web services > Manage protocols > REST")
        if status != 200:
            raise MoodleError(function, "http", f"HTTP {status} from {self.endpoint}",
                              "check the Moodle URL: it must be the site's address, e.g. https://moodle.school.example")
        try:
            data = json.loads(response.content)
        except ValueError:
            start = response.text[:60].strip().replace("\n", " ")
            raise MoodleError(function, "notjson", f"the answer is not JSON (it starts {start!r})",
                              "check the Moodle URL points at Moodle itself, not a login page or proxy") from None
        if isinstance(data, dict) and "exception" in data and "errorcode" in data:
            raise self._refusal(function, data)
        return data

    def _refusal(self, function: str, envelope: dict) -> MoodleError:
        errorcode = str(envelope.get("errorcode"))
        message = str(envelope.get("message", ""))
        debuginfo = envelope.get("debuginfo")
        needs = CAPABILITIES.get(function, ())
        hints = {
            "invalidtoken": f"Moodle does not know the web-service token: check the Moodle token in "
                            f"{self.token_source} (Site administration > Server > Web services > Manage tokens)",
            "accessexception": f"the token's service may not include {function}, or the token expired or is "
                               "IP-restricted, or the web-service user lacks webservice/rest:use: add the function "
                               "to the service (Site administration > Server > Web services > External services)",
            "invalidrecord": f"this Moodle has no function {function}: is mod_attendance installed and up to date?",
            "nopermissions": f"give the web-service user's role {needs[0]}" if needs else
                             "give the web-service user's role the capability named in the message",
            "requireloginerror": "the web-service user cannot enter this course: give its role "
                                 "moodle/course:view at site level, or enrol it",
            "errorcoursecontextnotvalid": "the web-service user cannot enter this course: give its role "
                                          "moodle/course:view at site level, or enrol it",
            "sitemaintenance": "Moodle is in maintenance mode; the sync will try again later",
            "wsaccessusersuspended": "the web-service user is suspended in Moodle",
            "wsaccessusernologin": "the web-service user's authentication is 'No login'; use 'Web services "
                                   "authentication' or manual accounts",
            "usernotconfirmed": "the web-service user is not confirmed in Moodle",
        }
        hint = hints.get(errorcode, "")
        if errorcode == "invalidparameter" and function.startswith("mod_attendance_get_session") and needs:
            hint = (f"mod_attendance also answers this when the web-service user lacks {needs[0]} "
                    "(or manageattendances/changeattendances) in the activity")
        elif errorcode == "invalidparameter" and function == "mod_attendance_update_user_status":
            hint = (f"mod_attendance also answers this when the web-service user lacks {needs[0]} in the activity "
                    "(it then takes the call for a student marking themself), or when the status is not in the "
                    "session's set")
        elif errorcode == "invalidparameter":
            hint = "Moodle refused a parameter; turn on debugging in Moodle to see which"
        kind = MoodleUnavailable if errorcode == "sitemaintenance" else MoodleError
        return kind(function, errorcode, message, hint, debuginfo=str(debuginfo) if debuginfo else None,
                    exception=str(envelope.get("exception")))

    # -- the calls the sync makes ---------------------------------------------------------------

    def site_info(self) -> SiteInfo:
        data = self.call("core_webservice_get_site_info")
        return SiteInfo(user_id=int(data["userid"]), username=data.get("username", ""),
                        fullname=data.get("fullname", ""), site_url=data.get("siteurl", ""),
                        release=data.get("release"),
                        functions=frozenset(f["name"] for f in data.get("functions", [])))

    def missing_functions(self, site: SiteInfo) -> list[str]:
        """The sync's functions that the token's service lacks."""
        return [name for name in SYNC_FUNCTIONS if name not in site.functions]

    def course_by_shortname(self, shortname: str) -> Course | None:
        """The course with this exact shortname, or None (Moodle answers no match with an empty list)."""
        data = self.call("core_course_get_courses_by_field", {"field": "shortname", "value": shortname})
        return next((_course(c) for c in data.get("courses", []) if c.get("shortname") == shortname), None)

    def course_by_id(self, course_id: int) -> Course | None:
        data = self.call("core_course_get_courses_by_field", {"field": "id", "value": str(course_id)})
        return next((_course(c) for c in data.get("courses", []) if int(c["id"]) == course_id), None)

    def courses(self) -> list[Course]:
        """Every course the web-service user can see (the function without a field lists them all)."""
        return [_course(c) for c in self.call("core_course_get_courses_by_field").get("courses", [])]

    def attendance_activities(self, course_id: int) -> list[Activity]:
        """The course's Attendance activities that the web-service user can see."""
        data = self.call("core_course_get_contents", {"courseid": course_id, "options": [
            {"name": "modname", "value": "attendance"}, {"name": "excludecontents", "value": True}]})
        return [Activity(cmid=int(m["id"]), instance=int(m["instance"]), name=m.get("name", ""),
                         visible=bool(m.get("visible", True)))
                for section in data for m in section.get("modules", []) if m.get("modname") == "attendance"]

    def enrolled_users(self, course_id: int) -> list[EnrolledUser]:
        data = self.call("core_enrol_get_enrolled_users", {"courseid": course_id, "options": [
            {"name": "userfields", "value": "username,email,roles"}]})
        return [EnrolledUser(id=int(u["id"]), fullname=u.get("fullname", ""), email=u.get("email") or None,
                             username=u.get("username") or None,
                             roles=tuple(r["shortname"] for r in u.get("roles", [])))
                for u in data]

    def attendance_sessions(self, attendance_id: int) -> list[AttendanceSession]:
        return [_session(s) for s in self.call("mod_attendance_get_sessions", {"attendanceid": attendance_id})]

    def add_attendance_session(self, attendance_id: int, start, duration_seconds: int, description: str, *,
                               group_id: int = 0) -> int:
        """A new session; its id. Never retried once it may have reached Moodle (see call)."""
        data = self.call("mod_attendance_add_session", {
            "attendanceid": attendance_id, "description": description, "sessiontime": to_unix(start),
            "duration": int(duration_seconds), "groupid": group_id, "addcalendarevent": False}, repeatable=False)
        return int(data["sessionid"])

    def update_user_status(self, session_id: int, student_id: int, taken_by_id: int, status_id: int,
                           statusset: int) -> None:
        """Record a student's status in a session; repeating it leaves the same record."""
        self.call("mod_attendance_update_user_status", {
            "sessionid": session_id, "studentid": student_id, "takenbyid": taken_by_id, "statusid": status_id,
            "statusset": statusset})


class _Retry:
    def __init__(self, reason: str):
        self.reason = reason


def _reason(exc: requests.RequestException) -> str:
    """A short cause for a transport failure: the innermost reason, without URLs or bodies."""
    inner = exc.args[0] if exc.args else exc
    inner = getattr(inner, "reason", inner)
    return type(inner).__name__ if isinstance(inner, Exception) and not str(inner) else str(inner).split(": ")[-1][:200]


def _course(data: Mapping[str, Any]) -> Course:
    return Course(id=int(data["id"]), shortname=data["shortname"], fullname=data.get("fullname", ""))


def _session(data: Mapping[str, Any]) -> AttendanceSession:
    return AttendanceSession(
        id=int(data["id"]), attendance_id=int(data["attendanceid"]), group_id=int(data.get("groupid") or 0),
        start=from_unix(data["sessdate"]), duration_seconds=int(data.get("duration") or 0),
        statusset=int(data.get("statusset") or 0), description=data.get("description") or "",
        statuses=tuple(Status(id=int(s["id"]), acronym=s["acronym"], description=s.get("description", ""),
                              grade=float(s.get("grade") or 0)) for s in data.get("statuses", [])),
        # mod_attendance sends the log's statusid as a string (get_session.php returns PARAM_TEXT)
        taken={int(entry["studentid"]): int(entry["statusid"]) for entry in data.get("attendance_log", [])},
        listed=frozenset(int(user["id"]) for user in data.get("users", [])))
