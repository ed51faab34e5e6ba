package org.jitsictl.openfire.attendance;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Map;
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
import org.jivesoftware.util.PropertyEventDispatcher;
import org.jivesoftware.util.PropertyEventListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xmpp.component.ComponentException;
import org.xmpp.component.ComponentManager;
import org.xmpp.component.ComponentManagerFactory;
import org.xmpp.packet.JID;

/**
 * The Openfire plugin: attendance events for Jitsi classrooms, and the one-domain Jitsi setup
 * (focus as sysadmin of every MUC service, the {@code focus.<domain>} relay). See readme.html.
 */
public final class AttendancePlugin implements Plugin {
    /**
     * Session data key under which a deployment's authentication component leaves the JWT a
     * client connected with; the plugin verifies it again before using any claim.
     */
    public static final String TOKEN_SESSION_KEY = "auth_token";
    /** Read once at start: where the spool lives (default: see {@link #defaultSpoolDirectory}). */
    public static final String SPOOL_DIR = "attendance.spool.dir";
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
    private SettingsHolder settings;
    private EventSink sink;
    private AttendanceRecorder recorder;
    private MucAttendanceListener listener;
    private NickInterceptor interceptor;
    private PropertyEventListener propertyListener;
    private ScheduledExecutorService jitsiSetup;
    private ComponentManager componentManager;
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
        settings = new SettingsHolder(JiveGlobals::getProperty, LOG::warn);
        domain = XMPPServer.getInstance().getServerInfo().getXMPPDomain();
        sink = injectedSink != null ? injectedSink : startDelivery(pluginDirectory);

        recorder = new AttendanceRecorder(new EventFactory(clock), settings, sink, PLUGIN_LOG,
                AttendancePlugin::tokenOf, AttendancePlugin::isServerAdmin, AttendancePlugin::roleOf);
        recorder.serverStarted(domain);
        listener = new MucAttendanceListener(recorder);
        interceptor = new NickInterceptor(recorder, AttendancePlugin::isMucService);
        MUCEventDispatcher.addListener(listener);
        InterceptorManager.getInstance().addInterceptor(interceptor);

        jitsiSetup = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "attendance-jitsi-setup");
            thread.setDaemon(true);
            return thread;
        });
        applyJitsiSetup();
        jitsiSetup.scheduleWithFixedDelay(this::applyJitsiSetup, JITSI_SETUP_PERIOD_SECONDS,
                JITSI_SETUP_PERIOD_SECONDS, TimeUnit.SECONDS);
        propertyListener = new AttendancePropertyListener();
        PropertyEventDispatcher.addListener(propertyListener);
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
        if (propertyListener != null) {
            PropertyEventDispatcher.removeListener(propertyListener);
        }
        if (jitsiSetup != null) {
            jitsiSetup.shutdownNow();
        }
        removeFocusComponent();
        if (sink != null) {
            sink.close();
        }
        LOG.info("Attendance plugin stopped");
    }

    /** The recorder, for tests that inspect tracked state. */
    AttendanceRecorder recorder() {
        return recorder;
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
        String configured = JiveGlobals.getProperty(SPOOL_DIR);
        Path dir = configured == null || configured.isBlank()
                ? defaultSpoolDirectory(pluginDirectory) : Path.of(configured.trim());
        Spool spool;
        try {
            spool = new Spool(dir);
        } catch (IOException e) {
            throw new IllegalStateException("Attendance: cannot open the spool directory " + dir + ": " + e.getMessage()
                    + ". Make it writable by Openfire or set " + SPOOL_DIR + " to a writable directory.", e);
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

    private synchronized void applyJitsiSetup() {
        try {
            Settings current = settings.refresh();
            if (!current.jitsiSetup) {
                removeFocusComponent();
                return;
            }
            List<MultiUserChatService> services = XMPPServer.getInstance().getMultiUserChatManager()
                    .getMultiUserChatServices();
            JitsiOneDomainSetup.grantSysadmin(services, new JID(focusBareJid()));
            if (componentManager == null) {
                ComponentManager components = ComponentManagerFactory.getComponentManager();
                components.addComponent(FocusRelayComponent.SUBDOMAIN,
                        new FocusRelayComponent(this::focusSession, this::focusBareJid));
                componentManager = components;
                LOG.info("Jitsi setup: relaying " + FocusRelayComponent.SUBDOMAIN + "." + domain + " to " + focusBareJid());
            }
        } catch (ComponentException | RuntimeException e) {
            LOG.error("Jitsi setup failed; it is retried in " + JITSI_SETUP_PERIOD_SECONDS + " s", e);
        }
    }

    private synchronized void removeFocusComponent() {
        if (componentManager == null) {
            return;
        }
        try {
            componentManager.removeComponent(FocusRelayComponent.SUBDOMAIN);
        } catch (ComponentException | RuntimeException e) {
            LOG.warn("Jitsi setup: could not remove the focus relay: " + e.getMessage());
        }
        componentManager = null;
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
     * The occupant's role as Openfire's MUC holds it. Openfire 5 API ({@code MUCRoom} class,
     * {@code Role} enum); on a server without it the event simply carries no role.
     */
    private static String roleOf(String roomJid, String userJid) {
        try {
            JID room = new JID(roomJid);
            MultiUserChatService service = XMPPServer.getInstance().getMultiUserChatManager().getMultiUserChatService(room);
            MUCRoom chatRoom = service == null ? null : service.getChatRoom(room.getNode());
            MUCOccupant occupant = chatRoom == null ? null : chatRoom.getOccupantByFullJID(new JID(userJid));
            Role role = occupant == null ? null : occupant.getRole();
            return role == null ? null : role.name();
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    private static boolean isServerAdmin(String bareJid) {
        return AdminManager.getInstance().isUserAdmin(new JID(bareJid), false);
    }

    private static boolean isMucService(String domain) {
        return XMPPServer.getInstance().getMultiUserChatManager().getMultiUserChatService(new JID(domain)) != null;
    }

    /** Applies a change of an {@code attendance.*} property at once (the delivery re-reads them too). */
    private final class AttendancePropertyListener implements PropertyEventListener {
        @Override
        public void propertySet(String property, Map<String, Object> params) {
            changed(property);
        }

        @Override
        public void propertyDeleted(String property, Map<String, Object> params) {
            changed(property);
        }

        @Override
        public void xmlPropertySet(String property, Map<String, Object> params) {
        }

        @Override
        public void xmlPropertyDeleted(String property, Map<String, Object> params) {
        }

        private void changed(String property) {
            if (property != null && property.startsWith("attendance.")) {
                settings.refresh();
                if (property.equals(Settings.JITSI_SETUP) || property.equals(Settings.FOCUS_JID)) {
                    jitsiSetup.execute(AttendancePlugin.this::applyJitsiSetup);
                }
            }
        }
    }
}
