"""posloyalty: a loyalty terminal for the till, with an append-only points ledger."""

__version__ = "0.1.0"
