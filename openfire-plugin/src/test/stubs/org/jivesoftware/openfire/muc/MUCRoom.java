package org.jivesoftware.openfire.muc;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jivesoftware.openfire.muc.spi.MUCPersistenceManager;
import org.xmpp.packet.JID;
import org.xmpp.packet.Presence;

/**
 * Openfire 5's MUCRoom (a class since 5.0): the members the plugin reads and writes. As in
 * Openfire, a new room takes its capacity from its service's {@code room.maxUsers} (default
 * 30, 0 = no limit), is created locked with its creator as owner, and is written to the
 * database only by {@link #saveToDB} while persistent.
 */
public class MUCRoom {
    private final JID jid;
    private final List<MUCOccupant> occupants = new CopyOnWriteArrayList<>();
    private final List<JID> owners = new CopyOnWriteArrayList<>();
    private final List<JID> admins = new CopyOnWriteArrayList<>();
    private final List<JID> members = new CopyOnWriteArrayList<>();
    private final MUCOccupant self;
    private int maxUsers;
    private boolean locked = true;
    private boolean persistent;
    private boolean publicRoom = true;
    private boolean membersOnly;
    private boolean moderated;
    private boolean canAnyoneDiscoverJID = true;
    private boolean canChangeNickname = true;
    private boolean registrationEnabled = true;
    private boolean logEnabled = true;
    private boolean canOccupantsChangeSubject;
    private boolean canOccupantsInvite;
    private boolean loginRestrictedToNickname;
    private String allowPM = "anyone";
    private String description;
    private String naturalLanguageName;
    private List<Role> rolesToBroadcastPresence = List.of(Role.moderator, Role.participant, Role.visitor);
    private int savedToDatabase;

    /** Test stand-in constructor: a room on a service with the service's defaults. */
    public MUCRoom(JID jid) {
        this.jid = jid;
        this.maxUsers = MUCPersistenceManager.getIntProperty(serviceName(jid), "room.maxUsers", 30);
        this.self = new MUCOccupant(jid, jid.getNode(), Role.moderator, Affiliation.owner);
        this.description = jid.getNode();
        this.naturalLanguageName = jid.getNode();
    }

    private static String serviceName(JID jid) {
        return jid.getDomain().substring(0, jid.getDomain().indexOf('.'));
    }

    public String getName() {
        return jid.getNode();
    }

    public JID getJID() {
        return jid;
    }

    /** The room's own occupant representation: an owner, used as the actor of server-side changes. */
    public MUCOccupant getSelfRepresentation() {
        return self;
    }

    public MUCOccupant getOccupantByFullJID(JID userAddress) {
        for (MUCOccupant occupant : occupants) {
            if (occupant.getUserAddress().equals(userAddress)) {
                return occupant;
            }
        }
        return null;
    }

    public int getOccupantsCount() {
        return occupants.size();
    }

    public int getMaxUsers() {
        return maxUsers;
    }

    public void setMaxUsers(int maxUsers) {
        this.maxUsers = maxUsers;
    }

    public boolean isLocked() {
        return locked;
    }

    public void unlock(Affiliation actorAffiliation) throws ForbiddenException {
        if (actorAffiliation != Affiliation.owner) {
            throw new ForbiddenException();
        }
        locked = false;
    }

    public boolean isPersistent() {
        return persistent;
    }

    public void setPersistent(boolean persistent) {
        this.persistent = persistent;
    }

    public void setPublicRoom(boolean publicRoom) {
        this.publicRoom = publicRoom;
    }

    public boolean isPublicRoom() {
        return publicRoom;
    }

    public boolean isMembersOnly() {
        return membersOnly;
    }

    public List<Presence> setMembersOnly(boolean membersOnly, Affiliation actorAffiliation, JID actorJid)
            throws ForbiddenException, NotAllowedException {
        if (actorAffiliation != Affiliation.owner) {
            throw new ForbiddenException();
        }
        this.membersOnly = membersOnly;
        return new ArrayList<>();
    }

    public boolean isModerated() {
        return moderated;
    }

    public void setModerated(boolean moderated) {
        this.moderated = moderated;
    }

