"""Database-free transparency-log formats: RFC 9162 Merkle trees, C2SP signed notes, checkpoints,
cosignatures, policies, tiles, proofs, and the offline verifiers (standard library and
cryptography only)."""
