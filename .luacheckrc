-- luacheck configuration for the Prosody module and the test modules (scripts/test runs
-- `luacheck prosody-plugin tests/prosody/modules` from here). It follows the conventions of
-- Prosody's own .luacheckrc: Lua 5.4, lines up to 150 characters, the `module` object's API
-- declared field by field (so a misspelt module:hok is caught), and the ok/err/log shadowing
-- that Prosody code does by habit allowed.

std = "lua54"
max_line_length = 150
codes = true
ignore = {
	"411/err", "421/err", "411/ok", "421/ok", -- `local ok, err = ...` again in a nested scope
	"211/_ENV",
	"431/log",
	-- A method keeps the colon signature its callers use (store:append) though it needs no self.
	"212/self",
}

-- Prosody's globals, readable anywhere Prosody loads code.
read_globals = { "prosody", "hosts", "import" }

-- A module (mod_*.lua, loaded by Prosody's modulemanager) sees `module`, an instance of
-- core/moduleapi.lua: these are its fields and methods in Prosody 0.12 and 13.
local module_api = {
	read_globals = {
		-- instance fields
		"module.name", "module.host", "module.path", "module.global", "module.environment",
		"module._log", "module.log", "module.event_handlers", "module.reloading", "module.saved_state",
		-- methods
		"module.add_extension", "module.add_feature", "module.add_identity", "module.add_item",
		"module.add_timer", "module.broadcast", "module.context", "module.could", "module.cron",
		"module.daily", "module.default_permission", "module.default_permissions", "module.depends",
		"module.fire_event", "module.get_directory", "module.get_host", "module.get_host_items",
		"module.get_host_type", "module.get_name", "module.get_option", "module.get_option_array",
		"module.get_option_boolean", "module.get_option_enum", "module.get_option_inherited_set",
		"module.get_option_integer", "module.get_option_number", "module.get_option_path",
		"module.get_option_period", "module.get_option_scalar", "module.get_option_set",
		"module.get_option_string", "module.get_status", "module.handle_items", "module.hook",
		"module.hook_global", "module.hook_object_event", "module.hook_tag", "module.hourly",
		"module.load_resource", "module.log_status", "module.may", "module.measure", "module.metric",
		"module.on_ready", "module.once", "module.open_store", "module.provides", "module.remove_item",
		"module.require", "module.send", "module.send_iq", "module.set_global", "module.set_status",
		"module.shared", "module.unhook", "module.unhook_object_event", "module.weekly",
		"module.wrap_event", "module.wrap_global", "module.wrap_object_event",
	},
	-- What a module may define for modulemanager to call.
	globals = {
		"module.load", "module.ready", "module.unload", "module.add_host", "module.save", "module.restore",
		"module.command",
	},
}
files["prosody-plugin/mod_*.lua"] = module_api
files["tests/prosody/modules/mod_*.lua"] = module_api

-- The busted specs (prosody-plugin/.busted).
files["prosody-plugin/spec/"] = { std = "+busted" }
