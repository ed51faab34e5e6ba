"""A Moodle site for tests: its REST web service on loopback, as inconvenient as the real one.

Written from Moodle's and mod_attendance's sources (docs/moodle-facts.md lists them); each
behaviour names the file it follows. It answers only /webservice/rest/server.php, over TLS when
given a certificate, and it fails the way Moodle fails: HTTP 200 with an error envelope for
everything but a disabled protocol (HTTP 403, empty body); no debuginfo unless the site has
debugging on; XML unless moodlewsrestformat=json; mod_attendance's own refusals as
invalidparameter; status ids that differ per Attendance activity; the log's statusid as a string.
Tests can also make it slow, take it down (connection refused on its port) or answer HTTP 5xx.

Simplifications, stated: the web-service user has one set of capabilities that holds everywhere
(Moodle resolves them per context through roles); groups are per course.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import http.server
import itertools
import json
import re
import ssl
import threading
import time
import urllib.parse
from typing import Any, Callable
from xml.sax.saxutils import escape


REST_PATH = "/webservice/rest/server.php"

# Role ids, shortnames and sort orders of a standard install (lib/db/install.php creates them in
# this order; get_user_roles returns the custom name, empty for standard roles).
ROLES = {"manager": 1, "coursecreator": 2, "editingteacher": 3, "teacher": 4, "student": 5}

# Capability display names used in required_capability_exception messages
# (mod_attendance lang/en/attendance.php, Moodle lang/en/role.php).
CAPABILITY_NAMES = {
    "mod/attendance:manageattendances": "Manage Attendances",
    "mod/attendance:takeattendances": "Taking Attendances",
    "mod/attendance:changeattendances": "Changing Attendances",
    "mod/attendance:view": "Viewing Attendances",
    "moodle/course:viewparticipants": "View participants",
}

# What a web-service user given a "Web service" role with the sync's capabilities holds.
SYNC_CAPABILITIES = frozenset({
    "webservice/rest:use", "moodle/course:view", "moodle/course:viewparticipants", "moodle/user:viewdetails",
    "moodle/course:useremail", "moodle/user:viewalldetails", "moodle/site:accessallgroups", "mod/attendance:view",
    "mod/attendance:takeattendances", "mod/attendance:manageattendances"})

# The default status set copied into every new Attendance activity (mod_attendance db/install.php):
# acronym and grade; the acronyms depend on the site's language at install time.
DEFAULT_STATUSES = (("P", "Present", 2.0), ("A", "Absent", 0.0), ("L", "Late", 1.0), ("E", "Excused", 1.0))


class MoodleException(Exception):
    """An exception as Moodle's REST server reports it (webservice/rest/locallib.php generate_error)."""

    def __init__(self, cls: str, errorcode: str, message: str, debuginfo: str | None = None):
        super().__init__(message)
        self.cls, self.errorcode, self.message, self.debuginfo = cls, errorcode, message, debuginfo


def invalid_parameter(debuginfo: str) -> MoodleException:
    # lib/classes/exception/invalid_parameter_exception.php: errorcode invalidparameter (lang debug.php)
    return MoodleException("invalid_parameter_exception", "invalidparameter", "Invalid parameter value detected",
                           debuginfo)


def missing_record(table: str | None) -> MoodleException:
    # dml_missing_record_exception: 'invalidrecordunknown' without a table (get_record_sql), else
    # 'invalidrecord'; table user gives 'invaliduser'.
    if table is None:
        return MoodleException("dml_missing_record_exception", "invalidrecordunknown",
                               "Can't find data records in database.")
    if table == "user":
        return MoodleException("dml_missing_record_exception", "invaliduser", "Invalid user")
    return MoodleException("dml_missing_record_exception", "invalidrecord",
                           f"Can't find data record in database table {table}.")


# -- parameter descriptions, as core_external's external_value / single / multiple structures ----

@dataclasses.dataclass(frozen=True)
class Value:
    type: str  # int | text | raw | bool | alpha | alphanumext | alphanum
    required: bool = True
    default: Any = None


