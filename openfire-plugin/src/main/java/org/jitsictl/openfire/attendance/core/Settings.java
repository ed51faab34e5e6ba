package org.jitsictl.openfire.attendance.core;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The plugin's configuration, parsed from Openfire system properties.
 *
 * <p>Parsing never fails as a whole: an unset property takes its default, and a bad value is
 * reported (what was wrong, how to fix it) and replaced by the previous good value, so a typo
 * made through the REST API never stops attendance. Secrets are never echoed in reports.
 */
public final class Settings {
    public static final String URL = "attendance.url";
    public static final String SECRET = "attendance.secret";
    public static final String CLAIMS = "attendance.claims";
    public static final String BATCH_SIZE = "attendance.batch.size";
    public static final String FLUSH_INTERVAL = "attendance.flush.interval";
    public static final String TIMEOUT = "attendance.timeout";
    public static final String QUEUE_MAX = "attendance.queue.max";
    public static final String SKIP_JIDS = "attendance.skip.jids";
    public static final String JWT_SECRET = "attendance.jwt.secret";
    public static final String FOCUS_JID = "attendance.focus.jid";
    public static final String JITSI_SETUP = "attendance.jitsi.setup";
    public static final String ROOM_MAX_OCCUPANTS = "attendance.jitsi.room.max.occupants";
    public static final String USER_ID_CLAIM = "attendance.claim.user.id";
    public static final String EMAIL_CLAIM = "attendance.claim.email";
    public static final String NAME_CLAIM = "attendance.claim.name";
    public static final String GROUP_CLAIM = "attendance.claim.group";
    public static final String TRUSTED_AFFILIATIONS = "attendance.trusted.affiliations";

    /** Every property this class reads, in documentation order. */
    public static final List<String> NAMES = List.of(URL, SECRET, CLAIMS, BATCH_SIZE, FLUSH_INTERVAL, TIMEOUT,
            QUEUE_MAX, SKIP_JIDS, JWT_SECRET, USER_ID_CLAIM, EMAIL_CLAIM, NAME_CLAIM, GROUP_CLAIM, TRUSTED_AFFILIATIONS,
            FOCUS_JID, JITSI_SETUP, ROOM_MAX_OCCUPANTS);

    /** Openfire's own default is 30 occupants per room, focus included: too few for a class. */
    public static final int DEFAULT_ROOM_MAX_OCCUPANTS = 500;
    /** Far beyond what one Jitsi conference carries; 0 means no limit (Openfire's MUCRoom). */
    public static final int MAX_ROOM_MAX_OCCUPANTS = 100_000;

    public static final List<String> DEFAULT_SKIP_JIDS =
            List.of("focus", "jvb", "jibri", "recorder", "transcriber", "jigasi");

    private static final Pattern CLAIM_NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");
    private static final Pattern NODE = Pattern.compile("[^@/\\s,]+");
    private static final Pattern BARE_JID = Pattern.compile("[^@/\\s,]+@[^@/\\s,]+");
    private static final Pattern DOMAIN_ENTRY = Pattern.compile("@[^@/\\s,]+");

    public static final Settings DEFAULTS = new Settings(null, null, List.of(), 50, 2_000, 10_000, 100_000,
            DEFAULT_SKIP_JIDS, null, IdentityRules.DEFAULTS, null, true, DEFAULT_ROOM_MAX_OCCUPANTS);

    /** Receiver endpoint, or null: events are then kept in the spool until one is set. */
    public final URI url;
    /** The {@code whsec_} signing secret, or null: nothing is sent unsigned. */
    public final String secret;
    /** Custom top-level JWT claims that may appear in {@code identity.claims}. */
    public final List<String> claims;
    public final int batchSize;
    public final long flushIntervalMillis;
    public final long timeoutMillis;
    public final int queueMax;
    /** Entries: {@code node} (any domain), {@code node@domain}, {@code @domain}. */
    public final List<String> skipJids;
    /** HS256 key the deployment's JWTs are signed with; null: identity is never reported. */
    public final String jwtSecret;
    /** Where the token's identity is read and which affiliations make a moderator. */
    public final IdentityRules identityRules;
    /** Bare JID of jicofo's account; null: {@code focus@<xmpp domain>}. */
    public final String focusJid;
    /**
     * Whether to do the one-domain Jitsi setup: the brewery, focus as sysadmin and sole room
     * creator of every MUC service, room capacity, and the {@code focus.<domain>} relay.
     */
    public final boolean jitsiSetup;
    /** Occupants a conference room holds at most (focus included); 0: no limit. */
    public final int roomMaxOccupants;

