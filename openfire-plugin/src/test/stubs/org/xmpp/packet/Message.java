package org.xmpp.packet;

/** Tinder's Message: type only (the plugin never reads a body). */
public class Message extends Packet {
    public enum Type {
        normal, chat, groupchat, headline, error
    }

    private Type type = Type.normal;

    public Type getType() {
        return type;
    }

    public void setType(Type type) {
        this.type = type;
    }

    @Override
    public Message createCopy() {
        Message copy = new Message();
        copyInto(copy);
        copy.type = type;
        return copy;
    }
}
