"""The hand-written check and the reference validator give the same verdict on every event.

The receiver lets schema_check's hand-written check decide (for speed) and `jsonschema` explain;
a disagreement would let an invalid event in or refuse a valid one. Checked on the contract's own
examples and the vectors' events, on hand-picked edge cases of the reference's semantics (each
with the verdict it gives), on every event one change away from a full event of each type, and
on generated events (hypothesis): valid ones with a field bent near its constraints, and events
with several things wrong at once. Planting a bug in the check (a fullmatch for a search, an
ASCII-only whitespace class, an off-by-one length, a null claim accepted, a forgotten if/then)
fails them.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re

import pytest
from hypothesis import event as note_event, given, settings, strategies as st

from attendance_logger import schema_check
from tests.support import contract, vectors

BASE = dt.datetime(2025, 11, 22, 8, 0, tzinfo=dt.timezone.utc)
README_EXAMPLES = [json.loads(block) for block in
                   re.findall(r"```json\n(.*?)```", (contract.ROOT / "schema" / "README.md").read_text("utf-8"), re.S)]
INVALID_CASES = contract.invalid_events()["invalid"]
VALID_SAMPLES = ([contract.invalid_events()["valid_base"], json.loads(contract.signing_example()["body"])]
                 + README_EXAMPLES + [e for v in vectors.all_vectors() for e in v.materialize(BASE)])
SAMPLES = VALID_SAMPLES + [case["event"] for case in INVALID_CASES]
TYPES = schema_check.schema()["properties"]["type"]["enum"]
DELETE = object()


def reference_valid(event) -> bool:
    return schema_check.validator().is_valid(event)


def agrees(event) -> bool:
    return schema_check.is_valid_fast(event) == reference_valid(event)


def value_at(obj, path):
    for key in path:
        obj = obj[key]
    return obj


def paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from paths(value, prefix + (key,))


def with_value(event, path, value):
    changed = copy.deepcopy(event)
    parent = value_at(changed, path[:-1])
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(value)
    return changed


def test_the_contract_examples_and_every_vector_event_get_the_reference_verdict():
    assert len(README_EXAMPLES) == 2 and len(INVALID_CASES) >= 30
    for event in VALID_SAMPLES:
        assert reference_valid(event), event
        assert schema_check.is_valid_fast(event), event
    for case in INVALID_CASES:
        assert not reference_valid(case["event"]), case["reason"]
        assert not schema_check.is_valid_fast(case["event"]), case["reason"]


def test_problems_are_the_reference_messages_and_none_for_a_valid_event():
    assert schema_check.problems(VALID_SAMPLES[0], "event") == []
    bad = copy.deepcopy(VALID_SAMPLES[0])
    bad["source"]["instance"] = "short"
    del bad["occupant"]["bare_jid"]
    assert schema_check.problems(bad, "events[3]") == [
        "events[3].occupant: 'bare_jid' is a required property",
        "events[3].source.instance: 'short' is too short"]


def test_the_check_is_refused_for_a_schema_it_was_not_written_for():
    changed = copy.deepcopy(schema_check.schema())
    changed["$defs"]["occupant"]["properties"]["nick"]["maxLength"] = 2000
    with pytest.raises(RuntimeError, match="update schema_check._compile"):
        schema_check.build_check(changed)
    reworded = copy.deepcopy(schema_check.schema())
    reworded["$defs"]["room"]["properties"]["name"]["description"] = "The room's name."
    assert schema_check.build_check(reworded)(VALID_SAMPLES[0])


def test_the_schema_has_no_format_so_installed_format_checkers_do_not_matter():
    assert '"format"' not in json.dumps(schema_check.schema())


def with_changes(*changes):
    """The base event with (path, value) changes; value DELETE removes the key."""
    event = VALID_SAMPLES[0]
    for path, value in changes:
        event = with_value(event, path, value)
    return event


# Edge cases of the reference's semantics, each with the verdict it gives (so a change of
# jsonschema's behaviour shows here too, not only as a disagreement).
EDGE_CASES = [
    # re.search with `$`: a final newline still matches
    (True, [(("time",), "2025-11-22T08:01:00.000Z\n")]),
    (True, [(("id",), "0b9f6d0e-3c1e-4f7a-9a52-2d6f1f0f5b11\n")]),
    (True, [(("source", "host"), "muc.meet.jitsi\n")]),
    (True, [(("room", "jid"), "maths-3b@muc.meet.jitsi\n")]),
    (False, [(("time",), "2025-11-22T08:01:00.000Z\n\n")]),
    (False, [(("time",), "\n2025-11-22T08:01:00.000Z")]),
    # \d is any Unicode digit; the pattern, not the calendar, decides
    (True, [(("time",), "２０２５-11-22T08:01:00.000Z")]),
    (True, [(("time",), "2025-11-22T08:01:00.٠٠٠Z")]),
    (True, [(("time",), "2025-02-31T23:59:59.999Z")]),
    (True, [(("time",), "0000-01-01T00:00:00.000Z")]),
    (False, [(("time",), "2025-11-22T24:00:00.000Z")]),
    (False, [(("time",), "2025-11-22T08:01:60.000Z")]),
    (False, [(("time",), "2025-11-22t08:01:00.000z")]),
    (False, [(("time",), "2025-11-22T08:01:00.000+00:00")]),
    # \s is Unicode whitespace
    (False, [(("source", "host"), "muc.meet\u00a0jitsi")]),
    (False, [(("source", "host"), "muc.meet\x1cjitsi")]),
    (True, [(("source", "host"), "muc.meet\u200bjitsi")]),
    (False, [(("occupant", "bare_jid"), "k2x9q1@meet.jitsi\u3000")]),
    # `.` is anything but a newline, even as the last character before `$`
    (False, [(("occupant", "occupant_jid"), "maths-3b@muc.meet.jitsi/\n")]),
    (True, [(("occupant", "occupant_jid"), "maths-3b@muc.meet.jitsi/x\n")]),
    (True, [(("occupant", "user_jid"), "meet.jitsi/@ @")]),
    (True, [(("occupant", "bare_jid"), "meet.jitsi")]),
    # ULID: first character 0-7, Crockford base 32 without I, L, O, U; UUID any case
    (False, [(("id",), "81JD3N5Z8Q4W0X9F6G7H8J9K0N")]),
    (False, [(("id",), "01JD3N5Z8Q4W0X9F6G7H8J9K0U")]),
    (False, [(("id",), "01jd3n5z8q4w0x9f6g7h8j9k0n")]),
    (True, [(("id",), "0B9F6D0E-3C1E-4F7A-9A52-2D6F1F0F5B11")]),
    # lengths count code points
    (True, [(("occupant", "nick"), "🎓" * 1023)]),
    (False, [(("occupant", "nick"), "🎓" * 1024)]),
    (True, [(("source", "instance"), "🎓" * 8)]),
    (False, [(("source", "instance"), "🎓" * 7)]),
    (True, [(("source", "host"), "h" * 1023)]),
    (False, [(("source", "host"), "h" * 1024)]),
    (True, [(("identity", "email"), "a@" + "b" * 318)]),
    (False, [(("identity", "email"), "a@" + "b" * 319)]),
    (False, [(("identity", "user_id"), "")]),
    (True, [(("identity", "name"), "")]),
    # bool is not a number to the reference; numbers and booleans are claims, null is not
    (True, [(("identity", "claims"), {"a": True, "b": 1, "c": -2.5, "d": 10 ** 40, "e": float("nan")})]),
    (False, [(("identity", "claims"), {"a": None})]),
    (False, [(("identity", "claims"), {"a": [1]})]),
    (True, [(("identity", "claims"), {str(i): i for i in range(64)})]),
    (False, [(("identity", "claims"), {str(i): i for i in range(65)})]),
    (False, [(("identity", "moderator"), 0)]),
    (False, [(("identity", "moderator"), None)]),
    (True, [(("identity", "moderator"), True)]),
    # null is not absence; unknown fields are allowed everywhere
    (False, [(("occupant", "role"), None)]),
    (False, [(("room", "meeting_id"), None)]),
    (True, [(("room", "future_field"), None), (("extra",), {"x": []}), (("identity", "claims", "x"), 1.0)]),
    # what each event type requires and forbids: presence counts, even of a null
    (False, [(("type",), "source.started"), (("room",), DELETE), (("occupant",), DELETE), (("identity",), None)]),
    (True, [(("type",), "source.started"), (("room",), DELETE), (("occupant",), DELETE), (("identity",), DELETE)]),
    (True, [(("type",), "room.created"), (("occupant",), DELETE), (("identity",), DELETE)]),
    (False, [(("type",), "room.destroyed"), (("occupant",), DELETE)]),
    (True, [(("type",), "occupant.left"), (("identity",), DELETE)]),
    (False, [(("type",), "occupant.renamed")]),
    (True, [(("type",), "occupant.renamed"), (("occupant", "previous_nick"), "")]),
    (False, [(("type",), "occupant.renamed"), (("occupant", "previous_nick"), ""), (("occupant", "nick"), DELETE)]),
    (False, [(("type",), ["occupant.joined"])]),
    (False, [(("type",), "Occupant.joined")]),
    (False, [(("source", "server"), ["prosody"])]),
    (False, [(("source", "server"), {"prosody": 1})]),
]


@pytest.mark.parametrize("expected, changes", EDGE_CASES)
def test_edge_cases_of_the_reference_semantics(expected, changes):
    event = with_changes(*changes)
    assert reference_valid(event) is expected
    assert schema_check.is_valid_fast(event) is expected


@pytest.mark.parametrize("event", [None, [], "event", 1, True, [VALID_SAMPLES[0]], {}])
def test_anything_but_an_event_object_is_invalid(event):
    assert not reference_valid(event)
    assert not schema_check.is_valid_fast(event)


def full_events() -> list[dict]:
    """The README's occupant.joined with every optional field, made into a valid event of each type."""
    full = copy.deepcopy(next(e for e in README_EXAMPLES if e["type"] == "occupant.joined"))
    full["room"]["parent_jid"] = "maths@muc.meet.jitsi"
    full["occupant"]["previous_nick"] = "Al"
    made = []
    for event_type in TYPES:
        event = {**copy.deepcopy(full), "type": event_type}
        for part in {"source.started": ("room", "occupant", "identity"),
                     "room.created": ("occupant", "identity"), "room.destroyed": ("occupant", "identity")
                     }.get(event_type, ()):
            del event[part]
        made.append(event)
    return made