@dataclasses.dataclass(frozen=True)
class Many:
    content: Any
    required: bool = True
    default: Any = None


_TYPE_NAMES = {"int": "int", "bool": "bool", "text": "text", "raw": "raw", "alpha": "alpha",
               "alphanum": "alphanum", "alphanumext": "alphanumext"}


def validate(description, params) -> Any:
    """core_external\\external_api::validate_parameters for the types the sync's functions use."""
    if isinstance(description, dict):
        if not isinstance(params, dict):
            raise invalid_parameter(f"Only arrays accepted. The bad value is: '{params}'")
        result, rest = {}, dict(params)
        for key, sub in description.items():
            if key not in rest:
                if sub.required:
                    raise invalid_parameter(f"Missing required key in single structure: {key}")
                result[key] = sub.default
                continue
            try:
                result[key] = validate(sub, rest.pop(key))
            except MoodleException as exc:
                raise invalid_parameter(f"{key} => {exc.message}: {exc.debuginfo}") from None
        if rest:
            raise invalid_parameter(f"Unexpected keys ({', '.join(rest)}) detected in parameter array.")
        return result
    if isinstance(description, Many):
        if not isinstance(params, dict):
            raise invalid_parameter(f"Only arrays accepted. The bad value is: '{params}'")
        return [validate(description.content, item) for item in params.values()]
    if isinstance(params, dict):
        raise invalid_parameter("Scalar type expected, array or object received.")
    wrong = f'Invalid external api parameter: the value is "{params}", the server was expecting ' \
            f'"{_TYPE_NAMES[description.type]}" type'
    if description.type == "bool":
        if params in ("0", "1"):  # only these pass PHP's PARAM_BOOL validation from a form
            return params == "1"
        raise invalid_parameter(wrong)
    if description.type == "int":
        if not re.fullmatch(r"-?\d+", params):
            raise invalid_parameter(wrong)
        return int(params)
    patterns = {"alpha": r"[A-Za-z]*", "alphanum": r"[A-Za-z0-9]*", "alphanumext": r"[A-Za-z0-9_-]*"}
    if description.type in patterns and not re.fullmatch(patterns[description.type], params):
        raise invalid_parameter(wrong)
    return params


