-- Shared by every spec: makes Prosody's util libraries loadable (Debian installs them under
-- /usr/lib/prosody) and loads the module's pure libraries the way module:require would.
package.path = "/usr/lib/prosody/?.lua;" .. package.path;
package.cpath = "/usr/lib/prosody/?.so;" .. package.cpath;
