"""The Textual board: app, table, screens and stylesheet, on top of the core."""
