package org.jivesoftware.openfire.muc;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.xmpp.packet.JID;

/** Openfire's static dispatcher: registration plus the dispatch calls Openfire's MUC makes. */
public class MUCEventDispatcher {
    private static final List<MUCEventListener> LISTENERS = new CopyOnWriteArrayList<>();

    public static void addListener(MUCEventListener listener) {
        LISTENERS.add(listener);
    }

    public static void removeListener(MUCEventListener listener) {
        LISTENERS.remove(listener);
    }

    public static void occupantJoined(JID roomJID, JID user, String nickname) {
        LISTENERS.forEach(l -> l.occupantJoined(roomJID, user, nickname));
    }

    public static void occupantLeft(JID roomJID, JID user, String nickname) {
        LISTENERS.forEach(l -> l.occupantLeft(roomJID, user, nickname));
    }

    public static void nicknameChanged(JID roomJID, JID user, String oldNickname, String newNickname) {
        LISTENERS.forEach(l -> l.nicknameChanged(roomJID, user, oldNickname, newNickname));
    }

    public static void roomCreated(long roomID, JID roomJID) {
        LISTENERS.forEach(l -> l.roomCreated(roomID, roomJID));
    }

    public static void roomDestroyed(long roomID, JID roomJID) {
        LISTENERS.forEach(l -> l.roomDestroyed(roomID, roomJID));
    }

    public static int testListenerCount() {
        return LISTENERS.size();
    }

    public static void testReset() {
        LISTENERS.clear();
    }
}
