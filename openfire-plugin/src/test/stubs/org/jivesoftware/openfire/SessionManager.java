package org.jivesoftware.openfire;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jivesoftware.openfire.session.ClientSession;
import org.xmpp.packet.JID;

public class SessionManager {
    private static final SessionManager INSTANCE = new SessionManager();
    private final Map<String, ClientSession> sessions = new ConcurrentHashMap<>();

    public static SessionManager getInstance() {
        return INSTANCE;
    }

    public ClientSession getSession(JID from) {
        return sessions.get(from.toString());
    }

    public Collection<ClientSession> getSessions(String username) {
        List<ClientSession> found = new ArrayList<>();
        for (ClientSession session : sessions.values()) {
            if (username.equals(session.getAddress().getNode())) {
                found.add(session);
            }
        }
        return found;
    }

    public void testAdd(ClientSession session) {
        sessions.put(session.getAddress().toString(), session);
    }

    public void testRemove(JID address) {
        sessions.remove(address.toString());
    }

    public void testReset() {
        sessions.clear();
    }
}
