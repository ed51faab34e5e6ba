package org.jitsictl.openfire.attendance.core;

import java.util.List;
import java.util.Locale;

/**
 * Which rooms and occupants are Jitsi's own machinery and never reported (schema/README.md):
 * jicofo's health-check rooms, brewery rooms and internal MUC services; the focus, jvb,
 * recorder, transcriber and other accounts listed in {@code attendance.skip.jids}.
 */
public final class SkipRules {
    public static final String HEALTH_CHECK_PREFIX = "__jicofo-health-check";

    private SkipRules() {
    }

    /** True for rooms nobody attends: health checks, breweries, internal MUC services. */
    public static boolean isSystemRoom(String roomJid) {
        String lower = roomJid.toLowerCase(Locale.ROOT);
        int at = lower.indexOf('@');
        String node = at < 0 ? lower : lower.substring(0, at);
        String service = at < 0 ? "" : lower.substring(at + 1);
        return node.startsWith(HEALTH_CHECK_PREFIX)
                || node.endsWith("brewery")
                || service.startsWith("internal-muc.") || service.startsWith("internal.");
    }

    /** True when a bare JID matches an entry: {@code node}, {@code node@domain} or {@code @domain}. */
    public static boolean isSkippedAccount(String bareJid, List<String> entries) {
        String lower = bareJid.toLowerCase(Locale.ROOT);
        int at = lower.indexOf('@');
        String node = at < 0 ? "" : lower.substring(0, at);
        String domain = at < 0 ? lower : lower.substring(at + 1);
        for (String entry : entries) {
            if (entry.startsWith("@")) {
                if (domain.equals(entry.substring(1))) {
                    return true;
                }
            } else if (entry.indexOf('@') >= 0) {
                if (lower.equals(entry)) {
                    return true;
                }
            } else if (node.equals(entry)) {
                return true;
            }
        }
        return false;
    }
}
