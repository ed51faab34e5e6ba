package org.jitsictl.openfire.attendance.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    void writerReproducesTheExampleBodyFromItsParsedForm() throws Exception {
        String body = (String) signingExample().get("body");
        assertEquals(body, Json.write(Json.read(body)));
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
        assertEquals(List.of(0L, -12L, 3.5, 1e-7), back.get("numbers"));
        assertEquals(text, Json.write(back));
    }

    @Test
    void readerRejectsMalformedInputClearly() {
        for (String bad : List.of("{", "{\"a\":}", "[1,]", "\"unterminated", "{\"a\":1} x", "tru", "{'a':1}")) {
            assertThrows(IllegalArgumentException.class, () -> Json.read(bad), bad);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.read("[1,]"));
        assertEquals("invalid JSON at offset 3: unexpected character ']'", e.getMessage());
    }
}
