"""Domain values: states, posts, errors, failure categories, inert text."""
