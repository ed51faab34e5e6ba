package org.jitsictl.openfire.attendance;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Collection;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jitsictl.openfire.attendance.core.AttendanceRecorder;
import org.jitsictl.openfire.attendance.core.Backoff;
import org.jitsictl.openfire.attendance.core.Delivery;
import org.jitsictl.openfire.attendance.core.EventFactory;
import org.jitsictl.openfire.attendance.core.EventSink;
import org.jitsictl.openfire.attendance.core.PluginLog;
import org.jitsictl.openfire.attendance.core.Settings;
import org.jitsictl.openfire.attendance.core.SettingsHolder;
import org.jitsictl.openfire.attendance.core.Spool;
import org.jivesoftware.openfire.SessionManager;
import org.jivesoftware.openfire.XMPPServer;
import org.jivesoftware.openfire.admin.AdminManager;
import org.jivesoftware.openfire.component.InternalComponentManager;
import org.jivesoftware.openfire.container.Plugin;
import org.jivesoftware.openfire.container.PluginManager;
import org.jivesoftware.openfire.interceptor.InterceptorManager;
import org.jivesoftware.openfire.muc.MUCEventDispatcher;
import org.jivesoftware.openfire.muc.MUCOccupant;
import org.jivesoftware.openfire.muc.MUCRoom;
import org.jivesoftware.openfire.muc.MultiUserChatService;
import org.jivesoftware.openfire.muc.Role;
import org.jivesoftware.openfire.session.ClientSession;
import org.jivesoftware.openfire.session.LocalSession;
import org.jivesoftware.util.JiveGlobals;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xmpp.component.ComponentException;
import org.xmpp.packet.JID;

/**
 * The Openfire plugin: attendance events for Jitsi classrooms, and the one-domain Jitsi setup
 * ({@link JitsiOneDomainSetup}, the {@code focus.<domain>} relay). See readme.html.
 *
 * <p>At start, in this order: the settings are registered; the spool opens and delivery
 * starts; the MUC listener and the presence interceptor are registered ({@code source.started}
 * is the first event); then, unless {@code attendance.jitsi.setup} is false, the Jitsi setup
 * runs once, synchronously: the internal MUC service and the brewery, focus as sysadmin and
 * sole room creator of every service, the room capacity, the focus relay. Openfire opens its
 * client ports only after every plugin's {@code initializePlugin} has returned
 * (ConnectionManagerImpl waits for the plugin monitor's first pass), so on a server start the
 * brewery exists before jicofo or jvb can log in. The setup then runs again every
 * {@value #JITSI_SETUP_PERIOD_SECONDS} s (MUC services created later through the REST API)
 * and at once when one of its settings changes.
 */
public final class AttendancePlugin implements Plugin {
    /**
     * Session data key under which a deployment's authentication component leaves the JWT a
     * client connected with; the plugin verifies it again before using any claim.
     */
    public static final String TOKEN_SESSION_KEY = "auth_token";
    static final long JITSI_SETUP_PERIOD_SECONDS = 30;

    private static final Logger LOG = LoggerFactory.getLogger(AttendancePlugin.class);
    private static final PluginLog PLUGIN_LOG = new PluginLog() {
        @Override
        public void info(String message) {
            LOG.info(message);
        }

        @Override
        public void warn(String message) {
            LOG.warn(message);
        }

        @Override
        public void error(String message, Throwable cause) {
            LOG.error(message, cause);
        }
    };

    private final Clock clock;
    private final EventSink injectedSink;
    private AttendanceProperties properties;
    private SettingsHolder settings;
    private EventSink sink;
    private AttendanceRecorder recorder;
    private MucAttendanceListener listener;
    private MucPresenceInterceptor interceptor;
    private ScheduledExecutorService jitsiSetupThread;
    private JitsiOneDomainSetup jitsiSetup;
    private FocusRelayComponent focusRelay;
    private String domain;

    /** Used by Openfire. */
    public AttendancePlugin() {
        this(Clock.systemUTC(), null);
    }

    /** @param sink where events go instead of the spool and receiver (tests), or null */
    public AttendancePlugin(Clock clock, EventSink sink) {
        this.clock = clock;
        this.injectedSink = sink;
    }

