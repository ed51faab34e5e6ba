package org.jitsictl.openfire.attendance;

import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jitsictl.openfire.attendance.core.Json;
import org.jitsictl.openfire.attendance.core.JwtIdentity;
import org.jitsictl.openfire.attendance.core.Settings;
import org.jivesoftware.openfire.SessionManager;
import org.jivesoftware.openfire.XMPPServer;
import org.jivesoftware.openfire.admin.AdminManager;
import org.jivesoftware.openfire.container.PluginManager;
import org.jivesoftware.openfire.interceptor.InterceptorManager;
import org.jivesoftware.openfire.interceptor.PacketRejectedException;
import org.jivesoftware.openfire.muc.MUCEventDispatcher;
import org.jivesoftware.openfire.muc.NotAllowedException;
import org.jivesoftware.openfire.muc.Role;
import org.jivesoftware.openfire.session.LocalClientSession;
import org.jivesoftware.util.JiveGlobals;
import org.xmpp.packet.JID;
import org.xmpp.packet.Presence;

/**
 * Plays a tests/vectors scenario through the real plugin class the way Openfire would call it,
 * and returns (or, from {@code main}, prints as JSON lines) the events the plugin emitted.
 *
 * <p>Openfire cannot run here, so Openfire's side is played from its documented behaviour: a
 * client's presence passes the interceptors (before processing), the MUC creates the room on
 * the first join ({@code roomCreated}) and fires {@code occupantJoined}; leaves, disconnects
 * and kicks fire {@code occupantLeft} with {@code room@service/nick}; a room is destroyed when
 * its last occupant leaves; a destroy makes everyone leave, then the room is destroyed. A crash
 * drops the process: listeners, sessions and rooms vanish and a new plugin instance starts.
 * Token users connect with their JWT (signed with the scenario secret) in their session data,
 * where a JWT-authenticating deployment puts it; the plugin verifies it itself. Moving to a
 * breakout room keeps the connection, as Jitsi does. Roles are Openfire's defaults (see
 * {@link TestMucService}): the room's creator is moderator, everyone else participant; a
 * role change (a moderator's muc#admin request) changes the occupant's role and the room
 * sends the occupant its self-presence with the new role, as Openfire's MUCRoom does.
 *
 * <p>Usage: {@code java -cp <classes> org.jitsictl.openfire.attendance.ScenarioRunner
 * <vector.json> [claim,claim,...]} (claims default to the vector's settings).
 */
public final class ScenarioRunner {
    static final String JWT_SECRET = "scenario-runner-jwt-secret-0123456789";
    static final Instant BASE = Instant.parse("2025-11-22T08:00:00Z");
    private static final String DOMAIN = "meet.jitsi";
    /** The app id tokens are issued by unless a vector's token says otherwise (tests/vectors/README.md). */
    static final String ISSUER = "jitsictl-test";
    private static final Map<String, String> COMPONENTS = Map.of(
            "muc", "muc." + DOMAIN, "breakout", "breakout." + DOMAIN, "internal-muc", "internal-muc." + DOMAIN);

    private final Map<String, Object> vector;
    private final List<String> claims;
    private final List<Map<String, Object>> emitted = new ArrayList<>();
    private final MutableClock clock = new MutableClock();
    private final Map<String, Connection> clients = new HashMap<>();
    /** Rooms alive on the simulated server: room JID to its occupants by client key, in join order. */
    private final Map<String, LinkedHashMap<String, Connection>> rooms = new LinkedHashMap<>();
    private final Path home;
    private AttendancePlugin plugin;
    private long roomIds;

    private record Connection(String client, String userJid, String resource, String roomJid) {
    }

    ScenarioRunner(Map<String, Object> vector, List<String> claims, Path home) {
        this.vector = vector;
        this.claims = claims;
        this.home = home;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: ScenarioRunner <vector.json> [claim,claim,...]");
            System.exit(2);
        }
        List<Map<String, Object>> events;
        try {
            events = run(Path.of(args[0]), args.length == 2 ? List.of(args[1].split(",")) : null);
        } catch (java.io.IOException | IllegalArgumentException | ClassCastException | NullPointerException e) {
            System.err.println("ScenarioRunner: cannot play " + args[0] + ": " + e);
            System.exit(1);
            return;
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        for (Map<String, Object> event : events) {
            out.println(Json.write(event));
        }
    }

