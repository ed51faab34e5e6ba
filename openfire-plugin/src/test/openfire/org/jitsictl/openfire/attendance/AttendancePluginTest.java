package org.jitsictl.openfire.attendance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jitsictl.openfire.attendance.core.Json;
import org.jitsictl.openfire.attendance.core.JwtIdentity;
import org.jitsictl.openfire.attendance.core.Settings;
import org.jitsictl.openfire.attendance.core.WebhookSigner;
import org.jivesoftware.openfire.SessionManager;
import org.jivesoftware.openfire.XMPPServer;
import org.jivesoftware.openfire.container.PluginManager;
import org.jivesoftware.openfire.interceptor.InterceptorManager;
import org.jivesoftware.openfire.muc.MUCEventDispatcher;
import org.jivesoftware.openfire.muc.MultiUserChatService;
import org.jivesoftware.openfire.session.LocalClientSession;
import org.jivesoftware.util.JiveGlobals;
import org.jivesoftware.util.PropertyEventDispatcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xmpp.component.Component;
import org.xmpp.component.ComponentException;
import org.xmpp.component.ComponentManager;
import org.xmpp.component.ComponentManagerFactory;
import org.xmpp.packet.IQ;
import org.xmpp.packet.JID;
import org.xmpp.packet.Packet;
import org.xmpp.packet.PacketError;
import org.xmpp.packet.Presence;

/**
 * The plugin class through Openfire's published plugin API (played by the stand-ins in
 * src/test/stubs, since Openfire cannot run here): registration and clean removal, the
 * one-domain Jitsi setup, the focus relay, the interceptor's filter, live settings, and the
 * whole path from a MUC callback to a signed POST on a real local HTTP server.
 */
class AttendancePluginTest {
    private static final String SECRET = "whsec_EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8=";
    @TempDir
    Path home;
    private final List<Map<String, Object>> events = Collections.synchronizedList(new ArrayList<>());
    private final CapturingComponents components = new CapturingComponents();
    private AttendancePlugin plugin;
    private HttpServer server;

    /** Openfire's InternalComponentManager as Tinder documents it: addComponent initialises the component. */
    static final class CapturingComponents implements ComponentManager {
        final Map<String, Component> registered = new HashMap<>();
        final List<Packet> sent = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void addComponent(String subdomain, Component component) throws ComponentException {
            component.initialize(new JID(null, subdomain + "." + OpenfireStandIns.DOMAIN, null), this);
            registered.put(subdomain, component);
            component.start();
        }

        @Override
        public void removeComponent(String subdomain) {
            Component component = registered.remove(subdomain);
            if (component != null) {
                component.shutdown();
            }
        }

        @Override
        public void sendPacket(Component component, Packet packet) {
            sent.add(packet);
        }

        @Override
        public String getServerName() {
            return OpenfireStandIns.DOMAIN;
        }
    }

    @BeforeEach
    void openfire() {
        OpenfireStandIns.reset(home, "conference.meet.jitsi", "internal.meet.jitsi");
        ComponentManagerFactory.setComponentManager(components);
    }

    @AfterEach
    void stop() {
        if (plugin != null) {
            plugin.destroyPlugin();
        }
        if (server != null) {
            server.stop(0);
        }
    }

    private void start() {
        plugin = new AttendancePlugin(Clock.systemUTC(), events::add);
        plugin.initializePlugin(new PluginManager(), home.resolve("plugins/attendance").toFile());
    }

    private static Presence presence(String from, String to, String nick) {
        Presence presence = new Presence();
        presence.setFrom(from);
        presence.setTo(to);
        if (nick != null) {
            presence.addChildElement("nick", NickInterceptor.NICK_NAMESPACE).setText(nick);
        }
        return presence;
    }