def single_changes(event):
    """Every event one change away from `event`: each key dropped or given a value of each JSON
    type, each string cut or padded to its schema bounds or bent with a newline, whitespace or
    separator, an unknown key added to each object, each missing part added, the claims grown
    to their bound."""
    everything = list(paths(event))[1:]
    for path in everything:
        parent = value_at(event, path[:-1])
        yield with_value(event, path, DELETE)
        for other in (None, True, False, 0, 1, 1.5, -0.0, 10 ** 30, "", "x", [], {}, [parent[path[-1]]]):
            yield with_value(event, path, other)
        text = parent[path[-1]]
        if isinstance(text, str):
            for length in lengths_around_bounds(path):
                for filler in ("a", "🎓"):
                    yield with_value(event, path, text[:length] + filler * (length - len(text)))
            for bent in (text + "\n", text + "\n\n", "\n" + text, text[:-1] + "\n", text + "\r", text.swapcase(),
                         text + " ", text + "\u00a0", text + "\u2003", text + "@", text + "/", "@" + text, "/" + text,
                         text[:len(text) // 2] + "\n" + text[len(text) // 2:], "٣" + text[1:], text[:-1] + "٣"):
                yield with_value(event, path, bent)
        if isinstance(text, dict):
            yield with_value(event, path + ("unknown",), None)
    for part in ("room", "occupant", "identity"):
        if part not in event:
            yield with_value(event, (part,), full_events()[TYPES.index("occupant.joined")][part])
    if "identity" in event:
        for count in (63, 64, 65):
            yield with_value(event, ("identity", "claims"), {f"c{i}": i for i in range(count)})


def test_every_event_one_change_away_from_a_full_one_gets_the_reference_verdict():
    verdicts = []
    for event in full_events():
        assert reference_valid(event), event
        for changed in single_changes(event):
            verdict = reference_valid(changed)
            assert schema_check.is_valid_fast(changed) == verdict, changed
            verdicts.append(verdict)
    assert len(verdicts) > 3000 and 0.1 < sum(verdicts) / len(verdicts) < 0.9


# --- generated events -------------------------------------------------------------------------

def rarely(usual, unusual, one_in: int):
    """`unusual` one time in `one_in`, else `usual`; shrinks towards `usual`.

    An event has some twenty fields: each must be bent rarely for whole events to be valid often
    enough that both verdicts are well covered."""
    return st.integers(1, one_in).flatmap(lambda n: unusual if n == one_in else usual)


# Characters around which the patterns and lengths decide: separators, ASCII and Unicode
# whitespace and digits, letters ULIDs exclude, astral characters, a lone surrogate.
ODD_CHARS = "@/ \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2003\u2028\u3000\u200b\ufeff\x00.:-+Tt Zz0789٣０𝟘IiLOUugé🎓\ud800"
ULID_CHARS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ODD_CHAR = rarely(st.sampled_from(ODD_CHARS), st.characters(), 4)
NUMBERS_AND_SUCH = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.integers(), st.floats(),
                             st.just(10 ** 30), st.builds(list), st.builds(dict))


@st.composite
def uuids_and_ulids(draw):
    if draw(st.booleans()):
        text = str(draw(st.uuids()))
        return text.upper() if draw(st.booleans()) else text
    return draw(st.sampled_from("01234567")) + "".join(draw(st.lists(st.sampled_from(ULID_CHARS), min_size=25,
                                                                      max_size=25)))


@st.composite
def times(draw):
    moment = draw(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)))
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def odd_text(min_size=0, max_size=12):
    return st.text(alphabet=st.one_of(st.sampled_from(ODD_CHARS), st.characters()), min_size=min_size,
                   max_size=max_size)


