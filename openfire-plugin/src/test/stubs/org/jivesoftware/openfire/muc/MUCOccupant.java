package org.jivesoftware.openfire.muc;

import org.xmpp.packet.JID;

/** Openfire 5's MUCOccupant: the members the plugin reads. */
public class MUCOccupant {
    private final JID userAddress;
    private final String nickname;
    private final Affiliation affiliation;
    private volatile Role role;
    private volatile JID occupantJID;

    /** Test stand-in constructor (Openfire builds occupants when they join). */
    public MUCOccupant(JID userAddress, String nickname, Role role) {
        this(userAddress, nickname, role, Affiliation.none);
    }

    public MUCOccupant(JID userAddress, String nickname, Role role, Affiliation affiliation) {
        this.userAddress = userAddress;
        this.nickname = nickname;
        this.role = role;
        this.affiliation = affiliation;
    }

    public Role getRole() {
        return role;
    }

    public Affiliation getAffiliation() {
        return affiliation;
    }

    public String getNickname() {
        return nickname;
    }

    public JID getUserAddress() {
        return userAddress;
    }

    /** The occupant's in-room address (room@service/nickname). */
    public JID getOccupantJID() {
        return occupantJID;
    }

    public void testSetOccupantJID(JID occupantJID) {
        this.occupantJID = occupantJID;
    }

    /** Openfire changes roles through the room (moderator grants, kicks). */
    public void testSetRole(Role role) {
        this.role = role;
    }
}
