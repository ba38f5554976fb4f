"""The board's screens: a post's detail, help, acknowledge, event log."""