    public Settings(URI url, String secret, List<String> claims, int batchSize, long flushIntervalMillis,
                    long timeoutMillis, int queueMax, List<String> skipJids, String jwtSecret,
                    IdentityRules identityRules, String focusJid, boolean jitsiSetup, int roomMaxOccupants) {
        this.url = url;
        this.secret = secret;
        this.claims = List.copyOf(claims);
        this.batchSize = batchSize;
        this.flushIntervalMillis = flushIntervalMillis;
        this.timeoutMillis = timeoutMillis;
        this.queueMax = queueMax;
        this.skipJids = List.copyOf(skipJids);
        this.jwtSecret = jwtSecret;
        this.identityRules = identityRules;
        this.focusJid = focusJid;
        this.jitsiSetup = jitsiSetup;
        this.roomMaxOccupants = roomMaxOccupants;
    }

    /**
     * Parses every property through {@code lookup}; each bad value is described to
     * {@code problems} (property name, description) and the value of {@code previous} is kept.
     */
    public static Settings parse(Function<String, String> lookup, Settings previous, BiConsumer<String, String> problems) {
        Parser p = new Parser(lookup, problems);
        URI url = p.value(URL, previous.url, null, Settings::parseUrl, true);
        String secret = p.value(SECRET, previous.secret, null, raw -> {
            WebhookSigner.decodeSecret(raw);
            return raw;
        }, false);
        List<String> claims = p.value(CLAIMS, previous.claims, List.of(), Settings::parseClaims, true);
        int batch = p.value(BATCH_SIZE, previous.batchSize, DEFAULTS.batchSize, raw -> (int) whole(raw, 1, 100), true);
        long flush = p.value(FLUSH_INTERVAL, previous.flushIntervalMillis, DEFAULTS.flushIntervalMillis,
                raw -> whole(raw, 100, 600_000), true);
        long timeout = p.value(TIMEOUT, previous.timeoutMillis, DEFAULTS.timeoutMillis,
                raw -> whole(raw, 500, 300_000), true);
        int queueMax = p.value(QUEUE_MAX, previous.queueMax, DEFAULTS.queueMax,
                raw -> (int) whole(raw, 100, 10_000_000), true);
        List<String> skip = p.value(SKIP_JIDS, previous.skipJids, DEFAULT_SKIP_JIDS, Settings::parseSkipJids, true);
        String jwtSecret = p.value(JWT_SECRET, previous.jwtSecret, null, raw -> {
            if (raw.length() < 16) {
                throw new IllegalArgumentException("is shorter than 16 characters; use the JWT_APP_SECRET the tokens are signed with");
            }
            return raw;
        }, false);
        IdentityRules was = previous.identityRules;
        IdentityRules d = IdentityRules.DEFAULTS;
        IdentityRules rules = new IdentityRules(
                p.value(USER_ID_CLAIM, was.userId(), d.userId(), Settings::parseClaimPath, true),
                p.value(EMAIL_CLAIM, was.email(), d.email(), Settings::parseClaimPath, true),
                p.value(NAME_CLAIM, was.name(), d.name(), Settings::parseClaimPath, true),
                p.value(GROUP_CLAIM, was.group(), d.group(), Settings::parseClaimPath, true),
                p.value(TRUSTED_AFFILIATIONS, was.trustedAffiliations(), d.trustedAffiliations(),
                        raw -> Set.copyOf(splitList(raw)), true));
        String focus = p.value(FOCUS_JID, previous.focusJid, null, raw -> {
            if (!BARE_JID.matcher(raw).matches()) {
                throw new IllegalArgumentException("is not a bare JID; write it as user@domain, e.g. focus@meet.example.org");
            }
            return raw.toLowerCase();
        }, true);
        Boolean setup = p.value(JITSI_SETUP, previous.jitsiSetup, DEFAULTS.jitsiSetup, raw -> {
            if (raw.equalsIgnoreCase("true") || raw.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(raw);
            }
            throw new IllegalArgumentException("must be true or false");
        }, true);
        int maxOccupants = p.value(ROOM_MAX_OCCUPANTS, previous.roomMaxOccupants, DEFAULTS.roomMaxOccupants,
                raw -> (int) whole(raw, 0, MAX_ROOM_MAX_OCCUPANTS), true);
        return new Settings(url, secret, claims, batch, flush, timeout, queueMax, skip, jwtSecret, rules, focus, setup,
                maxOccupants);
    }

