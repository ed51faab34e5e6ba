package org.xmpp.packet;

public class Message extends Packet {
}
