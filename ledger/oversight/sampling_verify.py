"""Recompute a field-check sample (入户核查抽样) from public data alone.

    python -m ledger.oversight.sampling_verify FRAME.json CHECKPOINT.txt
        [--policy POLICY.txt] [--json]

Needs only the Python standard library and `cryptography` (for checkpoint signatures), like
the offline bundle verifier. The algorithm, precisely (docs/oversight.md):

1. The frame is the committed file, byte for byte; its digest is SHA-256 of those bytes.
2. The checkpoint must be of the frame's log (`origin`) and cover the commitment entry:
   size > commitment_log_index. (The service draws from the *first* such checkpoint.)
3. seed = SHA-256(b"fundtrail/sample/v1" || 0x00 || root (32 bytes) || frame digest (32 bytes)
                   || beacon), where beacon is empty, or — if the frame names a beacon witness —
   the 72 bytes (timestamp || Ed25519 signature) of that witness's cosignature on the
   checkpoint, a value the log operator cannot predict.
4. In each stratum, every household code gets key = HMAC-SHA256(seed, code as UTF-8); the
   households are ordered by (key, code) and the first `take` are drawn.
5. `take` per stratum is not trusted from the file: it is recomputed from the stratum sizes,
   weights and the sample size by `allocate` (largest remainder, capped at stratum size).
"""
from __future__ import annotations

import argparse
import hashlib
import heapq
import hmac
import json
import sys
from pathlib import Path

LABEL = b"fundtrail/sample/v1"
FRAME_FORMAT = "fundtrail-sample-frame/1"


class SampleError(ValueError):
    """A frame or checkpoint that cannot give a sample, with the reason."""


def canonical_json(obj) -> bytes:
    """The one byte form of a frame: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def frame_digest(frame_bytes: bytes) -> bytes:
    return hashlib.sha256(frame_bytes).digest()


def sample_seed(root: bytes, digest: bytes, beacon: bytes = b"") -> bytes:
    if len(root) != 32 or len(digest) != 32 or len(beacon) not in (0, 72):
        raise SampleError("root and frame digest must be 32 bytes each, a beacon 72 or none")
    return hashlib.sha256(LABEL + b"\x00" + root + digest + beacon).digest()


def beacon_of(note: str, beacon: dict | None) -> bytes:
    """The beacon witness's verified cosignature bytes on a checkpoint note (b"" if none named)."""
    if beacon is None:
        return b""
    from ledger.audit.tlog.checkpoint import CosignatureVerifier
    from ledger.audit.tlog.note import NoteError, parse_note
    try:
        verifier = CosignatureVerifier.from_vkey(beacon["vkey"])
        parsed = parse_note(note)
    except (NoteError, KeyError, TypeError) as exc:
        raise SampleError(f"beacon witness or checkpoint note unreadable: {exc}") from None
    for sig in parsed.signatures:
        if (sig.name, sig.key_id) == (verifier.name, verifier.key_id) \
                and verifier.verify(parsed.text.encode("utf-8"), sig.signature):
            return sig.signature
    raise SampleError(f"the checkpoint has no valid cosignature from the beacon witness "
                      f"{beacon.get('witness')!r} ({verifier.name})")


def rank_key(seed: bytes, code: str) -> bytes:
    return hmac.new(seed, code.encode("utf-8"), hashlib.sha256).digest()


def allocate(total: int, strata: list[tuple[str, int, int]]) -> dict[str, int]:
    """Share `total` over strata (name, households, weight) in proportion to households × weight.

    Largest remainder: each stratum gets the floor of its exact quota, and the units left go to
    the largest remainders (ties: the smaller name first). A stratum whose quota reaches its
    size is taken whole and the rest is shared again among the others. Integers only.
    """
    if total < 0:
        raise SampleError("sample size must not be negative")
    if total > sum(n for _, n, _ in strata):
        raise SampleError(f"sample size {total} exceeds the frame's "
                          f"{sum(n for _, n, _ in strata)} households")
    taken = {name: 0 for name, _, _ in strata}
    active = [(name, n, w) for name, n, w in strata if n > 0 and w > 0]
    remaining = total
    while remaining and active:
        shares = _largest_remainder(remaining, [(name, n * w) for name, n, w in active])
        full = [(name, n) for name, n, _ in active if shares[name] >= n]
        if not full:
            taken.update(shares)
            break
        for name, n in full:
            taken[name], remaining = n, remaining - n
        active = [s for s in active if s[0] not in {name for name, _ in full}]
    return taken


