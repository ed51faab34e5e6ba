package org.jitsictl.openfire.attendance;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jivesoftware.openfire.muc.MUCOccupant;
import org.jivesoftware.openfire.muc.MUCRoom;
import org.jivesoftware.openfire.muc.MultiUserChatService;
import org.jivesoftware.openfire.muc.Role;
import org.xmpp.packet.JID;

/**
 * A MUC service as the plugin sees it: a domain, its sysadmins and its rooms. Occupants get
 * the roles Openfire gives by default: the room's creator becomes its owner, hence moderator;
 * everyone else joins an unmoderated room as participant.
 */
final class TestMucService implements MultiUserChatService {
    private final String domain;
    final List<JID> sysadmins = new CopyOnWriteArrayList<>();
    private final Map<String, MUCRoom> rooms = new ConcurrentHashMap<>();

    TestMucService(String domain) {
        this.domain = domain;
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
    public MUCRoom getChatRoom(String roomName) {
        return rooms.get(roomName);
    }

    /** An occupant enters (creating the room if needed); returns whether the room was created. */
    boolean join(String roomName, JID user, String nickname) {
        boolean created = !rooms.containsKey(roomName);
        MUCRoom room = rooms.computeIfAbsent(roomName, name -> new MUCRoom(new JID(name, domain, null)));
        room.testAddOccupant(new MUCOccupant(user, nickname, created ? Role.moderator : Role.participant));
        return created;
    }

    /** An occupant is gone; returns whether the room is now empty (and so destroyed). */
    boolean leave(String roomName, JID user) {
        MUCRoom room = rooms.get(roomName);
        room.testRemoveOccupant(user);
        if (room.testIsEmpty()) {
            rooms.remove(roomName);
            return true;
        }
        return false;
    }

    void destroy(String roomName) {
        rooms.remove(roomName);
    }
}
