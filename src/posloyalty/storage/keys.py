"""The programme's card keys, in a file readable by its owner only.

The file is JSON: ``active`` (the key id new cards are issued under), ``keys``
(key id to the hex secret that issues under it) and, when a key id is held with
several secrets, ``alternates`` (key id to a list of further hex secrets). A
file without ``alternates`` is read as a keyring with none.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path

from posloyalty.domain.cards import KEY_BYTES, CardKeyring, generate_key_id

logger = logging.getLogger(__name__)


class KeyFileError(Exception):
    """The card key file is unreadable or damaged."""


def load_or_create_keyring(path: Path) -> CardKeyring:
    """Load the keyring at ``path``, creating a first key when the file is missing."""
    if not path.exists():
        key_id = generate_key_id(set())
        keyring = CardKeyring({key_id: secrets.token_bytes(KEY_BYTES)}, key_id)
        save_keyring(path, keyring)
        logger.info("created card key %s in %s", key_id, path)
        return keyring
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = {
            key_id: bytes.fromhex(hex_key) for key_id, hex_key in data["keys"].items()
        }
        alternates = {
            key_id: tuple(bytes.fromhex(hex_key) for hex_key in hex_keys)
            for key_id, hex_keys in (data.get("alternates") or {}).items()
        }
        keyring = CardKeyring(keys, data["active"], alternates)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise KeyFileError(
            f"card key file {path} is damaged ({error.__class__.__name__}):"
            " restore it from a backup; without it no card of this till can be read"
        ) from error
    if keyring.active_key_id not in keyring.keys:
        raise KeyFileError(f"card key file {path} names a missing active key")
    return keyring


def save_keyring(path: Path, keyring: CardKeyring) -> None:
    """Write the keyring atomically with permissions 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, object] = {
        "active": keyring.active_key_id,
        "keys": {key_id: key.hex() for key_id, key in keyring.keys.items()},
    }
    alternates = {
        key_id: [key.hex() for key in secrets[1:]]
        for key_id, secrets in keyring.all_secrets().items()
        if len(secrets) > 1
    }
    if alternates:
        payload["alternates"] = alternates
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
