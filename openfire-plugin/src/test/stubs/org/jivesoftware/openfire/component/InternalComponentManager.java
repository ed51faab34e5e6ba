package org.jivesoftware.openfire.component;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.xmpp.component.Component;
import org.xmpp.component.ComponentException;
import org.xmpp.component.ComponentManager;
import org.xmpp.packet.JID;
import org.xmpp.packet.Packet;

/**
 * Openfire's component manager, as InternalComponentManager (Openfire 5.0.3) behaves: a
 * subdomain may be served by several components at once (Openfire then spreads packets over
 * them); {@code removeComponent(subdomain)} removes every one of them, while
 * {@code removeComponent(subdomain, component)} removes only that one (and throws a
 * NullPointerException for a subdomain nobody serves). {@code addComponent} initialises and
 * starts the component. Packets components send are recorded for tests.
 */
public class InternalComponentManager implements ComponentManager {
    private static final InternalComponentManager INSTANCE = new InternalComponentManager();
    private final Map<String, List<Component>> routables = new ConcurrentHashMap<>();
    private final List<Packet> sent = Collections.synchronizedList(new ArrayList<>());
    private volatile String serverDomain = "meet.jitsi";

    public static InternalComponentManager getInstance() {
        return INSTANCE;
    }

    @Override
    public void addComponent(String subdomain, Component component) throws ComponentException {
        List<Component> routable = routables.computeIfAbsent(subdomain, s -> new CopyOnWriteArrayList<>());
        if (routable.contains(component)) {
            return;
        }
        routable.add(component);
        component.initialize(new JID(null, subdomain + "." + serverDomain, null), this);
        component.start();
    }

    @Override
    public void removeComponent(String subdomain) {
        List<Component> routable = routables.get(subdomain);
        if (routable != null) {
            for (Component component : List.copyOf(routable)) {
                removeComponent(subdomain, component);
            }
        }
    }

    public void removeComponent(String subdomain, Component component) {
        if (component == null) {
            return;
        }
        List<Component> routable = routables.get(subdomain);
        routable.remove(component);
        if (routable.isEmpty()) {
            routables.remove(subdomain);
            component.shutdown();
        }
    }

    public boolean hasComponent(JID componentJID) {
        String domain = componentJID.getDomain();
        String suffix = "." + serverDomain;
        return domain.endsWith(suffix) && routables.containsKey(domain.substring(0, domain.length() - suffix.length()));
    }

    @Override
    public void sendPacket(Component component, Packet packet) {
        sent.add(packet);
    }

    @Override
    public String getServerName() {
        return serverDomain;
    }

    // -- test members --------------------------------------------------------------------------

    public List<Component> testComponents(String subdomain) {
        return List.copyOf(routables.getOrDefault(subdomain, List.of()));
    }

    /** Packets sent by components since the last call, oldest first. */
    public List<Packet> testTakeSent() {
        synchronized (sent) {
            List<Packet> copy = new ArrayList<>(sent);
            sent.clear();
            return copy;
        }
    }

    public void testReset(String domain) {
        routables.clear();
        sent.clear();
        serverDomain = domain;
    }
}
