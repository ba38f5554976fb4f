"""`serve`: the team's headless poller."""
