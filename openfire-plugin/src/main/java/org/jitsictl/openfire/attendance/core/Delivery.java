package org.jitsictl.openfire.attendance.core;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
 */
public final class Delivery implements EventSink {
    /** Events held in memory between flushes; beyond it they are dropped and counted. */
    static final int MEMORY_MAX = 10_000;
    private static final long POLL_MILLIS = 100;
    private static final int MAX_BATCHES_PER_FLUSH = 50;

    private final SettingsHolder settings;
    private final Spool spool;
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

    public Delivery(SettingsHolder settings, Spool spool, PluginLog log, Backoff backoff) {
        this.settings = settings;
        this.spool = spool;
        this.log = log;
        this.backoff = backoff;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
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
            Outcome outcome = post(current, signer, batch);
            if (outcome.delivered) {
                try {
                    spool.delete(batch);
                } catch (IOException e) {
                    log.error("Attendance: delivered a batch but cannot delete it from the spool; it will be sent again "
                            + "(the receiver ignores duplicates)", e);
                    return;
                }
                if (attempt > 0) {
                    log.info("Attendance receiver reachable again after " + attempt + " failed attempts");
                }
                attempt = 0;
                nextAttemptAt = 0;
            } else {
                attempt++;
                long delay = backoff.delayMillis(attempt, outcome.retryAfterMillis);
                nextAttemptAt = System.currentTimeMillis() + delay;
                log.warn("Attendance receiver " + withoutCredentials(current.url) + " " + outcome.problem + "; retry " + attempt + " in "
                        + delay + " ms, " + spool.size() + " events wait in the spool");
                return;
            }
        }
    }

    private record Outcome(boolean delivered, String problem, long retryAfterMillis) {
    }

    private Outcome post(Settings current, WebhookSigner signer, Spool.Batch batch) {
        byte[] body = ("{\"events\":[" + String.join(",", batch.events()) + "]}").getBytes(StandardCharsets.UTF_8);
        long timestamp = System.currentTimeMillis() / 1000;
        HttpRequest request = HttpRequest.newBuilder(current.url)
                .timeout(Duration.ofMillis(current.timeoutMillis))
                .header("Content-Type", "application/json")
                .header("User-Agent", "jitsictl-openfire-attendance/1")
                .header("webhook-id", batch.webhookId())
                .header("webhook-timestamp", Long.toString(timestamp))
                .header("webhook-signature", signer.sign(batch.webhookId(), timestamp, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        try {
            HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
            int status = response.statusCode();
            if (status >= 200 && status < 300) {
                return new Outcome(true, null, 0);
            }
            long retryAfter = response.headers().firstValue("Retry-After").map(Delivery::retryAfterMillis).orElse(0L);
            return new Outcome(false, "answered HTTP " + status, retryAfter);
        } catch (IOException e) {
            return new Outcome(false, "failed: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(false, "interrupted", 0);
        }
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
