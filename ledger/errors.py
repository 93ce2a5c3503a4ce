"""Errors the core raises. Each carries a message a finance officer can act on.

The CLI maps `LedgerError` (bad input, refused operation) to exit status 2;
anything else is a bug and propagates.
"""


class LedgerError(Exception):
    """A request the ledger refuses: bad input or a rule it would break."""


class NotFound(LedgerError):
    """A named thing (account, lot, transfer, region) does not exist."""


class PermissionDenied(LedgerError):
    """The actor's role or region scope does not allow this."""


class InvariantViolation(LedgerError):
    """The request would break one of the ledger invariants (DESIGN.md)."""


class Overdraft(InvariantViolation):
    """An account would pay out more than it holds, counting pending amounts."""


class LotMismatch(InvariantViolation):
    """A transfer would move money between fund lots outside an integration entry."""


class PurposeViolation(InvariantViolation):
    """Spending outside the lot's function codes or allowed uses, or on a prohibited use."""


class ClosedPeriod(InvariantViolation):
    """The entry's date falls in a fiscal period that has been closed."""


class IdempotencyConflict(LedgerError):
    """The same idempotency key was used before with different content."""


class MakerChecker(InvariantViolation):
    """The recorder of an entry tried to approve it."""


class StorageError(LedgerError):
    """The database could not take the change (disk full, locked by another writer, server
    gone). The transaction was rolled back; every command may simply be run again."""


class PaymentRefused(LedgerError):
    """A payment the deployment's rules refuse outright (a blacklisted payee, BLK-01)."""
