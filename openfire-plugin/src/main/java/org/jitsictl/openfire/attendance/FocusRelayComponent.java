package org.jitsictl.openfire.attendance;

import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xmpp.component.Component;
import org.xmpp.component.ComponentException;
import org.xmpp.component.ComponentManager;
import org.xmpp.packet.IQ;
import org.xmpp.packet.JID;
import org.xmpp.packet.Message;
import org.xmpp.packet.Packet;
import org.xmpp.packet.PacketError;
import org.xmpp.packet.Presence;

/**
 * The {@code focus.<domain>} address jicofo's {@code client-proxy} setting expects: Prosody has
 * {@code mod_client_proxy} for it, Openfire has nothing, so this component does the same job.
 *
 * <p>A request (get/set IQ) a client sends to {@code focus.<domain>} is relayed to the focus
 * user's session with the sender encoded as the resource, {@code focus.<domain>/<client full
 * JID>}, which is how jicofo learns the real requester behind its client proxy. The answer
 * jicofo sends to that address is relayed back to the client, from {@code focus.<domain>}.
 * No state is kept: the id travels unchanged and the client's address is in the resource. Only
 * results and errors that come from the focus account itself are relayed to clients, so nobody
 * can use the component to send forged answers.
 *
 * <p>Everything else is answered as mod_client_proxy (prosody-modules) answers it, type
 * {@code cancel}: a request while no focus session is online, {@code service-unavailable}; a
 * message, {@code feature-not-implemented}; a presence, {@code bad-request}; from the focus
 * account, a request or message to anyone through the proxy, {@code feature-not-implemented},
 * and anything but presence to the proxy itself, {@code bad-request}. Errors and IQ results are
 * never answered, and, as there, results and errors from anyone but focus are dropped.
 */
public final class FocusRelayComponent implements Component {
    public static final String SUBDOMAIN = "focus";
    private static final Logger LOG = LoggerFactory.getLogger(FocusRelayComponent.class);

    private final Supplier<JID> focusSession;
    private final Supplier<String> focusBareJid;
    private volatile JID address;
    private volatile ComponentManager manager;

    /**
     * @param focusSession the full JID of a session of the focus account, or null when offline
     * @param focusBareJid the focus account's bare JID (the only source of relayed answers)
     */
    public FocusRelayComponent(Supplier<JID> focusSession, Supplier<String> focusBareJid) {
        this.focusSession = focusSession;
        this.focusBareJid = focusBareJid;
    }

    @Override
    public String getName() {
        return "Jitsi focus relay";
    }

    @Override
    public String getDescription() {
        return "Relays conference requests between clients and jicofo's focus account (client proxy)";
    }

    @Override
    public void initialize(JID jid, ComponentManager componentManager) throws ComponentException {
        this.address = jid;
        this.manager = componentManager;
    }

    @Override
    public void start() {
    }

    @Override
    public void shutdown() {
    }

    @Override
    public void processPacket(Packet packet) {
        if (packet.getFrom() == null || isError(packet)) {
            return;
        }
        try {
            boolean fromFocus = packet.getFrom().toBareJID().equalsIgnoreCase(focusBareJid.get());
            if (fromFocus) {
                fromFocus(packet);
            } else if (packet instanceof IQ iq) {
                if (iq.isRequest()) {
                    relayRequest(iq);
                }
            } else if (packet instanceof Message) {
                refuse(packet, PacketError.Condition.feature_not_implemented);
            } else {
                refuse(packet, PacketError.Condition.bad_request);
            }
        } catch (RuntimeException | ComponentException e) {
            LOG.error("Focus relay: could not relay a stanza", e);
        }
    }

    private void fromFocus(Packet packet) throws ComponentException {
        JID to = packet.getTo();
        if (to == null || to.getResource() == null) {
            // To the proxy itself: mod_client_proxy learns sessions from presence; sessions are looked up here.
            if (!(packet instanceof Presence)) {
                refuse(packet, PacketError.Condition.bad_request);
            }
        } else if (packet instanceof IQ iq && !iq.isRequest()) {
            relayAnswer(iq);
        } else if (!(packet instanceof Presence)) {
            refuse(packet, PacketError.Condition.feature_not_implemented);
        }
    }

    private void relayRequest(IQ request) throws ComponentException {
        JID focus = focusSession.get();
        if (focus == null) {
            refuse(request, PacketError.Condition.service_unavailable);
            return;
        }
        IQ relayed = request.createCopy();
        relayed.setFrom(new JID(null, address.getDomain(), request.getFrom().toString()));
        relayed.setTo(focus);
        manager.sendPacket(this, relayed);
    }

    private void relayAnswer(IQ answer) throws ComponentException {
        IQ relayed = answer.createCopy();
        relayed.setTo(new JID(answer.getTo().getResource()));
        relayed.setFrom(new JID(null, address.getDomain(), null));
        manager.sendPacket(this, relayed);
    }

    /**
     * An error reply of type cancel, as Prosody's {@code st.error_reply(stanza, "cancel", condition)};
     * never to an IQ result (RFC 6120 8.2.3: those are not answered).
     */
    private void refuse(Packet packet, PacketError.Condition condition) throws ComponentException {
        Packet reply;
        if (packet instanceof IQ iq) {
            if (!iq.isRequest()) {
                return;
            }
            IQ error = IQ.createResultIQ(iq);
            error.setType(IQ.Type.error);
            reply = error;
        } else {
            reply = packet.createCopy();
            reply.setTo(packet.getFrom());
            reply.setFrom(packet.getTo());
            if (reply instanceof Message message) {
                message.setType(Message.Type.error);
            } else if (reply instanceof Presence presence) {
                presence.setType(Presence.Type.error);
            }
        }
        reply.setError(new PacketError(condition, PacketError.Type.cancel));
        manager.sendPacket(this, reply);
    }

    private static boolean isError(Packet packet) {
        return (packet instanceof IQ iq && iq.getType() == IQ.Type.error)
                || (packet instanceof Message message && message.getType() == Message.Type.error)
                || (packet instanceof Presence presence && presence.getType() == Presence.Type.error);
    }
}
