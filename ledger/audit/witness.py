"""A witness: a cosigner that runs as its own process, on another machine, and holds the seal.

It needs nothing of the operator's but the log's public HTTP endpoints and the log's public
key (from the witness's own copy of the policy, never fetched from the server it watches):

1. GET `<log>/checkpoint.txt`, the newest checkpoint (C2SP tlog-checkpoint as a C2SP signed
   note); check the log signature against the log key it was set up with;
2. GET `<log>/log/consistency?old=M&new=N`, an RFC 9162 consistency proof from the checkpoint
   it cosigned last (size M, kept in its state directory) to the new one, and verify it;
3. cosign (C2SP tlog-cosignature `cosignature/v1`), write its state durably, then
4. POST the cosigned note (form field `note`) to `<log>/log/cosignature` (the server keeps
   the line only if it verifies against the policy's key for this witness), and keep it as
   `<state>/checkpoint`, which it publishes itself (`fundtrail witness serve`) so that anyone
   can compare the log with the witness's memory (`fundtrail verify --witness`).

The checks are those of C2SP tlog-witness (https://c2sp.org/tlog-witness), "add-checkpoint":
the old size must be the size it cosigned last, a consistency proof must verify, an equal
size must carry the same root, and the state is persisted before the cosignature is given
out. Only the direction differs: the witness fetches, rather than the log submitting to it,
so the witness needs no inbound network access to the operator's machine.

A log that shrank or forked is never cosigned; the witness keeps the log-signed note it
refused in `<state>/evidence/` (tlog-witness: it "might be proof of log misbehavior") and
fails loudly. A state directory without a state is refused unless `fresh` is said explicitly.

State directory:

    witness.json   origin, log URL, log keys, key file (written by `witness init`)
    state.json     origin, size and root of the checkpoint cosigned last
    checkpoint     that checkpoint's note: log signature and this witness's cosignature
    cosigned.log   one line per cosignature given: time, size, root
    evidence/      log-signed notes refused, with the reason
"""
from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ledger.audit.checkpoints import read_state, require_state, write_durably, write_state
from ledger.audit.tlog import merkle
from ledger.audit.tlog.checkpoint import (
    CheckpointError,
    CosignatureSigner,
    cosign,
    open_checkpoint,
    verifier_from_vkey,
)
from ledger.audit.tlog.note import Ed25519Verifier, NoteError, format_note, parse_note
from ledger.core.errors import LedgerError

CONFIG = "witness.json"
STATE = "state.json"
CHECKPOINT = "checkpoint"
HISTORY = "cosigned.log"
EVIDENCE = "evidence"
LOCK = "lock"
TIMEOUT = 30          # seconds for one HTTP request
MAX_RESPONSE = 1 << 20  # a checkpoint or a proof is a few kB


@dataclass(frozen=True)
class WitnessConfig:
    origin: str
    log_url: str
    log_keys: tuple[str, ...]
    key_file: str

    def verifiers(self) -> list[Ed25519Verifier]:
        return [verifier_from_vkey(k) for k in self.log_keys]


@dataclass(frozen=True)
class Outcome:
    """What one round did: `cosigned` a new checkpoint, or found it `unchanged`."""
    status: str
    size: int
    root: bytes
    published: bool
    note: str


def init(state_dir, *, origin: str, log_url: str, log_keys: list[str], key_file: str) -> Path:
    """Write the witness's configuration; the state itself appears at its first cosignature."""
    state_dir = Path(state_dir)
    if not log_keys:
        raise LedgerError("a witness needs the log's public key (--log-key or --policy)",
                          code="witness_no_log_key")
    for vkey in log_keys:
        verifier = _log_verifier(vkey)
        if verifier.name != origin:
            raise LedgerError(f"the log key is named {verifier.name!r} but the log is "
                              f"{origin!r}", code="log_key_other_origin", key=verifier.name,
                              origin=origin)
    state_dir.mkdir(parents=True, exist_ok=True)
    config = state_dir / CONFIG
    if config.exists():
        raise LedgerError(f"{config} exists: this directory already holds a witness",
                          code="witness_exists", path=str(config))
    write_durably(config, json.dumps({"origin": origin, "log_url": log_url.rstrip("/"),
                                      "log_keys": list(log_keys), "key_file": str(key_file)},
                                     indent=2, ensure_ascii=False) + "\n")
    return config


def load_config(state_dir) -> WitnessConfig:
    path = Path(state_dir) / CONFIG
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return WitnessConfig(data["origin"], data["log_url"], tuple(data["log_keys"]),
                             data["key_file"])
    except FileNotFoundError:
        raise LedgerError(f"{path}: no witness here (fundtrail witness init)",
                          code="witness_not_initialised", path=str(path)) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerError(f"{path}: witness configuration is damaged ({exc})",
                          code="cosigner_state_damaged", path=str(path),
                          detail=str(exc)) from None


