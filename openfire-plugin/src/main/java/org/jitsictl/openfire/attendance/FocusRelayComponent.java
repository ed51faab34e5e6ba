package org.jitsictl.openfire.attendance;

import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xmpp.component.Component;
import org.xmpp.component.ComponentException;
import org.xmpp.component.ComponentManager;
import org.xmpp.packet.IQ;
import org.xmpp.packet.JID;
import org.xmpp.packet.Packet;
import org.xmpp.packet.PacketError;

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
 * can use the component to send forged answers. Without a focus session, clients get
 * {@code service-unavailable} at once instead of waiting for a timeout.
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
        if (!(packet instanceof IQ iq) || iq.getFrom() == null) {
            return;
        }
        try {
            if (iq.isRequest()) {
                relayRequest(iq);
            } else {
                relayAnswer(iq);
            }
        } catch (RuntimeException | ComponentException e) {
            LOG.error("Focus relay: could not relay an IQ", e);
        }
    }

    private void relayRequest(IQ request) throws ComponentException {
        if (request.getFrom().toBareJID().equalsIgnoreCase(focusBareJid.get())) {
            return;
        }
        JID focus = focusSession.get();
        if (focus == null) {
            IQ error = IQ.createResultIQ(request);
            error.setType(IQ.Type.error);
            error.setError(PacketError.Condition.service_unavailable);
            manager.sendPacket(this, error);
            return;
        }
        IQ relayed = request.createCopy();
        relayed.setFrom(new JID(null, address.getDomain(), request.getFrom().toString()));
        relayed.setTo(focus);
        manager.sendPacket(this, relayed);
    }

    private void relayAnswer(IQ answer) throws ComponentException {
        JID to = answer.getTo();
        if (to == null || to.getResource() == null
                || !answer.getFrom().toBareJID().equalsIgnoreCase(focusBareJid.get())) {
            return;
        }
        IQ relayed = answer.createCopy();
        relayed.setTo(new JID(to.getResource()));
        relayed.setFrom(new JID(null, address.getDomain(), null));
        manager.sendPacket(this, relayed);
    }
}
