"""The test suite, grouped like the package."""
