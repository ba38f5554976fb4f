"""The board state: rows sorted and filtered incrementally, accounts, trend."""
