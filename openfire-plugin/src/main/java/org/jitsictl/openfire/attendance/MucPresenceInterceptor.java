package org.jitsictl.openfire.attendance;

import java.util.function.Predicate;
import org.dom4j.Element;
import org.jitsictl.openfire.attendance.core.AttendanceRecorder;
import org.jivesoftware.openfire.interceptor.PacketInterceptor;
import org.jivesoftware.openfire.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xmpp.packet.JID;
import org.xmpp.packet.Packet;
import org.xmpp.packet.Presence;

/**
 * What MUC presences tell that Openfire's MUC events do not: display names and role changes.
 *
 * <p>Openfire shows every packet to every interceptor twice (before and after processing) in
 * both directions, so both filters are strict and cheap; neither ever rejects a packet.
 *
 * <ul>
 * <li>Display names: an incoming, not yet processed, available presence to
 * {@code room@service/resource} on a MUC service, carrying XEP-0172
 * {@code <nick xmlns='http://jabber.org/protocol/nick'>}. Seen before processing, so a joining
 * occupant's name is known when {@code occupantJoined} fires.</li>
 * <li>Roles: an outgoing, not yet processed, available presence from a tracked occupant's
 * in-room address with a {@code muc#user} item. The room sends one copy to every occupant;
 * only the copy addressed to the occupant itself (its self-presence) is taken, which the room
 * sends after every role change (a moderator grant, say) and every presence update.</li>
 * </ul>
 */
public final class MucPresenceInterceptor implements PacketInterceptor {
    public static final String NICK_NAMESPACE = "http://jabber.org/protocol/nick";
    public static final String MUC_USER_NAMESPACE = "http://jabber.org/protocol/muc#user";
    private static final Logger LOG = LoggerFactory.getLogger(MucPresenceInterceptor.class);

    private final AttendanceRecorder recorder;
    private final Predicate<String> isMucService;

    /** @param isMucService whether a domain is one of this server's MUC services */
    public MucPresenceInterceptor(AttendanceRecorder recorder, Predicate<String> isMucService) {
        this.recorder = recorder;
        this.isMucService = isMucService;
    }

    @Override
    public void interceptPacket(Packet packet, Session session, boolean incoming, boolean processed) {
        if (processed || !(packet instanceof Presence presence) || presence.getType() != null) {
            return;
        }
        try {
            if (incoming) {
                displayName(presence);
            } else {
                role(presence);
            }
        } catch (RuntimeException e) {
            LOG.error("Attendance: reading a MUC presence failed; the display name or role is not updated", e);
        }
    }

    private void displayName(Presence presence) {
        JID to = presence.getTo();
        JID from = presence.getFrom();
        if (to == null || from == null || to.getNode() == null || to.getResource() == null) {
            return;
        }
        Element nick = presence.getChildElement("nick", NICK_NAMESPACE);
        if (nick == null || !isMucService.test(to.getDomain())) {
            return;
        }
        String text = nick.getText();
        recorder.presence(to.toBareJID(), to.getResource(), from.toString(), text == null || text.isEmpty() ? null : text);
    }

    private void role(Presence presence) {
        JID from = presence.getFrom();
        JID to = presence.getTo();
        if (from == null || to == null || from.getNode() == null || from.getResource() == null) {
            return;
        }
        Element x = presence.getChildElement("x", MUC_USER_NAMESPACE);
        Element item = x == null ? null : x.element("item");
        if (item != null) {
            recorder.roleSeen(from.toBareJID(), from.getResource(), to.toString(), item.attributeValue("role"));
        }
    }
}
