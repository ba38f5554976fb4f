"""The stores: SQLite and a real PostgreSQL server, one contract over both."""