    /** Runs one vector file; {@code claims} null means the vector's own setting (or the default). */
    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> run(Path vectorFile, List<String> claims) throws Exception {
        Map<String, Object> vector = Json.readObject(Files.readString(vectorFile, StandardCharsets.UTF_8));
        if (claims == null) {
            Map<String, Object> settings = (Map<String, Object>) vector.getOrDefault("settings", Map.of());
            claims = (List<String>) settings.getOrDefault("claims", List.of("courseid", "groupid"));
        }
        Path home = Files.createTempDirectory("scenario-runner");
        try {
            return new ScenarioRunner(vector, claims, home).play();
        } finally {
            deleteTree(home.toFile());
        }
    }

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> play() throws Exception {
        startServer();
        for (Map<String, Object> step : (List<Map<String, Object>>) vector.get("steps")) {
            clock.at(((Number) step.get("at")).longValue());
            switch ((String) step.get("do")) {
                case "join" -> join(step);
                case "presence" -> presence(clients.get((String) step.get("client")), (String) step.get("nick"));
                case "leave" -> leave((String) step.get("client"), true);
                case "disconnect", "kick" -> leave((String) step.get("client"), false);
                case "role" -> role(clients.get((String) step.get("client")), (String) step.get("role"));
                case "destroy" -> destroy(room((String) step.get("room"), "muc"));
                case "crash" -> crash();
                default -> throw new IllegalArgumentException("unknown step " + step.get("do"));
            }
        }
        plugin.destroyPlugin();
        return emitted;
    }

    private void startServer() {
        OpenfireStandIns.reset(home, COMPONENTS.values().toArray(new String[0]));
        JiveGlobals.setProperty(Settings.CLAIMS, String.join(",", claims));
        JiveGlobals.setProperty(Settings.JWT_SECRET, JWT_SECRET);
        // The focus relay needs Openfire's component manager; the scenarios are about attendance.
        JiveGlobals.setProperty(Settings.JITSI_SETUP, "false");
        for (Map.Entry<String, Map<String, Object>> person : people().entrySet()) {
            if ("admin".equals(person.getValue().get("system"))) {
                AdminManager.getInstance().testAddAdmin((String) person.getValue().get("jid"));
            }
        }
        rooms.clear();
        clients.clear();
        plugin = new AttendancePlugin(clock, emitted::add);
        plugin.initializePlugin(new PluginManager(), home.resolve("plugins/attendance").toFile());
    }

