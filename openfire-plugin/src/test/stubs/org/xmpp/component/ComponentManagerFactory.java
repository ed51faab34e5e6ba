package org.xmpp.component;

public class ComponentManagerFactory {
    private static ComponentManager manager;

    public static synchronized ComponentManager getComponentManager() {
        return manager;
    }

    public static void setComponentManager(ComponentManager componentManager) {
        manager = componentManager;
    }
}
