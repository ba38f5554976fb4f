"""Shared test support: fixtures, the PostgreSQL server, team processes, receivers."""
