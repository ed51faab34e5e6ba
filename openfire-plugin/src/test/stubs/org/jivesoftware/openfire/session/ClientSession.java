package org.jivesoftware.openfire.session;

public interface ClientSession extends Session {
}