def run_once(state_dir, signer: CosignatureSigner, *, fresh: bool = False,
             now: int | None = None) -> Outcome:
    """One round: fetch, check, cosign, persist, publish (see the module's docstring)."""
    state_dir = Path(state_dir)
    config = load_config(state_dir)
    with _locked(state_dir):
        require_state(state_dir / STATE, fresh)
        state = read_state(state_dir / STATE)
        if state and state["origin"] != config.origin:
            raise LedgerError(f"{state_dir / STATE} belongs to log {state['origin']!r}, not "
                              f"{config.origin!r}", code="cosigner_state_other_log",
                              path=str(state_dir / STATE), state_origin=state["origin"],
                              origin=config.origin)
        note = _get(config, "/checkpoint.txt")
        try:
            opened = open_checkpoint(note, config.verifiers())
        except CheckpointError as exc:
            raise LedgerError(f"the log's checkpoint does not verify with its key: {exc}",
                              code="checkpoint_invalid", size=None, detail=str(exc)) from None
        body = opened.checkpoint
        if body.origin != config.origin:
            raise LedgerError(f"the server published a checkpoint of log {body.origin!r}, "
                              f"not {config.origin!r}", code="cosigner_state_other_log",
                              path=str(state_dir / STATE), state_origin=config.origin,
                              origin=body.origin)
        old_size = state["size"] if state else 0
        old_root = bytes.fromhex(state["root"]) if state else merkle.EMPTY_ROOT
        if body.size < old_size:
            _evidence(state_dir, note, f"shrank from {old_size} to {body.size}")
            raise LedgerError(f"the log shrank from {old_size} to {body.size} entries since "
                              "you last cosigned: refusing", code="log_shrank",
                              cosigned_size=old_size, size=body.size)
        proof = _consistency(config, old_size, body.size) if 0 < old_size < body.size else []
        try:
            merkle.verify_consistency(old_size, body.size, old_root, body.root_hash, proof)
        except merkle.ProofError as exc:
            _evidence(state_dir, note, f"not consistent with size {old_size}: {exc}")
            raise LedgerError(f"the log is not consistent with the checkpoint of size "
                              f"{old_size} you cosigned before: {exc}", code="log_inconsistent",
                              cosigned_size=old_size, size=body.size,
                              detail=str(exc)) from None
        if state and body.size == old_size and (state_dir / CHECKPOINT).exists():
            # Nothing new: publish again what the server may have lost (or never received).
            kept = (state_dir / CHECKPOINT).read_text(encoding="utf-8")
            mine = signer.verifier()
            has_mine = any((s.name, s.key_id) == (mine.name, mine.key_id)
                           for s in parse_note(note).signatures)
            published = has_mine or _publish(config, kept)
            return Outcome("unchanged", body.size, body.root_hash, published, kept)
        line = cosign(note, signer, int(now if now is not None else time.time()))
        text, _ = parse_note(note)
        ours = parse_note("x\n\n" + line).signatures
        kept = format_note(text, [*opened.log_signatures, *ours])
        # Persist before anything is given out (tlog-witness), then keep the note and history.
        write_state(state_dir / STATE, {"origin": body.origin, "size": body.size,
                                        "root": body.root_hash.hex()})
        write_durably(state_dir / CHECKPOINT, kept)
        with open(state_dir / HISTORY, "a", encoding="utf-8") as history:
            history.write(f"{_stamp()} {body.size} {body.root_hash.hex()}\n")
        return Outcome("cosigned", body.size, body.root_hash, _publish(config, kept), kept)


def published_note(state_dir) -> str | None:
    """The checkpoint this witness cosigned last, as it publishes it (None before the first)."""
    path = Path(state_dir) / CHECKPOINT
    return path.read_text(encoding="utf-8") if path.exists() else None


def fetch_note(url: str) -> str:
    """A witness's published checkpoint note, from the URL it is served at."""
    return _http(url)


@contextmanager
def _locked(state_dir: Path):
    """One round at a time per state directory: checking the old size and writing the new one
    must be atomic (tlog-witness), or two runs could roll the state back."""
    with open(state_dir / LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _consistency(config: WitnessConfig, old: int, new: int) -> list[bytes]:
    text = _get(config, f"/log/consistency?old={old}&new={new}")
    try:
        return [base64.b64decode(line, validate=True) for line in text.splitlines() if line]
    except ValueError as exc:
        raise LedgerError(f"the server's consistency proof is not base64 lines: {exc}",
                          code="log_inconsistent", cosigned_size=old, size=new,
                          detail=str(exc)) from None


def _publish(config: WitnessConfig, note: str) -> bool:
    """POST the cosigned note back to the log; False (kept for the next round) on failure."""
    request = urllib.request.Request(
        config.log_url + "/log/cosignature", method="POST",
        data=urllib.parse.urlencode({"note": note}).encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _get(config: WitnessConfig, path: str) -> str:
    return _http(config.log_url + path)


def _http(url: str) -> str:
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise LedgerError(f"{url}: only http and https URLs are fetched",
                          code="witness_fetch_failed", url=url, detail="scheme")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            data = response.read(MAX_RESPONSE + 1)
    except urllib.error.HTTPError as exc:
        raise LedgerError(f"{url}: HTTP {exc.code}", code="witness_fetch_failed", url=url,
                          detail=f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise LedgerError(f"{url}: {exc}", code="witness_fetch_failed", url=url,
                          detail=str(exc)) from None
    if len(data) > MAX_RESPONSE:
        raise LedgerError(f"{url}: answer larger than {MAX_RESPONSE} bytes",
                          code="witness_fetch_failed", url=url, detail="too large")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LedgerError(f"{url}: not UTF-8 text", code="witness_fetch_failed", url=url,
                          detail=str(exc)) from None


def _evidence(state_dir: Path, note: str, reason: str) -> None:
    folder = state_dir / EVIDENCE
    folder.mkdir(exist_ok=True)
    name = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    (folder / f"{name}.txt").write_text(f"# refused: {reason}\n{note}", encoding="utf-8")


def _log_verifier(vkey: str) -> Ed25519Verifier:
    try:
        verifier = verifier_from_vkey(vkey)
    except (NoteError, CheckpointError, ValueError) as exc:
        raise LedgerError(f"not a log verifier key: {exc}", code="witness_no_log_key") from None
    if not isinstance(verifier, Ed25519Verifier) or verifier.SIG_TYPE != 0x01:
        raise LedgerError("not a log (Ed25519 note) verifier key", code="witness_no_log_key")
    return verifier


def _stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
