"""Background jobs: the queue, the worker, periodic jobs (ARCHITECTURE §7)."""
