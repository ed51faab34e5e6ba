package org.jitsictl.openfire.attendance;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jivesoftware.openfire.muc.MultiUserChatService;
import org.xmpp.packet.JID;

/** A MUC service as the plugin sees it: a domain and its sysadmins. */
final class TestMucService implements MultiUserChatService {
    private final String domain;
    final List<JID> sysadmins = new CopyOnWriteArrayList<>();

    TestMucService(String domain) {
        this.domain = domain;
    }

    @Override
    public String getServiceDomain() {
        return domain;
    }

    @Override
    public String getServiceName() {
        return domain.substring(0, domain.indexOf('.'));
    }

    @Override
    public Collection<JID> getSysadmins() {
        return List.copyOf(sysadmins);
    }

    @Override
    public void addSysadmin(JID userJID) {
        sysadmins.add(userJID);
    }

    @Override
    public void removeSysadmin(JID userJID) {
        sysadmins.remove(userJID);
    }
}