def php_form(pairs: list[tuple[str, str]]) -> dict:
    """Form fields as PHP builds $_POST: `a[0][b]=x` becomes {"a": {"0": {"b": "x"}}}."""
    result: dict = {}
    for name, value in pairs:
        base, bracket, rest = name.partition("[")
        keys = [base] + (re.findall(r"\[([^\]]*)\]", bracket + rest) if bracket else [])
        node = result
        for key in keys[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[keys[-1]] = value
    return result


# -- the site ----------------------------------------------------------------------------------

@dataclasses.dataclass
class User:
    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    maildisplay: int = 2  # Moodle's default: show email to course members only

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclasses.dataclass
class CourseRecord:
    id: int
    shortname: str
    fullname: str
    visible: bool = True
    groupmode: int = 0  # 0 no groups, 1 separate, 2 visible
    roles: dict[int, list[str]] = dataclasses.field(default_factory=dict)  # user id -> role shortnames
    groups: dict[int, set[int]] = dataclasses.field(default_factory=dict)  # group id -> members


@dataclasses.dataclass
class Attendance:
    instance: int
    cmid: int
    course: int
    name: str
    statuses: list[dict]
    groupmode: int = 0
    visible: bool = True


class FakeMoodle:
    """A Moodle site with the REST protocol, mod_attendance, one web-service user and its token."""

    def __init__(self, *, tls: ssl.SSLContext | None = None, status_acronyms=DEFAULT_STATUSES,
                 attendance_release: str = "5.1"):
        self.tls = tls
        self.status_acronyms = status_acronyms
        self.attendance_release = attendance_release  # "4.3" checks no status and returns null
        self._ids = itertools.count(2)  # id 1 is the site course / admin, as in Moodle
        self._status_ids = itertools.count(1)
        self.users: dict[int, User] = {}
        self.courses: dict[int, CourseRecord] = {}
        self.activities: dict[int, Attendance] = {}
        self.sessions: dict[int, dict] = {}
        self.logs: dict[int, dict[int, dict]] = {}  # session id -> student id -> log row
        self.tokens: dict[str, tuple[int, str, int | None]] = {}  # token -> (user, service, validuntil)
        self.services: dict[str, set[str]] = {"attendance-sync": set(ATTENDANCE_SYNC_FUNCTIONS)}
        self.capabilities: set[str] = set(SYNC_CAPABILITIES)
        self.debugging = False
        self.rest_enabled = True
        self.maintenance = False
        self.delay = 0.0  # seconds before answering any request
        self.slow: dict[str, float] = {}  # function -> seconds before answering it
        self._failures: list[int] = []
        self.calls: list[tuple[str, dict]] = []  # (function, parameters), never the token
        self.service = ""  # the service of the call being answered
        self._lock = threading.RLock()
        self._idle = threading.Condition()
        self._busy = 0
        self.ws_user = self.add_user("wsattendance", "Attendance", "Sync", "wsattendance@school.example")
        self._server: http.server.ThreadingHTTPServer | None = None
        self.port = 0

    # -- building the site (what an admin or teacher does in Moodle's pages) ----------------------

    def add_user(self, username: str, firstname: str, lastname: str, email: str, **extra) -> User:
        user = User(next(self._ids), username, firstname, lastname, email, **extra)
        self.users[user.id] = user
        return user

    def add_course(self, shortname: str, fullname: str = "", **extra) -> CourseRecord:
        course = CourseRecord(next(self._ids), shortname, fullname or shortname, **extra)
        self.courses[course.id] = course
        return course

    def enrol(self, course: CourseRecord, user: User, *roles: str, group: int | None = None) -> None:
        course.roles.setdefault(user.id, []).extend(roles or ("student",))
        if group is not None:
            course.groups.setdefault(group, set()).add(user.id)

    def add_attendance(self, course: CourseRecord, name: str = "Attendance", **extra) -> Attendance:
        # lib.php att_add_default_statuses: the template statuses copied as new rows, new ids.
        instance = next(self._ids)
        statuses = [{"id": next(self._status_ids), "attendanceid": instance, "acronym": acronym,
                     "description": description, "grade": grade, "visible": 1, "deleted": 0, "setnumber": 0}
                    for acronym, description, grade in self.status_acronyms]
        activity = Attendance(instance, next(self._ids), course.id, name, statuses, **extra)
        self.activities[instance] = activity
        return activity

    def add_session(self, activity: Attendance, start: dt.datetime, minutes: int, *, group: int = 0,
                    description: str = "") -> int:
        return self._create_session(activity, int(start.timestamp()), minutes * 60, group, description)

    def issue_token(self, user: User | None = None, service: str = "attendance-sync",
                    valid_until: int | None = None) -> str:
        token = f"{next(self._ids):032x}"[-32:]
        self.tokens[token] = ((user or self.ws_user).id, service, valid_until)
        return token

    def add_class(self) -> dict:
        """The class the tests use: MAT-1A with three students (Ana García, Beatriz O'Neil, Carlos
        Ruiz: "ana", "bea", "car"), their teacher ("teo", editing teacher) and an Attendance activity."""
        course = self.add_course("MAT-1A", "Mathematics 1A")
        people = {"ana": self.add_user("agarcia", "Ana", "García", "ana@school.example"),
                  "bea": self.add_user("boneil", "Beatriz", "O'Neil", "bea@school.example"),
                  "car": self.add_user("cruiz", "Carlos", "Ruiz", "carlos@school.example"),
                  "teo": self.add_user("tteacher", "Teo", "Teacher", "teo@school.example")}
        for name in ("ana", "bea", "car"):
            self.enrol(course, people[name])
        self.enrol(course, people["teo"], "editingteacher")
        return {"course": course, "activity": self.add_attendance(course), **people}

    def status_id(self, activity: Attendance, acronym: str) -> int:
        return next(s["id"] for s in activity.statuses if s["acronym"] == acronym)

    def taken(self, session_id: int) -> dict[int, str]:
        """Student id -> acronym recorded in a session."""
        activity = self.activities[self.sessions[session_id]["attendanceid"]]
        acronyms = {s["id"]: s["acronym"] for s in activity.statuses}
        return {student: acronyms.get(row["statusid"], f"?{row['statusid']}")
                for student, row in self.logs.get(session_id, {}).items()}

    def fail_next(self, status: int, times: int = 1) -> None:
        """The next `times` requests get HTTP `status` from "a proxy" in front of Moodle."""
        self._failures.extend([status] * times)

    # -- serving ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> FakeMoodle:
        """Listen (again, on the same port after stop)."""
        server = _Server(("127.0.0.1", self.port), _handler(self))
        if self.tls:  # the handshake happens in the request's thread, on its first read
            server.socket = self.tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-moodle", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: connections to the port are refused until start()."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the REST server (webservice/rest/server.php, locallib.php, webservice/lib.php) -----------

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is being answered (a slow answer goes on after its client gave up)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout):
                raise TimeoutError("the fake Moodle is still answering")

    def handle(self, method: str, path: str, query: str, body: bytes) -> tuple[int, str, bytes]:
        with self._idle:
            self._busy += 1
        try:
            pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
            if method == "POST":
                pairs += urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            params = php_form(pairs)
            pause = self.delay + self.slow.get(params.get("wsfunction"), 0.0)
            if pause:
                time.sleep(pause)
            return self._answer(path, params)
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _answer(self, path: str, params: dict) -> tuple[int, str, bytes]:
        with self._lock:
            if self._failures:
                status = self._failures.pop(0)
                return status, "text/html", f"<html><body><h1>{status}</h1>Bad gateway</body></html>".encode()
            if urllib.parse.urlsplit(path).path != REST_PATH:
                return 404, "text/html", b"<html><body>Not found</body></html>"
            if not self.rest_enabled:
                return 403, "text/html", b""  # server.php: 403 and die, nothing written
            restformat = params.pop("moodlewsrestformat", "xml")
            restformat = restformat if restformat in ("json", "xml") else "xml"
            token = params.pop("wstoken", None)
            function = params.pop("wsfunction", None)
            try:
                result = self._run(token, function, params)
            except MoodleException as exc:
                return self._error(exc, restformat)
            if restformat == "json":
                return 200, "application/json", json.dumps(result).encode()
            return 200, "application/xml; charset=utf-8", ('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n'
                                                           + _xmlize(result) + "</RESPONSE>\n").encode()

    def _error(self, exc: MoodleException, restformat: str) -> tuple[int, str, bytes]:
        # webservice_rest_server::generate_error: always HTTP 200; debuginfo only with debugging
        if restformat == "json":
            envelope = {"exception": exc.cls, "errorcode": exc.errorcode, "message": exc.message}
            if self.debugging and exc.debuginfo:
                envelope["debuginfo"] = exc.debuginfo
            return 200, "application/json", json.dumps(envelope).encode()
        text = (f'<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="{exc.cls}">\n<ERRORCODE>'
                f"{escape(exc.errorcode)}</ERRORCODE>\n<MESSAGE>{escape(exc.message)}</MESSAGE>\n</EXCEPTION>\n")
        return 200, "application/xml; charset=utf-8", text.encode()

    def _run(self, token: str | None, function: str | None, params: dict) -> Any:
        # webservice_server::authenticate_by_token
        if not token or token not in self.tokens:
            raise MoodleException("moodle_exception", "invalidtoken", "Invalid token - token not found")
        user_id, service, valid_until = self.tokens[token]
        if valid_until is not None and valid_until < time.time():
            del self.tokens[token]
            raise MoodleException("webservice_access_exception", "accessexception", "Access control exception",
                                  "Invalid token - token expired - check validuntil time for the token")
        if self.maintenance:  # webservice_server::authenticate_user, without moodle/site:maintenanceaccess
            raise MoodleException("moodle_exception", "sitemaintenance",
                                  "The site is undergoing maintenance and is currently not available")
        if "webservice/rest:use" not in self.capabilities:
            raise MoodleException("webservice_access_exception", "accessexception", "Access control exception",
                                  "You are not allowed to use the rest protocol (missing capability: "
                                  "webservice/rest:use)")
        # webservice_base_server::load_function_info
        if not function:
            raise invalid_parameter("Missing function name")
        if function not in FUNCTIONS:
            raise missing_record("external_functions")
        if function not in self.services.get(service, set()):
            raise MoodleException("webservice_access_exception", "accessexception", "Access control exception",
                                  f"Access to the function {function}() is not allowed. There could be multiple "
                                  "reasons for this: 1. The service linked to the user token does not contain the "
                                  "function. ...")
        description, implementation = FUNCTIONS[function]
        self.calls.append((function, params))
        self.service = service
        return implementation(self, self.users[user_id], **validate(description, params))

    # -- access checks as the functions make them ---------------------------------------------------

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def require(self, capability: str) -> None:
        # require_capability -> required_capability_exception('nopermissions', capability's name)
        if not self.has(capability):
            raise MoodleException("required_capability_exception", "nopermissions",
                                  "Sorry, but you do not currently have permissions to do that "
                                  f"({CAPABILITY_NAMES.get(capability, capability)}).")

    def can_enter(self, caller: User, course: CourseRecord) -> bool:
        return self.has("moodle/course:view") or caller.id in course.roles

    def enter_activity(self, caller: User, activity: Attendance) -> None:
        # external_api::validate_context -> require_login: require_login_exception('Not enrolled')
        if not self.can_enter(caller, self.courses[activity.course]):
            raise MoodleException("require_login_exception", "requireloginerror",
                                  "Course or activity not accessible. (Not enrolled)")

    def enter_course(self, caller: User, course: CourseRecord) -> None:
        # core_course / core_enrol wrap validate_context's failure in errorcoursecontextnotvalid
        if not self.can_enter(caller, course):
            raise MoodleException("moodle_exception", "errorcoursecontextnotvalid",
                                  f"You cannot execute functions in the course context (course id:{course.id}). "
                                  "The context error message was: Course or activity not accessible. (Not enrolled)")

    def activity(self, instance: int) -> Attendance:
        # get_coursemodule_from_instance(..., MUST_EXIST): get_record_sql -> invalidrecordunknown
        if instance not in self.activities:
            raise missing_record(None)
        return self.activities[instance]

    def course(self, course_id: int) -> CourseRecord:
        if course_id not in self.courses:
            raise missing_record("course")
        return self.courses[course_id]

    def _create_session(self, activity: Attendance, sessdate: int, duration: int, group: int, description: str) -> int:
        session_id = next(self._ids)
        self.sessions[session_id] = {
            "id": session_id, "attendanceid": activity.instance, "groupid": group, "sessdate": sessdate,
            "duration": duration, "lasttaken": 0, "lasttakenby": 0, "timemodified": int(time.time()),
            "description": description, "descriptionformat": 1, "studentscanmark": 0, "absenteereport": 1,
            "autoassignstatus": 0, "preventsharedip": 0, "preventsharediptime": 0, "statusset": 0,
            "includeqrcode": 0, "studentsearlyopentime": 0}
        return session_id

    def session_structure(self, session_id: int) -> dict:
        # mod_attendance classes/external/get_session.php
        session = dict(self.sessions[session_id])
        activity = self.activities[session["attendanceid"]]
        course = self.courses[activity.course]
        session["courseid"] = course.id
        session["statuses"] = sorted((s for s in activity.statuses if s["visible"] and not s["deleted"]
                                      and s["setnumber"] == session["statusset"]), key=lambda s: -s["grade"])
        members = course.groups.get(session["groupid"]) if session["groupid"] else None
        session["users"] = [{"id": u.id, "firstname": u.firstname, "lastname": u.lastname}
                            for uid, roles in course.roles.items() if "student" in roles  # canbelisted
                            and (members is None or uid in members) for u in [self.users[uid]]]
        session["attendance_log"] = [{"studentid": student, "statusid": str(row["statusid"]),
                                      "remarks": row.get("remarks", ""), "id": str(row["id"])}
                                     for student, row in self.logs.get(session_id, {}).items()]
        return session


