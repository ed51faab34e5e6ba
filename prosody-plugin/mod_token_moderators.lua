-- mod_token_moderators: in a class, the teacher moderates and the students do not, as the
-- school's LMS says in the token each of them joins with.
--
-- A token marks a teacher by either of (Moodle's mod_jitsi sends both since v4.3, only the
-- second before; ARCHITECTURE.md §10):
--   context.user.moderator   true (or "true")
--   moderator                true (or "true"), at the top level of the payload
-- context.user.affiliation is NOT trusted by default: mod_jitsi signs whatever the `t` parameter
-- of its session.php URL says, and a student can change that URL (flask-logger/docs/
-- moodle-facts.md). An LMS that signs the affiliation from its own roles can have it trusted:
--   token_moderators_trusted_affiliations = { "owner"; "moderator"; "teacher" }
-- Such an occupant joins as room owner with the moderator role; any other token holder joins as
-- member (participant). Occupants without a verified token (jicofo's focus, the video bridge,
-- guests) are left alone. While the lobby is on (the room is members-only), a student without an
-- affiliation is not made member, so the lobby still holds them; a teacher goes in.
--
-- Load it on the MUC components (main and breakout rooms), after the token module:
--   Component "muc.meet.jitsi" "muc"
--       modules_enabled = { "token_verification"; "token_moderators" }
-- and stop jicofo from granting ownership itself (docker-jitsi-meet: JICOFO_ENABLE_AUTH=0 and
-- ENABLE_AUTO_OWNER=0), or it makes every token holder (with authentication) or the first one in
-- (auto-owner) an owner too. jitsictl renders both.
--
-- Why not Jitsi's mod_token_affiliation (jitsi-meet resources/prosody-plugins, added in May
-- 2026 by jitsi/jitsi-meet#17381): it reads only context.user, so the tokens of mod_jitsi before
-- v4.3 would make every teacher a student.

local encodings = require "util.encodings";
local json = require "util.json";

-- The token's payload decoder of the attendance module (same directory, pure Lua).
local identity_lib = module:require "presence_logger/identity";
local decoder = identity_lib.new({ base64_decode = encodings.base64.decode, json_decode = json.decode });

local trusted_affiliations = module:get_option_set("token_moderators_trusted_affiliations", {});

local function says_yes(value)
	return value == true or value == "true";
end

-- "owner" for a teacher, "member" for a student, nil for a session without a verified token.
local function affiliation_from_token(session)
	if type(session) ~= "table" or type(session.auth_token) ~= "string" then return nil; end
	local user = session.jitsi_meet_context_user;
	if type(user) ~= "table" then user = nil; end
	-- The token module leaves these marks once it has verified the token; a ?token= in the URL
	-- that nobody checked says nothing.
	if not (user or session.jitsi_meet_room or session.jitsi_meet_domain) then return nil; end
	if user and (says_yes(user.moderator) or trusted_affiliations:contains(user.affiliation)) then
		return "owner";
	end
	local payload = decoder.token_payload(session.auth_token);
	if payload and says_yes(payload.moderator) then
		return "owner";
	end
	return "member";
end

-- Priority -3.5: after plugins that let someone past the lobby (-3), before the lobby's gate (-4)
-- and Prosody's members-only check (-5), as Jitsi's token_affiliation. Returns nothing: a true
-- value from a pre- event would refuse the join.
module:hook("muc-occupant-pre-join", function (event)
	local room, occupant = event.room, event.occupant;
	local affiliation = affiliation_from_token(event.origin);
	if not affiliation then return; end
	local current = room:get_affiliation(occupant.bare_jid);
	if affiliation == "member" and room:get_members_only() and (current == nil or current == "none") then
		return;
	end
	if current ~= affiliation then
		room:set_affiliation(true, occupant.bare_jid, affiliation);
	end
	occupant.role = room:get_default_role(affiliation);
	module:log("debug", "%s joins %s as %s", occupant.nick, room.jid, affiliation);
end, -3.5);

module:log("info", "Moderators of %s come from their tokens", module.host);
