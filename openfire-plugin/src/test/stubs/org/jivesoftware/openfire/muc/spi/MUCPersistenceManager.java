package org.jivesoftware.openfire.muc.spi;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Openfire's per-MUC-service properties (persisted in ofMucServiceProp), by service name
 * (the subdomain). The stand-in keeps them in memory.
 */
public class MUCPersistenceManager {
    private static final Map<String, Map<String, String>> PROPERTIES = new ConcurrentHashMap<>();

    public static String getProperty(String subdomain, String name) {
        return PROPERTIES.getOrDefault(subdomain, Map.of()).get(name);
    }

    public static int getIntProperty(String subdomain, String name, int defaultValue) {
        String value = getProperty(subdomain, name);
        try {
            return value == null ? defaultValue : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            return defaultValue;
        }
    }

    public static void setProperty(String subdomain, String name, String value) {
        PROPERTIES.computeIfAbsent(subdomain, s -> new ConcurrentHashMap<>()).put(name, value);
    }

    public static void testReset() {
        PROPERTIES.clear();
    }
}