# -- the functions -----------------------------------------------------------------------------------

def get_site_info(site: FakeMoodle, caller: User, serviceshortnames):
    # webservice/externallib.php core_webservice_external::get_site_info
    return {"sitename": "Fake School", "username": caller.username, "firstname": caller.firstname,
            "lastname": caller.lastname, "fullname": caller.fullname, "lang": "en", "userid": caller.id,
            "siteurl": site.url, "userpictureurl": f"{site.url}/theme/image.php/boost/core/1/u/f1",
            "functions": [{"name": name, "version": "2025100600"} for name in sorted(site.services[site.service])],
            "downloadfiles": 0, "uploadfiles": 0, "release": "5.1 (Build: 20251006)", "version": "2025100600",
            "siteid": 1, "userissiteadmin": False}


def get_courses_by_field(site: FakeMoodle, caller: User, field: str, value: str):
    # course/externallib.php get_courses_by_field: exact database match, unreadable courses skipped
    # or reduced to their public information
    if field not in ("", "id", "ids", "shortname", "idnumber", "category"):
        raise invalid_parameter("Invalid field name")
    matches = [c for c in site.courses.values() if not field or
               (field == "shortname" and c.shortname == value) or (field == "id" and str(c.id) == value) or
               (field == "ids" and str(c.id) in value.split(","))]
    courses = []
    for course in sorted(matches, key=lambda c: c.id):
        if not course.visible and not site.has("moodle/course:viewhiddencourses"):
            continue
        public = {"id": course.id, "fullname": course.fullname, "displayname": course.fullname,
                  "shortname": course.shortname, "categoryid": 1, "categoryname": "Category 1", "sortorder": 10001,
                  "summary": "", "summaryformat": 1, "summaryfiles": [], "overviewfiles": [], "contacts": [],
                  "enrollmentmethods": ["manual"], "showactivitydates": True, "showcompletionconditions": True}
        if site.can_enter(caller, course):
            public.update({"format": "topics", "showgrades": True, "newsitems": 5, "startdate": 0, "enddate": 0,
                           "maxbytes": 0, "showreports": False, "visible": int(course.visible),
                           "groupmode": course.groupmode, "groupmodeforce": 0, "defaultgroupingid": 0,
                           "enablecompletion": 1, "completionnotify": 0, "lang": "", "theme": "", "marker": 0,
                           "filters": [], "courseformatoptions": []})
        courses.append(public)
    return {"courses": courses, "warnings": []}


