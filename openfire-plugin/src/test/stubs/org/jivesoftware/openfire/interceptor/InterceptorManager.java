package org.jivesoftware.openfire.interceptor;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jivesoftware.openfire.session.Session;
import org.xmpp.packet.Packet;

public class InterceptorManager {
    private static final InterceptorManager INSTANCE = new InterceptorManager();
    private final List<PacketInterceptor> interceptors = new CopyOnWriteArrayList<>();

    public static InterceptorManager getInstance() {
        return INSTANCE;
    }

    public List<PacketInterceptor> getInterceptors() {
        return List.copyOf(interceptors);
    }

    public void addInterceptor(PacketInterceptor interceptor) {
        interceptors.add(interceptor);
    }

    public boolean removeInterceptor(PacketInterceptor interceptor) {
        return interceptors.remove(interceptor);
    }

    public void invokeInterceptors(Packet packet, Session session, boolean read, boolean processed)
            throws PacketRejectedException {
        for (PacketInterceptor interceptor : interceptors) {
            interceptor.interceptPacket(packet, session, read, processed);
        }
    }

    public void testReset() {
        interceptors.clear();
    }
}
