"""Validation of incoming events against contract v1 (schema/attendance-event.v1.json).

The schema file ships inside the package as a link to the repository's single copy, so the
receiver can never drift from the contract the plugins are tested against.

Two checks, one decision. A hand-written check (`fast_validator()`) decides whether an event is
valid: every event of every delivery passes through it, and a general validator walks the
schema's if/then/not/anyOf branches for every event (fastjsonschema: ~13 µs; this: 3-4 µs, see
bench/schema_check.py). `jsonschema` (the reference 2020-12 implementation) explains what is
wrong and has the last word on a rejection, so messages are the reference's.

The hand-written check must give exactly the reference's decision. It takes its constants
(patterns, lengths, enums, what each event type requires) from the schema itself, but its
structure is written for one version of the schema: `WRITTEN_FOR` is a digest of the schema's
validation keywords, and `fast_validator()` refuses to build for any other. The reference reads
patterns with `re.search` and Python's `re` (so `$` also matches before a final newline and `\\d`
matches any Unicode digit): the check compiles the very same pattern strings and searches with
them. The schema has no `format` keyword, so the format checker (and which format packages are
installed) does not enter the decision. tests/test_schema_check.py holds the two to the same
answers.
"""
from __future__ import annotations

import hashlib
import json
import numbers
import re
import sys
from functools import lru_cache
from importlib import resources
from typing import Callable

import jsonschema

SCHEMA_FILE = "attendance-event.v1.json"

# Digest (validation_digest) of the schema the hand-written check follows. A schema change that
# is not only in descriptions or titles changes it: then update _compile to the new schema (the
# tests compare it with jsonschema) and this value.
WRITTEN_FOR = "d58e4ad5c702cee78ae418c081e078c77ccdbd7fa06b7f6d86b42bc9719f8b9f"

_ABSENT = object()
# The classes json.loads makes for JSON strings, numbers and booleans: tested by identity first,
# the full isinstance test (any numbers.Number is a JSON number to jsonschema) only for others.
_JSON_SCALAR_CLASSES = frozenset({str, int, float, bool})


@lru_cache(maxsize=None)
def schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("schema", SCHEMA_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())


