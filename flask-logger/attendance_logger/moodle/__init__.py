"""Moodle integration: a web-service client (client), Moodle's records (model), and the sync that
writes a meeting's attendance into the course's Attendance activity (sync).
docs/moodle-facts.md holds what these follow in Moodle's sources."""
