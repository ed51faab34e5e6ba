"""The attendance receiver: turns contract-v1 events into attendance teachers can trust."""

__version__ = "0.1.0"
