"""Team use with real processes: serve, boards and the lease."""