ANY_FIELD_LENGTHS = (0, 7, 8, 9, 127, 128, 129, 319, 320, 321, 1022, 1023, 1024, 3070, 3071, 3072)


def lengths_around_bounds(path) -> tuple[int, ...]:
    """Lengths on and just past the minLength and maxLength the schema gives the field at `path`."""
    contract = schema_check.schema()
    spec = (contract["properties"] if len(path) == 1 else
            contract["$defs"].get(path[0], {}).get("properties", {}) if len(path) == 2 else {}).get(path[-1], {})
    bounds = [spec[k] + d for k, d in (("minLength", -1), ("minLength", 0), ("maxLength", 0), ("maxLength", 1))
              if k in spec]
    return tuple(sorted({max(0, b) for b in bounds})) or ANY_FIELD_LENGTHS


@st.composite
def near(draw, good, lengths=ANY_FIELD_LENGTHS):
    """A valid value bent a little: characters inserted, replaced or cut, a newline around it,
    or cut or padded to one of `lengths`."""
    text = draw(good)
    how = draw(st.sampled_from(["insert", "insert", "replace", "cut", "final newline", "newline", "length", "length",
                                "case"]))
    at = draw(st.integers(0, len(text)))
    if how == "insert":
        return text[:at] + draw(ODD_CHAR) + text[at:]
    if how == "replace":
        return text[:at] + draw(ODD_CHAR) + text[at + 1:]
    if how == "cut":
        return text[:at] + text[at + draw(st.integers(1, 3)):]
    if how == "final newline":
        return text + "\n"
    if how == "newline":
        return draw(st.sampled_from(["\n" + text, text + "\n\n", text + "\r\n", text + "\n" + text, text[:-1] + "\n"]))
    if how == "case":
        return text.swapcase()
    length = draw(st.sampled_from(lengths))
    filler = draw(st.sampled_from(["a", "🎓", "é", "-"]))
    return text[:length] + filler * (length - len(text))


