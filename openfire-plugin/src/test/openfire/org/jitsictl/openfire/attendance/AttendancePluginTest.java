package org.jitsictl.openfire.attendance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.jitsictl.openfire.attendance.core.Json;
import org.jitsictl.openfire.attendance.core.JwtIdentity;
import org.jitsictl.openfire.attendance.core.Settings;
import org.jitsictl.openfire.attendance.core.WebhookSigner;
import org.jivesoftware.openfire.SessionManager;
import org.jivesoftware.openfire.XMPPServer;
import org.jivesoftware.openfire.component.InternalComponentManager;
import org.jivesoftware.openfire.container.PluginManager;
import org.jivesoftware.openfire.interceptor.InterceptorManager;
import org.jivesoftware.openfire.muc.MUCEventDispatcher;
import org.jivesoftware.openfire.muc.MUCRoom;
import org.jivesoftware.openfire.muc.MultiUserChatService;
import org.jivesoftware.openfire.muc.NotAllowedException;
import org.jivesoftware.openfire.muc.Role;
import org.jivesoftware.openfire.muc.spi.MUCPersistenceManager;
import org.jivesoftware.openfire.session.LocalClientSession;
import org.jivesoftware.util.JiveGlobals;
import org.jivesoftware.util.SystemProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xmpp.component.Component;
import org.xmpp.packet.IQ;
import org.xmpp.packet.JID;
import org.xmpp.packet.Message;
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
    private static final JID FOCUS = new JID("focus@meet.jitsi");
    @TempDir
    Path home;
    private final List<Map<String, Object>> events = Collections.synchronizedList(new ArrayList<>());
    private final InternalComponentManager components = InternalComponentManager.getInstance();
    private AttendancePlugin plugin;
    private HttpServer server;

    @BeforeEach
    void openfire() {
        OpenfireStandIns.reset(home, "conference.meet.jitsi", "internal.meet.jitsi");
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
            presence.addChildElement("nick", MucPresenceInterceptor.NICK_NAMESPACE).setText(nick);
        }
        return presence;
    }

    private static MultiUserChatService service(String subdomain) {
        return XMPPServer.getInstance().getMultiUserChatManager().getMultiUserChatService(subdomain);
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void registersEverythingAtStartAndRemovesEverythingAtStop() {
        start();
        assertEquals(1, MUCEventDispatcher.testListenerCount());
        assertEquals(1, InterceptorManager.getInstance().getInterceptors().size());
        assertEquals(1, components.testComponents("focus").size());
        for (MultiUserChatService service : XMPPServer.getInstance().getMultiUserChatManager().getMultiUserChatServices()) {
            assertEquals(List.of(FOCUS), List.copyOf(service.getSysadmins()), service.getServiceDomain());
        }
        assertEquals("source.started", events.get(0).get("type"));
        assertEquals("meet.jitsi", ((Map<?, ?>) events.get(0).get("source")).get("host"));
        assertTrue(SystemProperty.getProperty(Settings.URL).isPresent());
        plugin.destroyPlugin();
        plugin = null;
        assertEquals(0, MUCEventDispatcher.testListenerCount());
        assertEquals(0, InterceptorManager.getInstance().getInterceptors().size());
        assertTrue(components.testComponents("focus").isEmpty());
        assertTrue(SystemProperty.getProperties().stream().noneMatch(p -> p.getKey().startsWith("attendance.")),
                "Openfire would refuse to register them again at the next load");
        start();
        assertEquals(1, components.testComponents("focus").size(), "a restarted plugin registers again");
    }

    @Test
    void settingsAreTypedSystemPropertiesWithTheDefaultsTheyAreParsedWith() {
        start();
        Settings d = Settings.DEFAULTS;
        Map<String, Object> expected = new java.util.LinkedHashMap<>();
        expected.put(Settings.BATCH_SIZE, d.batchSize);
        expected.put(Settings.FLUSH_INTERVAL, java.time.Duration.ofMillis(d.flushIntervalMillis));
        expected.put(Settings.TIMEOUT, java.time.Duration.ofMillis(d.timeoutMillis));
        expected.put(Settings.QUEUE_MAX, d.queueMax);
        expected.put(Settings.JITSI_SETUP, d.jitsiSetup);
        expected.put(Settings.ROOM_MAX_OCCUPANTS, 500);
        expected.put(Settings.URL, null);
        expected.put(Settings.SECRET, null);
        expected.put(Settings.USER_ID_CLAIM, "context.user.id");
        expected.put(Settings.EMAIL_CLAIM, "context.user.email");
        expected.put(Settings.NAME_CLAIM, "context.user.name");
        expected.put(Settings.GROUP_CLAIM, "context.group");
        expected.put(Settings.TRUSTED_AFFILIATIONS, null);
        expected.put(org.jitsictl.openfire.attendance.core.Delivery.REQUEUE, false);
        for (Map.Entry<String, Object> entry : expected.entrySet()) {
            SystemProperty<?> property = SystemProperty.getProperty(entry.getKey()).orElseThrow();
            assertEquals(entry.getValue(), property.getDefaultValue(), entry.getKey());
            assertEquals("attendance", property.getPlugin(), entry.getKey());
            assertTrue(property.isDynamic(), entry.getKey());
        }
        for (String key : Settings.NAMES) {
            assertTrue(SystemProperty.getProperty(key).isPresent(), key);
        }
        assertTrue(SystemProperty.getProperty(Settings.SECRET).orElseThrow().isEncrypted());
        assertTrue(SystemProperty.getProperty(Settings.JWT_SECRET).orElseThrow().isEncrypted());
        assertFalse(SystemProperty.getProperty(AttendanceProperties.SPOOL_DIR).orElseThrow().isDynamic(), "read at start");
    }

    @Test
    void breweryExistsAsJitsictlDescribesItWhenThePluginHasStarted() {
        start();
        MultiUserChatService internal = service("internal-muc");
        assertNotNull(internal, "the hidden internal MUC service is created");
        assertTrue(internal.isHidden());
        MUCRoom brewery = internal.getChatRoom("jvbbrewery");
        assertNotNull(brewery);
        assertTrue(brewery.isMembersOnly(), "anonymous users get <random>@<domain>: membership keeps them out");
        assertTrue(brewery.isPersistent());
        assertFalse(brewery.isLocked());
        assertFalse(brewery.isPublicRoom());
        assertEquals(1, brewery.testSavedToDatabase());
        assertEquals(List.of(FOCUS), List.copyOf(brewery.getOwners()));
        assertEquals(List.of(new JID("jvb@meet.jitsi")), List.copyOf(brewery.getMembers()));
        assertEquals(0, brewery.getMaxUsers(), "the brewery is not a classroom: no capacity limit");
        assertEquals("none", brewery.canSendPrivateMessage());
        assertEquals(List.of(Role.moderator, Role.participant, Role.visitor), brewery.getRolesToBroadcastPresence());
        assertEquals("Jitsi Videobridge brewery", brewery.getDescription());
        assertTrue(brewery.canAnyoneDiscoverJID());
        assertTrue(brewery.canChangeNickname());
        assertFalse(brewery.isRegistrationEnabled() || brewery.isLogEnabled() || brewery.isModerated()
                || brewery.canOccupantsInvite() || brewery.canOccupantsChangeSubject() || brewery.isLoginRestrictedToNickname());
    }

    @Test
    void anExistingBreweryIsLeftAsItIs() throws Exception {
        TestMucService internal = new TestMucService("internal-muc.meet.jitsi", true);
        XMPPServer.getInstance().getMultiUserChatManager().testAddService(internal);
        MUCRoom existing = internal.getChatRoom("jvbbrewery", FOCUS);
        existing.setPersistent(true);
        existing.setDescription("configured by the admin");
        existing.unlock(existing.getSelfRepresentation().getAffiliation());
        start();
        assertEquals("configured by the admin", internal.getChatRoom("jvbbrewery").getDescription());
        assertTrue(internal.getChatRoom("jvbbrewery").getMembers().isEmpty());
    }

    @Test
    void onlyFocusMayCreateRoomsOnEveryService() throws Exception {
        MultiUserChatService conference = service("conference");
        conference.setAllRegisteredUsersAllowedToCreate(true);
        start();
        for (MultiUserChatService service : XMPPServer.getInstance().getMultiUserChatManager().getMultiUserChatServices()) {
            assertTrue(service.isRoomCreationRestricted(), service.getServiceDomain());
            assertFalse(service.isAllRegisteredUsersAllowedToCreate(), service.getServiceDomain());
            assertEquals(List.of(FOCUS), List.copyOf(service.getUsersAllowedToCreate()), service.getServiceDomain());
        }
        assertThrows(NotAllowedException.class, () -> conference.getChatRoom("maths", new JID("guest-42@meet.jitsi/x")));
        assertThrows(NotAllowedException.class, () -> conference.getChatRoom("maths", new JID("alice@meet.jitsi/web")));
        assertNotNull(conference.getChatRoom("maths", new JID("focus@meet.jitsi/focus")));
    }

    @Test
    void roomCapacityReachesNewAndOpenConferenceRoomsAndFollowsItsProperty() throws Exception {
        TestMucService conference = (TestMucService) service("conference");
        MUCRoom open = conference.getChatRoom("already-open", new JID("focus@meet.jitsi/f"));
        assertEquals(30, open.getMaxUsers(), "Openfire's default");
        start();
        assertEquals(500, open.getMaxUsers());
        assertEquals("500", MUCPersistenceManager.getProperty("conference", "room.maxUsers"));
        assertEquals(500, conference.getChatRoom("new-room", new JID("focus@meet.jitsi/f")).getMaxUsers());
        assertNull(MUCPersistenceManager.getProperty("internal-muc", "room.maxUsers"), "the brewery's service is left alone");
        assertEquals(0, service("internal-muc").getChatRoom("jvbbrewery").getMaxUsers());

        JiveGlobals.setProperty(Settings.ROOM_MAX_OCCUPANTS, "0");
        waitFor(() -> open.getMaxUsers() == 0, "0 (no limit) to reach the open room");
        assertEquals("0", MUCPersistenceManager.getProperty("conference", "room.maxUsers"));

        open.setMaxUsers(42); // a moderator's own choice stays while the property does not change
        JiveGlobals.setProperty(Settings.ROOM_MAX_OCCUPANTS, "-5");
        JiveGlobals.setProperty(Settings.ROOM_MAX_OCCUPANTS, "many");
        Thread.sleep(200);
        assertEquals(42, open.getMaxUsers(), "a bad value keeps the last good one");
        assertEquals(0, plugin.currentSettings().roomMaxOccupants);

        TestMucService later = new TestMucService("breakout.meet.jitsi");
        MUCRoom breakout = later.getChatRoom("group-1", FOCUS);
        XMPPServer.getInstance().getMultiUserChatManager().testAddService(later);
        JiveGlobals.setProperty(Settings.ROOM_MAX_OCCUPANTS, "60");
        waitFor(() -> breakout.getMaxUsers() == 60, "a service created later to get the capacity");
        assertEquals(60, open.getMaxUsers());
        assertEquals(List.of(FOCUS), List.copyOf(later.getSysadmins()));
    }

    @Test
    void sysadminGrantIsIdempotent() {
        MultiUserChatService service = service("conference");
        assertTrue(JitsiOneDomainSetup.grantSysadmin(service, new JID("focus@auth.meet.jitsi/x")));
        assertFalse(JitsiOneDomainSetup.grantSysadmin(service, new JID("focus@auth.meet.jitsi")));
        assertEquals(List.of(new JID("focus@auth.meet.jitsi")), List.copyOf(service.getSysadmins()));
    }

    @Test
    void jitsiSetupCanBeTurnedOffLive() throws Exception {
        start();
        assertEquals(1, components.testComponents("focus").size());
        JiveGlobals.setProperty(Settings.JITSI_SETUP, "false");
        waitFor(() -> components.testComponents("focus").isEmpty(), "the relay to go");
    }

    @Test
    void aFocusComponentThatIsNotOursIsNeitherJoinedNorRemoved() throws Exception {
        Component other = new FocusRelayComponent(() -> null, () -> "someone@meet.jitsi");
        components.addComponent("focus", other);
        start();
        assertEquals(List.of(other), components.testComponents("focus"), "Openfire would spread packets over both");
        JiveGlobals.setProperty(Settings.JITSI_SETUP, "false");
        plugin.destroyPlugin();
        plugin = null;
        assertEquals(List.of(other), components.testComponents("focus"));
    }

    @Test
    void focusRelayCarriesRequestsToJicofoAndAnswersBack() {
        start();
        Component relay = components.testComponents("focus").get(0);
        IQ request = new IQ(IQ.Type.set, "conf-1");
        request.setFrom("alice@meet.jitsi/web-1");
        request.setTo("focus.meet.jitsi");
        request.setChildElement("conference", "http://jitsi.org/protocol/focus");

        relay.processPacket(request);
        IQ unavailable = (IQ) components.testTakeSent().get(0);
        assertEquals(IQ.Type.error, unavailable.getType(), "no focus session: an immediate error, not a timeout");
        assertEquals(PacketError.Condition.service_unavailable, unavailable.getError().getCondition());
        assertEquals(PacketError.Type.cancel, unavailable.getError().getType());
        assertEquals(new JID("alice@meet.jitsi/web-1"), unavailable.getTo());

        SessionManager.getInstance().testAdd(new LocalClientSession(new JID("focus@meet.jitsi/focus-abc")));
        relay.processPacket(request);
        IQ relayed = (IQ) components.testTakeSent().get(0);
        assertEquals(new JID("focus@meet.jitsi/focus-abc"), relayed.getTo());
        assertEquals("focus.meet.jitsi/alice@meet.jitsi/web-1", relayed.getFrom().toString());
        assertEquals("conf-1", relayed.getID());
        assertEquals("conference", relayed.getChildElement().getName());

        IQ answer = new IQ(IQ.Type.result, "conf-1");
        answer.setFrom("focus@meet.jitsi/focus-abc");
        answer.setTo(relayed.getFrom());
        relay.processPacket(answer);
        IQ back = (IQ) components.testTakeSent().get(0);
        assertEquals(new JID("alice@meet.jitsi/web-1"), back.getTo());
        assertEquals(new JID("focus.meet.jitsi"), back.getFrom());
        assertEquals("conf-1", back.getID());

        IQ forged = new IQ(IQ.Type.result, "conf-2");
        forged.setFrom("mallory@meet.jitsi/x");
        forged.setTo("focus.meet.jitsi/alice@meet.jitsi/web-1");
        relay.processPacket(forged);
        assertTrue(components.testTakeSent().isEmpty(), "answers are relayed only from the focus account");
    }

    /** Sends {@code packet} to the relay and returns the error it answered with, or null. */
    private PacketError answerTo(Component relay, Packet packet) {
        relay.processPacket(packet);
        List<Packet> sent = components.testTakeSent();
        if (sent.isEmpty()) {
            return null;
        }
        assertEquals(1, sent.size());
        Packet reply = sent.get(0);
        assertEquals(packet.getFrom(), reply.getTo());
        assertEquals(packet.getTo(), reply.getFrom());
        return reply.getError();
    }

    @Test
    void focusRelayAnswersWhatItDoesNotRelayAsProsodysClientProxyDoes() {
        start();
        Component relay = components.testComponents("focus").get(0);
        SessionManager.getInstance().testAdd(new LocalClientSession(new JID("focus@meet.jitsi/focus-abc")));

        Message message = new Message();
        message.setFrom("alice@meet.jitsi/web-1");
        message.setTo("focus.meet.jitsi");
        PacketError error = answerTo(relay, message);
        assertEquals(PacketError.Condition.feature_not_implemented, error.getCondition());
        assertEquals(PacketError.Type.cancel, error.getType());

        Presence presence = presence("alice@meet.jitsi/web-1", "focus.meet.jitsi", null);
        error = answerTo(relay, presence);
        assertEquals(PacketError.Condition.bad_request, error.getCondition());
        assertEquals(PacketError.Type.cancel, error.getType(), "cancel, as mod_client_proxy, not Tinder's default modify");

        IQ fromFocusToProxy = new IQ(IQ.Type.get, "q1");
        fromFocusToProxy.setFrom("focus@meet.jitsi/focus-abc");
        fromFocusToProxy.setTo("focus.meet.jitsi");
        assertEquals(PacketError.Condition.bad_request, answerTo(relay, fromFocusToProxy).getCondition());

        IQ focusRequestThroughProxy = new IQ(IQ.Type.set, "q2");
        focusRequestThroughProxy.setFrom("focus@meet.jitsi/focus-abc");
        focusRequestThroughProxy.setTo("focus.meet.jitsi/alice@meet.jitsi/web-1");
        assertEquals(PacketError.Condition.feature_not_implemented, answerTo(relay, focusRequestThroughProxy).getCondition());

        Message focusMessage = new Message();
        focusMessage.setFrom("focus@meet.jitsi/focus-abc");
        focusMessage.setTo("focus.meet.jitsi/alice@meet.jitsi/web-1");
        assertEquals(PacketError.Condition.feature_not_implemented, answerTo(relay, focusMessage).getCondition());

        assertNull(answerTo(relay, presence("focus@meet.jitsi/focus-abc", "focus.meet.jitsi", null)),
                "focus's own presence is not refused");
        Message errorMessage = new Message();
        errorMessage.setType(Message.Type.error);
        errorMessage.setFrom("alice@meet.jitsi/web-1");
        errorMessage.setTo("focus.meet.jitsi");
        assertNull(answerTo(relay, errorMessage), "errors are never answered");
        IQ strayResult = new IQ(IQ.Type.result, "q3");
        strayResult.setFrom("alice@meet.jitsi/web-1");
        strayResult.setTo("focus.meet.jitsi");
        assertNull(answerTo(relay, strayResult), "results from clients are dropped");
        IQ focusResultToProxy = new IQ(IQ.Type.result, "q4");
        focusResultToProxy.setFrom("focus@meet.jitsi/focus-abc");
        focusResultToProxy.setTo("focus.meet.jitsi");
        assertNull(answerTo(relay, focusResultToProxy), "IQ results are never answered with an error");
    }

    @Test
    void aRoleGrantedAfterJoiningTravelsWithTheOccupantsLaterEvents() throws Exception {
        start();
        InterceptorManager interceptors = InterceptorManager.getInstance();
        TestMucService conference = (TestMucService) service("conference");
        conference.join("maths", new JID("focus@meet.jitsi/focus"), "focus");
        MUCEventDispatcher.roomCreated(1, new JID("maths@conference.meet.jitsi"));
        Map<String, String> users = new java.util.LinkedHashMap<>();
        users.put("r-t", "teacher@meet.jitsi/t");
        users.put("r-a", "alice@meet.jitsi/a");
        users.put("r-b", "bob@meet.jitsi/b");
        for (Map.Entry<String, String> who : users.entrySet()) {
            interceptors.invokeInterceptors(presence(who.getValue(), "maths@conference.meet.jitsi/" + who.getKey(),
                    "Nick " + who.getKey()), null, true, false);
            conference.join("maths", new JID(who.getValue()), who.getKey());
            MUCEventDispatcher.occupantJoined(new JID("maths@conference.meet.jitsi"), new JID(who.getValue()), who.getKey());
        }
        assertEquals("participant", ((Map<?, ?>) events.get(3).get("occupant")).get("role"));

        // The teacher makes alice and bob moderators: the room changes their roles and sends each
        // occupant a copy of their new presence; every copy but the self-presence goes elsewhere.
        for (String resource : List.of("r-a", "r-b")) {
            conference.getChatRoom("maths").getOccupantByFullJID(new JID(users.get(resource))).testSetRole(Role.moderator);
            Presence grant = new Presence();
            grant.setFrom("maths@conference.meet.jitsi/" + resource);
            grant.addChildElement("x", MucPresenceInterceptor.MUC_USER_NAMESPACE).addElement("item")
                    .addAttribute("affiliation", "none").addAttribute("role", "moderator");
            grant.setTo(users.get("r-t"));
            interceptors.invokeInterceptors(grant, null, false, false);
            grant.setTo(users.get(resource));
            interceptors.invokeInterceptors(grant, null, true, false);  // incoming: not the room's word
            interceptors.invokeInterceptors(grant, null, false, true);  // after sending: seen before sending
            if (resource.equals("r-a")) {
                interceptors.invokeInterceptors(grant, null, false, false);  // alice's self-presence
            }
        }
        for (String resource : List.of("r-t", "r-a", "r-b")) {
            MUCEventDispatcher.occupantLeft(new JID("maths@conference.meet.jitsi/" + resource), new JID(users.get(resource)), resource);
        }
        List<String> seen = events.subList(5, events.size()).stream()
                .map(e -> e.get("type") + " " + ((Map<?, ?>) e.get("occupant")).get("nick") + " "
                        + ((Map<?, ?>) e.get("occupant")).get("role")).toList();
        assertEquals(List.of("occupant.left Nick r-t participant", "occupant.left Nick r-a moderator",
                "occupant.left Nick r-b participant"), seen, "bob's self-presence never came: his role is unknown to us");
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
            if (exchange.getRequestHeaders().containsKey("Upgrade")) {
                problems.add("asked to upgrade the connection: the real receiver refuses that");
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
