"""Personal data at rest: ID numbers, bank cards and phones are stored encrypted.

Keys come from the environment only (FUNDTRAIL_PII_KEYS, comma-separated Fernet keys; set it
from the service's secret store), never from the database or a file in the repository. The
first key encrypts; all keys decrypt (cryptography's MultiFernet). To rotate, put a new key
first: new values use it, and old keys stay in the list for as long as values encrypted under
them exist. Stored values are never re-encrypted in place: the rows are append-only and the
audit log commits to their ciphertext (tests/reliability/test_secrets.py).
A keyed digest (HMAC-SHA256 under FUNDTRAIL_PII_INDEX_KEY) lets the ledger find the
same ID number twice (duplicate-claim checks) without decrypting everything and without a hash
that anyone could reverse by trying all ID numbers.
"""
from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ledger.core.errors import LedgerError
from ledger.core.normalise import fold


class PiiKeyError(LedgerError):
    """No usable key for personal data was configured."""


class PiiVault:
    def __init__(self, keys: list[str], index_key: str):
        if not keys:
            raise PiiKeyError("no PII encryption key: set FUNDTRAIL_PII_KEYS (generate one "
                              "with `fundtrail pii-keygen`)", code="pii_key_missing")
        if not index_key or len(index_key) < 32:
            raise PiiKeyError("FUNDTRAIL_PII_INDEX_KEY must be set (at least 32 characters)",
                              code="pii_index_key_missing")
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys])
        except ValueError:
            raise PiiKeyError("a PII key is not a valid Fernet key (32 url-safe base64 "
                              "bytes)", code="pii_key_invalid") from None
        self._index_key = index_key.encode()

    @classmethod
    def from_env(cls, environ=os.environ) -> "PiiVault":
        keys = [k for k in environ.get("FUNDTRAIL_PII_KEYS", "").split(",") if k.strip()]
        return cls(keys, environ.get("FUNDTRAIL_PII_INDEX_KEY", ""))

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise PiiKeyError("personal data cannot be decrypted with the configured keys "
                              "(wrong key, or the value was altered)",
                              code="pii_undecryptable") from None

    def digest(self, value: str) -> str:
        """The keyed digest of `value` under NFKC (`normalise.fold`): the one place every ID,
        card, receipt and birth-date key passes, so a value typed full-width anywhere (a
        service call that skipped the readers, a list from another office) finds its ASCII
        form. NFKC leaves ASCII as it is, so no digest already stored changes."""
        value = fold(value)
        return hmac.new(self._index_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")
