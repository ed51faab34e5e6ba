package org.jivesoftware.openfire.muc;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.xmpp.packet.JID;

public class MultiUserChatManager {
    private final List<MultiUserChatService> services = new CopyOnWriteArrayList<>();

    public List<MultiUserChatService> getMultiUserChatServices() {
        return List.copyOf(services);
    }

    public MultiUserChatService getMultiUserChatService(JID jid) {
        for (MultiUserChatService service : services) {
            if (service.getServiceDomain().equals(jid.getDomain())) {
                return service;
            }
        }
        return null;
    }

    public void testAddService(MultiUserChatService service) {
        services.add(service);
    }
}
