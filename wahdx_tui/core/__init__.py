"""The core: watchlist, API client, status model, polling and board state; no Textual here."""
