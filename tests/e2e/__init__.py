"""End to end: the commands as real processes, a terminal, a soak."""
