package org.jivesoftware.util;

import java.util.Map;

public interface PropertyEventListener {
    void propertySet(String property, Map<String, Object> params);

    void propertyDeleted(String property, Map<String, Object> params);

    void xmlPropertySet(String property, Map<String, Object> params);

    void xmlPropertyDeleted(String property, Map<String, Object> params);
}
