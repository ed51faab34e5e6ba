package org.jitsictl.openfire.attendance.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Turns what the XMPP server saw into contract-v1 events: the server-neutral heart of the
 * plugin. The Openfire classes only translate Openfire's callbacks into these calls, with JIDs
 * as strings, so every rule here is tested without Openfire.
 *
 * <p>Thread safety: Openfire calls listeners and interceptors from many packet threads at
 * once. All state is in concurrent maps updated with atomic {@code compute} operations; the
 * state of an occupant disappears when it leaves, and of a room when the room is destroyed.
 * Display names come from presence {@code <nick>} (seen before Openfire processes the
 * presence, so a join's nick is known when {@code occupantJoined} fires); repeated presences
 * with the same nick are not renames.
 */
public final class AttendanceRecorder {
    /** Pending (pre-join) hints older than this are stale: the join was refused or never came. */
    static final long PENDING_TTL_NANOS = 60_000_000_000L;
    static final int PENDING_MAX = 10_000;
    static final int LAST_ROOM_MAX = 10_000;

    private final EventFactory events;
    private final SettingsHolder settings;
    private final EventSink sink;
    private final PluginLog log;
    private final Function<String, String> tokenOf;
    private final Predicate<String> isServerAdmin;
    private final BiFunction<String, String, String> roleOf;

    private final ConcurrentHashMap<String, RoomState> rooms = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Pending> pending = new ConcurrentHashMap<>();
    /** Last main room each connection (full JID) joined: a breakout room's parent. */
    private final Map<String, String> lastMainRoom = Collections.synchronizedMap(
            new LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                    return size() > LAST_ROOM_MAX;
                }
            });

    /**
     * @param tokenOf       a connection's (full JID's) JWT as its session holds it, or null
     * @param isServerAdmin whether a bare JID is a server administrator (never reported)
     * @param roleOf        an occupant's MUC role ({@code moderator}, {@code participant}, {@code visitor},
     *                      {@code none}) by room JID and user full JID, or null when unknown
     */
    public AttendanceRecorder(EventFactory events, SettingsHolder settings, EventSink sink, PluginLog log,
                              Function<String, String> tokenOf, Predicate<String> isServerAdmin,
                              BiFunction<String, String, String> roleOf) {
        this.events = events;
        this.settings = settings;
        this.sink = sink;
        this.log = log;
        this.tokenOf = tokenOf;
        this.isServerAdmin = isServerAdmin;
        this.roleOf = roleOf;
    }

    private static final Set<String> ROLES = Set.of("moderator", "participant", "visitor", "none");

    private record Occupant(String occupantJid, String userJid, String nick, String role, Map<String, Object> identity) {
        Map<String, Object> toJson(String previousNick) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("occupant_jid", occupantJid);
            json.put("user_jid", userJid);
            json.put("bare_jid", bare(userJid));
            if (nick != null) {
                json.put("nick", nick);
            }
            if (previousNick != null) {
                json.put("previous_nick", previousNick);
            }
            if (role != null) {
                json.put("role", role);
            }
            return json;
        }
    }

    private record Pending(String nick, long since) {
    }

    private static final class RoomState {
        final EventFactory.Room room;
        /** Reported occupants by in-room resource. */
        final ConcurrentHashMap<String, Occupant> occupants = new ConcurrentHashMap<>();

        RoomState(EventFactory.Room room) {
            this.room = room;
        }
    }

    public void serverStarted(String xmppDomain) {
        sink.accept(events.sourceStarted(xmppDomain));
    }

    /** An available presence to {@code room/resource} from {@code userJid}, before processing. */
    public void presence(String roomJid, String resource, String userJid, String typedNick) {
        String nick = SchemaLimits.clip(typedNick, SchemaLimits.TEXT);
        if (SkipRules.isSystemRoom(roomJid)) {
            return;
        }
        long now = System.nanoTime();
        if (isBreakoutService(roomJid) && !rooms.containsKey(roomJid)) {
            String main = lastMainRoom.get(userJid);
            if (main != null) {
                pending.put(parentKey(roomJid), new Pending(main, now));
            }
        }
        if (nick == null) {
            return;
        }
        RoomState state = rooms.get(roomJid);
        if (state != null) {
            Occupant[] renamed = new Occupant[2];
            state.occupants.computeIfPresent(resource, (key, occupant) -> {
                if (!occupant.userJid.equals(userJid) || nick.equals(occupant.nick)) {
                    return occupant;
                }
                String role = roleFor(roomJid, userJid);
                Occupant updated = new Occupant(occupant.occupantJid, occupant.userJid, nick,
                        role == null ? occupant.role : role, occupant.identity);
                renamed[0] = occupant;
                renamed[1] = updated;
                return updated;
            });
            if (renamed[1] != null) {
                // Without a known previous name there is no rename to report, only a name to learn.
                if (renamed[0].nick != null) {
                    sink.accept(events.occupantEvent("occupant.renamed", state.room,
                            renamed[1].toJson(renamed[0].nick), renamed[1].identity));
                }
                return;
            }
            if (state.occupants.containsKey(resource)) {
                return;
            }
        }
        if (pending.size() >= PENDING_MAX) {
            pending.values().removeIf(p -> now - p.since > PENDING_TTL_NANOS);
        }
        pending.put(occupantKey(roomJid, resource, userJid), new Pending(nick, now));
    }

    public void roomCreated(String roomJid) {
        if (SkipRules.isSystemRoom(roomJid)) {
            return;
        }
        Pending parent = pending.remove(parentKey(roomJid));
        RoomState state = new RoomState(new EventFactory.Room(roomJid, parent == null ? null : parent.nick));
        rooms.put(roomJid, state);
        sink.accept(events.roomEvent("room.created", state.room));
    }

    public void occupantJoined(String roomJid, String resource, String userJid) {
        Pending hint = pending.remove(occupantKey(roomJid, resource, userJid));
        if (SkipRules.isSystemRoom(roomJid) || isSystemAccount(userJid)) {
            return;
        }
        // A room created before this plugin started: track it from now on, without a created event.
        RoomState state = rooms.computeIfAbsent(roomJid, jid -> new RoomState(new EventFactory.Room(jid, null)));
        Occupant occupant = new Occupant(roomJid + "/" + resource, userJid, hint == null ? null : hint.nick,
                roleFor(roomJid, userJid), identityOf(userJid));
        state.occupants.put(resource, occupant);
        if (!isBreakoutService(roomJid)) {
            lastMainRoom.put(userJid, roomJid);
        }
        sink.accept(events.occupantEvent("occupant.joined", state.room, occupant.toJson(null), occupant.identity));
    }

    public void occupantLeft(String roomJid, String resource, String userJid) {
        pending.remove(occupantKey(roomJid, resource, userJid));
        RoomState state = rooms.get(roomJid);
        if (state == null) {
            return;
        }
        Occupant[] left = new Occupant[1];
        state.occupants.computeIfPresent(resource, (key, occupant) -> {
            if (userJid != null && !occupant.userJid.equals(userJid)) {
                return occupant;
            }
            left[0] = occupant;
            return null;
        });
        if (left[0] != null) {
            sink.accept(events.occupantEvent("occupant.left", state.room, left[0].toJson(null), left[0].identity));
        }
    }

    /**
     * The room told an occupant its current role (the self-presence every role change, and
     * every presence update, ends with). Like Prosody's module, a role change is no event of its
     * own: the occupant's later events (rename, leave) carry the new role.
     */
    public void roleSeen(String roomJid, String resource, String userJid, String role) {
        RoomState state = rooms.get(roomJid);
        if (state == null || role == null || !ROLES.contains(role)) {
            return;
        }
        state.occupants.computeIfPresent(resource, (key, occupant) ->
                !occupant.userJid.equals(userJid) || role.equals(occupant.role) ? occupant
                        : new Occupant(occupant.occupantJid, occupant.userJid, occupant.nick, role, occupant.identity));
    }

    /**
     * The occupant's in-room address changed (an MUC nickname change, which Jitsi never makes):
     * reported as leaving from the old address and joining at the new one, keeping the display
     * name and identity, so a receiver that keys guests by occupant closes the first interval.
     */
    public void occupantMoved(String roomJid, String oldResource, String newResource, String userJid) {
        RoomState state = rooms.get(roomJid);
        if (state == null) {
            return;
        }
        Occupant old = state.occupants.get(oldResource);
        if (old == null || !old.userJid.equals(userJid) || !state.occupants.remove(oldResource, old)) {
            return;
        }
        sink.accept(events.occupantEvent("occupant.left", state.room, old.toJson(null), old.identity));
        Occupant moved = new Occupant(roomJid + "/" + newResource, userJid, old.nick, old.role, old.identity);
        state.occupants.put(newResource, moved);
        sink.accept(events.occupantEvent("occupant.joined", state.room, moved.toJson(null), moved.identity));
    }

    /** Anyone still inside leaves first: the contract sends a leave for everyone in a destroyed room. */
    public void roomDestroyed(String roomJid) {
        RoomState state = rooms.remove(roomJid);
        pending.remove(parentKey(roomJid));
        String prefix = roomJid + "\n";
        pending.keySet().removeIf(key -> key.startsWith(prefix));
        if (SkipRules.isSystemRoom(roomJid)) {
            return;
        }
        EventFactory.Room room = state == null ? new EventFactory.Room(roomJid, null) : state.room;
        if (state != null) {
            List<Occupant> remaining = new ArrayList<>(state.occupants.values());
            state.occupants.clear();
            for (Occupant occupant : remaining) {
                sink.accept(events.occupantEvent("occupant.left", room, occupant.toJson(null), occupant.identity));
            }
        }
        sink.accept(events.roomEvent("room.destroyed", room));
    }

    /** Rooms and occupants currently tracked: for tests and the admin log. */
    public int trackedRooms() {
        return rooms.size();
    }

    public int trackedOccupants() {
        return rooms.values().stream().mapToInt(state -> state.occupants.size()).sum();
    }

    public int pendingHints() {
        return pending.size();
    }

    private boolean isSystemAccount(String userJid) {
        String bare = bare(userJid);
        Settings current = settings.get();
        if (SkipRules.isSkippedAccount(bare, current.skipJids)) {
            return true;
        }
        if (current.focusJid != null && current.focusJid.equalsIgnoreCase(bare)) {
            return true;
        }
        return isServerAdmin.test(bare);
    }

    private String roleFor(String roomJid, String userJid) {
        String role = roleOf.apply(roomJid, userJid);
        return role != null && ROLES.contains(role) ? role : null;
    }

    private Map<String, Object> identityOf(String userJid) {
        String token = tokenOf.apply(userJid);
        if (token == null) {
            return null;
        }
        Settings current = settings.get();
        if (current.jwtSecret == null) {
            log.warn("Attendance: a connection presents a JWT but attendance.jwt.secret is not set, so its identity "
                    + "cannot be verified and is not reported");
            return null;
        }
        try {
            return JwtIdentity.identity(JwtIdentity.verify(token, current.jwtSecret, events.nowEpochSeconds()),
                    current.claims, current.identityRules);
        } catch (JwtIdentity.InvalidToken e) {
            log.warn("Attendance: ignored the JWT of " + bare(userJid) + ": " + e.getMessage());
            return null;
        }
    }

    private static boolean isBreakoutService(String roomJid) {
        return roomJid.regionMatches(true, roomJid.indexOf('@') + 1, "breakout.", 0, "breakout.".length());
    }

    private static String occupantKey(String roomJid, String resource, String userJid) {
        return roomJid + "\n" + resource + "\n" + userJid;
    }

    private static String parentKey(String roomJid) {
        return roomJid + "\nparent";
    }

    static String bare(String jid) {
        int slash = jid.indexOf('/');
        return slash < 0 ? jid : jid.substring(0, slash);
    }
}
