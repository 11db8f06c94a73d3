"""Documents the service prints or sends: pure functions from data to bytes (no database)."""
