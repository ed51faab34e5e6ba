package org.jivesoftware.openfire.muc;

public class ForbiddenException extends Exception {
    public ForbiddenException() {
    }

    public ForbiddenException(String message) {
        super(message);
    }
}
