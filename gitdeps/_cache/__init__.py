"""Cache: built wheels by (repository, commit, subdirectory, build settings), local and remote."""
