"""Openfire support: the seed `openfire.xml` for first boot, a client for the REST API plugin and a
desired-state reconciler that configures Openfire for Jitsi through that API (see README.md here)."""
