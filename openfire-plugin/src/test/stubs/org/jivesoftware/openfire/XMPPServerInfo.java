package org.jivesoftware.openfire;

public interface XMPPServerInfo {
    String getXMPPDomain();
}
