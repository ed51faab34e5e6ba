package org.jivesoftware.util;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

public class PropertyEventDispatcher {
    private static final List<PropertyEventListener> LISTENERS = new CopyOnWriteArrayList<>();

    public static void addListener(PropertyEventListener listener) {
        LISTENERS.add(listener);
    }

    public static void removeListener(PropertyEventListener listener) {
        LISTENERS.remove(listener);
    }

    static void testDispatch(String property, boolean deleted) {
        SystemProperty.dispatch(property);
        for (PropertyEventListener listener : LISTENERS) {
            if (deleted) {
                listener.propertyDeleted(property, Map.of());
            } else {
                listener.propertySet(property, Map.of("value", JiveGlobals.getProperty(property)));
            }
        }
    }

    public static int testListenerCount() {
        return LISTENERS.size();
    }

    public static void testReset() {
        LISTENERS.clear();
    }
}