    /** The process dies: nothing is told to the old plugin, which simply stops existing. */
    private void crash() {
        startServer();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Map<String, Object>> people() {
        return (Map<String, Map<String, Object>>) vector.get("people");
    }

    private static String room(String name, String component) {
        return name + "@" + COMPONENTS.get(component == null ? "muc" : component);
    }

    @SuppressWarnings("unchecked")
    private void join(Map<String, Object> step) throws PacketRejectedException, NotAllowedException {
        String client = (String) step.get("client");
        String personKey = (String) step.get("person");
        Map<String, Object> person = people().get(personKey);
        String roomJid = room((String) step.get("room"), (String) step.get("component"));
        String userJid = null;
        if (step.get("parent") != null) {
            // Jitsi moves to a breakout room on the same XMPP connection.
            String parent = room((String) step.get("parent"), "muc");
            for (Connection earlier : clients.values()) {
                if (earlier.roomJid.equals(parent) && personOf(earlier.client).equals(personKey)) {
                    userJid = earlier.userJid;
                }
            }
        }
        if (userJid == null) {
            String account = person.get("jid") != null ? (String) person.get("jid") : personKey + "-" + client + "@" + DOMAIN;
            userJid = account + "/" + client;
            LocalClientSession session = new LocalClientSession(new JID(userJid));
            if (person.get("token") != null) {
                session.setSessionData(AttendancePlugin.TOKEN_SESSION_KEY,
                        JwtIdentity.sign(withJitsiClaims((Map<String, Object>) person.get("token")), JWT_SECRET));
            }
            SessionManager.getInstance().testAdd(session);
        }
        String resource = UUID.nameUUIDFromBytes(client.getBytes(StandardCharsets.UTF_8)).toString().substring(0, 8);
        Connection connection = new Connection(client, userJid, resource, roomJid);
        clients.put(client, connection);
        Presence presence = presenceOf(connection, (String) step.get("nick"), null);
        intercept(presence, false);
        service(roomJid).join(new JID(roomJid).getNode(), new JID(userJid), resource);
        if (!rooms.containsKey(roomJid)) {
            rooms.put(roomJid, new LinkedHashMap<>());
            MUCEventDispatcher.roomCreated(++roomIds, new JID(roomJid));
        }
        rooms.get(roomJid).put(client, connection);
        MUCEventDispatcher.occupantJoined(new JID(roomJid), new JID(userJid), resource);
        intercept(presence, true);
    }

    private String personOf(String client) {
        for (Object s : (List<?>) vector.get("steps")) {
            Map<?, ?> step = (Map<?, ?>) s;
            if ("join".equals(step.get("do")) && client.equals(step.get("client"))) {
                return (String) step.get("person");
            }
        }
        throw new IllegalArgumentException("no join for client " + client);
    }

    private void role(Connection connection, String role) throws PacketRejectedException {
        JID room = new JID(connection.roomJid);
        service(connection.roomJid).getChatRoom(room.getNode()).getOccupantByFullJID(new JID(connection.userJid))
                .testSetRole(Role.valueOf(role));
        Presence self = new Presence();
        self.setFrom(new JID(room.getNode(), room.getDomain(), connection.resource));
        self.setTo(new JID(connection.userJid));
        self.addChildElement("x", MucPresenceInterceptor.MUC_USER_NAMESPACE).addElement("item")
                .addAttribute("affiliation", "none").addAttribute("role", role);
        InterceptorManager.getInstance().invokeInterceptors(self, SessionManager.getInstance().getSession(self.getTo()),
                false, false);
        InterceptorManager.getInstance().invokeInterceptors(self, SessionManager.getInstance().getSession(self.getTo()),
                false, true);
    }

    private void presence(Connection connection, String nick) throws PacketRejectedException {
        Presence presence = presenceOf(connection, nick, null);
        intercept(presence, false);
        intercept(presence, true);
    }

    private void leave(String client, boolean clean) throws PacketRejectedException {
        Connection connection = clients.get(client);
        if (clean) {
            Presence unavailable = presenceOf(connection, null, Presence.Type.unavailable);
            intercept(unavailable, false);
        }
        occupantLeft(connection);
        LinkedHashMap<String, Connection> occupants = rooms.get(connection.roomJid);
        if (occupants.isEmpty()) {
            rooms.remove(connection.roomJid);
            MUCEventDispatcher.roomDestroyed(roomIds, new JID(connection.roomJid));
        }
    }

    private static TestMucService service(String roomJid) {
        return (TestMucService) XMPPServer.getInstance().getMultiUserChatManager().getMultiUserChatService(new JID(roomJid));
    }

    private void occupantLeft(Connection connection) {
        rooms.get(connection.roomJid).remove(connection.client);
        service(connection.roomJid).leave(new JID(connection.roomJid).getNode(), new JID(connection.userJid));
        MUCEventDispatcher.occupantLeft(new JID(connection.roomJid + "/" + connection.resource),
                new JID(connection.userJid), connection.resource);
    }

    private void destroy(String roomJid) {
        for (Connection connection : new ArrayList<>(rooms.get(roomJid).values())) {
            occupantLeft(connection);
        }
        rooms.remove(roomJid);
        service(roomJid).destroy(new JID(roomJid).getNode());
        MUCEventDispatcher.roomDestroyed(roomIds, new JID(roomJid));
    }

    private static Presence presenceOf(Connection connection, String nick, Presence.Type type) {
        Presence presence = new Presence(type);
        presence.setFrom(new JID(connection.userJid));
        presence.setTo(new JID(connection.roomJid + "/" + connection.resource));
        if (nick != null) {
            presence.addChildElement("nick", MucPresenceInterceptor.NICK_NAMESPACE).setText(nick);
        }
        return presence;
    }

    private void intercept(Presence presence, boolean processed) throws PacketRejectedException {
        InterceptorManager.getInstance().invokeInterceptors(presence,
                SessionManager.getInstance().getSession(presence.getFrom()), true, processed);
    }

    private static void deleteTree(File file) {
        File[] children = file.listFiles();
        if (children != null) {
            for (File child : children) {
                deleteTree(child);
            }
        }
        file.delete();
    }

    /** Scenario time: {@code BASE + at} seconds. */
    static final class MutableClock extends Clock {
        private volatile Instant now = BASE;

        void at(long seconds) {
            now = BASE.plusSeconds(seconds);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** A vector's token with the claims every Jitsi token has (iss, aud, sub, room) where it has none. */
    static Map<String, Object> withJitsiClaims(Map<String, Object> token) {
        Map<String, Object> payload = new java.util.LinkedHashMap<>(
                Map.of("iss", ISSUER, "aud", "jitsi", "sub", DOMAIN, "room", "*"));
        payload.putAll(token);
        return payload;
    }
}
