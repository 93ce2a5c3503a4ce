"""Signing keys on disk, encrypted with a passphrase (never in the database).

A key file is one comment line naming the key, then a PKCS#8 PEM block encrypted with the
passphrase (cryptography's BestAvailableEncryption):

    # fundtrail-key kind=log name=fundtrail.example/demo-province
    -----BEGIN ENCRYPTED PRIVATE KEY-----
    …

`kind=log` keys sign checkpoints (C2SP signed note, Ed25519); `kind=cosigner` keys cosign them
(C2SP cosignature/v1). The passphrase comes from the environment variable the caller names
(FUNDTRAIL_SIGNING_PASSPHRASE by default) or from a prompt.
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit.tlog.checkpoint import CosignatureSigner
from ledger.audit.tlog.note import Ed25519Signer

KINDS = {"log": Ed25519Signer, "cosigner": CosignatureSigner}
MIN_PASSPHRASE = 12


class KeyError_(ValueError):
    """A key file that cannot be read, decrypted or created."""


def generate_key(path: str | os.PathLike, *, name: str, kind: str, passphrase: str):
    """Create a new key file; refuses to overwrite one (rotation writes a new file)."""
    if kind not in KINDS:
        raise KeyError_(f"key kind must be one of {sorted(KINDS)}, not {kind!r}")
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyError_(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    path = Path(path)
    if path.exists():
        raise KeyError_(f"{path} exists; keys are never overwritten (rotate to a new file)")
    signer = KINDS[kind].generate(name)
    pem = Ed25519PrivateKey.from_private_bytes(signer.seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(f"# fundtrail-key kind={kind} name={name}\n".encode("utf-8") + pem)
    return signer


def load_key(path: str | os.PathLike, passphrase: str):
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyError_(f"{path}: cannot read key file: {exc.strerror}") from None
    header, _, pem = data.partition(b"\n")
    fields = dict(item.split("=", 1) for item in header.decode("utf-8", "replace").split()[2:]
                  if "=" in item) if header.startswith(b"# fundtrail-key ") else {}
    if fields.get("kind") not in KINDS or not fields.get("name"):
        raise KeyError_(f"{path}: not a fundtrail key file (missing '# fundtrail-key' header)")
    try:
        key = serialization.load_pem_private_key(pem, passphrase.encode("utf-8"))
    except (ValueError, TypeError):
        raise KeyError_(f"{path}: wrong passphrase or damaged key file") from None
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    return KINDS[fields["kind"]](fields["name"], seed)


def passphrase_from_env(variable: str = "FUNDTRAIL_SIGNING_PASSPHRASE") -> str | None:
    return os.environ.get(variable)
