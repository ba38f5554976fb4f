"""The engine: one pass from the API to the board, the store and health."""
