"""The core without a screen or a database server: one module's rules at a time."""
