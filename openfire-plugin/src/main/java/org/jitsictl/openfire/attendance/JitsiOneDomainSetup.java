package org.jitsictl.openfire.attendance;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Lock;
import org.jivesoftware.openfire.muc.Affiliation;
import org.jivesoftware.openfire.muc.ConflictException;
import org.jivesoftware.openfire.muc.ForbiddenException;
import org.jivesoftware.openfire.muc.MUCRoom;
import org.jivesoftware.openfire.muc.MultiUserChatManager;
import org.jivesoftware.openfire.muc.MultiUserChatService;
import org.jivesoftware.openfire.muc.NotAllowedException;
import org.jivesoftware.openfire.muc.Role;
import org.jivesoftware.openfire.muc.spi.MUCPersistenceManager;
import org.jivesoftware.util.AlreadyExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xmpp.packet.JID;

/**
 * What Jitsi needs from Openfire's MUC on one XMPP domain (ARCHITECTURE §7) that the REST API
 * cannot do, or cannot do before jicofo and jvb log in:
 *
 * <ol>
 * <li>the hidden MUC service {@code internal-muc} and in it the persistent, members-only
 * brewery {@code jvbbrewery}, owned by focus with jvb as member. Anonymous guests get
 * {@code <random>@<domain>}, so only membership keeps them out. jicofo and jvb join the
 * brewery once, when they log in, and never retry: it must exist before then;</li>
 * <li>focus as sysadmin of every MUC service (jicofo must own every conference room);</li>
 * <li>room creation restricted to focus on every MUC service, so nobody can pre-create a
 * classroom and stay its owner;</li>
 * <li>the capacity of every conference room (every service but the brewery's): Openfire's
 * default is 30 occupants, focus included. Set as the services' default for new rooms
 * ({@code room.maxUsers}) and on the rooms already open.</li>
 * </ol>
 *
 * <p>Idempotent: what is already right is left alone. An existing brewery is never changed
 * (jitsictl's {@code openfire apply} owns its settings after creation). The names are the ones
 * jitsictl gives (jitsictl/openfire/reconcile.py).
 */
final class JitsiOneDomainSetup {
    static final String BREWERY_SERVICE = "internal-muc";
    static final String BREWERY_ROOM = "jvbbrewery";
    static final String BREWERY_DESCRIPTION = "Jitsi Videobridge brewery";
    static final String JVB_USER = "jvb";
    /** The MUC service property Openfire reads for a new room's capacity (MUCRoom's constructor). */
    static final String ROOM_MAX_USERS = "room.maxUsers";

    private static final Logger LOG = LoggerFactory.getLogger(JitsiOneDomainSetup.class);

    private final MultiUserChatManager manager;
    private final String domain;
    /** Capacity last applied to each conference service's open rooms. */
    private final Map<String, Integer> capacityApplied = new HashMap<>();

    JitsiOneDomainSetup(MultiUserChatManager manager, String domain) {
        this.manager = manager;
        this.domain = domain;
    }

    /** Brings every service to the state above. Each step is independent: one failing does not stop the rest. */
    synchronized void apply(JID focus, int roomMaxOccupants) {
        MultiUserChatService brewery = breweryService();
        if (brewery != null) {
            step("creating the brewery", () -> ensureBrewery(brewery, focus));
        }
        for (MultiUserChatService service : manager.getMultiUserChatServices()) {
            step("making " + focus + " sysadmin of " + service.getServiceDomain(), () -> grantSysadmin(service, focus));
            step("restricting room creation on " + service.getServiceDomain(), () -> restrictRoomCreation(service, focus));
            if (!BREWERY_SERVICE.equals(service.getServiceName())) {
                step("setting the room capacity on " + service.getServiceDomain(),
                        () -> applyCapacity(service, roomMaxOccupants));
            }
        }
    }

