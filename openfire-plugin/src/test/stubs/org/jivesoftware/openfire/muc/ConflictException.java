package org.jivesoftware.openfire.muc;

public class ConflictException extends Exception {
    public ConflictException() {
    }

    public ConflictException(String message) {
        super(message);
    }
}