def maybe(strategy, one_in=3):
    """The value, or (one time in `one_in`) no key at all."""
    return rarely(strategy, st.just(DELETE), one_in)


def objects(**fields):
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not DELETE})


def event_parts(odd: bool) -> dict:
    """Strategies for each part of an event: always valid values, or (odd) now and then a field
    bent near validity, odd text, a wrong type or a required key left out."""
    def field(*good):
        valid = st.one_of(*[st.just(v) if isinstance(v, str) else v for v in good])
        return rarely(valid, st.one_of(near(valid), near(valid), odd_text(), NUMBERS_AND_SUCH), 40) if odd else valid

    def required(strategy):
        return maybe(strategy, 60) if odd else strategy

    def sometimes(usual, unusual, one_in):
        return rarely(usual, unusual, one_in) if odd else usual

    room_jid = field("maths-3b@muc.meet.jitsi", "r@c", "physik-ä@conference.meet.jitsi")
    names = field("Alice", "", "Zoë 🎓", "a" * 1023, "x")
    claims = sometimes(
        st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=5), st.integers(), st.floats(),
                                                       st.booleans()), max_size=4),
        st.one_of(st.dictionaries(st.text(max_size=3), NUMBERS_AND_SUCH, max_size=3),
                  st.integers(63, 66).map(lambda n: {f"c{i}": i for i in range(n)}), NUMBERS_AND_SUCH), 10)
    source = objects(server=required(field("prosody", "openfire")),
                     host=required(field("muc.meet.jitsi", "conference.meet.jitsi", "x", "lobby.meet.jitsi")),
                     instance=required(field("8f14e45fceea167a", "12345678", "i" * 128)),
                     extra=rarely(st.just(DELETE), st.none(), 10))
    return {
        "type": field(*TYPES),
        "id": required(field(uuids_and_ulids())),
        "time": required(field(times(), "2025-11-22T08:01:00.000Z")),
        "source": required(sometimes(source, NUMBERS_AND_SUCH, 40)),
        "room": objects(jid=required(room_jid), name=required(field("maths-3b", "x", "é" * 1023)),
                        meeting_id=maybe(field("4f1e9a2c-6b7d-4e8f-9a0b-1c2d3e4f5a6b", "m")),
                        parent_jid=maybe(room_jid)),
        "occupant": objects(occupant_jid=required(field("maths-3b@muc.meet.jitsi/a1b2c3d4", "r@c/x", "r@c/a b@c/d",
                                                        "r@c/🎓")),
                            user_jid=required(field("k2x9q1@meet.jitsi/web-7", "meet.jitsi/focus", "a@b/c/d",
                                                    "alice@meet.jitsi/x y")),
                            bare_jid=required(field("k2x9q1@meet.jitsi", "meet.jitsi", "a@b")),
                            nick=maybe(names), previous_nick=maybe(names),
                            role=maybe(field("moderator", "participant", "visitor", "none"))),
        "identity": objects(user_id=maybe(field("u-1001", "u", "ü" * 1023)), name=maybe(names),
                            group=maybe(names), email=maybe(field("alice@school.example", "a@b", "a/b@c", "a.b+c@d")),
                            moderator=maybe(sometimes(st.booleans(), NUMBERS_AND_SUCH, 20)), claims=maybe(claims)),
    }


