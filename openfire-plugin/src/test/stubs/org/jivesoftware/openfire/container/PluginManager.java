package org.jivesoftware.openfire.container;

public class PluginManager {
}
