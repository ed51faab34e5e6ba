package org.jivesoftware.openfire.muc;

import java.util.Collection;
import org.xmpp.packet.JID;

/** The members of Openfire's MultiUserChatService the plugin uses. */
public interface MultiUserChatService {
    String getServiceDomain();

    String getServiceName();

    Collection<JID> getSysadmins();

    void addSysadmin(JID userJID);

    void removeSysadmin(JID userJID);

    /** The room by name, or null when it does not exist (Openfire: {@code @Nullable MUCRoom getChatRoom(@Nonnull String)}). */
    MUCRoom getChatRoom(String roomName);
}