PARTS = {odd: event_parts(odd) for odd in (False, True)}


@st.composite
def events(draw, odd=True):
    """An event of any type. Valid (odd=False), or (odd) with fields bent now and then and its
    parts (room, occupant, identity) sometimes missing where its type requires them or present
    where it forbids them, so both sides of every if/then are reached."""
    parts = PARTS[odd]
    event_type = draw(parts["type"])
    wanted = {"room": event_type != "source.started",
              "occupant": isinstance(event_type, str) and event_type.startswith("occupant"),
              "identity": isinstance(event_type, str) and event_type.startswith("occupant")}
    event = {"id": draw(parts["id"]), "type": event_type, "time": draw(parts["time"]), "source": draw(parts["source"])}
    for part in ("room", "occupant", "identity"):
        if draw(rarely(st.just(wanted[part]), st.just(not wanted[part]), 12) if odd else st.just(wanted[part])):
            event[part] = draw(rarely(parts[part], st.one_of(NUMBERS_AND_SUCH, st.builds(list)), 40)
                               if odd else parts[part])
    if event_type == "occupant.renamed" and not odd:
        event["occupant"].setdefault("nick", "Alice")
        event["occupant"].setdefault("previous_nick", "")
    if draw(rarely(st.just(False), st.just(True), 10)):
        event[draw(st.sampled_from(["extra", "ID", "Type", "v"]))] = draw(NUMBERS_AND_SUCH)
    return {k: v for k, v in event.items() if v is not DELETE}


