"""Helpers shared by the head-office tests."""


def free_key_id(api, till) -> str:
    """Return a card key id that the head office's own random key does not use."""
    own = api.post("/v1/join", json={"keys": {}}, headers=till.headers).json()["keys"]
    return next(f"{n:02d}" for n in range(10, 100) if f"{n:02d}" not in own)
