package org.jitsictl.openfire.attendance.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RecorderTest {
    static final String JWT_SECRET = "recorder-test-secret-0123456789";
    private final Map<String, String> properties = new HashMap<>(Map.of(
            Settings.JWT_SECRET, JWT_SECRET, Settings.CLAIMS, "courseid"));
    private final Map<String, String> tokens = new HashMap<>();
    private final Map<String, String> roles = new HashMap<>();
    private final List<Map<String, Object>> events = Collections.synchronizedList(new ArrayList<>());
    private final List<String> warnings = Collections.synchronizedList(new ArrayList<>());
    private final Clock clock = Clock.fixed(Instant.parse("2025-11-22T08:00:00.123Z"), ZoneOffset.UTC);
    private final AttendanceRecorder recorder = new AttendanceRecorder(new EventFactory(clock),
            new SettingsHolder(properties::get, warnings::add), events::add, new ListLog(warnings), tokens::get,
            jid -> jid.equals("admin@meet.jitsi"), (room, user) -> roles.get(user));

    record ListLog(List<String> lines) implements PluginLog {
        public void info(String m) {
            lines.add(m);
        }

        public void warn(String m) {
            lines.add(m);
        }

        public void error(String m, Throwable t) {
            lines.add(m);
        }
    }

    private void join(String room, String res, String user, String nick) {
        recorder.presence(room, res, user, nick);
        recorder.occupantJoined(room, res, user);
    }

    @Test
    void textOverTheContractsLimitsIsCutNotRefused() {
        // The receiver refuses an event over a maxLength, which would send a join to the dead
        // letters; the Prosody module cuts the same fields to the same lengths.
        String longName = "\u00c9" + "\ud83c\udf93".repeat(1100);
        Map<String, Object> payload = Map.of("context", Map.of("user", Map.of("id", "x".repeat(2000), "name", longName,
                "email", "a".repeat(400) + "@school.example"), "group", "g".repeat(1500)), "iss", "i".repeat(300),
                "exp", 4_000_000_000L);
        tokens.put("k2@meet.jitsi/web", JwtIdentity.sign(payload, JWT_SECRET));
        recorder.roomCreated("maths@muc.meet.jitsi");
        join("maths@muc.meet.jitsi", "a1b2", "k2@meet.jitsi/web", "\ud83c\udf93".repeat(1500));
        Map<?, ?> joined = events.get(events.size() - 1);
        String nick = (String) ((Map<?, ?>) joined.get("occupant")).get("nick");
        assertEquals(1023, nick.codePointCount(0, nick.length()));
        Map<?, ?> identity = (Map<?, ?>) joined.get("identity");
        for (String field : List.of("user_id", "name", "group")) {
            String value = (String) identity.get(field);
            assertEquals(1023, value.codePointCount(0, value.length()), field);
        }
        assertTrue(((String) identity.get("name")).startsWith("\u00c9\ud83c\udf93"));
        assertNull(identity.get("email"));  // cut to 320 it has no "@" left: no address, as on Prosody
        assertEquals(255, ((String) identity.get("issuer")).length());
    }

    @Test
    void eventsCarryExactlyTheContractFields() {
        Map<String, Object> payload = Map.of("context", Map.of("user", Map.of("id", "u-1", "name", "Zoë",
                "email", "zoe@school.example", "moderator", "true"), "group", "3b"), "courseid", "MATH101",
                "secret_note", "never", "exp", 4_000_000_000L);
        tokens.put("k2@meet.jitsi/web", JwtIdentity.sign(payload, JWT_SECRET));
        roles.put("k2@meet.jitsi/web", "participant");
        recorder.serverStarted("meet.jitsi");
        recorder.roomCreated("maths@muc.meet.jitsi");
        join("maths@muc.meet.jitsi", "a1b2", "k2@meet.jitsi/web", "Zoë 🎓");
        assertEquals(3, events.size());
        Map<String, Object> started = events.get(0);
        assertEquals(List.of("id", "type", "time", "source"), new ArrayList<>(started.keySet()));
        assertTrue(Pattern.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", (String) started.get("id")));
        assertEquals("2025-11-22T08:00:00.123Z", started.get("time"));
        assertEquals("{\"server\":\"openfire\",\"host\":\"meet.jitsi\",\"instance\":\"" + ((Map<?, ?>) started.get("source")).get("instance") + "\"}",
                Json.write(started.get("source")));
        Map<String, Object> joined = events.get(2);
        assertEquals("muc.meet.jitsi", ((Map<?, ?>) joined.get("source")).get("host"));
        assertEquals("{\"jid\":\"maths@muc.meet.jitsi\",\"name\":\"maths\"}", Json.write(joined.get("room")));
        assertEquals("{\"occupant_jid\":\"maths@muc.meet.jitsi/a1b2\",\"user_jid\":\"k2@meet.jitsi/web\",\"bare_jid\":\"k2@meet.jitsi\",\"nick\":\"Zoë 🎓\",\"role\":\"participant\"}",
                Json.write(joined.get("occupant")));
        assertEquals("{\"user_id\":\"u-1\",\"name\":\"Zoë\",\"email\":\"zoe@school.example\",\"moderator\":true,\"group\":\"3b\",\"claims\":{\"courseid\":\"MATH101\"}}",
                Json.write(joined.get("identity")));
    }

    @Test
    void forgedOrExpiredTokensGiveNoIdentity() {
        Map<String, Object> payload = Map.of("context", Map.of("user", Map.of("id", "u-1")));
        tokens.put("forged@meet.jitsi/a", JwtIdentity.sign(payload, "some-other-secret-0123456789"));
        tokens.put("expired@meet.jitsi/a", JwtIdentity.sign(Map.of("context", Map.of("user", Map.of("id", "u-2")), "exp", 1000L), JWT_SECRET));
        tokens.put("none@meet.jitsi/a", "eyJhbGciOiJub25lIn0.eyJjb250ZXh0Ijp7fX0.");
        recorder.roomCreated("r@muc.meet.jitsi");
        join("r@muc.meet.jitsi", "1", "forged@meet.jitsi/a", "F");
        join("r@muc.meet.jitsi", "2", "expired@meet.jitsi/a", "E");
        join("r@muc.meet.jitsi", "3", "none@meet.jitsi/a", "N");
        assertEquals(4, events.size());
        for (Map<String, Object> event : events.subList(1, 4)) {
            assertNull(event.get("identity"));
        }
        assertTrue(String.join("\n", warnings).contains("signature does not match"), warnings.toString());
        assertTrue(String.join("\n", warnings).contains("token expired"));
        assertTrue(String.join("\n", warnings).contains("algorithm none is not accepted"));
        assertThrows(JwtIdentity.InvalidToken.class, () -> JwtIdentity.verify("a.b", JWT_SECRET, 0));
    }

    @Test
    void systemOccupantsAndRoomsAreNeverReported() {
        recorder.roomCreated("__jicofo-health-check-1@muc.meet.jitsi");
        join("__jicofo-health-check-1@muc.meet.jitsi", "f", "focus@auth.meet.jitsi/f", "focus");
        recorder.roomCreated("jvbbrewery@internal-muc.meet.jitsi");
        join("jvbbrewery@internal-muc.meet.jitsi", "j", "jvb@auth.meet.jitsi/j", null);
        recorder.roomCreated("class@muc.meet.jitsi");
        join("class@muc.meet.jitsi", "f", "focus@auth.meet.jitsi/f", "focus");
        join("class@muc.meet.jitsi", "adm", "admin@meet.jitsi/x", "Admin");
        join("class@muc.meet.jitsi", "rec", "recorder@recorder.meet.jitsi/r", "Rec");
        recorder.occupantLeft("class@muc.meet.jitsi", "adm", "admin@meet.jitsi/x");
        recorder.roomDestroyed("__jicofo-health-check-1@muc.meet.jitsi");
        recorder.roomDestroyed("jvbbrewery@internal-muc.meet.jitsi");
        assertEquals(List.of("room.created"), events.stream().map(e -> e.get("type")).toList());
    }

    @Test
    void repeatedNickIsNotARenameAndStateIsClearedOnLeaveAndDestroy() {
        recorder.roomCreated("r@muc.meet.jitsi");
        join("r@muc.meet.jitsi", "a", "a@meet.jitsi/1", "Alice");
        recorder.presence("r@muc.meet.jitsi", "a", "a@meet.jitsi/1", "Alice");
        roles.put("a@meet.jitsi/1", "moderator");
        recorder.presence("r@muc.meet.jitsi", "a", "a@meet.jitsi/1", "Alice M");
        recorder.presence("r@muc.meet.jitsi", "a", "a@meet.jitsi/1", "Alice M");
        // Another connection claiming the same in-room resource renames nobody.
        recorder.presence("r@muc.meet.jitsi", "a", "intruder@meet.jitsi/9", "Mallory");
        roles.put("b@meet.jitsi/1", "owner");
        join("r@muc.meet.jitsi", "b", "b@meet.jitsi/1", "Bob");
        recorder.occupantLeft("r@muc.meet.jitsi", "a", "a@meet.jitsi/1");
        assertEquals(1, recorder.trackedOccupants());
        recorder.roomDestroyed("r@muc.meet.jitsi");
        assertEquals(List.of("room.created", "occupant.joined", "occupant.renamed", "occupant.joined", "occupant.left",
                "occupant.left", "room.destroyed"), events.stream().map(e -> e.get("type")).toList());
        Map<?, ?> renamed = (Map<?, ?>) events.get(2).get("occupant");
        assertEquals("Alice M", renamed.get("nick"));
        assertEquals("Alice", renamed.get("previous_nick"));
        assertEquals("moderator", renamed.get("role"), "role refreshed at a rename");
        assertEquals("Alice M", ((Map<?, ?>) events.get(4).get("occupant")).get("nick"));
        assertEquals("moderator", ((Map<?, ?>) events.get(4).get("occupant")).get("role"));
        assertNull(((Map<?, ?>) events.get(3).get("occupant")).get("role"), "only the contract's roles are sent");
        assertEquals(0, recorder.trackedRooms());
        assertEquals(0, recorder.trackedOccupants());
        assertEquals(0, recorder.pendingHints());
    }

    @Test
    void concurrentPresencesRenameExactlyOncePerChangeAndLeaveNoState() throws Exception {
        int rooms = 8;
        int occupants = 25;
        for (int r = 0; r < rooms; r++) {
            recorder.roomCreated("room" + r + "@muc.meet.jitsi");
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        List<java.util.concurrent.Future<?>> done = new ArrayList<>();
        for (int r = 0; r < rooms; r++) {
            for (int o = 0; o < occupants; o++) {
                String room = "room" + r + "@muc.meet.jitsi";
                String res = "o" + o;
                String user = "u" + r + "-" + o + "@meet.jitsi/x";
                done.add(pool.submit(() -> {
                    start.await();
                    join(room, res, user, "n0");
                    return null;
                }));
            }
        }
        start.countDown();
        for (var f : done) {
            f.get(20, TimeUnit.SECONDS);
        }
        done.clear();
        // Every occupant's two names, each sent by 4 racing threads: exactly two renames each.
        CountDownLatch go = new CountDownLatch(1);
        for (int t = 0; t < 4; t++) {
            done.add(pool.submit(() -> {
                go.await();
                for (int r = 0; r < rooms; r++) {
                    for (int o = 0; o < occupants; o++) {
                        recorder.presence("room" + r + "@muc.meet.jitsi", "o" + o, "u" + r + "-" + o + "@meet.jitsi/x", "n1");
                    }
                }
                return null;
            }));
        }
        go.countDown();
        for (var f : done) {
            f.get(20, TimeUnit.SECONDS);
        }
        for (int r = 0; r < rooms; r++) {
            for (int o = 0; o < occupants; o++) {
                recorder.presence("room" + r + "@muc.meet.jitsi", "o" + o, "u" + r + "-" + o + "@meet.jitsi/x", "n2");
            }
        }
        pool.shutdown();
        long renames = events.stream().filter(e -> "occupant.renamed".equals(e.get("type"))).count();
        assertEquals(2L * rooms * occupants, renames);
        for (int r = 0; r < rooms; r++) {
            recorder.roomDestroyed("room" + r + "@muc.meet.jitsi");
        }
        assertEquals(rooms * occupants, events.stream().filter(e -> "occupant.left".equals(e.get("type"))).count());
        assertEquals(0, recorder.trackedRooms());
        assertEquals(0, recorder.pendingHints());
    }
}
