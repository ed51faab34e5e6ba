package org.jivesoftware.openfire.admin;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.xmpp.packet.JID;

public class AdminManager {
    private static final AdminManager INSTANCE = new AdminManager();
    private final Set<String> admins = ConcurrentHashMap.newKeySet();

    public static AdminManager getInstance() {
        return INSTANCE;
    }

    public boolean isUserAdmin(JID jid, boolean allowAdminIfEmpty) {
        return admins.contains(jid.toBareJID()) || (allowAdminIfEmpty && admins.isEmpty());
    }

    public void testAddAdmin(String bareJid) {
        admins.add(bareJid);
    }

    public void testReset() {
        admins.clear();
    }
}
