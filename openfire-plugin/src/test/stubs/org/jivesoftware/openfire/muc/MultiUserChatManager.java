package org.jivesoftware.openfire.muc;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.jivesoftware.util.AlreadyExistsException;
import org.xmpp.packet.JID;

public class MultiUserChatManager {
    private final List<MultiUserChatService> services = new CopyOnWriteArrayList<>();
    private volatile Function<String, MultiUserChatService> factory;

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

    public MultiUserChatService getMultiUserChatService(String subdomain) {
        for (MultiUserChatService service : services) {
            if (service.getServiceName().equals(subdomain)) {
                return service;
            }
        }
        return null;
    }

    /**
     * Openfire returns its MultiUserChatServiceImpl here; code that keeps the result as a
     * MultiUserChatService compiles against both.
     */
    public MultiUserChatService createMultiUserChatService(String subdomain, String description, boolean isHidden)
            throws AlreadyExistsException {
        if (getMultiUserChatService(subdomain) != null) {
            throw new AlreadyExistsException();
        }
        MultiUserChatService service = factory.apply(subdomain + ";" + isHidden);
        services.add(service);
        return service;
    }

    public void testAddService(MultiUserChatService service) {
        services.add(service);
    }

    /** How the stand-in builds services: "subdomain;hidden" to a service. */
    public void testSetServiceFactory(Function<String, MultiUserChatService> factory) {
        this.factory = factory;
    }
}
