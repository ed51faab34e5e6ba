package org.jitsictl.openfire.attendance;

import java.util.List;
import org.jivesoftware.openfire.muc.MultiUserChatService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xmpp.packet.JID;

/**
 * Jitsi on one Openfire domain needs jicofo's focus account to own every room, which means
 * being a sysadmin of every MUC service; the REST API plugin cannot set that. Applied at start
 * and then periodically, because the MUC services are created through the REST API after
 * Openfire (and this plugin) started. Idempotent: an existing sysadmin is left alone.
 */
public final class JitsiOneDomainSetup {
    private static final Logger LOG = LoggerFactory.getLogger(JitsiOneDomainSetup.class);

    private JitsiOneDomainSetup() {
    }

    /** Makes {@code sysadmin} a sysadmin of each service; returns how many services changed. */
    public static int grantSysadmin(List<MultiUserChatService> services, JID sysadmin) {
        int changed = 0;
        for (MultiUserChatService service : services) {
            if (service.getSysadmins().contains(sysadmin)) {
                continue;
            }
            service.addSysadmin(sysadmin);
            changed++;
            LOG.info("Jitsi setup: made " + sysadmin + " a sysadmin of MUC service " + service.getServiceDomain());
        }
        return changed;
    }
}
