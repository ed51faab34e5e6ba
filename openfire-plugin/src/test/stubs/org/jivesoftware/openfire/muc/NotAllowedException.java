package org.jivesoftware.openfire.muc;

public class NotAllowedException extends Exception {
    public NotAllowedException() {
    }

    public NotAllowedException(String message) {
        super(message);
    }
}
