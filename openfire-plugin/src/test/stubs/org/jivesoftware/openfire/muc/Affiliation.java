package org.jivesoftware.openfire.muc;

/** Openfire 5's MUC affiliation (org.jivesoftware.openfire.muc.Affiliation). */
public enum Affiliation {
    owner, admin, member, outcast, none
}