    JID jvb() {
        return new JID(JVB_USER, domain, null);
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void step(String what, Step step) {
        try {
            step.run();
        } catch (Exception e) {
            LOG.error("Jitsi setup: " + what + " failed; it is tried again at the next pass", e);
        }
    }

    private MultiUserChatService breweryService() {
        MultiUserChatService service = manager.getMultiUserChatService(BREWERY_SERVICE);
        if (service != null) {
            return service;
        }
        try {
            service = manager.createMultiUserChatService(BREWERY_SERVICE, "Jitsi internal (videobridge brewery)", true);
            LOG.info("Jitsi setup: created the hidden MUC service " + BREWERY_SERVICE + "." + domain);
            return service;
        } catch (AlreadyExistsException raced) {
            return manager.getMultiUserChatService(BREWERY_SERVICE);
        } catch (RuntimeException e) {
            LOG.error("Jitsi setup: could not create the MUC service " + BREWERY_SERVICE + "." + domain
                    + "; jvb will find no brewery until it exists. Retried at the next pass", e);
            return null;
        }
    }

    /** Creates the brewery as jitsictl's reconciler describes it; returns whether it was created. */
    boolean ensureBrewery(MultiUserChatService service, JID focus)
            throws NotAllowedException, ForbiddenException, ConflictException {
        if (service.getChatRoom(BREWERY_ROOM) != null) {
            return false;
        }
        Lock lock = service.getChatRoomLock(BREWERY_ROOM);
        lock.lock();
        try {
            MUCRoom room = service.getChatRoom(BREWERY_ROOM, focus.asBareJID());
            if (!room.isLocked()) {
                return false; // someone else created it meanwhile
            }
            Affiliation actor = room.getSelfRepresentation().getAffiliation();
            room.setNaturalLanguageName(BREWERY_ROOM);
            room.setDescription(BREWERY_DESCRIPTION);
            room.setPersistent(true);
            room.setPublicRoom(false);
            room.setRegistrationEnabled(false);
            room.setCanAnyoneDiscoverJID(true);
            room.setCanOccupantsChangeSubject(false);
            room.setCanOccupantsInvite(false);
            room.setChangeNickname(true);
            room.setLogEnabled(false);
            room.setLoginRestrictedToNickname(false);
            room.setModerated(false);
            room.setMaxUsers(0);
            room.setCanSendPrivateMessage("none");
            // jicofo learns of bridges from their presence: it must reach every role.
            room.setRolesToBroadcastPresence(List.of(Role.moderator, Role.participant, Role.visitor));
            room.setMembersOnly(true, actor, room.getSelfRepresentation().getOccupantJID());
            room.addMember(jvb(), null, actor);
            room.unlock(actor);
            room.saveToDB();
            service.syncChatRoom(room);
            LOG.info("Jitsi setup: created the members-only brewery " + room.getJID() + " (owner " + focus.asBareJID()
                    + ", member " + jvb() + ")");
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Makes {@code focus} a sysadmin of the service; returns whether it changed. */
    static boolean grantSysadmin(MultiUserChatService service, JID focus) {
        if (service.getSysadmins().contains(focus.asBareJID())) {
            return false;
        }
        service.addSysadmin(focus.asBareJID());
        LOG.info("Jitsi setup: made " + focus.asBareJID() + " a sysadmin of MUC service " + service.getServiceDomain());
        return true;
    }

    /** Only focus (and sysadmins, which Openfire always lets create) may create rooms; returns whether it changed. */
    static boolean restrictRoomCreation(MultiUserChatService service, JID focus) {
        boolean changed = false;
        if (!service.isRoomCreationRestricted()) {
            service.setRoomCreationRestricted(true);
            changed = true;
        }
        if (service.isAllRegisteredUsersAllowedToCreate()) {
            service.setAllRegisteredUsersAllowedToCreate(false);
            changed = true;
        }
        if (!service.getUsersAllowedToCreate().contains(focus.asBareJID())) {
            service.addUserAllowedToCreate(focus.asBareJID());
            changed = true;
        }
        if (changed) {
            LOG.info("Jitsi setup: only " + focus.asBareJID() + " may create rooms on " + service.getServiceDomain());
        }
        return changed;
    }

    /**
     * The service's default for new rooms, always; the open rooms when the capacity changed
     * since it was last applied to this service (at start, on a property change, for a new
     * service), so a moderator's own choice for a room is not undone every pass.
     */
    void applyCapacity(MultiUserChatService service, int maxOccupants) {
        String wanted = Integer.toString(maxOccupants);
        if (!wanted.equals(MUCPersistenceManager.getProperty(service.getServiceName(), ROOM_MAX_USERS))) {
            MUCPersistenceManager.setProperty(service.getServiceName(), ROOM_MAX_USERS, wanted);
        }
        Integer applied = capacityApplied.get(service.getServiceName());
        if (applied != null && applied == maxOccupants) {
            return;
        }
        int changed = 0;
        for (MUCRoom room : service.getActiveChatRooms()) {
            if (room.getMaxUsers() == maxOccupants) {
                continue;
            }
            Lock lock = service.getChatRoomLock(room.getName());
            lock.lock();
            try {
                room.setMaxUsers(maxOccupants);
                if (room.isPersistent()) {
                    room.saveToDB();
                }
                service.syncChatRoom(room);
                changed++;
            } finally {
                lock.unlock();
            }
        }
        capacityApplied.put(service.getServiceName(), maxOccupants);
        LOG.info("Jitsi setup: rooms on " + service.getServiceDomain() + " hold "
                + (maxOccupants == 0 ? "any number of" : "at most " + maxOccupants) + " occupants ("
                + changed + " open room(s) changed)");
    }
}
