package org.jitsictl.openfire.attendance.core;

/** The log the core writes to: Openfire's (slf4j) in production, a list in tests. */
public interface PluginLog {
    void info(String message);

    void warn(String message);

    void error(String message, Throwable cause);
}
