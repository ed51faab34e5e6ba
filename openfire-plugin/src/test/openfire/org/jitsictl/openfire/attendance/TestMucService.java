package org.jitsictl.openfire.attendance;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.jivesoftware.openfire.muc.MUCOccupant;
import org.jivesoftware.openfire.muc.MUCRoom;
import org.jivesoftware.openfire.muc.MultiUserChatService;
import org.jivesoftware.openfire.muc.NotAllowedException;
import org.jivesoftware.openfire.muc.Role;
import org.xmpp.packet.JID;

/**
 * A MUC service as the plugin sees it, behaving as Openfire's MultiUserChatServiceImpl
 * (5.0.3) does where the plugin depends on it: sysadmins may always create rooms; with
 * creation restricted, only listed users (and, if allowed, every registered user) may; a
 * creator becomes the room's first owner. Occupants get Openfire's default roles: the room's
 * creator is its owner, hence moderator; everyone else joins an unmoderated room as participant.
 */
final class TestMucService implements MultiUserChatService {
    private final String domain;
    private final boolean hidden;
    final List<JID> sysadmins = new CopyOnWriteArrayList<>();
    final List<JID> allowedToCreate = new CopyOnWriteArrayList<>();
    private volatile boolean creationRestricted;
    private volatile boolean allRegisteredMayCreate;
    private final Map<String, MUCRoom> rooms = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    final List<String> synced = new CopyOnWriteArrayList<>();

    TestMucService(String domain) {
        this(domain, false);
    }

    TestMucService(String domain, boolean hidden) {
        this.domain = domain;
        this.hidden = hidden;
    }

    @Override
    public String getServiceDomain() {
        return domain;
    }

    @Override
    public String getServiceName() {
        return domain.substring(0, domain.indexOf('.'));
    }

    @Override
    public boolean isHidden() {
        return hidden;
    }

    @Override
    public Collection<JID> getSysadmins() {
        return List.copyOf(sysadmins);
    }

    @Override
    public void addSysadmin(JID userJID) {
        sysadmins.add(userJID);
    }

    @Override
    public void removeSysadmin(JID userJID) {
        sysadmins.remove(userJID);
    }

    @Override
    public boolean isRoomCreationRestricted() {
        return creationRestricted;
    }

    @Override
    public void setRoomCreationRestricted(boolean roomCreationRestricted) {
        this.creationRestricted = roomCreationRestricted;
    }

    @Override
    public boolean isAllRegisteredUsersAllowedToCreate() {
        return allRegisteredMayCreate;
    }

    @Override
    public void setAllRegisteredUsersAllowedToCreate(boolean allow) {
        this.allRegisteredMayCreate = allow;
    }

    @Override
    public Collection<JID> getUsersAllowedToCreate() {
        return List.copyOf(allowedToCreate);
    }

    @Override
    public void addUserAllowedToCreate(JID userJID) {
        if (!allowedToCreate.contains(userJID)) {
            allowedToCreate.add(userJID);
        }
    }

    boolean isAllowedToCreate(JID user) {
        JID bare = user.asBareJID();
        return !creationRestricted || sysadmins.contains(bare) || allowedToCreate.contains(bare)
                || (allRegisteredMayCreate && !user.getNode().startsWith("guest"));
    }

    @Override
    public MUCRoom getChatRoom(String roomName, JID userjid) throws NotAllowedException {
        MUCRoom room = rooms.get(roomName);
        if (room != null) {
            return room;
        }
        if (!isAllowedToCreate(userjid)) {
            throw new NotAllowedException();
        }
        room = new MUCRoom(new JID(roomName, domain, null));
        room.testAddFirstOwner(userjid);
        rooms.put(roomName, room);
        return room;
    }

    @Override
    public MUCRoom getChatRoom(String roomName) {
        return rooms.get(roomName);
    }

    @Override
    public List<MUCRoom> getActiveChatRooms() {
        return new ArrayList<>(rooms.values());
    }

    @Override
    public Lock getChatRoomLock(String roomName) {
        return locks.computeIfAbsent(roomName, name -> new ReentrantLock());
    }

    @Override
    public void syncChatRoom(MUCRoom room) {
        synced.add(room.getName());
    }

    /** An occupant enters (creating the room if needed); returns whether the room was created. */
    boolean join(String roomName, JID user, String nickname) throws NotAllowedException {
        boolean created = !rooms.containsKey(roomName);
        MUCRoom room = getChatRoom(roomName, user);
        MUCOccupant occupant = new MUCOccupant(user, nickname, created ? Role.moderator : Role.participant);
        occupant.testSetOccupantJID(new JID(roomName, domain, nickname));
        room.testAddOccupant(occupant);
        return created;
    }

    /** An occupant is gone; returns whether the room is now empty (and so destroyed). */
    boolean leave(String roomName, JID user) {
        MUCRoom room = rooms.get(roomName);
        room.testRemoveOccupant(user);
        if (room.testIsEmpty() && !room.isPersistent()) {
            rooms.remove(roomName);
            return true;
        }
        return false;
    }

    void destroy(String roomName) {
        rooms.remove(roomName);
    }
}
