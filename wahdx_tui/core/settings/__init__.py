"""Settings and secrets: the one settings table, key and URL, secret files."""