def get_contents(site: FakeMoodle, caller: User, courseid: int, options: list[dict]):
    # course/externallib.php get_course_contents: options checked before the course is read
    filters = {}
    for option in options:
        name = option["name"].strip()
        if name not in ("excludemodules", "excludecontents", "includestealthmodules", "sectionid",
                        "sectionnumber", "cmid", "modname", "modid"):
            raise MoodleException("moodle_exception", "errorinvalidparam", f'The param "{name}" is invalid.')
        filters.setdefault(name, option["value"])
    course = site.course(courseid)
    site.enter_course(caller, course)
    modules = []
    for activity in sorted(site.activities.values(), key=lambda a: a.cmid):
        if activity.course != course.id or filters.get("modname", "attendance") != "attendance":
            continue
        if not activity.visible and not site.has("moodle/course:viewhiddenactivities"):
            continue  # neither uservisible nor visible on the course page
        modules.append({"id": activity.cmid, "url": f"{site.url}/mod/attendance/view.php?id={activity.cmid}",
                        "name": activity.name, "instance": activity.instance, "contextid": activity.cmid + 1000,
                        "visible": int(activity.visible), "uservisible": True, "visibleoncoursepage": 1,
                        "modicon": "", "modname": "attendance", "modplural": "Attendance", "indent": 0,
                        "onclick": "", "afterlink": None, "customdata": "\"\"", "noviewlink": False,
                        "completion": 0, "downloadcontent": 1, "dates": [], "groupmode": activity.groupmode})
    return [{"id": course.id * 10, "name": "General", "visible": 1, "summary": "", "summaryformat": 1,
             "section": 0, "hiddenbynumsections": 0, "uservisible": True, "modules": modules}]