    @Override
    public void initializePlugin(PluginManager manager, File pluginDirectory) {
        // Openfire names a plugin after its directory (PluginMetadataHelper.getCanonicalName).
        properties = AttendanceProperties.register(pluginDirectory.getName().toLowerCase(Locale.ROOT));
        settings = new SettingsHolder(JiveGlobals::getProperty, LOG::warn);
        domain = XMPPServer.getInstance().getServerInfo().getXMPPDomain();
        sink = injectedSink != null ? injectedSink : startDelivery(pluginDirectory);

        recorder = new AttendanceRecorder(new EventFactory(clock), settings, sink, PLUGIN_LOG,
                AttendancePlugin::tokenOf, AttendancePlugin::isServerAdmin, AttendancePlugin::roleOf);
        recorder.serverStarted(domain);
        listener = new MucAttendanceListener(recorder);
        interceptor = new MucPresenceInterceptor(recorder, AttendancePlugin::isMucService);
        MUCEventDispatcher.addListener(listener);
        InterceptorManager.getInstance().addInterceptor(interceptor);

        jitsiSetup = new JitsiOneDomainSetup(XMPPServer.getInstance().getMultiUserChatManager(), domain);
        applyJitsiSetup();
        jitsiSetupThread = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "attendance-jitsi-setup");
            thread.setDaemon(true);
            return thread;
        });
        jitsiSetupThread.scheduleWithFixedDelay(this::applyJitsiSetup, JITSI_SETUP_PERIOD_SECONDS,
                JITSI_SETUP_PERIOD_SECONDS, TimeUnit.SECONDS);
        properties.onChange(this::propertyChanged);
        LOG.info("Attendance plugin started for " + domain);
    }

    @Override
    public void destroyPlugin() {
        if (interceptor != null) {
            InterceptorManager.getInstance().removeInterceptor(interceptor);
        }
        if (listener != null) {
            MUCEventDispatcher.removeListener(listener);
        }
        if (properties != null) {
            properties.unregister();
        }
        if (jitsiSetupThread != null) {
            jitsiSetupThread.shutdownNow();
        }
        removeFocusRelay();
        if (sink != null) {
            sink.close();
        }
        LOG.info("Attendance plugin stopped");
    }

    /** The recorder, for tests that inspect tracked state. */
    AttendanceRecorder recorder() {
        return recorder;
    }

    /** The settings in force, for tests. */
    Settings currentSettings() {
        return settings.get();
    }

    /**
     * Next to the (real) plugins directory: that is Openfire's home on a plain install, and the
     * data volume with the official Docker image, which links {@code plugins} there. Never inside
     * the plugin's own directory, which Openfire deletes when the plugin is updated.
     */
    static Path defaultSpoolDirectory(File pluginDirectory) {
        try {
            Path plugins = pluginDirectory.toPath().getParent();
            if (plugins != null && Files.isDirectory(plugins)) {
                Path parent = plugins.toRealPath().getParent();
                if (parent != null) {
                    return parent.resolve("attendance-spool");
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Attendance: cannot resolve the plugins directory (" + e.getMessage() + "); spooling in Openfire's home");
        }
        return JiveGlobals.getHomePath().resolve("attendance-spool");
    }

    private EventSink startDelivery(File pluginDirectory) {
        String configured = properties.spoolDir.getValue();
        Path dir = configured == null || configured.isBlank()
                ? defaultSpoolDirectory(pluginDirectory) : Path.of(configured.trim());
        Spool spool;
        try {
            spool = new Spool(dir);
        } catch (IOException e) {
            throw new IllegalStateException("Attendance: cannot open the spool directory " + dir + ": " + e.getMessage()
                    + ". Make it writable by Openfire or set " + AttendanceProperties.SPOOL_DIR + " to a writable directory.", e);
        }
        if (spool.size() > 0) {
            LOG.info("Attendance: " + spool.size() + " events from before the restart wait in " + dir);
        }
        Delivery delivery = new Delivery(settings, spool, PLUGIN_LOG,
                new Backoff(1_000, 300_000, () -> ThreadLocalRandom.current().nextDouble()));
        if (delivery.deadLetters() > 0) {
            LOG.warn("Attendance: " + delivery.deadLetters() + " events the receiver refused for good wait in "
                    + dir.resolve("dead-letter") + " (readme, \"Refused batches\", says how to re-queue them)");
        }
        delivery.start();
        return delivery;
    }

    private String focusBareJid() {
        Settings current = settings.get();
        return current.focusJid != null ? current.focusJid : "focus@" + domain;
    }

    /** A change of an {@code attendance.*} setting applies at once (the delivery re-reads them too). */
    private void propertyChanged(String key) {
        settings.refresh();
        if (key.equals(Settings.JITSI_SETUP) || key.equals(Settings.FOCUS_JID) || key.equals(Settings.ROOM_MAX_OCCUPANTS)) {
            jitsiSetupThread.execute(this::applyJitsiSetup);
        }
    }

    private synchronized void applyJitsiSetup() {
        try {
            Settings current = settings.refresh();
            if (!current.jitsiSetup) {
                removeFocusRelay();
                return;
            }
            jitsiSetup.apply(new JID(focusBareJid()), current.roomMaxOccupants);
            addFocusRelay();
        } catch (RuntimeException e) {
            LOG.error("Jitsi setup failed; it is retried in " + JITSI_SETUP_PERIOD_SECONDS + " s", e);
        }
    }

    /**
     * Serves {@code focus.<domain>} unless something else already does (another plugin, an
     * external component): Openfire would spread packets over both.
     */
    private synchronized void addFocusRelay() {
        if (focusRelay != null) {
            return;
        }
        InternalComponentManager components = InternalComponentManager.getInstance();
        JID address = new JID(null, FocusRelayComponent.SUBDOMAIN + "." + domain, null);
        if (components.hasComponent(address)) {
            LOG.warn("Jitsi setup: " + address + " is already served by another component; not relaying it. Remove "
                    + "that component, or set attendance.jitsi.setup=false if it is meant to be jicofo's client proxy");
            return;
        }
        FocusRelayComponent relay = new FocusRelayComponent(this::focusSession, this::focusBareJid);
        try {
            components.addComponent(FocusRelayComponent.SUBDOMAIN, relay);
        } catch (ComponentException e) {
            LOG.error("Jitsi setup: could not serve " + address + "; retried in " + JITSI_SETUP_PERIOD_SECONDS + " s", e);
            return;
        }
        focusRelay = relay;
        LOG.info("Jitsi setup: relaying " + address + " to " + focusBareJid());
    }

    /** Removes the relay this plugin added, and only it. */
    private synchronized void removeFocusRelay() {
        if (focusRelay == null) {
            return;
        }
        try {
            InternalComponentManager.getInstance().removeComponent(FocusRelayComponent.SUBDOMAIN, focusRelay);
        } catch (RuntimeException e) {
            LOG.warn("Jitsi setup: could not remove the focus relay: " + e.getMessage());
        }
        focusRelay = null;
    }

    private JID focusSession() {
        JID focus = new JID(focusBareJid());
        if (!domain.equalsIgnoreCase(focus.getDomain())) {
            return null;
        }
        Collection<ClientSession> sessions = SessionManager.getInstance().getSessions(focus.getNode());
        for (ClientSession session : sessions) {
            if (session.getAddress() != null && session.getAddress().getResource() != null) {
                return session.getAddress();
            }
        }
        return null;
    }

    private static String tokenOf(String userJid) {
        ClientSession session = SessionManager.getInstance().getSession(new JID(userJid));
        if (session instanceof LocalSession local && local.getSessionData(TOKEN_SESSION_KEY) instanceof String token) {
            return token;
        }
        return null;
    }

    /**
     * The occupant's role as Openfire's MUC holds it, or null when the occupant is not (or no
     * longer) there; a failure to read it must not cost the event, so it too gives null.
     */
    private static String roleOf(String roomJid, String userJid) {
        try {
            JID room = new JID(roomJid);
            MultiUserChatService service = XMPPServer.getInstance().getMultiUserChatManager().getMultiUserChatService(room);
            MUCRoom chatRoom = service == null ? null : service.getChatRoom(room.getNode());
            MUCOccupant occupant = chatRoom == null ? null : chatRoom.getOccupantByFullJID(new JID(userJid));
            Role role = occupant == null ? null : occupant.getRole();
            return role == null ? null : role.name();
        } catch (RuntimeException e) {
            LOG.warn("Attendance: cannot read the role of " + userJid + " in " + roomJid + ": " + e);
            return null;
        }
    }

    private static boolean isServerAdmin(String bareJid) {
        return AdminManager.getInstance().isUserAdmin(new JID(bareJid), false);
    }

    private static boolean isMucService(String domain) {
        return XMPPServer.getInstance().getMultiUserChatManager().getMultiUserChatService(new JID(domain)) != null;
    }
}
