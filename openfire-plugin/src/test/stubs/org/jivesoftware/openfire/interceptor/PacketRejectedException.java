package org.jivesoftware.openfire.interceptor;

public class PacketRejectedException extends Exception {
    public PacketRejectedException() {
    }

    public PacketRejectedException(String msg) {
        super(msg);
    }
}