def _largest_remainder(total: int, weights: list[tuple[str, int]]) -> dict[str, int]:
    whole = sum(w for _, w in weights)
    shares = {name: total * w // whole for name, w in weights}
    left = total - sum(shares.values())
    by_remainder = sorted(weights, key=lambda nw: (-(total * nw[1] % whole), nw[0]))
    for name, _ in by_remainder[:left]:
        shares[name] += 1
    return shares


def check_frame(frame: dict) -> None:
    """Refuse a frame whose shape or allocation is not what the algorithm produces."""
    if not isinstance(frame, dict) or frame.get("format") != FRAME_FORMAT:
        raise SampleError(f"not a sample frame (format must be {FRAME_FORMAT!r})")
    strata = frame.get("strata")
    if not isinstance(strata, list) or not isinstance(frame.get("size"), int):
        raise SampleError("frame lacks its strata or size")
    names = [s["name"] for s in strata]
    if names != sorted(names) or len(set(names)) != len(names):
        raise SampleError("frame strata must be unique and sorted by name")
    seen: set[str] = set()
    for s in strata:
        codes = s["households"]
        if codes != sorted(codes) or len(set(codes)) != len(codes) or seen & set(codes):
            raise SampleError(f"stratum {s['name']}: household codes must be unique and sorted")
        seen |= set(codes)
    expected = allocate(frame["size"], [(s["name"], len(s["households"]), s["weight"])
                                        for s in strata])
    for s in strata:
        if s["take"] != expected[s["name"]]:
            raise SampleError(f"stratum {s['name']}: the frame says take {s['take']}, the "
                              f"allocation gives {expected[s['name']]}")


def draw(frame: dict, seed: bytes) -> list[dict]:
    """The drawn households: per stratum (by name), in rank order."""
    check_frame(frame)
    keyed = hmac.new(seed, digestmod=hashlib.sha256)  # copied per code: same as rank_key

    def key(code: str) -> tuple[bytes, str]:
        mac = keyed.copy()
        mac.update(code.encode("utf-8"))
        return mac.digest(), code
    visits = []
    for s in frame["strata"]:
        ranked = heapq.nsmallest(s["take"], s["households"], key=key)
        for rank, code in enumerate(ranked, start=1):
            visits.append({"stratum": s["name"], "village": s["village"], "household": code,
                           "rank": rank, "risk": s["risk"]})
    return visits


def read_checkpoint(text: str, policy_text: str | None = None):
    """(origin, size, root) of a checkpoint note; signatures checked when a policy is given."""
    from ledger.audit.tlog.checkpoint import Checkpoint, CheckpointError
    from ledger.audit.tlog.note import NoteError, parse_note
    try:
        if policy_text is not None:
            from ledger.audit.tlog.policy import parse_policy
            body = parse_policy(policy_text).verify_checkpoint(text).verified.checkpoint
        else:
            body = Checkpoint.from_text(parse_note(text).text if "\n\n" in text else text)
    except (CheckpointError, NoteError, ValueError) as exc:
        raise SampleError(f"checkpoint: {exc}") from None
    return body.origin, body.size, body.root_hash


def recompute(frame_bytes: bytes, checkpoint_text: str,
              policy_text: str | None = None) -> tuple[bytes, list[dict]]:
    """(seed, visit list) from the published frame file and checkpoint note."""
    try:
        frame = json.loads(frame_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SampleError(f"frame is not JSON: {exc}") from None
    if canonical_json(frame) != frame_bytes.rstrip(b"\n"):
        raise SampleError("frame is not in canonical form (was it re-saved by an editor?)")
    fixed = frame.get("policy_sha256")
    if fixed is not None:
        given = None if policy_text is None else hashlib.sha256(
            policy_text.encode("utf-8") if isinstance(policy_text, str) else policy_text
        ).hexdigest()
        if given != fixed:
            raise SampleError(f"the frame fixes the policy file with SHA-256 {fixed[:16]}…; "
                              "give that file with --policy to check the signatures")
    origin, size, root = read_checkpoint(checkpoint_text, policy_text)
    if origin != frame.get("origin"):
        raise SampleError(f"checkpoint is of log {origin!r}, the frame of {frame.get('origin')!r}")
    index = frame.get("commitment_log_index")
    if not isinstance(index, int) or size <= index:
        raise SampleError(f"checkpoint of size {size} does not cover the commitment (log entry "
                          f"{index}): it existed before the frame was fixed")
    beacon = beacon_of(checkpoint_text, frame.get("beacon"))
    seed = sample_seed(root, frame_digest(frame_bytes.rstrip(b"\n")), beacon)
    return seed, draw(frame, seed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.oversight.sampling_verify",
                                     description="Recompute a field-check sample.")
    parser.add_argument("frame")
    parser.add_argument("checkpoint")
    parser.add_argument("--policy", help="policy file: check the checkpoint's signatures")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        policy = Path(args.policy).read_text(encoding="utf-8") if args.policy else None
        seed, visits = recompute(Path(args.frame).read_bytes(),
                                 Path(args.checkpoint).read_text(encoding="utf-8"), policy)
    except (OSError, SampleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if policy is None:
        # Without a policy nobody checked who signed the checkpoint: the list may come from a
        # root someone made up. Show it, but do not call it verified.
        print("NOT VERIFIED: no policy given, so the checkpoint's signatures were not checked; "
              "run again with --policy", file=sys.stderr)
    if args.json:
        print(json.dumps({"seed": seed.hex(), "visits": visits}, ensure_ascii=False, indent=2))
    else:
        print(f"seed {seed.hex()}")
        for v in visits:
            print(f"{v['stratum']}\t{v['rank']}\t{v['household']}")
    return 0 if policy is not None else 1


if __name__ == "__main__":
    sys.exit(main())
