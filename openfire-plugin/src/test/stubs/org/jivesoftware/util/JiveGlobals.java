package org.jivesoftware.util;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Openfire's system properties; the stand-in keeps them in memory and dispatches changes. */
public class JiveGlobals {
    private static final Map<String, String> PROPERTIES = new ConcurrentHashMap<>();
    private static volatile Path home = Path.of(System.getProperty("java.io.tmpdir"));

    public static Path getHomePath() {
        return home;
    }

    public static String getProperty(String name) {
        return PROPERTIES.get(name);
    }

    public static String getProperty(String name, String defaultValue) {
        return PROPERTIES.getOrDefault(name, defaultValue);
    }

    public static void setProperty(String name, String value) {
        PROPERTIES.put(name, value);
        PropertyEventDispatcher.testDispatch(name, false);
    }

    public static void deleteProperty(String name) {
        PROPERTIES.remove(name);
        PropertyEventDispatcher.testDispatch(name, true);
    }

    public static void testSetHomePath(Path path) {
        home = path;
    }

    public static void testReset() {
        PROPERTIES.clear();
    }
}
