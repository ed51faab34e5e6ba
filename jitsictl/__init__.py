"""jitsictl: deploy Jitsi Meet classrooms with attendance."""

__version__ = "0.1.0"
