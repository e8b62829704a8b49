"""The append-only audit log (X5)."""
