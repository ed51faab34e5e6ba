package org.jivesoftware.openfire.session;

import org.xmpp.packet.JID;

public class LocalClientSession extends LocalSession implements ClientSession {
    /** Test stand-in constructor (Openfire creates sessions from a connection). */
    public LocalClientSession(JID address) {
        super(address);
    }
}
