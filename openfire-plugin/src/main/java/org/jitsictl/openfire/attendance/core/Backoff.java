package org.jitsictl.openfire.attendance.core;

import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with jitter: attempt n waits a random time between half and all of
 * {@code base * 2^(n-1)}, capped, so a fleet of servers does not retry in lock step after an
 * outage. A server's Retry-After is honoured when it asks for longer.
 */
public final class Backoff {
    private final long baseMillis;
    private final long capMillis;
    private final DoubleSupplier random;

    public Backoff(long baseMillis, long capMillis, DoubleSupplier random) {
        if (baseMillis <= 0 || capMillis < baseMillis) {
            throw new IllegalArgumentException("need 0 < base <= cap");
        }
        this.baseMillis = baseMillis;
        this.capMillis = capMillis;
        this.random = random;
    }

    /** Delay before retry number {@code attempt} (1 = first retry). */
    public long delayMillis(int attempt, long retryAfterMillis) {
        int exponent = Math.min(Math.max(attempt, 1) - 1, 30);
        long ceiling = Math.min(capMillis, baseMillis << exponent);
        long jittered = ceiling / 2 + (long) (random.getAsDouble() * (ceiling - ceiling / 2));
        // Retry-After may exceed our own cap (a receiver in maintenance), but not absurdly.
        long honoured = Math.min(retryAfterMillis, Math.max(capMillis, 3_600_000L));
        return Math.max(jittered, honoured);
    }
}
