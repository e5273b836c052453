"""Use cases: what the web routes and the CLI call."""
