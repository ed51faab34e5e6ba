package org.jitsictl.openfire.attendance;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.jitsictl.openfire.attendance.core.Delivery;
import org.jitsictl.openfire.attendance.core.IdentityRules;
import org.jitsictl.openfire.attendance.core.Settings;
import org.jivesoftware.util.SystemProperty;

/**
 * The plugin's settings, declared as typed Openfire system properties: the admin console lists
 * them with their type, default and description (src/main/i18n), the REST API lists them with
 * their defaults, and their listeners hear every change, made anywhere in the cluster.
 *
 * <p>Values are read as text by {@link Settings#parse}, not through {@link SystemProperty#getValue}:
 * Openfire silently falls back to the default for a value it cannot parse, while the plugin
 * says what is wrong and keeps the last good value (a typo must not, say, switch the Jitsi
 * setup off or empty the spool limit). The defaults declared here are {@link Settings#DEFAULTS}.
 */
final class AttendanceProperties {
    /** Read once at start: where the spool lives (default: next to the plugins directory). */
    static final String SPOOL_DIR = "attendance.spool.dir";

    final List<SystemProperty<?>> live;
    final SystemProperty<String> spoolDir;
    final SystemProperty<Boolean> jitsiSetup;
    final SystemProperty<String> focusJid;
    final SystemProperty<Integer> roomMaxOccupants;

    private final String plugin;

    private AttendanceProperties(String plugin) {
        this.plugin = plugin;
        Settings d = Settings.DEFAULTS;
        jitsiSetup = bool(Settings.JITSI_SETUP, d.jitsiSetup);
        focusJid = text(Settings.FOCUS_JID, false);
        roomMaxOccupants = integer(Settings.ROOM_MAX_OCCUPANTS, d.roomMaxOccupants);
        live = List.of(
                text(Settings.URL, false),
                text(Settings.SECRET, true),
                text(Settings.CLAIMS, false),
                integer(Settings.BATCH_SIZE, d.batchSize),
                millis(Settings.FLUSH_INTERVAL, d.flushIntervalMillis),
                millis(Settings.TIMEOUT, d.timeoutMillis),
                integer(Settings.QUEUE_MAX, d.queueMax),
                text(Settings.SKIP_JIDS, false),
                text(Settings.JWT_SECRET, true),
                text(Settings.USER_ID_CLAIM, IdentityRules.DEFAULT_USER_ID),
                text(Settings.EMAIL_CLAIM, IdentityRules.DEFAULT_EMAIL),
                text(Settings.NAME_CLAIM, IdentityRules.DEFAULT_NAME),
                text(Settings.GROUP_CLAIM, IdentityRules.DEFAULT_GROUP),
                text(Settings.TRUSTED_AFFILIATIONS, false),
                focusJid,
                jitsiSetup,
                roomMaxOccupants,
                bool(Delivery.REQUEUE, false));
        spoolDir = SystemProperty.Builder.ofType(String.class).setKey(SPOOL_DIR).setPlugin(plugin)
                .setDynamic(false).build();
    }

    /**
     * Registers the properties for the plugin of this canonical name. Openfire forgets a
     * plugin's properties when it unloads it; clearing first also covers a reload under a
     * server whose earlier unload failed half-way (a key can be registered only once).
     */
    static AttendanceProperties register(String plugin) {
        SystemProperty.removePropertiesForPlugin(plugin);
        return new AttendanceProperties(plugin);
    }

    void unregister() {
        SystemProperty.removePropertiesForPlugin(plugin);
    }

    /** Calls {@code listener} with the key of any live setting that changes. */
    void onChange(java.util.function.Consumer<String> listener) {
        for (SystemProperty<?> property : live) {
            property.addListener(value -> listener.accept(property.getKey()));
        }
    }

    private SystemProperty<String> text(String key, boolean secret) {
        return SystemProperty.Builder.ofType(String.class).setKey(key).setPlugin(plugin).setDynamic(true)
                .setEncrypted(secret).build();
    }

    private SystemProperty<String> text(String key, String defaultValue) {
        return SystemProperty.Builder.ofType(String.class).setKey(key).setPlugin(plugin).setDynamic(true)
                .setDefaultValue(defaultValue).build();
    }

    private SystemProperty<Integer> integer(String key, int defaultValue) {
        return SystemProperty.Builder.ofType(Integer.class).setKey(key).setPlugin(plugin).setDynamic(true)
                .setDefaultValue(defaultValue).build();
    }

    private SystemProperty<Duration> millis(String key, long defaultMillis) {
        return SystemProperty.Builder.ofType(Duration.class).setKey(key).setPlugin(plugin).setDynamic(true)
                .setChronoUnit(ChronoUnit.MILLIS).setDefaultValue(Duration.ofMillis(defaultMillis)).build();
    }

    private SystemProperty<Boolean> bool(String key, boolean defaultValue) {
        return SystemProperty.Builder.ofType(Boolean.class).setKey(key).setPlugin(plugin).setDynamic(true)
                .setDefaultValue(defaultValue).build();
    }
}