FIELD_NAMES = sorted({name for spec in [schema_check.schema(), *schema_check.schema()["$defs"].values()]
                      for name in spec.get("properties", {})} | {"extra"})


# Replacements: null often (optional keys and open maps must tell it from absence), other
# types, odd text, whole events where a part belongs.
OTHER_VALUES = rarely(st.one_of(NUMBERS_AND_SUCH, odd_text(), st.sampled_from(SAMPLES).map(copy.deepcopy)),
                      st.none(), 3)


@st.composite
def bent_events(draw):
    """A valid event (generated, or a contract example or vector event) with one thing, now
    and then two, made wrong or odd: a string bent near its constraints, a key dropped, a value
    replaced, a key added, an object grown to around the 64-claims bound. Everything else stays
    valid, so the verdict turns on that one change."""
    event = copy.deepcopy(draw(rarely(events(odd=False), st.sampled_from(VALID_SAMPLES), 3)))
    for _ in range(draw(rarely(st.just(1), st.just(2), 4))):
        if not isinstance(event, dict):
            break
        action = draw(st.sampled_from(["bend", "bend", "bend", "bend", "delete", "replace", "add", "grow"]))
        every = list(paths(event))[1:]
        fitting = [p for p in every
                   if isinstance(value_at(event, p), {"bend": str, "grow": dict, "add": dict}.get(action, ()))]
        path = draw(st.sampled_from(fitting or every or [("id",)]))
        parent = value_at(event, path[:-1])
        value = parent[path[-1]]
        if action == "bend" and isinstance(value, str):
            parent[path[-1]] = draw(near(st.just(value), lengths_around_bounds(path)))
        elif action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(OTHER_VALUES)
        elif action == "grow" and isinstance(value, dict):
            size, filler = draw(st.integers(63, 66)), draw(st.sampled_from([1, "v", True, 0.5, None]))
            value.update({f"k{i}": filler for i in range(size - len(value))})
        else:
            (value if isinstance(value, dict) else parent)[draw(st.sampled_from(FIELD_NAMES))] = draw(OTHER_VALUES)
    return event


@settings(max_examples=1000, deadline=None)
@given(events())
def test_verdicts_agree_on_generated_events(event):
    note_event("valid" if reference_valid(event) else "invalid")
    assert agrees(event), event


@settings(max_examples=3000, deadline=None)
@given(bent_events())
def test_verdicts_agree_on_bent_events(event):
    note_event("valid" if reference_valid(event) else "invalid")
    assert agrees(event), event


def test_the_generators_make_valid_events_and_often_enough_invalid_ones():
    """Guards the generators: were nearly all events invalid, the tests above would say little."""
    verdicts = {False: [], True: []}

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(st.booleans(), st.data())
    def sample(odd, data):
        verdicts[odd].append(reference_valid(data.draw(events(odd=odd))))

    sample()
    assert all(verdicts[False]) and len(verdicts[False]) > 50
    assert 0.2 < sum(verdicts[True]) / len(verdicts[True]) < 0.8, sum(verdicts[True])
