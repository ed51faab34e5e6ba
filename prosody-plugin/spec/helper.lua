-- Shared by every spec: makes Prosody's util libraries loadable. Debian installs them under
-- /usr/lib/prosody; a source install uses /usr/local/lib/prosody; PROSODY_SOURCEDIR overrides.
-- Prosody 13's libraries require each other as "prosody.util.x", hence the parent directory.
local dirs = { os.getenv("PROSODY_SOURCEDIR"), "/usr/lib/prosody", "/usr/local/lib/prosody" };
for i = #dirs, 1, -1 do
	local dir = dirs[i];
	if dir and dir ~= "" then
		local parent = dir:match("^(.*)/prosody/?$");
		if parent then
			package.path = parent .. "/?.lua;" .. package.path;
			package.cpath = parent .. "/?.so;" .. package.cpath;
		end
		package.path = dir .. "/?.lua;" .. package.path;
		package.cpath = dir .. "/?.so;" .. package.cpath;
	end
end
