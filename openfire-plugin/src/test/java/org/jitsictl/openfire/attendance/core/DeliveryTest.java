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
                for (Map<String, Object> event : events) {
                    accepted.add((String) event.get("id"));
                }
                status = 200;
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/events";
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
        assertTrue(String.join("\n", log).contains("answered HTTP 503; retry 3"), log.toString());
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
}
