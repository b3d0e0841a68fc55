"""Resolve: which commit each git requirement means (the lock, a full hash, or the host's refs)."""
