"""The team: one poller holds the lease, every other board follows the store."""