def get_enrolled_users(site: FakeMoodle, caller: User, courseid: int, options: list[dict]):
    # enrol/externallib.php get_enrolled_users and core\user::get_user_details
    course = site.course(courseid)
    site.enter_course(caller, course)
    site.require("moodle/course:viewparticipants")
    fields = next((o["value"] for o in options if o["name"] == "userfields"), "")
    fields = {f.strip() for f in fields.split(",") if f.strip()}
    if course.groupmode == 1 and not site.has("moodle/site:accessallgroups"):
        mine = [g for g, members in course.groups.items() if caller.id in members]
        if not mine:
            return []  # "User doesn't belong to any group, so he can't see any user"
    users = []
    for user_id in sorted(course.roles):
        user = site.users[user_id]
        if not site.has("moodle/user:viewdetails"):
            users.append({"id": user.id, "fullname": user.fullname,
                          "profileimageurl": f"{site.url}/theme/image.php/boost/core/1/u/f1"})
            continue

        def wanted(name):
            return not fields or name in fields

        details = {"id": user.id, "fullname": user.fullname}
        if wanted("username") and site.has("moodle/user:viewalldetails"):
            details["username"] = user.username
        if wanted("firstname"):
            details["firstname"], details["lastname"] = user.firstname, user.lastname
        if wanted("email") and (site.has("moodle/course:useremail") or user.maildisplay == 1
                                or (user.maildisplay == 2 and caller.id in course.roles)):
            details["email"] = user.email
        if wanted("roles"):
            details["roles"] = [{"roleid": ROLES[r], "name": "", "shortname": r, "sortorder": ROLES[r]}
                                for r in course.roles[user_id]]
        users.append(details)
    return users


