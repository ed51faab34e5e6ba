-- What we remember about each reported occupant between its join and its leave, keyed by its
-- occupant JID (room@muc/resource). A leave can come without the occupant's stanza or session
-- (kick, destroyed room), so identity and display name are taken from here; display-name changes
-- are compared with what is remembered, so repeated identical presences produce nothing.
-- Pure Lua.

local roster = {};

function roster.new()
	local self = {};
	local entries = {}; -- occupant_jid -> entry
	local by_room = {}; -- room_jid -> { occupant_jid = true }
	local size = 0;

	--- Remember an occupant. `entry` needs occupant_jid and room_jid; nick, role, identity...
	function self.track(entry)
		local key = entry.occupant_jid;
		if not entries[key] then size = size + 1; end
		entries[key] = entry;
		local members = by_room[entry.room_jid];
		if not members then
			members = {};
			by_room[entry.room_jid] = members;
		end
		members[key] = true;
	end

	function self.get(occupant_jid)
		return entries[occupant_jid];
	end

	--- Record the display name seen in a presence. Returns the previous name when it changed,
	-- nil otherwise. A presence without a name changes nothing; a first name (the join had
	-- none) is remembered silently, since there is no previous name to report.
	function self.rename(occupant_jid, nick)
		local entry = entries[occupant_jid];
		if not entry or type(nick) ~= "string" or nick == "" then return nil; end
		local previous = entry.nick;
		if previous == nick then return nil; end
		entry.nick = nick;
		if previous == nil or previous == "" then return nil; end
		return previous;
	end

	--- Forget an occupant (it left); returns what was remembered, or nil if it was never tracked.
	function self.forget(occupant_jid)
		local entry = entries[occupant_jid];
		if not entry then return nil; end
		entries[occupant_jid] = nil;
		size = size - 1;
		local members = by_room[entry.room_jid];
		if members then
			members[occupant_jid] = nil;
			if next(members) == nil then by_room[entry.room_jid] = nil; end
		end
		return entry;
	end

	--- Forget every occupant of a room (destroyed); returns how many there were.
	function self.forget_room(room_jid)
		local members = by_room[room_jid];
		if not members then return 0; end
		local count = 0;
		for occupant_jid in pairs(members) do
			if entries[occupant_jid] then
				entries[occupant_jid] = nil;
				size = size - 1;
				count = count + 1;
			end
		end
		by_room[room_jid] = nil;
		return count;
	end

	function self.size() return size; end

	return self;
end

return roster;
