"""Sync with the head office: an httpx client over the till's outbox.

NOTE: this package's ``__init__`` imports nothing, because the server imports
``sync.protocol`` and must not pull in the till's client.
"""
