package org.xmpp.packet;

/** Tinder's PacketError: a condition and its type. */
public class PacketError {
    public enum Condition {
        bad_request, feature_not_implemented, forbidden, internal_server_error, item_not_found,
        not_allowed, not_authorized, recipient_unavailable, service_unavailable
    }

    public enum Type {
        cancel, continue_processing, modify, auth, wait
    }

    private final Condition condition;
    private final Type type;

    public PacketError(Condition condition, Type type) {
        this.condition = condition;
        this.type = type;
    }

    public Condition getCondition() {
        return condition;
    }

    public Type getType() {
        return type;
    }
}
