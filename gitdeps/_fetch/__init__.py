"""Fetch: one commit of one repository, checked out (submodules, LFS, a .git for SCM plugins)."""
