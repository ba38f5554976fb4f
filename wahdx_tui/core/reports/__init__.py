"""Reports: the shift handoff, check's results, the board's export."""