    public boolean canAnyoneDiscoverJID() {
        return canAnyoneDiscoverJID;
    }

    public void setCanAnyoneDiscoverJID(boolean canAnyoneDiscoverJID) {
        this.canAnyoneDiscoverJID = canAnyoneDiscoverJID;
    }

    public boolean canChangeNickname() {
        return canChangeNickname;
    }

    public void setChangeNickname(boolean canChange) {
        this.canChangeNickname = canChange;
    }

    public boolean isRegistrationEnabled() {
        return registrationEnabled;
    }

    public void setRegistrationEnabled(boolean registrationEnabled) {
        this.registrationEnabled = registrationEnabled;
    }

    public boolean isLogEnabled() {
        return logEnabled;
    }

    public void setLogEnabled(boolean logEnabled) {
        this.logEnabled = logEnabled;
    }

    public boolean canOccupantsChangeSubject() {
        return canOccupantsChangeSubject;
    }

    public void setCanOccupantsChangeSubject(boolean canOccupantsChangeSubject) {
        this.canOccupantsChangeSubject = canOccupantsChangeSubject;
    }

    public boolean canOccupantsInvite() {
        return canOccupantsInvite;
    }

    public void setCanOccupantsInvite(boolean canOccupantsInvite) {
        this.canOccupantsInvite = canOccupantsInvite;
    }

    public boolean isLoginRestrictedToNickname() {
        return loginRestrictedToNickname;
    }

    public void setLoginRestrictedToNickname(boolean restricted) {
        this.loginRestrictedToNickname = restricted;
    }

    public String canSendPrivateMessage() {
        return allowPM;
    }

    public void setCanSendPrivateMessage(String role) {
        this.allowPM = role;
    }

    public String getDescription() {
        return description;
    }

    public void setDescription(String description) {
        this.description = description;
    }

    public void setNaturalLanguageName(String naturalLanguageName) {
        this.naturalLanguageName = naturalLanguageName;
    }

    public List<Role> getRolesToBroadcastPresence() {
        return rolesToBroadcastPresence;
    }

    public void setRolesToBroadcastPresence(List<Role> rolesToBroadcastPresence) {
        this.rolesToBroadcastPresence = List.copyOf(rolesToBroadcastPresence);
    }

    public Collection<JID> getOwners() {
        return List.copyOf(owners);
    }

    public Collection<JID> getAdmins() {
        return List.copyOf(admins);
    }

    public Collection<JID> getMembers() {
        return List.copyOf(members);
    }

    public List<Presence> addOwner(JID targetUserAddress, Affiliation actorAffiliation) throws ForbiddenException {
        if (actorAffiliation != Affiliation.owner) {
            throw new ForbiddenException();
        }
        JID bare = targetUserAddress.asBareJID();
        members.remove(bare);
        admins.remove(bare);
        if (!owners.contains(bare)) {
            owners.add(bare);
        }
        return new ArrayList<>();
    }

    public List<Presence> addMember(JID targetUserAddress, String nickname, Affiliation actorAffiliation)
            throws ForbiddenException, ConflictException {
        if (actorAffiliation != Affiliation.owner && actorAffiliation != Affiliation.admin) {
            throw new ForbiddenException();
        }
        JID bare = targetUserAddress.asBareJID();
        if (owners.contains(bare) || admins.contains(bare)) {
            throw new ConflictException();
        }
        if (!members.contains(bare)) {
            members.add(bare);
        }
        return new ArrayList<>();
    }

    public void saveToDB() {
        if (persistent) {
            savedToDatabase++;
        }
    }

    // -- test members --------------------------------------------------------------------------

    /** Openfire's getChatRoom(name, creator) makes the creator the first owner. */
    public void testAddFirstOwner(JID owner) {
        owners.add(owner.asBareJID());
    }

    public int testSavedToDatabase() {
        return savedToDatabase;
    }

    public void testAddOccupant(MUCOccupant occupant) {
        occupants.add(occupant);
    }

    public void testRemoveOccupant(JID userAddress) {
        occupants.removeIf(o -> o.getUserAddress().equals(userAddress));
    }

    public boolean testIsEmpty() {
        return occupants.isEmpty();
    }
}
