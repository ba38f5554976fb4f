"""The fixtures every test sees live in tests/support/fixtures.py."""

pytest_plugins = ["tests.support.fixtures"]
