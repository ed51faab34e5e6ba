package org.jivesoftware.openfire.muc;

import org.xmpp.packet.JID;
import org.xmpp.packet.Message;

/** Openfire 5.x signatures (no default methods). */
public interface MUCEventListener {
    void roomCreated(long roomID, JID roomJID);

    void roomDestroyed(long roomID, JID roomJID);

    void roomClearChatHistory(long roomID, JID roomJID);

    void occupantJoined(JID roomJID, JID user, String nickname);

    void occupantLeft(JID roomJID, JID user, String nickname);

    void occupantNickKicked(JID roomJID, String nickname);

    void nicknameChanged(JID roomJID, JID user, String oldNickname, String newNickname);

    void messageReceived(JID roomJID, JID user, String nickname, Message message);

    void privateMessageRecieved(JID toJID, JID fromJID, Message message);

    void roomSubjectChanged(JID roomJID, JID user, String newSubject);
}
