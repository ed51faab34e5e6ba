package org.jivesoftware.openfire.muc;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.xmpp.packet.JID;

/** Openfire 5's MUCRoom (a class since 5.0): the members the plugin reads. */
public class MUCRoom {
    private final JID jid;
    private final List<MUCOccupant> occupants = new CopyOnWriteArrayList<>();

    /** Test stand-in constructor. */
    public MUCRoom(JID jid) {
        this.jid = jid;
    }

    public String getName() {
        return jid.getNode();
    }

    public JID getJID() {
        return jid;
    }

    public MUCOccupant getOccupantByFullJID(JID userAddress) {
        for (MUCOccupant occupant : occupants) {
            if (occupant.getUserAddress().equals(userAddress)) {
                return occupant;
            }
        }
        return null;
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