def get_sessions(site: FakeMoodle, caller: User, attendanceid: int):
    # mod_attendance classes/external/get_sessions.php: a refusal is invalidparameter
    activity = site.activity(attendanceid)
    site.enter_activity(caller, activity)
    if not any(site.has(f"mod/attendance:{c}") for c in ("manageattendances", "takeattendances", "changeattendances")):
        raise invalid_parameter("Invalid session id or no permissions.")
    return [site.session_structure(sid) for sid in sorted(site.sessions)
            if site.sessions[sid]["attendanceid"] == attendanceid]


def get_session(site: FakeMoodle, caller: User, sessionid: int):
    # mod_attendance classes/external/get_session.php
    if sessionid not in site.sessions:
        raise missing_record("attendance_sessions")
    activity = site.activity(site.sessions[sessionid]["attendanceid"])
    site.enter_activity(caller, activity)
    if not any(site.has(f"mod/attendance:{c}") for c in ("manageattendances", "takeattendances", "changeattendances")):
        raise invalid_parameter("Invalid session id or no permissions.")
    return site.session_structure(sessionid)


def add_session(site: FakeMoodle, caller: User, attendanceid: int, description: str, sessiontime: int,
                duration: int, groupid: int, addcalendarevent: bool):
    # mod_attendance classes/external/add_session.php
    activity = site.activity(attendanceid)
    site.enter_activity(caller, activity)
    site.require("mod/attendance:manageattendances")
    if activity.groupmode == 0 and groupid > 0:
        raise invalid_parameter("Group id is specified, but group mode is disabled for activity")
    if activity.groupmode == 1 and groupid == 0:
        raise invalid_parameter("Group id is not specified (or 0) in separate groups mode.")
    if activity.groupmode == 1 or (activity.groupmode == 2 and groupid > 0):
        groups = site.courses[activity.course].groups
        valid = groups if site.has("moodle/site:accessallgroups") else \
            [g for g, members in groups.items() if caller.id in members]
        if groupid not in valid:
            raise invalid_parameter("Invalid group id")
    return {"sessionid": site._create_session(activity, sessiontime, duration, groupid, description)}


