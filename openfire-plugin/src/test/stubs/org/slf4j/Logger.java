package org.slf4j;

/** slf4j's Logger: the calls the plugin makes. The stand-in prints to stderr. */
public interface Logger {
    void info(String message);

    void warn(String message);

    void error(String message, Throwable cause);
}
