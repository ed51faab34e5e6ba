package org.jivesoftware.openfire.session;

import org.xmpp.packet.JID;

public interface Session {
    JID getAddress();
}
