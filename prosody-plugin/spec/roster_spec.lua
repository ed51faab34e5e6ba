local support = require "spec.support";
local roster_lib = support.lib "roster";

local function entry(occupant_jid, nick)
	return { occupant_jid = occupant_jid, room_jid = occupant_jid:match("^[^/]+"), nick = nick };
end

describe("roster", function ()
	it("reports a display-name change once, with the previous name", function ()
		local roster = roster_lib.new();
		roster.track(entry("r@muc/a", "alice"));
		assert.equal("alice", roster.rename("r@muc/a", "Alice Martin"));
		assert.is_nil(roster.rename("r@muc/a", "Alice Martin")); -- mute, video, status updates
		assert.is_nil(roster.rename("r@muc/a", "Alice Martin"));
		assert.equal("Alice Martin", roster.rename("r@muc/a", "Alice M."));
		assert.equal("Alice M.", roster.get("r@muc/a").nick);
	end);

	it("ignores presences without a name and names of untracked occupants", function ()
		local roster = roster_lib.new();
		roster.track(entry("r@muc/a", "alice"));
		assert.is_nil(roster.rename("r@muc/a", nil));
		assert.is_nil(roster.rename("r@muc/a", ""));
		assert.equal("alice", roster.get("r@muc/a").nick);
		assert.is_nil(roster.rename("r@muc/unknown", "x"));
	end);

	it("takes a first name silently when the join had none", function ()
		local roster = roster_lib.new();
		roster.track(entry("r@muc/a", nil));
		assert.is_nil(roster.rename("r@muc/a", "Alice"));
		assert.equal("Alice", roster.get("r@muc/a").nick);
	end);

	it("forgets an occupant once, returning what it knew", function ()
		local roster = roster_lib.new();
		roster.track(entry("r@muc/a", "alice"));
		assert.equal("alice", roster.forget("r@muc/a").nick);
		assert.is_nil(roster.forget("r@muc/a"));
		assert.equal(0, roster.size());
	end);

	it("forgets a destroyed room's occupants and only those", function ()
		local roster = roster_lib.new();
		roster.track(entry("r@muc/a", "a"));
		roster.track(entry("r@muc/b", "b"));
		roster.track(entry("s@muc/c", "c"));
		roster.forget("r@muc/a");
		assert.equal(1, roster.forget_room("r@muc"));
		assert.is_nil(roster.get("r@muc/b"));
		assert.equal("c", roster.get("s@muc/c").nick);
		assert.equal(1, roster.size());
	end);
end);
