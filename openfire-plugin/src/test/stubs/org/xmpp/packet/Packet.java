package org.xmpp.packet;

/** Tinder's Packet: addressing, id and error; the stand-in keeps them as fields. */
public abstract class Packet {
    protected JID to;
    protected JID from;
    protected String id;
    protected PacketError.Condition error;

    public String getID() {
        return id;
    }

    public void setID(String id) {
        this.id = id;
    }

    public JID getTo() {
        return to;
    }

    public void setTo(String to) {
        this.to = to == null ? null : new JID(to);
    }

    public void setTo(JID to) {
        this.to = to;
    }

    public JID getFrom() {
        return from;
    }

    public void setFrom(String from) {
        this.from = from == null ? null : new JID(from);
    }

    public void setFrom(JID from) {
        this.from = from;
    }

    public void setError(PacketError.Condition condition) {
        this.error = condition;
    }

    /** Test helper: the error condition set on this packet, or null. */
    public PacketError.Condition testErrorCondition() {
        return error;
    }

    protected void copyInto(Packet copy) {
        copy.to = to;
        copy.from = from;
        copy.id = id;
        copy.error = error;
    }
}
