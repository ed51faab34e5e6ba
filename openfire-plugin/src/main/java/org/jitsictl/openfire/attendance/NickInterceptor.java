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
 * Display names: the XEP-0172 {@code <nick>} of presences sent to MUC rooms.
 *
 * <p>Openfire shows every packet to every interceptor twice (before and after processing) in
 * both directions, so the filter is strict and cheap: incoming, not yet processed, an
 * available presence, addressed to {@code room@service/resource} on a MUC service, carrying a
 * {@code <nick xmlns='http://jabber.org/protocol/nick'>}. Seeing it before processing means a
 * joining occupant's name is known when {@code occupantJoined} fires. Never rejects a packet.
 */
public final class NickInterceptor implements PacketInterceptor {
    public static final String NICK_NAMESPACE = "http://jabber.org/protocol/nick";
    private static final Logger LOG = LoggerFactory.getLogger(NickInterceptor.class);

    private final AttendanceRecorder recorder;
    private final Predicate<String> isMucService;

    /** @param isMucService whether a domain is one of this server's MUC services */
    public NickInterceptor(AttendanceRecorder recorder, Predicate<String> isMucService) {
        this.recorder = recorder;
        this.isMucService = isMucService;
    }

    @Override
    public void interceptPacket(Packet packet, Session session, boolean incoming, boolean processed) {
        if (!incoming || processed || !(packet instanceof Presence presence)) {
            return;
        }
        try {
            JID to = presence.getTo();
            JID from = presence.getFrom();
            if (to == null || from == null || to.getNode() == null || to.getResource() == null
                    || presence.getType() != null) {
                return;
            }
            Element nick = presence.getChildElement("nick", NICK_NAMESPACE);
            if (nick == null || !isMucService.test(to.getDomain())) {
                return;
            }
            String text = nick.getText();
            recorder.presence(to.toBareJID(), to.getResource(), from.toString(),
                    text == null || text.isEmpty() ? null : text);
        } catch (RuntimeException e) {
            LOG.error("Attendance: reading a presence <nick> failed; the display name is not updated", e);
        }
    }
}
