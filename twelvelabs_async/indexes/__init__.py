"""Indexes and indexed assets (`/indexes`, `/indexes/{id}/indexed-assets`): REFERENCE §8.3-8.4."""
