package org.jivesoftware.openfire;

import org.jivesoftware.openfire.muc.MultiUserChatManager;

public class XMPPServer {
    private static final XMPPServer INSTANCE = new XMPPServer();
    private volatile String domain = "meet.jitsi";
    private volatile MultiUserChatManager muc = new MultiUserChatManager();

    public static XMPPServer getInstance() {
        return INSTANCE;
    }

    public XMPPServerInfo getServerInfo() {
        return () -> domain;
    }

    public MultiUserChatManager getMultiUserChatManager() {
        return muc;
    }

    public void testSetDomain(String xmppDomain) {
        domain = xmppDomain;
    }

    public void testReset() {
        muc = new MultiUserChatManager();
    }
}
