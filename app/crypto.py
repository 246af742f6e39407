"""Encryption of channel credentials at rest (Fernet, keyed from the secret key)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def _fernet(secret: str) -> Fernet:
    # Fernet wants 32 url-safe base64 bytes; the secret key may be any string.
    digest = hashlib.sha256(b"cadence-credentials:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class CredentialBox:
    """Encrypts with the current key, decrypts with the current or any retired key."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one secret key is needed")
        self._multi = MultiFernet([_fernet(k) for k in keys])

    def seal(self, credentials: dict[str, Any]) -> str:
        return self._multi.encrypt(json.dumps(credentials).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._multi.decrypt(token.encode()))
        except InvalidToken as exc:
            # Never include the token or key in the message.
            raise CredentialsUnreadable(
                "credentials cannot be decrypted with the known keys"
            ) from exc
        return data

    def rotate(self, token: str) -> str:
        """Re-encrypt under the current key."""
        return self._multi.rotate(token.encode()).decode()


class CredentialsUnreadable(Exception):
    pass