def validation_digest(contract: dict) -> str:
    """SHA-256 of the schema without its `description` and `title` annotations."""
    def keywords(node):
        if isinstance(node, dict):
            return {k: keywords(v) for k, v in node.items() if k not in ("description", "title")}
        if isinstance(node, list):
            return [keywords(v) for v in node]
        return node

    canonical = json.dumps(keywords(contract), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@lru_cache(maxsize=None)
def fast_validator() -> Callable[[object], bool]:
    """The hand-written check, `event -> bool`. Built once (IngestEndpoint builds it before forking)."""
    return build_check(schema())


def build_check(contract: dict) -> Callable[[object], bool]:
    """The hand-written check bound to this schema's constants; refused if the schema is not the
    one it was written for (a silent mismatch would let the two validators disagree)."""
    digest = validation_digest(contract)
    if digest != WRITTEN_FOR:
        raise RuntimeError(f"{SCHEMA_FILE} changed since schema_check's hand-written check was written for it "
                           f"(validation digest {digest}, expected {WRITTEN_FOR}): update "
                           "schema_check._compile to the new schema, then WRITTEN_FOR")
    return _compile(contract)


def is_valid_fast(event) -> bool:
    return fast_validator()(event)


def problems(event, where: str) -> list[str]:
    """Human-readable schema violations of one event, each prefixed by its location."""
    if fast_validator()(event):
        return []
    found = []
    for error in sorted(validator().iter_errors(event), key=lambda e: list(e.absolute_path)):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        found.append(f"{where}{path}: {error.message}")
    return found


def _lengths(spec: dict) -> tuple[int, int]:
    return spec.get("minLength", 0), spec.get("maxLength", sys.maxsize)


def _search(spec: dict):
    return re.compile(spec["pattern"]).search


def _rules_by_type(all_of: list, event_types: frozenset) -> dict:
    """For each event type: (keys it requires, keys it must not carry, keys its occupant requires).

    Each allOf branch reads `if type is one of these, then required / not anyOf required /
    occupant required`; an event type named by several branches must meet all of them.
    """
    rules = {name: (set(), set(), set()) for name in event_types}
    for branch in all_of:
        condition, then = branch["if"]["properties"]["type"], branch["then"]
        names = [condition["const"]] if "const" in condition else condition["enum"]
        for name in names:
            required, forbidden, occupant_required = rules[name]
            required.update(then.get("required", ()))
            forbidden.update(key for alternative in then.get("not", {}).get("anyOf", ())
                             for key in alternative["required"])
            occupant_required.update(then.get("properties", {}).get("occupant", {}).get("required", ()))
    return {name: tuple(tuple(sorted(keys)) for keys in sets) for name, sets in rules.items()}


def _compile(contract: dict) -> Callable[[object], bool]:
    """The check for the schema WRITTEN_FOR names, its constants bound once as closure variables.

    Every required string field is read with dict.get: a missing key gives None, which fails the
    same type test a present null does. Optional fields are told apart from null with _ABSENT.
    """
    top, defs = contract["properties"], contract["$defs"]
    source, room, occupant, identity = (defs[name]["properties"] for name in ("source", "room", "occupant", "identity"))

    event_types = frozenset(top["type"]["enum"])
    rules = _rules_by_type(contract["allOf"], event_types)
    id_matches, time_matches = _search(top["id"]), _search(top["time"])

    servers = frozenset(source["server"]["enum"])
    host_min, host_max = _lengths(source["host"])
    host_matches = _search(source["host"])
    instance_min, instance_max = _lengths(source["instance"])

    room_jid_max, room_jid_matches = _lengths(room["jid"])[1], _search(room["jid"])
    name_min, name_max = _lengths(room["name"])
    meeting_id_min, meeting_id_max = _lengths(room["meeting_id"])
    parent_jid_max, parent_jid_matches = _lengths(room["parent_jid"])[1], _search(room["parent_jid"])

    occupant_jid_max, occupant_jid_matches = _lengths(occupant["occupant_jid"])[1], _search(occupant["occupant_jid"])
    user_jid_max, user_jid_matches = _lengths(occupant["user_jid"])[1], _search(occupant["user_jid"])
    bare_jid_max, bare_jid_matches = _lengths(occupant["bare_jid"])[1], _search(occupant["bare_jid"])
    nick_max, previous_nick_max = _lengths(occupant["nick"])[1], _lengths(occupant["previous_nick"])[1]
    roles = frozenset(occupant["role"]["enum"])

    user_id_min, user_id_max = _lengths(identity["user_id"])
    identity_name_max, group_max = _lengths(identity["name"])[1], _lengths(identity["group"])[1]
    email_max, email_matches = _lengths(identity["email"])[1], _search(identity["email"])
    claims_max = identity["claims"]["maxProperties"]
    absent, scalar_classes, json_scalar = _ABSENT, _JSON_SCALAR_CLASSES, (str, numbers.Number)

    def source_ok(value) -> bool:
        if not isinstance(value, dict):
            return False
        server, host, instance = value.get("server"), value.get("host"), value.get("instance")
        return (isinstance(server, str) and server in servers
                and isinstance(host, str) and host_min <= len(host) <= host_max and host_matches(host) is not None
                and isinstance(instance, str) and instance_min <= len(instance) <= instance_max)

    def room_ok(value) -> bool:
        if not isinstance(value, dict):
            return False
        jid, name = value.get("jid"), value.get("name")
        if not (isinstance(jid, str) and len(jid) <= room_jid_max and room_jid_matches(jid) is not None
                and isinstance(name, str) and name_min <= len(name) <= name_max):
            return False
        meeting_id = value.get("meeting_id", absent)
        if meeting_id is not absent and not (isinstance(meeting_id, str)
                                             and meeting_id_min <= len(meeting_id) <= meeting_id_max):
            return False
        parent_jid = value.get("parent_jid", absent)
        return parent_jid is absent or (isinstance(parent_jid, str) and len(parent_jid) <= parent_jid_max
                                        and parent_jid_matches(parent_jid) is not None)

    def occupant_ok(value) -> bool:
        if not isinstance(value, dict):
            return False
        occupant_jid, user_jid, bare_jid = value.get("occupant_jid"), value.get("user_jid"), value.get("bare_jid")
        if not (isinstance(occupant_jid, str) and len(occupant_jid) <= occupant_jid_max
                and occupant_jid_matches(occupant_jid) is not None
                and isinstance(user_jid, str) and len(user_jid) <= user_jid_max
                and user_jid_matches(user_jid) is not None
                and isinstance(bare_jid, str) and len(bare_jid) <= bare_jid_max
                and bare_jid_matches(bare_jid) is not None):
            return False
        nick = value.get("nick", absent)
        if nick is not absent and not (isinstance(nick, str) and len(nick) <= nick_max):
            return False
        previous_nick = value.get("previous_nick", absent)
        if previous_nick is not absent and not (isinstance(previous_nick, str)
                                                and len(previous_nick) <= previous_nick_max):
            return False
        role = value.get("role", absent)
        return role is absent or (isinstance(role, str) and role in roles)

    def identity_ok(value) -> bool:
        if not isinstance(value, dict):
            return False
        user_id = value.get("user_id", absent)
        if user_id is not absent and not (isinstance(user_id, str) and user_id_min <= len(user_id) <= user_id_max):
            return False
        name = value.get("name", absent)
        if name is not absent and not (isinstance(name, str) and len(name) <= identity_name_max):
            return False
        email = value.get("email", absent)
        if email is not absent and not (isinstance(email, str) and len(email) <= email_max
                                        and email_matches(email) is not None):
            return False
        moderator = value.get("moderator", absent)
        if moderator is not absent and moderator is not True and moderator is not False:
            return False
        group = value.get("group", absent)
        if group is not absent and not (isinstance(group, str) and len(group) <= group_max):
            return False
        claims = value.get("claims", absent)
        if claims is absent:
            return True
        if not isinstance(claims, dict) or len(claims) > claims_max:
            return False
        for claim in claims.values():
            if claim.__class__ not in scalar_classes and not isinstance(claim, json_scalar):
                return False
        return True

    def is_valid(event) -> bool:
        if not isinstance(event, dict):
            return False
        event_type, event_id, time = event.get("type"), event.get("id"), event.get("time")
        if not (isinstance(event_type, str) and event_type in event_types
                and isinstance(event_id, str) and id_matches(event_id) is not None
                and isinstance(time, str) and time_matches(time) is not None
                and source_ok(event.get("source"))):
            return False
        required, forbidden, occupant_required = rules[event_type]
        for key in required:
            if key not in event:
                return False
        for key in forbidden:
            if key in event:
                return False
        value = event.get("room", absent)
        if value is not absent and not room_ok(value):
            return False
        value = event.get("occupant", absent)
        if value is not absent:
            if not occupant_ok(value):
                return False
            for key in occupant_required:
                if key not in value:
                    return False
        value = event.get("identity", absent)
        return value is absent or identity_ok(value)

    return is_valid
