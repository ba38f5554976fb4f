"""The watchlist: the bounded YAML reader, its JSON Schema, the file watcher."""
