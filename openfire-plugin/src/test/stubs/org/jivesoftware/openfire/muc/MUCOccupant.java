package org.jivesoftware.openfire.muc;

import org.xmpp.packet.JID;

/** Openfire 5's MUCOccupant: the members the plugin reads. */
public class MUCOccupant {
    private final JID userAddress;
    private final String nickname;
    private final Role role;

    /** Test stand-in constructor (Openfire builds occupants when they join). */
    public MUCOccupant(JID userAddress, String nickname, Role role) {
        this.userAddress = userAddress;
        this.nickname = nickname;
        this.role = role;
    }

    public Role getRole() {
        return role;
    }

    public String getNickname() {
        return nickname;
    }

    public JID getUserAddress() {
        return userAddress;
    }
}
