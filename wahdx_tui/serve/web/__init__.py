"""`serve --http`: health, Prometheus metrics, the posts API, ingest and the wall page (aiohttp).

Runs inside serve's own event loop (serve/loop.py's ServeListener) and reads the board
serve already keeps; nothing here imports Textual.
"""
