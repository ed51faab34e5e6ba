package org.xmpp.packet;

import java.util.ArrayList;
import java.util.List;
import org.dom4j.Element;

/** Tinder's Presence; type null means available, as in Tinder. */
public class Presence extends Packet {
    public enum Type {
        unavailable, subscribe, subscribed, unsubscribe, unsubscribed, probe, error
    }

    private Type type;
    private final List<Element> children = new ArrayList<>();

    public Presence() {
    }

    public Presence(Presence.Type type) {
        this.type = type;
    }

    public boolean isAvailable() {
        return type == null;
    }

    public Type getType() {
        return type;
    }

    public void setType(Type type) {
        this.type = type;
    }

    public Element getChildElement(String name, String namespace) {
        for (Element child : children) {
            if (child.getName().equals(name) && namespace.equals(child.getNamespaceURI())) {
                return child;
            }
        }
        return null;
    }

    public Element addChildElement(String name, String namespace) {
        Element child = Element.testCreate(name, namespace);
        children.add(child);
        return child;
    }

    @Override
    public Presence createCopy() {
        Presence copy = new Presence(type);
        copyInto(copy);
        for (Element child : children) {
            copy.children.add(child.createCopy());
        }
        return copy;
    }
}
