package org.jitsictl.openfire.attendance;

import java.nio.file.Path;
import org.jivesoftware.openfire.SessionManager;
import org.jivesoftware.openfire.XMPPServer;
import org.jivesoftware.openfire.admin.AdminManager;
import org.jivesoftware.openfire.interceptor.InterceptorManager;
import org.jivesoftware.openfire.muc.MUCEventDispatcher;
import org.jivesoftware.util.JiveGlobals;
import org.jivesoftware.util.PropertyEventDispatcher;
import org.xmpp.component.ComponentManagerFactory;

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
        XMPPServer.getInstance().testReset();
        XMPPServer.getInstance().testSetDomain(DOMAIN);
        ComponentManagerFactory.setComponentManager(null);
        JiveGlobals.testSetHomePath(home);
        for (String service : mucServices) {
            XMPPServer.getInstance().getMultiUserChatManager().testAddService(new TestMucService(service));
        }
    }
}
