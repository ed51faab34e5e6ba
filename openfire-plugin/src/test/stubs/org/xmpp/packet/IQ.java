package org.xmpp.packet;

import org.dom4j.Element;

public class IQ extends Packet {
    public enum Type {
        get, set, result, error
    }

    private Type type;
    private Element child;

    public IQ() {
        this.type = Type.get;
    }

    public IQ(Type type) {
        this.type = type;
    }

    public IQ(Type type, String id) {
        this.type = type;
        this.id = id;
    }

    public Type getType() {
        return type;
    }

    public void setType(Type type) {
        this.type = type;
    }

    public boolean isRequest() {
        return type == Type.get || type == Type.set;
    }

    public boolean isResponse() {
        return type == Type.result || type == Type.error;
    }

    public Element getChildElement() {
        return child;
    }

    public void setChildElement(Element childElement) {
        this.child = childElement;
    }

    public Element setChildElement(String name, String namespace) {
        this.child = Element.testCreate(name, namespace);
        return child;
    }

    @Override
    public IQ createCopy() {
        IQ copy = new IQ(type);
        copyInto(copy);
        copy.child = child == null ? null : child.createCopy();
        return copy;
    }

    public static IQ createResultIQ(IQ iq) {
        IQ result = new IQ(Type.result, iq.getID());
        result.setFrom(iq.getTo());
        result.setTo(iq.getFrom());
        return result;
    }
}
