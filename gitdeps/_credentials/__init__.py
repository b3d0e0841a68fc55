"""Credentials: which token goes to which origin, and where tokens come from.

One-way layers, each module knowing only those below it::

    store       Credentials: per origin, lazily, once; the environment and CI variables
    registry    every provider by its gitdeps.toml name, and the helpers asked after a 401
    providers   azure_identity, msal_login, git_helpers, netrc_file, os_keyring
    base        Credential (the record), Provider (the protocol), expired()

Host kinds (user names, CI variables) are the table in ``gitdeps._credentials.hosts``. A new
provider is one module with a ``provide(url, config)`` function and one line in
``registry.PROVIDERS``.
"""
