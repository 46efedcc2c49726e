"""Embeddings v2 (`/embed-v2/tasks`): REFERENCE §8.5."""
