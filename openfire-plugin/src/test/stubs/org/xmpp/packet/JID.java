package org.xmpp.packet;

/** Tinder's JID (no stringprep in the stand-in: tests use already-normalised JIDs). */
public class JID implements Comparable<JID> {
    private final String node;
    private final String domain;
    private final String resource;

    public JID(String jid) {
        int slash = jid.indexOf('/');
        String bare = slash < 0 ? jid : jid.substring(0, slash);
        this.resource = slash < 0 ? null : jid.substring(slash + 1);
        int at = bare.indexOf('@');
        this.node = at < 0 ? null : bare.substring(0, at);
        this.domain = at < 0 ? bare : bare.substring(at + 1);
    }

    public JID(String node, String domain, String resource) {
        this.node = node;
        this.domain = domain;
        this.resource = resource;
    }

    public String getNode() {
        return node;
    }

    public String getDomain() {
        return domain;
    }

    public String getResource() {
        return resource;
    }

    public String toBareJID() {
        return node == null ? domain : node + "@" + domain;
    }

    public JID asBareJID() {
        return new JID(node, domain, null);
    }

    public String toFullJID() {
        return resource == null ? toBareJID() : toBareJID() + "/" + resource;
    }

    @Override
    public String toString() {
        return toFullJID();
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof JID jid && jid.toString().equals(toString());
    }

    public int compareTo(JID other) {
        return toString().compareTo(other.toString());
    }
}