    @Test
    void registersEverythingAtStartAndRemovesEverythingAtStop() {
        start();
        assertEquals(1, MUCEventDispatcher.testListenerCount());
        assertEquals(1, InterceptorManager.getInstance().getInterceptors().size());
        assertEquals(1, PropertyEventDispatcher.testListenerCount());
        assertTrue(components.registered.containsKey("focus"));
        for (MultiUserChatService service : XMPPServer.getInstance().getMultiUserChatManager().getMultiUserChatServices()) {
            assertEquals(List.of(new JID("focus@meet.jitsi")), List.copyOf(service.getSysadmins()), service.getServiceDomain());
        }
        assertEquals("source.started", events.get(0).get("type"));
        assertEquals("meet.jitsi", ((Map<?, ?>) events.get(0).get("source")).get("host"));
        plugin.destroyPlugin();
        plugin = null;
        assertEquals(0, MUCEventDispatcher.testListenerCount());
        assertEquals(0, InterceptorManager.getInstance().getInterceptors().size());
        assertEquals(0, PropertyEventDispatcher.testListenerCount());
        assertTrue(components.registered.isEmpty());
    }

    @Test
    void sysadminGrantIsIdempotentAndReachesServicesCreatedLater() {
        JiveGlobals.setProperty(Settings.FOCUS_JID, "focus@auth.meet.jitsi");
        start();
        TestMucService later = new TestMucService("breakout.meet.jitsi");
        XMPPServer.getInstance().getMultiUserChatManager().testAddService(later);
        List<MultiUserChatService> all = XMPPServer.getInstance().getMultiUserChatManager().getMultiUserChatServices();
        assertEquals(1, JitsiOneDomainSetup.grantSysadmin(all, new JID("focus@auth.meet.jitsi")), "only the new service");
        assertEquals(0, JitsiOneDomainSetup.grantSysadmin(all, new JID("focus@auth.meet.jitsi")));
        assertEquals(List.of(new JID("focus@auth.meet.jitsi")), later.sysadmins);
    }