def update_user_status(site: FakeMoodle, caller: User, sessionid: int, studentid: int, takenbyid: int,
                       statusid: int, statusset: str):
    # mod_attendance classes/external/update_user_status.php (5.1); the 4.3 branch's externallib.php
    # neither checks the status nor returns anything
    if sessionid not in site.sessions:
        raise missing_record("attendance_sessions")
    session = site.sessions[sessionid]
    activity = site.activity(session["attendanceid"])
    site.enter_activity(caller, activity)
    site.require("mod/attendance:view")
    if not site.has("mod/attendance:takeattendances"):
        if studentid != caller.id or takenbyid != caller.id:
            raise invalid_parameter("Invalid user id or no permissions.")
        raise invalid_parameter("Students cannot mark this session")
    for user_id in (studentid, takenbyid):
        if user_id not in site.users:
            raise missing_record("user")
    if site.attendance_release != "4.3":
        allowed = {s["id"] for s in activity.statuses if s["visible"] and not s["deleted"]
                   and s["setnumber"] == session["statusset"]}
        if not re.fullmatch(r"-?\d+", statusset) or int(statusset) != session["statusset"] or statusid not in allowed:
            raise invalid_parameter("You have selected an invalid status, please try again")
    log = site.logs.setdefault(sessionid, {})
    row = log.get(studentid) or {"id": next(site._ids)}
    row.update({"statusid": statusid, "takenby": takenbyid, "timetaken": int(time.time()), "remarks": ""})
    log[studentid] = row
    session.update({"lasttaken": int(time.time()), "lasttakenby": takenbyid})
    return None if site.attendance_release == "4.3" else "OK"


_OPTIONS = Many({"name": Value("alphanumext"), "value": Value("raw")}, required=False, default=[])
FUNCTIONS: dict[str, tuple[dict, Callable]] = {
    "core_webservice_get_site_info": ({"serviceshortnames": Many(Value("alphanumext"), False, [])}, get_site_info),
    "core_course_get_courses_by_field": ({"field": Value("alpha", False, ""), "value": Value("raw", False, "")},
                                         get_courses_by_field),
    "core_course_get_contents": ({"courseid": Value("int"), "options": Many(
        {"name": Value("alphanum"), "value": Value("raw")}, False, [])}, get_contents),
    "core_enrol_get_enrolled_users": ({"courseid": Value("int"), "options": _OPTIONS}, get_enrolled_users),
    "mod_attendance_get_sessions": ({"attendanceid": Value("int")}, get_sessions),
    "mod_attendance_get_session": ({"sessionid": Value("int")}, get_session),
    "mod_attendance_add_session": ({"attendanceid": Value("int"), "description": Value("raw", False, ""),
                                    "sessiontime": Value("int"), "duration": Value("int", False, 0),
                                    "groupid": Value("int", False, 0), "addcalendarevent": Value("bool", False, True)},
                                   add_session),
    "mod_attendance_update_user_status": ({"sessionid": Value("int"), "studentid": Value("int"),
                                           "takenbyid": Value("int"), "statusid": Value("int"),
                                           "statusset": Value("text")}, update_user_status),
}
ATTENDANCE_SYNC_FUNCTIONS = tuple(name for name in FUNCTIONS if name != "mod_attendance_get_session")


def _xmlize(value) -> str:
    # webservice_rest_server::xmlize_result, without the return descriptions
    if isinstance(value, dict):
        return "<SINGLE>\n" + "".join(f'<KEY name="{k}">{_xmlize(v)}</KEY>\n' for k, v in value.items()) + "</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(_xmlize(v) for v in value) + "</MULTIPLE>\n"
    if value is None:
        return '<VALUE null="null"/>\n'
    return f"<VALUE>{escape(str(int(value) if isinstance(value, bool) else value))}</VALUE>\n"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout, refused certificate) is part of the tests


def _handler(site: FakeMoodle):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self):
            split = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, content_type, payload = site.handle(self.command, self.path, split.query, body)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "private, must-revalidate, pre-check=0, post-check=0, max-age=0")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, *args):
            pass

    return Handler
