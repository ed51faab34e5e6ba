package org.jivesoftware.openfire.muc;

/** Openfire 5's MUC role (org.jivesoftware.openfire.muc.Role). */
public enum Role {
    moderator, participant, visitor, none
}
