package org.jitsictl.openfire.attendance.core;

import java.util.Map;

/** Where finished events go: the delivery pipeline in production, a list in tests. */
@FunctionalInterface
public interface EventSink {
    /** Must not block: it is called on the XMPP server's packet-handling threads. */
    void accept(Map<String, Object> event);

    /** Called once when the plugin stops: persist what is still in memory. */
    default void close() {
    }
}
