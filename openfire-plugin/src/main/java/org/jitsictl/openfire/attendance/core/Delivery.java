package org.jitsictl.openfire.attendance.core;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Gets events to the receiver without ever blocking the XMPP server.
 *
 * <p>{@link #accept} only serialises the event and queues it in memory (bounded). One
 * scheduled thread does everything else: every flush interval, or as soon as a batch is full,
 * it writes queued events to the {@link Spool} (fsynced), then posts the oldest spooled batches
 * signed per Standard Webhooks. A batch leaves the spool only after a 2xx answer; any other
 * answer, a timeout or a connection error schedules a retry with exponential backoff and
 * jitter, honouring Retry-After. Settings are re-read on every flush, so a new URL, secret or
 * batch size applies without a restart.
 *
 * <p>Refusals (readme "Refused batches"): 413 splits the request in halves down to single events
 * (the parts go in order, each under its own webhook id {@code <batch id>-<first>-<last>});
 * 400/415, and a single event still refused with 413, move to the bounded dead-letter folder
 * and the next batch goes; 401 other than {@code replayed} keeps the batch and retries, as only
 * the admin fixing the secret or a clock can cure it. {@value #REQUEUE} turning true moves the
 * dead letters back into the spool.
 */
public final class Delivery implements EventSink {
    /** Events held in memory between flushes; beyond it they are dropped and counted. */
    static final int MEMORY_MAX = 10_000;
    private static final long POLL_MILLIS = 100;
    private static final int MAX_BATCHES_PER_FLUSH = 50;
    /** Events the dead-letter folder may hold (the same bound as the Prosody module's store). */
    public static final int MAX_DEAD_LETTERS = 10_000;
    /** Live switch: when it becomes {@code true} (or is true at start) dead letters are re-queued. */
    public static final String REQUEUE = "attendance.deadletter.requeue";
    /** Characters of the receiver's refusal read (its {@code error} and {@code message}). */
    private static final int MAX_ANSWER_CHARS = 262_144;

    private final SettingsHolder settings;
    private final Spool spool;
    private final Spool deadLetters;
    private final AtomicLong deadLetterDropped = new AtomicLong();
    private boolean requeueWasOn;
    /** After a 413 on the oldest batch: its ranges still to send, [first, last) in order. */
    private java.util.ArrayDeque<int[]> parts;
    private long partsOf = -1;
    private final PluginLog log;
    private final Backoff backoff;
    private final ConcurrentLinkedQueue<String> memory = new ConcurrentLinkedQueue<>();
    private final AtomicInteger memoryCount = new AtomicInteger();
    private final AtomicLong droppedTotal = new AtomicLong();
    private final ReentrantLock work = new ReentrantLock();
    private final HttpClient http;
    private ScheduledExecutorService executor;
    // Written under `work`, read by the polling thread without it.
    private volatile long lastFlush;
    private volatile int attempt;
    private volatile long nextAttemptAt;
    private String lastIdleReason;

    /** Dead letters go to the folder {@code dead-letter} inside the spool's directory. */
    public Delivery(SettingsHolder settings, Spool spool, PluginLog log, Backoff backoff) {
        this(settings, spool, openDeadLetters(spool), log, backoff);
    }

    public Delivery(SettingsHolder settings, Spool spool, Spool deadLetters, PluginLog log, Backoff backoff) {
        this.settings = settings;
        this.spool = spool;
        this.deadLetters = deadLetters;
        this.log = log;
        this.backoff = backoff;
        // HTTP/1.1 only: for http:// URLs the JDK client would otherwise ask to upgrade to h2c,
        // which the receiver (gunicorn) refuses while the body is in flight: every delivery
        // then fails its signature check (found on a real Openfire, tests/openfire_live).
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    public synchronized void start() {
        executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "attendance-delivery");
            thread.setDaemon(true);
            return thread;
        });
        executor.scheduleWithFixedDelay(this::poll, 0, POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    private static Spool openDeadLetters(Spool spool) {
        Path dir = spool.directory().resolve("dead-letter");
        try {
            return new Spool(dir);
        } catch (IOException e) {
            throw new IllegalStateException("Attendance: cannot open the dead-letter directory " + dir + ": " + e.getMessage()
                    + ". Make it writable by Openfire.", e);
        }
    }

    @Override
    public void accept(Map<String, Object> event) {
        String line = Json.write(event);
        if (memoryCount.incrementAndGet() > MEMORY_MAX) {
            memoryCount.decrementAndGet();
            long dropped = droppedTotal.incrementAndGet();
            if (dropped == 1 || dropped % 1000 == 0) {
                log.error("Attendance: " + MEMORY_MAX + " events are waiting to be written to the spool; dropped "
                        + dropped + " events so far. The spool directory " + spool.directory() + " is not keeping up.", null);
            }
            return;
        }
        memory.add(line);
    }

    /** Stops the thread and writes what is still in memory to the spool. */
    @Override
    public void close() {
        ScheduledExecutorService running;
        synchronized (this) {
            running = executor;
            executor = null;
        }
        if (running != null) {
            running.shutdown();
            try {
                running.awaitTermination(settings.get().timeoutMillis + 2_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        work.lock();
        try {
            persist(settings.get());
        } finally {
            work.unlock();
        }
    }

    /** Flushes and sends now, on the caller's thread (tests and shutdown paths). */
    public void flushNow() {
        work.lock();
        try {
            lastFlush = System.currentTimeMillis();
            Settings current = settings.refresh();
            persist(current);
            requeueIfAsked();
            send(current);
        } finally {
            work.unlock();
        }
    }

    public int spooled() {
        return spool.size();
    }

    public long dropped() {
        return droppedTotal.get();
    }

    /** Events waiting in the dead-letter folder. */
    public int deadLetters() {
        return deadLetters.size();
    }

    /** Refused events dropped because the dead-letter folder was full. */
    public long deadLetterDropped() {
        return deadLetterDropped.get();
    }

    private void poll() {
        try {
            Settings current = settings.get();
            long now = System.currentTimeMillis();
            boolean full = memoryCount.get() >= current.batchSize;
            boolean due = now - lastFlush >= current.flushIntervalMillis;
            if (full || due || (spool.size() > 0 && now >= nextAttemptAt && attempt > 0)) {
                flushNow();
            }
        } catch (RuntimeException | Error e) {
            // The scheduler would silently stop on an exception: report it and keep running.
            log.error("Attendance delivery failed unexpectedly; it will try again", e);
        }
    }

    private void persist(Settings current) {
        while (memoryCount.get() > 0) {
            List<String> chunk = new ArrayList<>(current.batchSize);
            String line;
            while (chunk.size() < current.batchSize && (line = memory.poll()) != null) {
                chunk.add(line);
            }
            if (chunk.isEmpty()) {
                return;
            }
            memoryCount.addAndGet(-chunk.size());
            int stored;
            try {
                stored = spool.append(chunk, current.queueMax);
            } catch (IOException e) {
                stored = 0;
                log.error("Attendance: cannot write to the spool " + spool.directory() + " (" + e.getMessage()
                        + "); " + chunk.size() + " events are lost", e);
            }
            if (stored < chunk.size()) {
                long lost = chunk.size() - stored;
                long total = droppedTotal.addAndGet(lost);
                log.error("Attendance spool is full: " + spool.size() + " events wait on disk (attendance.queue.max = "
                        + current.queueMax + "); dropped " + lost + " new events now, " + total
                        + " since start. Check that attendance.url is reachable.", null);
            }
        }
    }

    private void send(Settings current) {
        String idle = current.url == null ? "attendance.url is not set"
                : current.secret == null ? "attendance.secret is not set (events are never sent unsigned)" : null;
        if (idle != null) {
            if (!idle.equals(lastIdleReason) && spool.size() > 0) {
                log.warn("Attendance events are kept in the spool (" + spool.size() + " now) because " + idle);
            }
            lastIdleReason = idle;
            return;
        }
        lastIdleReason = null;
        WebhookSigner signer = new WebhookSigner(current.secret);
        for (int i = 0; i < MAX_BATCHES_PER_FLUSH; i++) {
            if (System.currentTimeMillis() < nextAttemptAt) {
                return;
            }
            Spool.Batch batch;
            try {
                batch = spool.oldest();
            } catch (IOException e) {
                log.error("Attendance: cannot read the spool " + spool.directory(), e);
                return;
            }
            if (batch == null) {
                return;
            }
            if (parts != null && partsOf != batch.sequence()) {
                parts = null;
            }
            int[] range = parts == null ? new int[] {0, batch.events().size()} : parts.peek();
            List<String> events = batch.events().subList(range[0], range[1]);
            boolean whole = events.size() == batch.events().size();
            String webhookId = whole ? batch.webhookId() : batch.webhookId() + "-" + (range[0] + 1) + "-" + range[1];
            Outcome outcome = post(current, signer, webhookId, events);
            switch (outcome.kind) {
                case DELIVERED -> {
                    if (!rangeDone(batch)) {
                        return;
                    }
                    if (attempt > 0) {
                        log.info("Attendance receiver reachable again after " + attempt + " failed attempts");
                    }
                    attempt = 0;
                    nextAttemptAt = 0;
                }
                case SPLIT -> {
                    attempt = 0;
                    nextAttemptAt = 0;
                    if (events.size() > 1) {
                        int middle = range[0] + events.size() / 2;
                        if (parts == null) {
                            parts = new java.util.ArrayDeque<>();
                            parts.add(range);
                            partsOf = batch.sequence();
                        }
                        parts.poll();
                        parts.addFirst(new int[] {middle, range[1]});
                        parts.addFirst(new int[] {range[0], middle});
                        log.warn("Attendance receiver says batch " + batch.webhookId() + " is too large (HTTP 413 "
                                + orUnknown(outcome.reason) + "): sending its events " + (range[0] + 1) + "-" + range[1]
                                + " as " + (range[0] + 1) + "-" + middle + " and " + (middle + 1) + "-" + range[1]);
                    } else {
                        deadLetter(batch, events, outcome);
                        if (!rangeDone(batch)) {
                            return;
                        }
                    }
                }
                case DEAD_LETTER -> {
                    attempt = 0;
                    nextAttemptAt = 0;
                    deadLetter(batch, events, outcome);
                    if (!rangeDone(batch)) {
                        return;
                    }
                }
                default -> {
                    attempt++;
                    long delay = backoff.delayMillis(attempt, outcome.retryAfterMillis);
                    nextAttemptAt = System.currentTimeMillis() + delay;
                    // Attempts 1, 10, 20...: a receiver away for a day must not flood the log.
                    if (attempt == 1 || attempt % 10 == 0) {
                        String text = "Attendance receiver " + withoutCredentials(current.url) + " " + outcome.problem + "; retry "
                                + attempt + " in " + delay + " ms, " + spool.size() + " events wait in the spool";
                        if (outcome.status == 401) {
                            log.error(text + " (check that attendance.secret is the receiver's secret and that both clocks are right)", null);
                        } else if (outcome.status >= 400 && outcome.status < 500 && outcome.status != 408 && outcome.status != 429) {
                            log.error(text + " (check attendance.url and attendance.secret against the receiver)", null);
                        } else {
                            log.warn(text);
                        }
                    }
                    return;
                }
            }
        }
    }

    /**
     * The oldest batch's current range is done with (stored or dead-lettered): the batch leaves
     * the spool once all its ranges are. False when the spool cannot be changed (stop sending).
     */
    private boolean rangeDone(Spool.Batch batch) {
        if (parts != null) {
            parts.poll();
            if (!parts.isEmpty()) {
                return true;
            }
            parts = null;
        }
        try {
            spool.delete(batch);
            return true;
        } catch (IOException e) {
            log.error("Attendance: done with a batch but cannot delete it from the spool; it will be sent again "
                    + "(the receiver ignores duplicates)", e);
            return false;
        }
    }

    /**
     * Keeps events the receiver will never accept as they are, for an admin to inspect and
     * re-queue. Only the receiver's reason and message are logged, never event content.
     */
    private void deadLetter(Spool.Batch batch, List<String> events, Outcome outcome) {
        String why = outcome.reason == null && outcome.message == null ? "HTTP " + outcome.status + ", no reason given"
                : "HTTP " + outcome.status + " " + orUnknown(outcome.reason) + ": "
                        + (outcome.message == null ? "no message" : outcome.message);
        if (deadLetters.size() + events.size() > MAX_DEAD_LETTERS) {
            long dropped = deadLetterDropped.addAndGet(events.size());
            log.error("Attendance receiver refused " + events.size() + " event(s) of batch " + batch.webhookId() + " for good ("
                    + why + ") and the dead-letter folder is full (" + deadLetters.size() + " events): they are DROPPED ("
                    + dropped + " dropped so far). Inspect and re-queue the dead letters (readme, \"Refused batches\")", null);
            return;
        }
        try {
            deadLetters.append(events, MAX_DEAD_LETTERS);
        } catch (IOException e) {
            log.error("Attendance: cannot write to the dead-letter folder " + deadLetters.directory() + " (" + e.getMessage()
                    + "); " + events.size() + " refused event(s) of batch " + batch.webhookId() + " are lost", e);
            return;
        }
        log.error("Attendance receiver refused " + events.size() + " event(s) of batch " + batch.webhookId() + " for good ("
                + why + "): moved them to the dead-letter folder " + deadLetters.directory() + " (" + deadLetters.size()
                + " event(s) there now) and going on with the next batch. See readme, \"Refused batches\", to inspect and re-queue them",
                null);
    }

    private static String orUnknown(String reason) {
        return reason == null ? "?" : reason;
    }

    /** Re-queues the dead letters once each time {@value #REQUEUE} turns true (edge, not level). */
    private void requeueIfAsked() {
        String value = settings.property(REQUEUE);
        boolean on = value != null && value.trim().equalsIgnoreCase("true");
        if (on && !requeueWasOn) {
            log.info("Attendance: " + REQUEUE + " is true: re-queueing the dead letters");
            requeueDeadLetters();
        }
        requeueWasOn = on;
    }

    /**
     * Moves every dead-lettered batch back into the spool (oldest first), to be sent after what
     * already waits; stops when the spool has no room. Returns the number of events moved.
     */
    public int requeueDeadLetters() {
        work.lock();
        try {
            int moved = 0;
            int batches = 0;
            int queueMax = settings.get().queueMax;
            while (true) {
                Spool.Batch dead = deadLetters.oldest();
                if (dead == null) {
                    break;
                }
                if (spool.size() + dead.events().size() > queueMax) {
                    log.error("Attendance: cannot re-queue the dead letters: the spool has room for "
                            + Math.max(0, queueMax - spool.size()) + " more event(s), the next dead batch has "
                            + dead.events().size() + "; " + deadLetters.size() + " event(s) stay in the dead-letter folder", null);
                    break;
                }
                spool.append(dead.events(), queueMax);
                deadLetters.delete(dead);
                moved += dead.events().size();
                batches++;
            }
            log.info("Attendance: re-queued " + moved + " dead-lettered event(s) in " + batches + " batch(es); "
                    + deadLetters.size() + " event(s) left in the dead-letter folder");
            return moved;
        } catch (IOException e) {
            log.error("Attendance: re-queueing the dead letters failed (" + e.getMessage() + "); what was not moved stays in "
                    + deadLetters.directory(), e);
            return 0;
        } finally {
            work.unlock();
        }
    }

    enum Kind { DELIVERED, SPLIT, DEAD_LETTER, RETRY }

    private record Outcome(Kind kind, int status, String problem, String reason, String message, long retryAfterMillis) {
    }

    /**
     * What to do after the receiver's answer: 2xx, or a {@code replayed} refusal (already
     * stored), is delivered; 413 splits; 400 and 415 will never be accepted as they are; all
     * else (401, 404, 408, 429, 5xx, no answer) is retried.
     */
    static Kind kindOf(int status, String reason) {
        if ((status >= 200 && status < 300) || ((status == 401 || status == 409) && "replayed".equals(reason))) {
            return Kind.DELIVERED;
        }
        if (status == 413) {
            return Kind.SPLIT;
        }
        if (status == 400 || status == 415) {
            return Kind.DEAD_LETTER;
        }
        return Kind.RETRY;
    }

    private Outcome post(Settings current, WebhookSigner signer, String webhookId, List<String> events) {
        byte[] body = ("{\"events\":[" + String.join(",", events) + "]}").getBytes(StandardCharsets.UTF_8);
        long timestamp = System.currentTimeMillis() / 1000;
        HttpRequest request = HttpRequest.newBuilder(current.url)
                .timeout(Duration.ofMillis(current.timeoutMillis))
                .header("Content-Type", "application/json")
                .header("User-Agent", "jitsictl-openfire-attendance/1")
                .header("webhook-id", webhookId)
                .header("webhook-timestamp", Long.toString(timestamp))
                .header("webhook-signature", signer.sign(webhookId, timestamp, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            int status = response.statusCode();
            String[] refusal = refusal(response.body());
            Kind kind = kindOf(status, refusal[0]);
            if (kind == Kind.DELIVERED && status >= 300) {
                log.info("Attendance receiver already had batch " + webhookId + " (its earlier answer was lost); treating it as delivered");
            }
            long retryAfter = response.headers().firstValue("Retry-After").map(Delivery::retryAfterMillis).orElse(0L);
            return new Outcome(kind, status, "answered HTTP " + status + (refusal[0] == null ? "" : " " + refusal[0]),
                    refusal[0], refusal[1], retryAfter);
        } catch (IOException e) {
            return new Outcome(Kind.RETRY, 0, "failed: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()), null, null, 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(Kind.RETRY, 0, "interrupted", null, null, 0);
        }
    }

    /**
     * The receiver's {@code error} and {@code message} (either may be null). Only these are ever
     * logged: the rest of a refusal (a schema report) can quote event content.
     */
    static String[] refusal(String body) {
        String[] out = new String[2];
        if (body == null || body.isEmpty() || body.length() > MAX_ANSWER_CHARS) {
            return out;
        }
        try {
            Map<String, Object> answer = Json.readObject(body);
            if (answer.get("error") instanceof String reason) {
                out[0] = reason.length() > 64 ? reason.substring(0, 64) : reason;
            }
            if (answer.get("message") instanceof String message) {
                String flat = message.replaceAll("\\s+", " ");
                out[1] = flat.length() > 200 ? flat.substring(0, 200) : flat;
            }
        } catch (RuntimeException notJson) {
            // An HTML error page from a proxy, say: no reason to report.
        }
        return out;
    }

    /** The URL as it may be logged: any user:password part is left out. */
    static String withoutCredentials(java.net.URI url) {
        return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort())
                + (url.getRawPath() == null ? "" : url.getRawPath());
    }

    /** Retry-After as delay-seconds or an HTTP date; 0 when absent or unreadable. */
    static long retryAfterMillis(String value) {
        String trimmed = value.trim();
        try {
            return Math.max(0, Long.parseLong(trimmed)) * 1000;
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime when = ZonedDateTime.parse(trimmed, DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(0, when.toInstant().toEpochMilli() - System.currentTimeMillis());
            } catch (RuntimeException notDate) {
                return 0;
            }
        }
    }
}
