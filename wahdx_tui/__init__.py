"""wahdx-tui: a terminal live board for posts published through the Wahdx Connection API."""

__version__ = "0.1.0"
