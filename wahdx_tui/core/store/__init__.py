"""The store: one protocol, SQLite and PostgreSQL apart, the URL, the writer."""
