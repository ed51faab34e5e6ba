package org.jitsictl.openfire.attendance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.jitsictl.openfire.attendance.core.Json;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every tests/vectors scenario through the plugin's Openfire-facing classes (Openfire's calls
 * played from its documented behaviour, see {@link ScenarioRunner}) yields the expected events:
 * same types, rooms, parents, nicks, identities (allow-listed claims only) and server lives, in
 * order of {@code at}, free order among events sharing an {@code at}. The cross-implementation
 * pytest compares the same output with the Prosody module's.
 */
class ScenarioVectorsTest {
    static Stream<Path> vectors() throws Exception {
        return Files.list(Path.of("..", "tests", "vectors")).filter(p -> p.toString().endsWith(".json")).sorted();
    }

    @ParameterizedTest
    @MethodSource("vectors")
    @SuppressWarnings("unchecked")
    void scenarioProducesTheExpectedEvents(Path file) throws Exception {
        Map<String, Object> vector = Json.readObject(Files.readString(file, StandardCharsets.UTF_8));
        List<String> claims = (List<String>) ((Map<String, Object>) vector.getOrDefault("settings", Map.of()))
                .getOrDefault("claims", List.of("courseid", "groupid"));
        List<Map<String, Object>> actual = ScenarioRunner.run(file, null);
        List<Map<String, Object>> expected = (List<Map<String, Object>>) vector.get("events");
        assertEquals(expected.size(), actual.size(), () -> "event count; got " + summaries(actual, null));

        Map<String, Object> people = (Map<String, Object>) vector.get("people");
        Map<String, String> personOfClient = new LinkedHashMap<>();
        for (Map<String, Object> step : (List<Map<String, Object>>) vector.get("steps")) {
            if ("join".equals(step.get("do"))) {
                personOfClient.put((String) step.get("client"), (String) step.get("person"));
            }
        }
        Map<Object, String> instances = new LinkedHashMap<>();
        int i = 0;
        while (i < expected.size()) {
            Object at = expected.get(i).get("at");
            List<String> want = new ArrayList<>();
            List<String> got = new ArrayList<>();
            int j = i;
            for (; j < expected.size() && Objects.equals(expected.get(j).get("at"), at); j++) {
                Map<String, Object> e = expected.get(j);
                Map<String, Object> identity = e.get("client") == null ? null
                        : identityOf((Map<String, Object>) people.get(personOfClient.get((String) e.get("client"))), claims);
                want.add(summary(e.get("type"), room(e), parent(e), e.get("nick"), e.get("previous_nick"), identity));
                Map<String, Object> a = actual.get(j);
                got.add(summary(a, ((Map<String, Object>) a.get("source")).get("instance")));
                String instance = (String) ((Map<String, Object>) a.get("source")).get("instance");
                String previous = instances.putIfAbsent(((Number) e.getOrDefault("instance", 1)).longValue(), instance);
                assertEquals(previous == null ? instance : previous, instance, "one instance per server life");
                assertEquals("2025-11-22T" + clock(((Number) at).longValue()), a.get("time"), "the step's time");
            }
            want.sort(null);
            List<String> gotSorted = new ArrayList<>(got);
            gotSorted.sort(null);
            assertEquals(want, gotSorted, "events at " + at);
            i = j;
        }
        assertEquals(instances.size(), instances.values().stream().distinct().count(), "a crash starts a new instance");
    }

    private static String clock(long at) {
        long s = 8 * 3600 + at;
        return String.format("%02d:%02d:%02d.000Z", s / 3600, (s / 60) % 60, s % 60);
    }

    private static String room(Map<String, Object> e) {
        return (String) e.get("room");
    }

    private static String parent(Map<String, Object> e) {
        return (String) e.get("parent");
    }

    @SuppressWarnings("unchecked")
    private static String summary(Map<String, Object> a, Object ignoredInstance) {
        Map<String, Object> room = (Map<String, Object>) a.get("room");
        Map<String, Object> occupant = (Map<String, Object>) a.getOrDefault("occupant", Map.of());
        String parentJid = room == null ? null : (String) room.get("parent_jid");
        return summary(a.get("type"), room == null ? null : (String) room.get("name"),
                parentJid == null ? null : parentJid.substring(0, parentJid.indexOf('@')),
                occupant.get("nick"), occupant.get("previous_nick"), (Map<String, Object>) a.get("identity"));
    }

    private static String summary(Object type, String room, String parent, Object nick, Object previous,
                                  Map<String, Object> identity) {
        return type + " room=" + room + " parent=" + parent + " nick=" + nick + " previous=" + previous
                + " identity=" + (identity == null ? null : Json.write(identity));
    }

    private static List<String> summaries(List<Map<String, Object>> events, Object unused) {
        return events.stream().map(e -> summary(e, null)).toList();
    }

    /** The identity tests/support/vectors.py expects from a person's token (same rules). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> identityOf(Map<String, Object> person, List<String> claims) {
        Map<String, Object> token = (Map<String, Object>) person.get("token");
        if (token == null) {
            return null;
        }
        Map<String, Object> context = token.get("context") instanceof Map<?, ?> c ? (Map<String, Object>) c : Map.of();
        Map<String, Object> user = context.get("user") instanceof Map<?, ?> u ? (Map<String, Object>) u : Map.of();
        Map<String, Object> identity = new LinkedHashMap<>();
        putGiven(identity, "user_id", user.get("id"));
        if (given(user.get("name")) != null) {
            identity.put("name", given(user.get("name")).replace("\\'", "'"));
        }
        putGiven(identity, "email", user.get("email"));
        putGiven(identity, "issuer", token.getOrDefault("iss", ScenarioRunner.ISSUER));
        Object inUser = user.get("moderator");
        Object atTop = token.get("moderator");
        if (inUser != null || atTop != null) {
            identity.put("moderator", saysYes(inUser) || saysYes(atTop));
        }
        putGiven(identity, "group", context.get("group"));
        Map<String, Object> allowed = new LinkedHashMap<>();
        for (String claim : claims) {
            if (token.containsKey(claim)) {
                allowed.put(claim, token.get(claim));
            }
        }
        if (!allowed.isEmpty()) {
            identity.put("claims", allowed);
        }
        assertTrue(!identity.isEmpty());
        return identity;
    }

    /** A claim as the vectors expect it: text unless blank; numbers as text; nothing else. */
    private static String given(Object value) {
        if (value instanceof Number) {
            return String.valueOf(value);
        }
        return value instanceof String text && !text.isBlank() ? text : null;
    }

    private static boolean saysYes(Object value) {
        return Boolean.TRUE.equals(value) || "true".equals(value);
    }

    private static void putGiven(Map<String, Object> identity, String field, Object value) {
        if (given(value) != null) {
            identity.put(field, given(value));
        }
    }
}
