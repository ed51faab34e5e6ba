package org.jitsictl.openfire.attendance;

import java.nio.file.Path;
import org.jivesoftware.openfire.SessionManager;
import org.jivesoftware.openfire.XMPPServer;
import org.jivesoftware.openfire.admin.AdminManager;
import org.jivesoftware.openfire.component.InternalComponentManager;
import org.jivesoftware.openfire.interceptor.InterceptorManager;
import org.jivesoftware.openfire.muc.MUCEventDispatcher;
import org.jivesoftware.openfire.muc.spi.MUCPersistenceManager;
import org.jivesoftware.util.JiveGlobals;
import org.jivesoftware.util.PropertyEventDispatcher;

/** A fresh simulated Openfire (the stand-ins' static state) for each test or scenario. */
final class OpenfireStandIns {
    static final String DOMAIN = "meet.jitsi";

    private OpenfireStandIns() {
    }

    static void reset(Path home, String... mucServices) {
        MUCEventDispatcher.testReset();
        InterceptorManager.getInstance().testReset();
        PropertyEventDispatcher.testReset();
        SessionManager.getInstance().testReset();
        AdminManager.getInstance().testReset();
        JiveGlobals.testReset();
        MUCPersistenceManager.testReset();
        XMPPServer.getInstance().testReset();
        XMPPServer.getInstance().testSetDomain(DOMAIN);
        InternalComponentManager.getInstance().testReset(DOMAIN);
        JiveGlobals.testSetHomePath(home);
        XMPPServer.getInstance().getMultiUserChatManager().testSetServiceFactory(spec -> {
            String[] parts = spec.split(";");
            return new TestMucService(parts[0] + "." + DOMAIN, Boolean.parseBoolean(parts[1]));
        });
        for (String service : mucServices) {
            XMPPServer.getInstance().getMultiUserChatManager().testAddService(new TestMucService(service));
        }
    }
}
