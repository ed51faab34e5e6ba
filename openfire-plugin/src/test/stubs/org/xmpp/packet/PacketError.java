package org.xmpp.packet;

public class PacketError {
    public enum Condition {
        bad_request, feature_not_implemented, forbidden, internal_server_error, item_not_found,
        not_allowed, not_authorized, recipient_unavailable, service_unavailable
    }
}
