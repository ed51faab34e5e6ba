package org.jivesoftware.openfire.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.xmpp.packet.JID;

public abstract class LocalSession implements Session {
    private final JID address;
    private final Map<String, Object> data = new ConcurrentHashMap<>();

    protected LocalSession(JID address) {
        this.address = address;
    }

    public JID getAddress() {
        return address;
    }

    public Object setSessionData(String key, Object value) {
        return data.put(key, value);
    }

    public Object getSessionData(String key) {
        return data.get(key);
    }

    public Object removeSessionData(String key) {
        return data.remove(key);
    }
}
