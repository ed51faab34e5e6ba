package org.jitsictl.openfire.attendance.core;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Builds contract-v1 events (schema/attendance-event.v1.json) with exactly the schema's fields,
 * in the contract's field order. One factory per plugin start: its {@code instance} is random
 * per start, which is how the receiver learns that the server restarted.
 */
public final class EventFactory {
    public static final String SERVER = "openfire";
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Clock clock;
    private final String instance;

    public EventFactory(Clock clock) {
        this(clock, newInstanceId());
    }

    public EventFactory(Clock clock, String instance) {
        this.clock = clock;
        this.instance = instance;
    }

    public static String newInstanceId() {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    public String instance() {
        return instance;
    }

    public long nowEpochSeconds() {
        return clock.instant().getEpochSecond();
    }

    public Map<String, Object> sourceStarted(String host) {
        return base("source.started", host);
    }

    public Map<String, Object> roomEvent(String type, Room room) {
        Map<String, Object> event = base(type, room.service());
        event.put("room", room.toJson());
        return event;
    }

    public Map<String, Object> occupantEvent(String type, Room room, Map<String, Object> occupant,
                                             Map<String, Object> identity) {
        Map<String, Object> event = roomEvent(type, room);
        event.put("occupant", occupant);
        if (identity != null) {
            event.put("identity", identity);
        }
        return event;
    }

    private Map<String, Object> base(String type, String host) {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("id", UUID.randomUUID().toString());
        event.put("type", type);
        event.put("time", TIME.format(clock.instant()));
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("server", SERVER);
        source.put("host", host);
        source.put("instance", instance);
        event.put("source", source);
        return event;
    }

    /** A room as the contract describes it; {@code parentJid} for breakout rooms. */
    public record Room(String jid, String parentJid) {
        public String name() {
            return jid.substring(0, jid.indexOf('@'));
        }

        public String service() {
            return jid.substring(jid.indexOf('@') + 1);
        }

        Map<String, Object> toJson() {
            Map<String, Object> room = new LinkedHashMap<>();
            room.put("jid", jid);
            room.put("name", SchemaLimits.clip(name(), SchemaLimits.TEXT));
            if (parentJid != null) {
                room.put("parent_jid", parentJid);
            }
            return room;
        }
    }
}