    @Test
    void jitsiSetupCanBeTurnedOffLive() throws Exception {
        start();
        assertTrue(components.registered.containsKey("focus"));
        JiveGlobals.setProperty(Settings.JITSI_SETUP, "false");
        long deadline = System.currentTimeMillis() + 5_000;
        while (components.registered.containsKey("focus") && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(components.registered.isEmpty());
    }

    @Test
    void focusRelayCarriesRequestsToJicofoAndAnswersBack() {
        start();
        Component relay = components.registered.get("focus");
        IQ request = new IQ(IQ.Type.set, "conf-1");
        request.setFrom("alice@meet.jitsi/web-1");
        request.setTo("focus.meet.jitsi");
        request.setChildElement("conference", "http://jitsi.org/protocol/focus");

        relay.processPacket(request);
        IQ unavailable = (IQ) components.sent.remove(0);
        assertEquals(IQ.Type.error, unavailable.getType(), "no focus session: an immediate error, not a timeout");
        assertEquals(PacketError.Condition.service_unavailable, unavailable.testErrorCondition());
        assertEquals(new JID("alice@meet.jitsi/web-1"), unavailable.getTo());

        SessionManager.getInstance().testAdd(new LocalClientSession(new JID("focus@meet.jitsi/focus-abc")));
        relay.processPacket(request);
        IQ relayed = (IQ) components.sent.remove(0);
        assertEquals(new JID("focus@meet.jitsi/focus-abc"), relayed.getTo());
        assertEquals("focus.meet.jitsi/alice@meet.jitsi/web-1", relayed.getFrom().toString());
        assertEquals("conf-1", relayed.getID());
        assertEquals("conference", relayed.getChildElement().getName());

        IQ answer = new IQ(IQ.Type.result, "conf-1");
        answer.setFrom("focus@meet.jitsi/focus-abc");
        answer.setTo(relayed.getFrom());
        relay.processPacket(answer);
        IQ back = (IQ) components.sent.remove(0);
        assertEquals(new JID("alice@meet.jitsi/web-1"), back.getTo());
        assertEquals(new JID("focus.meet.jitsi"), back.getFrom());
        assertEquals("conf-1", back.getID());

        IQ forged = new IQ(IQ.Type.result, "conf-2");
        forged.setFrom("mallory@meet.jitsi/x");
        forged.setTo("focus.meet.jitsi/alice@meet.jitsi/web-1");
        relay.processPacket(forged);
        assertTrue(components.sent.isEmpty(), "answers are relayed only from the focus account");
    }

    @Test
    void interceptorOnlyReadsUnprocessedIncomingAvailablePresenceWithNickToAMucRoom() throws Exception {
        start();
        InterceptorManager interceptors = InterceptorManager.getInstance();
        String user = "alice@meet.jitsi/web";
        interceptors.invokeInterceptors(presence(user, "room@conference.meet.jitsi/abc", "Alice"), null, false, false);
        interceptors.invokeInterceptors(presence(user, "room@conference.meet.jitsi/abc", "Alice"), null, true, true);
        Presence unavailable = presence(user, "room@conference.meet.jitsi/abc", "Alice");
        unavailable.setType(Presence.Type.unavailable);
        interceptors.invokeInterceptors(unavailable, null, true, false);
        interceptors.invokeInterceptors(presence(user, "bob@meet.jitsi/phone", "Alice"), null, true, false);
        interceptors.invokeInterceptors(presence(user, "room@conference.meet.jitsi/abc", null), null, true, false);
        interceptors.invokeInterceptors(presence(user, "room@conference.meet.jitsi", "Alice"), null, true, false);
        IQ iq = new IQ(IQ.Type.get, "x");
        iq.setFrom(user);
        iq.setTo("room@conference.meet.jitsi/abc");
        interceptors.invokeInterceptors(iq, null, true, false);
        assertEquals(0, plugin.recorder().pendingHints());
        interceptors.invokeInterceptors(presence(user, "room@conference.meet.jitsi/abc", "Alice"), null, true, false);
        assertEquals(1, plugin.recorder().pendingHints());
        MUCEventDispatcher.roomCreated(1, new JID("room@conference.meet.jitsi"));
        MUCEventDispatcher.occupantJoined(new JID("room@conference.meet.jitsi"), new JID(user), "abc");
        assertEquals(0, plugin.recorder().pendingHints());
        assertEquals("Alice", ((Map<?, ?>) events.get(2).get("occupant")).get("nick"));
        // An MUC nickname change (Openfire passes the room's own occupant JID): leave and rejoin, same name.
        MUCEventDispatcher.nicknameChanged(new JID("room@conference.meet.jitsi/room"), new JID(user), "abc", "def");
        assertEquals(List.of("occupant.left", "occupant.joined"), events.subList(3, 5).stream().map(e -> e.get("type")).toList());
        assertEquals("room@conference.meet.jitsi/abc", ((Map<?, ?>) events.get(3).get("occupant")).get("occupant_jid"));
        assertEquals("room@conference.meet.jitsi/def", ((Map<?, ?>) events.get(4).get("occupant")).get("occupant_jid"));
        assertEquals("Alice", ((Map<?, ?>) events.get(4).get("occupant")).get("nick"));
        events.subList(3, 5).clear();
        // Openfire 4.x room callbacks reach the same recorder.
        MucAttendanceListener listener = new MucAttendanceListener(plugin.recorder());
        listener.roomCreated(new JID("old@conference.meet.jitsi"));
        listener.roomDestroyed(new JID("old@conference.meet.jitsi"));
        assertEquals(List.of("room.created", "room.destroyed"),
                events.subList(3, 5).stream().map(e -> e.get("type")).toList());
    }

    @Test
    void claimAllowListChangesApplyWithoutRestart() {
        JiveGlobals.setProperty(Settings.JWT_SECRET, "plugin-test-jwt-secret-123456");
        JiveGlobals.setProperty(Settings.CLAIMS, "courseid");
        start();
        Map<String, Object> token = Map.of("context", Map.of("user", Map.of("id", "u-9")), "courseid", "C1", "groupid", "G1");
        for (String user : List.of("s1@meet.jitsi/a", "s2@meet.jitsi/a")) {
            LocalClientSession session = new LocalClientSession(new JID(user));
            session.setSessionData(AttendancePlugin.TOKEN_SESSION_KEY, JwtIdentity.sign(token, "plugin-test-jwt-secret-123456"));
            SessionManager.getInstance().testAdd(session);
        }
        MUCEventDispatcher.roomCreated(1, new JID("room@conference.meet.jitsi"));
        MUCEventDispatcher.occupantJoined(new JID("room@conference.meet.jitsi"), new JID("s1@meet.jitsi/a"), "r1");
        JiveGlobals.setProperty(Settings.CLAIMS, "courseid,groupid");
        JiveGlobals.setProperty(Settings.BATCH_SIZE, "not a number");
        MUCEventDispatcher.occupantJoined(new JID("room@conference.meet.jitsi"), new JID("s2@meet.jitsi/a"), "r2");
        assertEquals("{\"user_id\":\"u-9\",\"claims\":{\"courseid\":\"C1\"}}", Json.write(events.get(2).get("identity")));
        assertEquals("{\"user_id\":\"u-9\",\"claims\":{\"courseid\":\"C1\",\"groupid\":\"G1\"}}",
                Json.write(events.get(3).get("identity")));
        MUCEventDispatcher.occupantJoined(new JID("room@conference.meet.jitsi"), new JID("guest@meet.jitsi/z"), "r3");
        assertNull(events.get(4).get("identity"), "no session token: a guest");
    }

    @Test
    void fromMucCallbackToASignedPostOnARealReceiver() throws Exception {
        List<Map<String, Object>> received = Collections.synchronizedList(new ArrayList<>());
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        WebhookSigner verifier = new WebhookSigner(SECRET);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/events", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String id = exchange.getRequestHeaders().getFirst("webhook-id");
            String ts = exchange.getRequestHeaders().getFirst("webhook-timestamp");
            if (!verifier.sign(id, Long.parseLong(ts), body).equals(exchange.getRequestHeaders().getFirst("webhook-signature"))) {
                problems.add("bad signature");
            }
            if (!"application/json".equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
                problems.add("content type");
            }
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> batch = (List<Map<String, Object>>) Json.readObject(new String(body, StandardCharsets.UTF_8)).get("events");
            received.addAll(batch);
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        JiveGlobals.setProperty(Settings.URL, "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/events");
        JiveGlobals.setProperty(Settings.SECRET, SECRET);
        JiveGlobals.setProperty(Settings.FLUSH_INTERVAL, "100");
        plugin = new AttendancePlugin();
        plugin.initializePlugin(new PluginManager(), home.resolve("plugins/attendance").toFile());
        InterceptorManager.getInstance().invokeInterceptors(
                presence("k9@meet.jitsi/w", "maths@conference.meet.jitsi/e1", "Zoë 🎓"), null, true, false);
        MUCEventDispatcher.roomCreated(7, new JID("maths@conference.meet.jitsi"));
        MUCEventDispatcher.occupantJoined(new JID("maths@conference.meet.jitsi"), new JID("k9@meet.jitsi/w"), "e1");
        MUCEventDispatcher.occupantLeft(new JID("maths@conference.meet.jitsi/e1"), new JID("k9@meet.jitsi/w"), "e1");
        MUCEventDispatcher.roomDestroyed(7, new JID("maths@conference.meet.jitsi"));
        long deadline = System.currentTimeMillis() + 10_000;
        while (received.size() < 5 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(List.of("source.started", "room.created", "occupant.joined", "occupant.left", "room.destroyed"),
                received.stream().map(e -> e.get("type")).toList());
        assertEquals("Zoë 🎓", ((Map<?, ?>) received.get(3).get("occupant")).get("nick"));
        assertEquals(List.of(), problems);
        assertTrue(Files.isDirectory(home.resolve("attendance-spool")), "no plugins directory: spool in Openfire's home");
    }

    @Test
    void spoolFollowsTheLinkedPluginsDirectoryOntoTheDataVolume() throws Exception {
        // The official image links <home>/plugins to /var/lib/openfire/plugins (its data volume).
        Path data = Files.createDirectories(home.resolve("var-lib-openfire/plugins")).getParent();
        Path install = Files.createDirectories(home.resolve("usr-share-openfire"));
        Files.createSymbolicLink(install.resolve("plugins"), data.resolve("plugins"));
        assertEquals(data.toRealPath().resolve("attendance-spool"),
                AttendancePlugin.defaultSpoolDirectory(install.resolve("plugins/attendance").toFile()));
    }
}
