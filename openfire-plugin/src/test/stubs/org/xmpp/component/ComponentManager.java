package org.xmpp.component;

import org.xmpp.packet.Packet;

/** Tinder's ComponentManager: the members the plugin uses. */
public interface ComponentManager {
    void addComponent(String subdomain, Component component) throws ComponentException;

    void removeComponent(String subdomain) throws ComponentException;

    void sendPacket(Component component, Packet packet) throws ComponentException;

    String getServerName();
}
