"""Helpers shared by the test suites (vectors, signing)."""
