"""Inputs: requirement files, pyproject.toml, git URLs; no network, no credentials."""
