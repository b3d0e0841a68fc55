"""Outputs: the wheelhouse, the rewritten requirements and the lock, switched together."""
