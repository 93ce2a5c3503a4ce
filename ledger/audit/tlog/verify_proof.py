"""Check one inclusion proof offline:
`python -m ledger.audit.tlog.verify_proof PROOF --policy FILE`.

PROOF is a C2SP tlog-proof text file, the compact binary form (as `fundtrail proof` writes),
or the text of a notice's QR code as `zbarimg --raw` prints it (the verify link, whose
fragment carries the proof, or bare Base45). The checkpoint inside must carry the log's signature
and enough cosignatures for the policy's quorum; the entry (carried in the proof) must be in
the tree at that checkpoint. Needs only the standard library and `cryptography`.

Exit 0: the entry is in the log, signed by the named cosigners. Exit 1: it is not (or the
signatures or quorum fail). Exit 2: the files cannot be read.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ledger.audit.tlog import proofs
from ledger.audit.tlog.checkpoint import CheckpointError
from ledger.audit.tlog.merkle import ProofError
from ledger.audit.tlog.policy import PolicyError, QuorumError, parse_policy


def _load(path: Path) -> proofs.TlogProof:
    data = path.read_bytes()
    if data.startswith(b"tlp"):
        return proofs.decode_compact(data)
    text = data.decode("utf-8")
    if text.startswith(proofs.HEADER):
        return proofs.decode_text(text)
    return proofs.decode_link(text)   # a QR's text: the link, or bare Base45


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.audit.tlog.verify_proof",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("proof", type=Path)
    parser.add_argument("--policy", type=Path, required=True,
                        help="your own copy of the published policy (keys and quorum)")
    args = parser.parse_args(argv)
    try:
        proof = _load(args.proof)
        policy = parse_policy(args.policy.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError, PolicyError) as exc:
        print(f"cannot read input: {exc}", file=sys.stderr)
        return 2
    try:
        result = proofs.verify_entry_proof(proof, policy)
    except (ProofError, CheckpointError, QuorumError, ValueError) as exc:
        print(f"NOT VERIFIED: {exc}")
        return 1
    cp = proof.checkpoint
    print(f"verified: entry {proof.index} is in log {cp.origin} at size {cp.size}, "
          f"root {cp.root_hash.hex()}")
    print(f"cosigned by: {', '.join(sorted(result.witnesses)) or 'nobody'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
