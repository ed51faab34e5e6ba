package org.jivesoftware.openfire.muc;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.locks.Lock;
import org.xmpp.packet.JID;

/** The members of Openfire's MultiUserChatService the plugin uses. */
public interface MultiUserChatService {
    String getServiceDomain();

    String getServiceName();

    boolean isHidden();

    Collection<JID> getSysadmins();

    void addSysadmin(JID userJID);

    void removeSysadmin(JID userJID);

    boolean isRoomCreationRestricted();

    void setRoomCreationRestricted(boolean roomCreationRestricted);

    boolean isAllRegisteredUsersAllowedToCreate();

    void setAllRegisteredUsersAllowedToCreate(boolean allow);

    Collection<JID> getUsersAllowedToCreate();

    void addUserAllowedToCreate(JID userJID);

    /** The room, created with {@code userjid} as its first owner when missing (if allowed to create). */
    MUCRoom getChatRoom(String roomName, JID userjid) throws NotAllowedException;

    /** The room by name, or null when it does not exist (Openfire: {@code @Nullable MUCRoom getChatRoom(@Nonnull String)}). */
    MUCRoom getChatRoom(String roomName);

    /** The rooms currently in memory (Jitsi's rooms are never persisted). */
    List<MUCRoom> getActiveChatRooms();

    Lock getChatRoomLock(String roomName);

    /** Makes other cluster nodes see a room's changes. */
    void syncChatRoom(MUCRoom room);
}
