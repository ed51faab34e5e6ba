package org.jitsictl.openfire.attendance.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spool and the sender, against a real HTTP server on 127.0.0.1 that verifies signatures. */
class DeliveryTest {
    private static final String SECRET = "whsec_EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8=";
    @TempDir
    Path dir;
    private HttpServer server;
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    /** Event ids in requests the receiver accepted (2xx), in order. */
    private final List<String> accepted = Collections.synchronizedList(new ArrayList<>());
    private final List<String> webhookIds = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private final AtomicInteger badSignatures = new AtomicInteger();
    /** How the receiver answers a well-signed request (its events' ids); null: 200. */
    private volatile java.util.function.Function<List<String>, Answer> answer;
    /** Every well-signed request: its webhook id, its events' ids and the status it got. */
    private final List<String> exchanges = Collections.synchronizedList(new ArrayList<>());

    record Answer(int status, String body) {
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private String startReceiver() throws IOException {
        WebhookSigner verifier = new WebhookSigner(SECRET);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/events", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String id = exchange.getRequestHeaders().getFirst("webhook-id");
            String ts = exchange.getRequestHeaders().getFirst("webhook-timestamp");
            String sig = exchange.getRequestHeaders().getFirst("webhook-signature");
            webhookIds.add(id);
            int status;
            if (id == null || ts == null || sig == null || !sig.equals(verifier.sign(id, Long.parseLong(ts), body))
                    || Math.abs(Long.parseLong(ts) - System.currentTimeMillis() / 1000) > 300) {
                badSignatures.incrementAndGet();
                status = 401;
            } else if (failuresLeft.getAndDecrement() > 0) {
                exchange.getResponseHeaders().add("Retry-After", "0");
                status = 503;
            } else {
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> events = (List<Map<String, Object>>) Json.readObject(
                        new String(body, StandardCharsets.UTF_8)).get("events");
                List<String> ids = events.stream().map(e -> (String) e.get("id")).toList();
                Answer reply = answer == null ? new Answer(200, "{}") : answer.apply(ids);
                exchanges.add(id + " " + shortIds(ids) + " " + reply.status());
                if (reply.status() >= 200 && reply.status() < 300) {
                    accepted.addAll(ids);
                }
                byte[] text = reply.body().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(reply.status(), text.length == 0 ? -1 : text.length);
                exchange.getResponseBody().write(text);
                exchange.close();
                return;
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/events";
    }

    /** "0,1,2" for the events made by event(0..2). */
    private static String shortIds(List<String> ids) {
        return String.join(",", ids.stream().map(id -> Integer.toString(Integer.parseInt(id.substring(24)))).toList());
    }

    private static Map<String, Object> event(int n) {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("id", String.format("00000000-0000-4000-8000-%012d", n));
        event.put("type", "source.started");
        event.put("time", "2025-11-22T08:00:00.000Z");
        event.put("source", Map.of("server", "openfire", "host", "meet.jitsi", "instance", "abcdef0123456789"));
        return event;
    }

    private static List<String> lines(int from, int to) {
        List<String> lines = new ArrayList<>();
        for (int i = from; i < to; i++) {
            lines.add(Json.write(event(i)));
        }
        return lines;
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
    }

    @Test
    void spoolSurvivesARestartAndKeepsBatchIdsAndOrder() throws Exception {
        Spool spool = new Spool(dir);
        assertEquals(3, spool.append(lines(0, 3), 100));
        assertEquals(2, spool.append(lines(3, 5), 100));
        String firstId = spool.oldest().webhookId();
        Files.writeString(dir.resolve("00000000000000000009-half-written.jsonl.tmp"), "{\"id\":");
        Spool reopened = new Spool(dir);
        assertEquals(5, reopened.size());
        assertEquals(2, reopened.batches());
        Spool.Batch oldest = reopened.oldest();
        assertEquals(firstId, oldest.webhookId());
        assertEquals(lines(0, 3), oldest.events());
        reopened.delete(oldest);
        assertEquals(lines(3, 5), new Spool(dir).oldest().events());
        assertEquals(1, reopened.append(lines(5, 6), 100));
        assertTrue(new Spool(dir).oldest().events().equals(lines(3, 5)), "new batches go after old ones");
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.toString().endsWith(".tmp")), "interrupted writes are cleaned up");
        }
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)),
                        "spooled attendance is personal data: " + file);
            }
        }
    }

    @Test
    void spoolIsBoundedAndOverflowIsCountedAndLogged() throws Exception {
        Map<String, String> properties = new HashMap<>(Map.of(Settings.QUEUE_MAX, "100", Settings.BATCH_SIZE, "40"));
        SettingsHolder settings = new SettingsHolder(properties::get, log::add);
        Spool spool = new Spool(dir);
        Delivery delivery = new Delivery(settings, spool, new RecorderTest.ListLog(log), new Backoff(10, 100, () -> 0.5));
        for (int i = 0; i < 130; i++) {
            delivery.accept(event(i));
        }
        delivery.flushNow();
        assertEquals(100, spool.size());
        assertEquals(30, delivery.dropped());
        String all = String.join("\n", log);
        assertTrue(all.contains("Attendance spool is full: 100 events wait on disk (attendance.queue.max = 100); dropped 20 new events now, 20 since start"), all);
        assertTrue(all.contains("dropped 10 new events now, 30 since start"), all);
        assertTrue(all.contains("because attendance.url is not set"), all);
    }

    @Test
    void outageThenRecoveryDeliversEveryEventExactlyOnceWithStableWebhookIds() throws Exception {
        String url = startReceiver();
        failuresLeft.set(3);
        Map<String, String> properties = new HashMap<>(Map.of(Settings.URL, url, Settings.SECRET, SECRET,
                Settings.BATCH_SIZE, "10", Settings.FLUSH_INTERVAL, "100", Settings.TIMEOUT, "2000"));
        SettingsHolder settings = new SettingsHolder(properties::get, log::add);
        Delivery delivery = new Delivery(settings, new Spool(dir), new RecorderTest.ListLog(log), new Backoff(20, 200, () -> 0.5));
        delivery.start();
        for (int i = 0; i < 35; i++) {
            delivery.accept(event(i));
        }
        waitFor(() -> accepted.size() >= 35 && delivery.spooled() == 0);
        delivery.close();
        assertEquals(0, badSignatures.get());
        assertEquals(35, accepted.size(), accepted.toString());
        assertEquals(35, accepted.stream().distinct().count(), "exactly once");
        assertEquals(event(0).get("id"), accepted.get(0), "in order");
        // The three refused attempts were all the first batch, under one webhook-id.
        assertEquals(1, webhookIds.subList(0, 4).stream().distinct().count(), webhookIds.toString());
        assertTrue(String.join("\n", log).contains("answered HTTP 503; retry 1 "), log.toString());
        assertTrue(!String.join("\n", log).contains("retry 2 "), "not every attempt is logged: " + log);
        assertTrue(String.join("\n", log).contains("reachable again after 3 failed attempts"), log.toString());
    }

    @Test
    void receiverDownAcrossARestartStillGetsEverythingAfterwards() throws Exception {
        Map<String, String> properties = new HashMap<>(Map.of(Settings.URL, "http://127.0.0.1:9/v1/events",
                Settings.SECRET, SECRET, Settings.FLUSH_INTERVAL, "100", Settings.TIMEOUT, "1000"));
        SettingsHolder settings = new SettingsHolder(properties::get, log::add);
        Delivery first = new Delivery(settings, new Spool(dir), new RecorderTest.ListLog(log), new Backoff(20, 100, () -> 0.5));
        first.start();
        for (int i = 0; i < 12; i++) {
            first.accept(event(i));
        }
        first.close();
        assertEquals(12, new Spool(dir).size(), "kept on disk while the receiver is unreachable");
        properties.put(Settings.URL, startReceiver());
        Delivery second = new Delivery(settings, new Spool(dir), new RecorderTest.ListLog(log), new Backoff(20, 100, () -> 0.5));
        second.start();
        waitFor(() -> accepted.size() >= 12 && second.spooled() == 0);
        second.close();
        assertEquals(lines(0, 12).size(), accepted.size());
        assertEquals(12, accepted.stream().distinct().count());
        assertEquals(0, badSignatures.get());
    }

    /** The log with levels, to check what is said as an error. */
    record LevelLog(List<String> lines) implements PluginLog {
        public void info(String m) {
            lines.add("INFO " + m);
        }

        public void warn(String m) {
            lines.add("WARN " + m);
        }

        public void error(String m, Throwable t) {
            lines.add("ERROR " + m);
        }
    }

    private Map<String, String> properties;

    /** A delivery to the local receiver, batches of `batchSize`; driven with flushNow(). */
    private Delivery refusalDelivery(int batchSize) throws IOException {
        properties = new HashMap<>(Map.of(Settings.URL, startReceiver(), Settings.SECRET, SECRET,
                Settings.BATCH_SIZE, Integer.toString(batchSize), Settings.TIMEOUT, "5000"));
        SettingsHolder settings = new SettingsHolder(key -> properties.get(key), log::add);
        return new Delivery(settings, new Spool(dir), new LevelLog(log), new Backoff(20, 100, () -> 0.5));
    }

    private static List<String> ids(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add((String) event(i).get("id"));
        }
        return out;
    }

    private List<String> deadLetterFiles() throws IOException {
        try (var files = Files.list(dir.resolve("dead-letter"))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jsonl")).sorted().toList();
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {400, 415})
    void aBatchRefusedForGoodIsDeadLetteredAndTheNextOnesGo(int status) throws Exception {
        String first = (String) event(0).get("id");
        answer = batch -> batch.contains(first)
                ? new Answer(status, "{\"error\": \"schema\", \"message\": \"1 schema violation(s): nothing was stored\", "
                        + "\"errors\": [\"events[0]: SECRET-CONTENT\"]}")
                : new Answer(200, "{}");
        Delivery delivery = refusalDelivery(3);
        for (int i = 0; i < 9; i++) {
            delivery.accept(event(i));
        }
        delivery.flushNow();
        assertEquals(ids(3, 9), accepted, "the batches behind the refused one are delivered, in order");
        assertEquals(0, delivery.spooled());
        assertEquals(3, delivery.deadLetters());
        assertEquals(1, deadLetterFiles().size());
        assertEquals(lines(0, 3), new Spool(dir.resolve("dead-letter")).oldest().events(), "kept exactly as spooled");
        String all = String.join("\n", log);
        assertTrue(all.contains("ERROR Attendance receiver refused 3 event(s) of batch"), all);
        assertTrue(all.contains("(HTTP " + status + " schema: 1 schema violation(s): nothing was stored): moved them to the dead-letter folder"), all);
        assertTrue(all.contains("(3 event(s) there now)"), all);
        assertTrue(!all.contains("SECRET-CONTENT") && !all.contains(first) && !all.contains(SECRET.substring(6)),
                "no event content and no secret in the log: " + all);
        Delivery restarted = refusalDelivery(3);
        assertEquals(3, restarted.deadLetters(), "dead letters survive a restart");
        assertEquals(0, restarted.spooled());
    }

    @Test
    void aBatchRefusedAsTooLargeIsSplitInHalvesAndSentInOrder() throws Exception {
        answer = batch -> batch.size() > 2 ? new Answer(413, "{\"error\": \"batch_too_large\", \"message\": \"too many\"}")
                : new Answer(200, "{}");
        Delivery delivery = refusalDelivery(5);
        for (int i = 0; i < 5; i++) {
            delivery.accept(event(i));
        }
        delivery.flushNow();
        List<String> sent = exchanges.stream().map(e -> e.substring(e.indexOf(' ') + 1)).toList();
        assertEquals(List.of("0,1,2,3,4 413", "0,1 200", "2,3,4 413", "2 200", "3,4 200"), sent);
        String whole = exchanges.get(0).split(" ")[0];
        assertEquals(whole + "-1-2", exchanges.get(1).split(" ")[0]);
        assertEquals(whole + "-4-5", exchanges.get(4).split(" ")[0]);
        assertEquals(ids(0, 5), accepted);
        assertEquals(0, delivery.spooled());
        assertEquals(0, delivery.deadLetters());
        assertTrue(String.join("\n", log).contains("WARN Attendance receiver says batch " + whole
                + " is too large (HTTP 413 batch_too_large): sending its events 1-5 as 1-2 and 3-5"), log.toString());
    }

    @Test
    void aSingleEventStillTooLargeIsDeadLetteredAndTheRestSent() throws Exception {
        String big = (String) event(0).get("id");
        answer = batch -> batch.contains(big) ? new Answer(413, "{\"error\": \"too_large\", \"message\": \"body exceeds 10 bytes\"}")
                : new Answer(200, "{}");
        Delivery delivery = refusalDelivery(2);
        for (int i = 0; i < 4; i++) {
            delivery.accept(event(i));
        }
        delivery.flushNow();
        List<String> sent = exchanges.stream().map(e -> e.substring(e.indexOf(' ') + 1)).toList();
        assertEquals(List.of("0,1 413", "0 413", "1 200", "2,3 200"), sent);
        assertEquals(ids(1, 4), accepted);
        assertEquals(1, delivery.deadLetters());
        assertEquals(lines(0, 1), new Spool(dir.resolve("dead-letter")).oldest().events());
        assertTrue(String.join("\n", log).contains("(HTTP 413 too_large: body exceeds 10 bytes): moved them"), log.toString());
    }

    @Test
    void aBadSignatureIsRetriedWithTheDataKeptAndAnErrorAboutSecretAndClocks() throws Exception {
        Delivery delivery = refusalDelivery(10);
        properties.put(Settings.SECRET, "whsec_" + java.util.Base64.getEncoder().encodeToString(new byte[32]));
        properties.put(Settings.FLUSH_INTERVAL, "100");
        delivery.start();
        for (int i = 0; i < 3; i++) {
            delivery.accept(event(i));
        }
        waitFor(() -> badSignatures.get() >= 12);
        assertEquals(3, delivery.spooled(), "kept: only the admin can fix a secret or a clock");
        assertEquals(0, delivery.deadLetters());
        long errors = log.stream().filter(l -> l.startsWith("ERROR") && l.contains("answered HTTP 401")
                && l.contains("check that attendance.secret is the receiver's secret and that both clocks are right")).count();
        assertTrue(errors >= 1 && errors <= 2, "logged at attempts 1 and 10 only, not " + errors + " times: " + log);
        properties.put(Settings.SECRET, SECRET);
        waitFor(() -> accepted.size() >= 3);
        delivery.close();
        assertEquals(ids(0, 3), accepted);
        assertEquals(0, delivery.spooled());
    }

    @Test
    void aReplayRefusalMeansTheBatchIsStored() throws Exception {
        answer = batch -> new Answer(401, "{\"error\": \"replayed\", \"message\": \"already accepted\"}");
        Delivery delivery = refusalDelivery(3);
        for (int i = 0; i < 6; i++) {
            delivery.accept(event(i));
        }
        delivery.flushNow();
        assertEquals(2, exchanges.size(), exchanges.toString());
        assertEquals(0, delivery.spooled());
        assertEquals(0, delivery.deadLetters());
        assertTrue(String.join("\n", log).contains("already had batch"), log.toString());
    }

    @Test
    void deadLettersAreRequeuedOnceWhenThePropertyTurnsTrue() throws Exception {
        answer = batch -> new Answer(400, "{\"error\": \"bad_shape\"}");
        Delivery delivery = refusalDelivery(2);
        for (int i = 0; i < 4; i++) {
            delivery.accept(event(i));
        }
        delivery.flushNow();
        assertEquals(4, delivery.deadLetters());
        assertEquals(2, deadLetterFiles().size());
        answer = null; // the receiver was fixed
        delivery.accept(event(4));
        properties.put(Delivery.REQUEUE, "true");
        delivery.flushNow();
        assertEquals(0, delivery.deadLetters());
        assertEquals(0, delivery.spooled());
        List<String> sent = exchanges.stream().map(e -> e.substring(e.indexOf(' ') + 1)).toList();
        assertEquals(List.of("0,1 400", "2,3 400", "4 200", "0,1 200", "2,3 200"), sent, "behind what waited, as they were");
        assertEquals(ids(0, 5).stream().sorted().toList(), accepted.stream().sorted().toList());
        answer = batch -> new Answer(400, "{}");
        delivery.accept(event(5));
        delivery.flushNow();
        delivery.flushNow();
        assertEquals(1, delivery.deadLetters(), "still true: not re-queued again (no loop between spool and dead letters)");
        assertEquals(1, log.stream().filter(l -> l.contains("re-queued 4 dead-lettered event(s) in 2 batch(es)")).count(), log.toString());
        assertTrue(String.join("\n", log).contains("(HTTP 400, no reason given): moved them"), log.toString());
    }

    @Test
    void aFullDeadLetterFolderDropsLoudly() throws Exception {
        answer = batch -> new Answer(400, "{\"error\": \"schema\"}");
        properties = new HashMap<>(Map.of(Settings.URL, startReceiver(), Settings.SECRET, SECRET, Settings.BATCH_SIZE, "2"));
        Spool deadLetters = new Spool(dir.resolve("dead-letter"));
        deadLetters.append(java.util.Collections.nCopies(Delivery.MAX_DEAD_LETTERS - 1, "{}"), Delivery.MAX_DEAD_LETTERS);
        Delivery delivery = new Delivery(new SettingsHolder(key -> properties.get(key), log::add), new Spool(dir), deadLetters,
                new LevelLog(log), new Backoff(20, 100, () -> 0.5));
        delivery.accept(event(0));
        delivery.accept(event(1));
        delivery.flushNow();
        assertEquals(Delivery.MAX_DEAD_LETTERS - 1, delivery.deadLetters());
        assertEquals(2, delivery.deadLetterDropped());
        assertEquals(0, delivery.spooled());
        assertTrue(String.join("\n", log).contains("the dead-letter folder is full (9999 events): they are DROPPED (2 dropped so far)"),
                log.toString());
    }

    @Test
    void answersAreSortedAsTheReceiversRefusalTableSays() {
        assertEquals(Delivery.Kind.DELIVERED, Delivery.kindOf(200, null));
        assertEquals(Delivery.Kind.DELIVERED, Delivery.kindOf(401, "replayed"));
        assertEquals(Delivery.Kind.SPLIT, Delivery.kindOf(413, "too_large"));
        assertEquals(Delivery.Kind.DEAD_LETTER, Delivery.kindOf(400, "duplicate_ids"));
        assertEquals(Delivery.Kind.DEAD_LETTER, Delivery.kindOf(415, null));
        for (int status : new int[] {0, 401, 404, 408, 429, 500, 503}) {
            assertEquals(Delivery.Kind.RETRY, Delivery.kindOf(status, status == 401 ? "bad_signature" : null), "HTTP " + status);
        }
        assertEquals("schema", Delivery.refusal("{\"error\":\"schema\",\"message\":\"a\\nb\"}")[0]);
        assertEquals("a b", Delivery.refusal("{\"error\":\"schema\",\"message\":\"a\\nb\"}")[1]);
        assertEquals(null, Delivery.refusal("<html>Bad Request</html>")[0]);
    }
}
