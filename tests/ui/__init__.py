"""The Textual board through pilot tests and snapshots."""
