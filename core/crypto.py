"""Encryption of secrets at rest: MultiFernet with a key id stored next to every ciphertext.

Keys come from FIELD_ENCRYPTION_KEYS = "id1:key1,id0:key0" (primary first), never from SECRET_KEY,
so rotating one does not touch the other. Stored form: "enc:fernet:<key_id>:<token>".
Decryption fails closed: a token that no configured key opens raises, it is never returned raw.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc:fernet:"


class DecryptionError(Exception):
    pass


@dataclass(frozen=True)
class Keyring:
    primary_id: str
    keys: dict[str, Fernet]

    @property
    def multi(self) -> MultiFernet:
        primary = self.keys[self.primary_id]
        return MultiFernet([primary, *(k for i, k in self.keys.items() if i != self.primary_id)])


def parse_keys(spec: str) -> Keyring:
    keys: dict[str, Fernet] = {}
    primary_id = ""
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, key = item.partition(":")
        if not sep or not key_id or not key:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be 'id:fernet-key[,id:fernet-key...]'.")
        try:
            keys[key_id] = Fernet(key.encode())
        except ValueError as exc:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: key {key_id!r} is not a Fernet key.") from exc
        primary_id = primary_id or key_id
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    return Keyring(primary_id=primary_id, keys=keys)


@lru_cache(maxsize=8)
def _keyring_for(spec: str) -> Keyring:
    return parse_keys(spec)


def keyring() -> Keyring:
    return _keyring_for(settings.FIELD_ENCRYPTION_KEYS)


def encrypt(plaintext: str) -> str:
    ring = keyring()
    token = ring.keys[ring.primary_id].encrypt(plaintext.encode()).decode()
    return f"{PREFIX}{ring.primary_id}:{token}"


def key_id_of(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise DecryptionError("value is not an encrypted secret")
    return stored[len(PREFIX) :].split(":", 1)[0]


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise DecryptionError("value is not an encrypted secret")
    key_id, _, token = stored[len(PREFIX) :].partition(":")
    ring = keyring()
    key = ring.keys.get(key_id)
    try:
        if key is not None:
            return key.decrypt(token.encode()).decode()
        # The key id is unknown (renamed?): any configured key may still open it.
        return ring.multi.decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(f"no configured key opens this secret (key id {key_id!r})") from exc


def needs_rotation(stored: str) -> bool:
    return key_id_of(stored) != keyring().primary_id


def rotate(stored: str) -> str:
    """Re-encrypt under the primary key."""
    return encrypt(decrypt(stored))


def mask(secret: str) -> str:
    """What the UI shows after saving: never more than the last four characters."""
    if len(secret) <= 8:
        return "••••"
    return "••••" + secret[-4:]