    private static URI parseUrl(String raw) {
        URI uri;
        try {
            uri = new URI(raw);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("is not a URL; write e.g. http://logger:8000/v1/events");
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            throw new IllegalArgumentException("must start with http:// or https://");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("has no host; write e.g. http://logger:8000/v1/events");
        }
        return uri;
    }

    private static List<String> parseClaims(String raw) {
        List<String> names = splitList(raw);
        if (names.size() > 64) {
            throw new IllegalArgumentException("lists " + names.size() + " claims; at most 64 are allowed");
        }
        for (String name : names) {
            if (!CLAIM_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("'" + name + "' is not a claim name (letters, digits, _ . : -)");
            }
        }
        return names;
    }

    private static List<String> parseClaimPath(String raw) {
        try {
            return IdentityRules.parsePath(raw);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("is not a dot path into the token: it " + e.getMessage()
                    + "; write the claim names from the payload's top level down, joined by dots, e.g. "
                    + IdentityRules.DEFAULT_USER_ID);
        }
    }

    private static List<String> parseSkipJids(String raw) {
        List<String> entries = new ArrayList<>();
        for (String entry : splitList(raw)) {
            String lower = entry.toLowerCase();
            if (!NODE.matcher(lower).matches() && !BARE_JID.matcher(lower).matches()
                    && !DOMAIN_ENTRY.matcher(lower).matches()) {
                throw new IllegalArgumentException("'" + entry + "' is neither a user name, user@domain nor @domain");
            }
            entries.add(lower);
        }
        return entries;
    }

    private static long whole(String raw, long min, long max) {
        long value;
        try {
            value = Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("is not a whole number; use one from " + min + " to " + max);
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException("is out of range; use one from " + min + " to " + max);
        }
        return value;
    }

    /** Comma- or space-separated list, empty entries dropped, duplicates removed, order kept. */
    static List<String> splitList(String raw) {
        Map<String, Boolean> seen = new LinkedHashMap<>();
        Arrays.stream(raw.split("[,\\s]+")).map(String::trim).filter(s -> !s.isEmpty())
                .forEach(s -> seen.put(s, Boolean.TRUE));
        return Collections.unmodifiableList(new ArrayList<>(seen.keySet()));
    }

    private static final class Parser {
        private final Function<String, String> lookup;
        private final BiConsumer<String, String> problems;

        Parser(Function<String, String> lookup, BiConsumer<String, String> problems) {
            this.lookup = lookup;
            this.problems = problems;
        }

        <T> T value(String name, T previous, T fallback, Function<String, T> parse, boolean showValue) {
            String raw = lookup.apply(name);
            if (raw == null || raw.isBlank()) {
                return fallback;
            }
            try {
                return parse.apply(raw.trim());
            } catch (IllegalArgumentException e) {
                String kept = previous == null ? "unset" : showValue ? String.valueOf(previous) : "the previous value";
                problems.accept(name, "Openfire system property " + name + (showValue ? " = '" + raw + "'" : "")
                        + " " + e.getMessage() + "; keeping " + kept + " until it is corrected");
                return previous;
            }
        }
    }
}
