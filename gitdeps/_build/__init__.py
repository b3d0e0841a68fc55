"""Build: a wheel from a checkout (PEP 517 through PyPA build), and reading and rewriting wheels."""
