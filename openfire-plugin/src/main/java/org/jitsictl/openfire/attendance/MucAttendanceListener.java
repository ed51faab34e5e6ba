package org.jitsictl.openfire.attendance;

import org.jitsictl.openfire.attendance.core.AttendanceRecorder;
import org.jivesoftware.openfire.muc.MUCEventListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xmpp.packet.JID;
import org.xmpp.packet.Message;

/**
 * Openfire's MUC callbacks, translated into {@link AttendanceRecorder} calls.
 *
 * <p>Openfire 5's listener API. Openfire passes {@code room@service/nick} as the room of
 * {@code occupantLeft}, hence {@code toBareJID()} everywhere. Nothing thrown here may reach
 * Openfire's MUC code: a failure is logged and the chat goes on.
 */
public final class MucAttendanceListener implements MUCEventListener {
    private static final Logger LOG = LoggerFactory.getLogger(MucAttendanceListener.class);

    private final AttendanceRecorder recorder;

    public MucAttendanceListener(AttendanceRecorder recorder) {
        this.recorder = recorder;
    }

    @Override
    public void roomCreated(long roomID, JID roomJID) {
        guard("roomCreated", () -> recorder.roomCreated(roomJID.toBareJID()));
    }

    @Override
    public void roomDestroyed(long roomID, JID roomJID) {
        guard("roomDestroyed", () -> recorder.roomDestroyed(roomJID.toBareJID()));
    }

    @Override
    public void occupantJoined(JID roomJID, JID user, String nickname) {
        guard("occupantJoined", () -> recorder.occupantJoined(roomJID.toBareJID(), nickname, user.toString()));
    }

    @Override
    public void occupantLeft(JID roomJID, JID user, String nickname) {
        guard("occupantLeft", () -> recorder.occupantLeft(roomJID.toBareJID(), nickname,
                user == null ? null : user.toString()));
    }

    /** A nick-conflict kick: Openfire also calls {@code occupantLeft} for it, which reports the leave. */
    @Override
    public void occupantNickKicked(JID roomJID, String nickname) {
    }

    /**
     * An MUC nickname (the resource) change. Jitsi never changes it (display names travel in
     * presence {@code <nick>}); if a client does, the occupant is the same person under a new
     * in-room address, reported as leaving and joining with the same display name.
     */
    @Override
    public void nicknameChanged(JID roomJID, JID user, String oldNickname, String newNickname) {
        guard("nicknameChanged", () -> recorder.occupantMoved(roomJID.toBareJID(), oldNickname, newNickname,
                user.toString()));
    }

    @Override
    public void roomClearChatHistory(long roomID, JID roomJID) {
    }

    @Override
    public void messageReceived(JID roomJID, JID user, String nickname, Message message) {
    }

    @Override
    public void privateMessageRecieved(JID toJID, JID fromJID, Message message) {
    }

    @Override
    public void roomSubjectChanged(JID roomJID, JID user, String newSubject) {
    }

    private static void guard(String what, Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            LOG.error("Attendance: " + what + " failed; the event is not reported", e);
        }
    }
}
