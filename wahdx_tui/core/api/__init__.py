"""The Wahdx API client: batches, retries, the lean transport, the normaliser."""
