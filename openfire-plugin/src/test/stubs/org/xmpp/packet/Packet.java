package org.xmpp.packet;

/** Tinder's Packet: addressing, id and error; the stand-in keeps them as fields. */
public abstract class Packet {
    protected JID to;
    protected JID from;
    protected String id;
    protected PacketError error;

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

    /** Tinder gives each condition its default type (feature-not-implemented: cancel, bad-request: modify...). */
    public void setError(PacketError.Condition condition) {
        this.error = new PacketError(condition, condition == PacketError.Condition.bad_request
                ? PacketError.Type.modify : PacketError.Type.cancel);
    }

    public void setError(PacketError error) {
        this.error = error;
    }

    public PacketError getError() {
        return error;
    }

    public abstract Packet createCopy();

    protected void copyInto(Packet copy) {
        copy.to = to;
        copy.from = from;
        copy.id = id;
        copy.error = error;
    }
}
