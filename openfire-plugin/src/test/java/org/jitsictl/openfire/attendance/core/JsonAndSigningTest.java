package org.jitsictl.openfire.attendance.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonAndSigningTest {
    /** schema/examples/signing.json, the contract's worked example, relative to openfire-plugin/. */
    static Map<String, Object> signingExample() throws Exception {
        Path file = Path.of("..", "schema", "examples", "signing.json");
        return Json.readObject(Files.readString(file, StandardCharsets.UTF_8));
    }

    @Test
    void signingReproducesTheContractExampleByteForByte() throws Exception {
        Map<String, Object> example = signingExample();
        WebhookSigner signer = new WebhookSigner((String) example.get("secret"));
        String body = (String) example.get("body");
        String signature = signer.sign((String) example.get("webhook_id"),
                Long.parseLong((String) example.get("webhook_timestamp")), body.getBytes(StandardCharsets.UTF_8));
        assertEquals(example.get("webhook_signature"), signature);
        assertEquals(557, body.getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    void writerReproducesTheExampleBodyFromTheContractsFieldOrder() throws Exception {
        Map<String, Object> source = ordered("server", "prosody", "host", "muc.meet.jitsi", "instance", "8f14e45fceea167a");
        Map<String, Object> room = ordered("jid", "maths-3b@muc.meet.jitsi", "name", "maths-3b");
        Map<String, Object> occupant = ordered("occupant_jid", "maths-3b@muc.meet.jitsi/a1b2c3d4",
                "user_jid", "alice@meet.jitsi/web-1", "bare_jid", "alice@meet.jitsi", "nick", "Zo\u00eb \ud83c\udf93",
                "role", "participant");
        Map<String, Object> identity = ordered("user_id", "u-1001", "name", "Zo\u00eb Martin", "email", "zoe@school.example",
                "moderator", false, "group", "class-3b", "claims", ordered("courseid", "MATH101"));
        Map<String, Object> event = ordered("id", "01JD3N5Z8Q4W0X9F6G7H8J9K0M", "type", "occupant.joined",
                "time", "2025-11-22T08:00:00.000Z", "source", source, "room", room, "occupant", occupant, "identity", identity);
        String body = (String) signingExample().get("body");
        assertEquals(body, Json.write(event));
        assertEquals(event, Json.readObject(body), "read back: the same fields and values (org.json keeps no order)");
    }

    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    @Test
    void badSecretsAreRefusedWithAReason() {
        assertThrows(IllegalArgumentException.class, () -> new WebhookSigner("EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8="));
        IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class, () -> new WebhookSigner("whsec_AAAA"));
        assertEquals("the key has 3 bytes; at least 24 are required", shortKey.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new WebhookSigner("whsec_!!notbase64!!"));
    }

    @Test
    void roundTripKeepsQuotesEmojiRtlAndControlCharacters() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("quotes", "O'Brien \"Danny\" <b>&amp;</b> \\o/");
        value.put("emoji", "Zoë 🎓 Øster");
        value.put("rtl", "مريم أحمد \u200f(3B)");
        value.put("control", "line1\nline2\ttab\u0001\u2028");
        value.put("numbers", List.of(0L, -12L, 3.5, 1e-7));
        value.put("flags", List.of(true, false));
        value.put("nothing", null);
        String text = Json.write(value);
        assertFalse(text.contains("\n"), "one event per line in the spool");
        Map<String, Object> back = Json.readObject(text);
        assertEquals(value.get("quotes"), back.get("quotes"));
        assertEquals(value.get("emoji"), back.get("emoji"));
        assertEquals(value.get("rtl"), back.get("rtl"));
        assertEquals(value.get("control"), back.get("control"));
        assertEquals(List.of(true, false), back.get("flags"));
        assertNull(back.get("nothing"));
        assertTrue(back.containsKey("nothing"));
        List<?> numbers = (List<?>) back.get("numbers");
        assertEquals(List.of(0L, -12L, 3.5, 1e-7), numbers.stream().map(n -> n instanceof Integer i ? (Object) i.longValue()
                : n instanceof java.math.BigDecimal d ? (Object) d.doubleValue() : n).toList());
        assertEquals("[0,-12,3.5,1.0E-7]", Json.write(value.get("numbers")));
    }

    @Test
    void readerRejectsMalformedInputClearly() {
        for (String bad : List.of("{", "{\"a\":}", "[1]", "\"unterminated", "{\"a\":1} x", "tru", "")) {
            assertThrows(IllegalArgumentException.class, () -> Json.readObject(bad), bad);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.readObject("{\"a\":}"));
        assertTrue(e.getMessage().startsWith("invalid JSON: "), e.getMessage());
    }

    @Test
    void writerRefusesWhatJsonCannotCarry() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of("a", new Object())));
    }
}
