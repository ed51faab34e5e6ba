package org.jitsictl.openfire.attendance.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {
    private static final String SECRET = "whsec_EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8=";
    private final Map<String, String> properties = new HashMap<>();
    private final List<String> problems = new ArrayList<>();

    @Test
    void defaultsWhenNothingIsSet() {
        Settings s = new SettingsHolder(properties::get, problems::add).get();
        assertNull(s.url);
        assertNull(s.secret);
        assertEquals(List.of(), s.claims);
        assertEquals(50, s.batchSize);
        assertEquals(Settings.DEFAULT_SKIP_JIDS, s.skipJids);
        assertTrue(problems.isEmpty());
    }

    @Test
    void goodValuesAreReadAndChangesApplyLive() {
        properties.put(Settings.URL, "http://logger:8000/v1/events");
        properties.put(Settings.SECRET, SECRET);
        properties.put(Settings.CLAIMS, "courseid, groupid");
        properties.put(Settings.BATCH_SIZE, "20");
        SettingsHolder holder = new SettingsHolder(properties::get, problems::add);
        assertEquals("logger", holder.get().url.getHost());
        assertEquals(List.of("courseid", "groupid"), holder.get().claims);
        assertEquals(20, holder.get().batchSize);
        properties.put(Settings.BATCH_SIZE, "100");
        assertEquals(100, holder.refresh().batchSize);
        assertTrue(problems.isEmpty(), problems.toString());
    }

    @Test
    void badValueIsReportedOnceAndTheLastGoodValueKept() {
        properties.put(Settings.BATCH_SIZE, "20");
        properties.put(Settings.URL, "http://logger:8000/v1/events");
        SettingsHolder holder = new SettingsHolder(properties::get, problems::add);
        properties.put(Settings.BATCH_SIZE, "lots");
        properties.put(Settings.URL, "ftp://logger/");
        Settings s = holder.refresh();
        assertEquals(20, s.batchSize);
        assertEquals("http://logger:8000/v1/events", s.url.toString());
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("attendance.url = 'ftp://logger/' must start with http:// or https://"), problems.get(0));
        assertTrue(problems.get(1).contains("attendance.batch.size = 'lots' is not a whole number; use one from 1 to 100; keeping 20 until it is corrected"), problems.get(1));
        holder.refresh();
        assertEquals(2, problems.size(), "unchanged text is not re-reported");
        properties.put(Settings.BATCH_SIZE, "500");
        assertEquals(20, holder.refresh().batchSize);
        assertTrue(problems.get(2).contains("'500' is out of range"), problems.get(2));
    }

    @Test
    void secretsAreNeverEchoed() {
        properties.put(Settings.SECRET, SECRET);
        SettingsHolder holder = new SettingsHolder(properties::get, problems::add);
        properties.put(Settings.SECRET, "whsec_c2hvcnQ=");
        properties.put(Settings.JWT_SECRET, "tiny");
        Settings s = holder.refresh();
        assertEquals(SECRET, s.secret);
        assertNull(s.jwtSecret);
        assertEquals(2, problems.size());
        for (String problem : problems) {
            assertFalse(problem.contains("c2hvcnQ") || problem.contains("tiny") || problem.contains("EBES"), problem);
        }
    }

    @Test
    void skipEntriesAndClaimNamesAreValidated() {
        properties.put(Settings.SKIP_JIDS, "focus, jvb@auth.meet.jitsi @recorder.meet.jitsi");
        properties.put(Settings.CLAIMS, "courseid,bad claim!");
        Settings s = new SettingsHolder(properties::get, problems::add).get();
        assertEquals(List.of("focus", "jvb@auth.meet.jitsi", "@recorder.meet.jitsi"), s.skipJids);
        assertEquals(List.of(), s.claims);
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).contains("'bad' is not a claim name") || problems.get(0).contains("'claim!' is not a claim name"),
                problems.get(0));
    }

    @Test
    void skipRules() {
        List<String> entries = List.of("focus", "jvb@auth.meet.jitsi", "@recorder.meet.jitsi");
        assertTrue(SkipRules.isSkippedAccount("focus@auth.meet.jitsi", entries));
        assertTrue(SkipRules.isSkippedAccount("jvb@auth.meet.jitsi", entries));
        assertTrue(SkipRules.isSkippedAccount("anyone@recorder.meet.jitsi", entries));
        assertFalse(SkipRules.isSkippedAccount("jvb@meet.jitsi", entries));
        assertFalse(SkipRules.isSkippedAccount("alice@meet.jitsi", entries));
        assertTrue(SkipRules.isSystemRoom("__jicofo-health-check-7d1f@muc.meet.jitsi"));
        assertTrue(SkipRules.isSystemRoom("jvbbrewery@internal-muc.meet.jitsi"));
        assertTrue(SkipRules.isSystemRoom("anything@internal-muc.meet.jitsi"));
        assertFalse(SkipRules.isSystemRoom("maths-3b@muc.meet.jitsi"));
    }

    @Test
    void backoffGrowsWithJitterWithinBoundsAndHonoursRetryAfter() {
        Backoff low = new Backoff(1_000, 60_000, () -> 0.0);
        Backoff high = new Backoff(1_000, 60_000, () -> 0.999999);
        assertEquals(500, low.delayMillis(1, 0));
        assertEquals(4_000, low.delayMillis(4, 0));
        assertTrue(high.delayMillis(4, 0) > 7_990 && high.delayMillis(4, 0) <= 8_000);
        assertEquals(30_000, low.delayMillis(30, 0), "capped at 60 s, jitter down to half");
        assertEquals(120_000, low.delayMillis(1, 120_000), "Retry-After wins when longer");
        assertEquals(3_600_000, low.delayMillis(1, 86_400_000), "but an absurd Retry-After is capped");
        assertEquals(5_000, Delivery.retryAfterMillis(" 5 "));
        assertEquals(0, Delivery.retryAfterMillis("soon"));
        assertEquals("https://logger:8443/v1/events",
                Delivery.withoutCredentials(java.net.URI.create("https://user:pass@logger:8443/v1/events")));
    }
}
